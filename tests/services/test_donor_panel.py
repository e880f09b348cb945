"""The donor test panel (21 CFR 1271.80, 1271.85): recording a test (batches/services/donor.py
donor_test_record), what the panel supports (batches/selectors/donor.py), the eligibility
determination that follows it, and the label of an ineligible donor's product."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ImproperlyConfigured, PermissionDenied, ValidationError
from django.test import override_settings
from django.utils import timezone

from batches.documents import bag_label_zpl, bag_labels_pdf
from batches.models import DonorTest, DoseUnit
from batches.selectors import bag_label_for, donor_panel_assessment, reactive_markers
from batches.services import donor, release
from tests.documents.pdf_reading import page_texts
from tests.documents.zpl_reading import read_label
from tests.factories import PASSWORD, CordBloodUnitFactory
from tests.services.trail import assert_trailed, unchanged

pytestmark = pytest.mark.django_db

REQUIRED = ["hiv_1_2_ab", "hbsag", "anti_hbc", "hcv_ab", "syphilis", "htlv_i_ii", "cmv"]


def pending(**panel):
    """A received unit awaiting QA, its donor's panel complete unless `panel` changes it."""
    return CordBloodUnitFactory.create(
        eligibility="pending", status="received", donor_tests=panel or None
    )


def determine(actor, unit, eligibility="eligible", notes=""):
    return donor.cord_blood_unit_determine_eligibility(
        actor=actor, password=PASSWORD, unit=unit, eligibility=eligibility, notes=notes
    )


def record(actor, unit, **overrides):
    fields = {
        "marker": "hiv_1_nat",
        "sample_date": timezone.localdate(unit.collected_at) + timedelta(days=1),
        "result": "non_reactive",
        "test_kit": "Procleix Ultrio Elite",
        "kit_lot": "UE-2407",
        "laboratory": "Creative Testing Solutions",
    }
    return donor.donor_test_record(actor=actor, unit=unit, **{**fields, **overrides})


def refusal(call) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as caught:
        call()
    return caught.value.message_dict


# --- the determination follows the panel ---


@pytest.mark.clause("21 CFR 1271.80", "21 CFR 1271.50")
def test_a_complete_non_reactive_panel_in_the_window_may_be_found_eligible(qa):
    unit = pending()
    panel = donor_panel_assessment(unit)
    assert (panel.missing, panel.out_of_window, panel.reactive) == ([], [], [])
    assert panel.suggested == "eligible" and panel.refusals == []
    assert "Every required test present" in panel.reasons[0]
    assert determine(qa, unit).eligibility == "eligible"


@pytest.mark.clause("21 CFR 1271.80", "21 CFR 1271.50")
def test_eligible_is_refused_naming_each_missing_required_test(qa):
    unit = pending(cmv=None, syphilis=None)
    with unchanged(unit):
        errors = refusal(lambda: determine(qa, unit))
    assert errors["eligibility"] == ["Required tests missing: Syphilis, CMV."]
    panel = donor_panel_assessment(unit)
    assert panel.missing == ["Syphilis", "CMV"] and panel.suggested == "incomplete"
    # The same unit may be recorded as incomplete, with notes as always.
    assert determine(qa, unit, "incomplete", "CMV and syphilis outstanding").status == (
        "quarantined"
    )


@pytest.mark.clause("21 CFR 1271.80")
@pytest.mark.parametrize(
    ("offset", "words"), [(-8, "8 days before collection"), (8, "8 days after collection")]
)
def test_eligible_is_refused_for_a_specimen_outside_the_window(qa, offset, words):
    unit = pending()
    sampled = timezone.localdate(unit.collected_at) + timedelta(days=offset)
    DonorTest.objects.filter(unit=unit, marker="hbsag").update(sample_date=sampled)
    (message,) = refusal(lambda: determine(qa, unit))["eligibility"]
    assert f"HBsAg: sampled {sampled:%Y-%m-%d}, {words}" in message
    assert "within 7 days before to 7 days after collection" in message


