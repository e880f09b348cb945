"""The donor test panel held by the database (one result per marker and unit, a test recorded
in full, sampled before it was recorded), and migration 0031's reading of the free-form
maternal marker lists it replaced."""

from datetime import timedelta
from importlib import import_module

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from batches.models import DonorTest
from tests.factories import CordBloodUnitFactory

MIGRATION = import_module("batches.migrations.0031_donor_test_panel")


def raw_insert(unit, **fields):
    """A row written past the services, as a bulk load or raw SQL would."""
    row = {
        "unit": unit,
        "marker": "hbv_nat",
        "result": "non_reactive",
        "sample_date": timezone.localdate(),
        "test_kit": "Kit",
        "kit_lot": "L1",
        "laboratory": "Lab",
        "recorded_by": unit.registered_by,
        "recorded_at": timezone.now(),
    }
    DonorTest.objects.bulk_create([DonorTest(**{**row, **fields})])


@pytest.mark.django_db
@pytest.mark.clause("21 CFR 1271.80")
@pytest.mark.parametrize(
    ("fields", "constraint"),
    [
        ({"marker": "hbsag"}, "donortest_one_result_per_marker"),
        ({"marker": "hiv"}, "donortest_marker_known"),
        ({"result": "negative"}, "donortest_result_known"),
        ({"laboratory": ""}, "donortest_recorded_in_full"),
        ({"sample_date": None}, "donortest_recorded_in_full"),
        (
            {"sample_date": timezone.localdate() + timedelta(days=3)},
            "donortest_sampled_before_recorded",
        ),
    ],
)
def test_the_database_refuses_what_the_panel_cannot_hold(fields, constraint):
    unit = CordBloodUnitFactory.create()
    with pytest.raises(IntegrityError, match=constraint), transaction.atomic():
        raw_insert(unit, **fields)


@pytest.mark.django_db
def test_a_converted_row_may_stand_beside_the_full_record_of_its_marker():
    unit = CordBloodUnitFactory.create()
    raw_insert(unit, marker="hbsag", from_marker_list=True, sample_date=None, laboratory="")
    assert unit.donor_tests.filter(marker="hbsag").count() == 2


@pytest.mark.clause("21 CFR 1271.80")
@pytest.mark.parametrize(
    ("markers", "tests"),
    [
        (
            {"HIV-1/2": "negative", "HBsAg": "positive", "Anti-HBc": "negative"},
            {"hiv_1_2_ab": "non_reactive", "hbsag": "reactive", "anti_hbc": "non_reactive"},
        ),
        (
            {"HCV": "negative", "HTLV-I/II": "negative", "Syphilis": "negative", "CMV": "positive"},
            {
                "hcv_ab": "non_reactive",
                "htlv_i_ii": "non_reactive",
                "syphilis": "non_reactive",
                "cmv": "reactive",
            },
        ),
        # Not tested, unknown names and unreadable values become no row.
        ({"CMV": "not tested", "T. cruzi": "negative", "HBsAg": "maybe", "WNV": 1}, {}),
        # Two names of one marker: the result that weighs most is kept.
        ({"HCV": "negative", "anti-HCV": "positive"}, {"hcv_ab": "reactive"}),
        (
            {" hiv ": "Non-Reactive", "WNV": "NEGATIVE"},
            {"hiv_1_2_ab": "non_reactive", "wnv_nat": "non_reactive"},
        ),
        (["HIV-1/2", "negative"], {}),
        ("HIV negative", {}),
        ({}, {}),
    ],
)
def test_the_migration_reads_the_old_marker_lists(markers, tests):
    assert MIGRATION.tests_from_marker_list(markers) == tests
