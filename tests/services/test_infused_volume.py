"""The volume infused against the volume the dose assignment prescribed
(batches/services/bedside.py, infusion_complete and infusion_record): within the tolerance it
is recorded as it is; beyond, it needs its reason and opens one clinical deviation on the
batch, in the same transaction."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from batches.models import Deviation, Infusion
from batches.services import bedside
from tests.batch_steps import bedside_scans
from tests.factories import PASSWORD

pytestmark = [pytest.mark.django_db, pytest.mark.clause("21 CFR 312.62(a)")]


@pytest.fixture
def running(issued_bag, clinical):
    """The issued bag's infusion, started and in progress."""
    check = bedside.bedside_verify(actor=clinical, **bedside_scans(issued_bag))
    return bedside.infusion_start(
        actor=clinical, password=PASSWORD, check=check, started_at=check.checked_at
    )


def complete(actor, infusion, volume, **changes):
    return bedside.infusion_complete(
        actor=actor,
        password=PASSWORD,
        infusion=infusion,
        ended_at=timezone.now(),
        volume_ml=Decimal(volume),
        **changes,
    )


def prescribed(infusion):
    return infusion.dose_unit.dose_volume_ml


def test_a_volume_within_the_tolerance_is_recorded(running, clinical):
    volume = (prescribed(running) * Decimal("1.09")).quantize(Decimal("0.01"))
    done = complete(clinical, running, volume)
    assert done.volume_ml == volume and not done.in_progress
    assert not Deviation.objects.exists()


def test_a_volume_beyond_without_a_reason_is_refused_on_its_field(running, clinical):
    volume = (prescribed(running) * Decimal("0.85")).quantize(Decimal("0.01"))
    with pytest.raises(ValidationError) as exc:
        complete(clinical, running, volume)
    (message,) = exc.value.message_dict["volume_difference_reason"]
    assert f"off the {prescribed(running)} mL prescribed (more than 10 %)" in message
    assert Infusion.objects.get(pk=running.pk).in_progress
    assert not Deviation.objects.exists()


def test_a_volume_beyond_with_a_reason_opens_one_deviation(running, clinical):
    volume = (prescribed(running) * Decimal("0.5")).quantize(Decimal("0.01"))
    done = complete(
        clinical, running, volume, volume_difference_reason="Line occluded; stopped at half"
    )
    assert done.volume_ml == volume
    (deviation,) = Deviation.objects.all()
    assert (deviation.batch, deviation.kind, deviation.state) == (
        running.dose_unit.batch,
        "infused_volume",
        "open",
    )
    assert deviation.why == "Line occluded; stopped at half"
    assert "% less than the" in deviation.what and deviation.opened_by == clinical
    # The released batch stays released: the deviation is QA's to disposition.
    assert deviation.batch.state == "released"


def test_a_refused_completion_opens_no_deviation(running, clinical):
    running_ = Infusion.objects.get(pk=running.pk)
    with pytest.raises(ValidationError):
        complete(
            clinical,
            running_,
            "0.5",
            volume_difference_reason="Stopped",
            vitals={"pre": {"hr": 1}},  # refused: the vitals before belong to the start
        )
    assert not Deviation.objects.exists()


def test_the_tolerance_is_a_setting(running, clinical, settings):
    settings.INFUSED_VOLUME_TOLERANCE_PCT = 60
    done = complete(clinical, running, (prescribed(running) / 2).quantize(Decimal("0.01")))
    assert not done.in_progress and not Deviation.objects.exists()


def test_the_one_call_infusion_asks_the_same(issued_bag, clinical):
    check = bedside.bedside_verify(actor=clinical, **bedside_scans(issued_bag))
    args = {
        "actor": clinical,
        "password": PASSWORD,
        "check": check,
        "started_at": check.checked_at,
        "ended_at": timezone.now(),
        "volume_ml": issued_bag.dose_volume_ml * 2,
    }
    with pytest.raises(ValidationError) as exc:
        bedside.infusion_record(**args)
    assert list(exc.value.message_dict) == ["volume_difference_reason"]
    assert not Infusion.objects.exists()
    bedside.infusion_record(**args, volume_difference_reason="Flushed the line twice")
    assert Deviation.objects.get().kind == "infused_volume"