@pytest.mark.clause("21 CFR 1271.80")
def test_the_window_edges_count_and_the_window_is_a_setting(qa):
    unit = pending()
    collected = timezone.localdate(unit.collected_at)
    DonorTest.objects.filter(unit=unit, marker="hbsag").update(
        sample_date=collected - timedelta(days=7)
    )
    DonorTest.objects.filter(unit=unit, marker="cmv").update(
        sample_date=collected + timedelta(days=7)
    )
    assert donor_panel_assessment(unit).suggested == "eligible"
    with override_settings(DONOR_TEST_WINDOW_DAYS_BEFORE=3):
        assert donor_panel_assessment(unit).out_of_window == [
            f"HBsAg: sampled {collected - timedelta(days=7):%Y-%m-%d}, 7 days before collection"
        ]


@pytest.mark.clause("21 CFR 1271.80", "21 CFR 1271.50")
def test_a_reactive_marker_refuses_eligible_and_incomplete_and_suggests_ineligible(qa):
    unit = pending(hbsag="reactive", hiv_1_nat="reactive")
    panel = donor_panel_assessment(unit)
    assert panel.reactive == ["HIV-1 NAT", "HBsAg"] and panel.suggested == "ineligible"
    assert "1271.80(d)(1)" in panel.reasons[0]
    for eligibility in ("eligible", "incomplete"):
        (message,) = refusal(lambda e=eligibility: determine(qa, unit, e, "x"))["eligibility"]
        assert message.startswith("Reactive: HIV-1 NAT, HBsAg.")
    unit = determine(qa, unit, "ineligible", "Maternal HBsAg and HIV-1 NAT reactive")
    assert (unit.eligibility, unit.status) == ("ineligible", "quarantined")
    assert reactive_markers(unit) == ["HIV-1 NAT", "HBsAg"]


@pytest.mark.clause("21 CFR 1271.80")
def test_an_indeterminate_result_refuses_eligible(qa):
    unit = pending(anti_hbc="indeterminate")
    errors = refusal(lambda: determine(qa, unit))
    assert errors["eligibility"] == ["Indeterminate: Anti-HBc; resolve before deciding."]


@pytest.mark.clause("21 CFR 1271.80")
def test_a_reactive_cmv_is_used_under_the_sites_procedure_named_in_the_notes(qa):
    unit = pending(cmv="reactive")
    panel = donor_panel_assessment(unit)
    assert panel.suggested == "eligible" and panel.reactive_under_procedure == ["CMV"]
    assert refusal(lambda: determine(qa, unit))["notes"] == [
        "Reactive: CMV. Name the procedure under which the unit may be used."
    ]
    assert determine(qa, unit, notes="CMV-reactive donor: SOP-DE-014 applies").eligibility == (
        "eligible"
    )
    with override_settings(DONOR_TESTS_REACTIVE_UNDER_PROCEDURE=[]):
        assert donor_panel_assessment(unit).suggested == "ineligible"


@pytest.mark.clause("21 CFR 1271.80")
def test_required_markers_are_a_setting(qa):
    unit = pending()
    with override_settings(DONOR_TESTS_REQUIRED=[*REQUIRED, "hcv_nat"]):
        assert refusal(lambda: determine(qa, unit))["eligibility"] == [
            "Required tests missing: HCV NAT."
        ]
    with override_settings(DONOR_TESTS_REQUIRED=["hiv", "hbsag"]):
        with pytest.raises(ImproperlyConfigured, match="hiv"):
            donor_panel_assessment(unit)


@pytest.mark.clause("21 CFR 1271.80")
def test_a_converted_row_counts_as_undated_until_the_full_record_is_added(qa, technician):
    unit = pending(hbsag=None)
    DonorTest.objects.create(
        unit=unit,
        marker="hbsag",
        result="non_reactive",
        from_marker_list=True,
        recorded_by=unit.registered_by,
        recorded_at=unit.registered_at,
    )
    (message,) = refusal(lambda: determine(qa, unit))["eligibility"]
    assert "HBsAg: sample date not recorded (converted from the registration's list)" in message
    record(technician, unit, marker="hbsag")
    assert determine(qa, unit).eligibility == "eligible"


# --- recording a test ---


@pytest.mark.clause("21 CFR 1271.80", "21 CFR 11.10(e)")
def test_record_a_test_trailed_with_who_and_why(technician):
    unit = pending()
    test = record(technician, unit, reason="Maternal NAT from the bank's report")
    assert (test.marker, test.result, test.recorded_by) == ("hiv_1_nat", "non_reactive", technician)
    assert_trailed(test, actor=technician, reason="Maternal NAT from the bank's report")
    assert [t.marker for t in donor_panel_assessment(unit).tests][:2] == [
        "hiv_1_2_ab",
        "hiv_1_nat",
    ]


@pytest.mark.clause("21 CFR 1271.80")
def test_a_result_is_not_replaced_by_a_repeat(technician):
    unit = pending(hbsag="reactive")
    with unchanged(unit):
        errors = refusal(lambda: record(technician, unit, marker="hbsag"))
    assert errors["marker"] == [
        f"HBsAg is already recorded (reactive, sampled "
        f"{timezone.localdate(unit.collected_at):%Y-%m-%d}); a result is not replaced by a "
        "repeat."
    ]
    assert reactive_markers(unit) == ["HBsAg"]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"marker": "hiv"}, "marker"),
        ({"result": "negative"}, "result"),
        ({"sample_date": None}, "sample_date"),
        ({"test_kit": " "}, "test_kit"),
        ({"kit_lot": ""}, "kit_lot"),
        ({"laboratory": ""}, "laboratory"),
        ({"laboratory": "Lab\x00"}, "laboratory"),
        ({"reason": ""}, "reason"),
    ],
)
def test_record_refuses_bad_input_per_field(technician, overrides, field):
    unit = pending()
    with unchanged(unit):
        assert field in refusal(lambda: record(technician, unit, **overrides))


def test_record_refuses_a_sample_date_in_the_future(technician):
    unit = pending()
    tomorrow = timezone.localdate() + timedelta(days=1)
    assert refusal(lambda: record(technician, unit, sample_date=tomorrow))["sample_date"] == [
        f"The sample date cannot be in the future ({tomorrow})."
    ]


@pytest.mark.clause("21 CFR 11.10(g)")
def test_recording_a_test_is_the_floors(qa, admin_user):
    unit = pending()
    for actor in (qa, admin_user):
        with pytest.raises(PermissionDenied):
            record(actor, unit)


# --- the label of an ineligible donor's product ---


@pytest.mark.clause("21 CFR 1271.65(b)(2)")
def test_the_label_of_an_ineligible_donors_bag_names_the_reactive_markers(in_qc_batch, technician):
    unit = in_qc_batch.source_unit
    DonorTest.objects.filter(unit=unit, marker__in=["hbsag", "anti_hbc"]).update(result="reactive")
    (bag,) = release.dose_units_formulate(
        actor=technician,
        password=PASSWORD,
        batch=in_qc_batch,
        bags=[{"division": "A0", "presentation": "fresh", "volume_ml": Decimal("20")}],
    )
    bag = DoseUnit.objects.get(pk=bag.pk)
    # Found eligible before the reactive results came in: no reactive warning on the label.
    assert bag_label_for(bag).reactive_markers == ()
    type(unit).objects.filter(pk=unit.pk).update(eligibility="ineligible")
    bag = DoseUnit.objects.get(pk=bag.pk)
    label = bag_label_for(bag)
    assert label.reactive_markers == ("HBsAg", "Anti-HBc")
    pdf = page_texts(bag_labels_pdf([label]))[0]
    zpl = read_label(bag_label_zpl(label)).texts
    for text in (
        "BIOHAZARD",
        "WARNING: Advise patient of communicable disease risks",
        "WARNING: Reactive test results for HBsAg, Anti-HBc",
    ):
        assert text in pdf and text in zpl, text
