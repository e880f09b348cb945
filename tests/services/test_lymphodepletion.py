"""Lymphodepletion before the infusion: each dose recorded (batches/services/recipients.py),
the one rule of whether a recipient may be infused on a day
(batches/selectors/recipients.py, lymphodepletion_blocker), and the bedside check and the
infusion start that ask it (batches/services/bedside.py)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from batches.models import LymphodepletionDose
from batches.selectors import lymphodepletion_blocker
from batches.services import bedside, recipients
from tests.batch_steps import bedside_scans, lymphodeplete
from tests.factories import PASSWORD, RecipientFactory, UserFactory
from tests.services.trail import assert_trailed

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate


def give(actor, recipient, **changes):
    args = {
        "agent": "fludarabine",
        "dose_mg_per_m2": Decimal("30"),
        "body_surface_area_m2": Decimal("1.85"),
        "given_on": TODAY() - timedelta(days=5),
        **changes,
    }
    return recipients.lymphodepletion_record(actor=actor, recipient=recipient, **args)


# --- recording a dose ---


def test_a_dose_is_recorded_with_its_total_and_trailed(clinical):
    recipient = RecipientFactory.create(planned_infusion_on=TODAY())
    dose = LymphodepletionDose.objects.get(pk=give(clinical, recipient).pk)
    assert dose.total_dose_mg == Decimal("55.5")
    assert (dose.given_by, dose.recorded_by, dose.day) == (clinical, clinical, -5)
    assert_trailed(dose, actor=clinical, reason="Lymphodepletion dose given", label="insert")


def test_the_total_is_rounded_to_a_tenth_of_a_mg(clinical):
    recipient = RecipientFactory.create()
    dose = give(
        clinical,
        recipient,
        agent="cyclophosphamide",
        dose_mg_per_m2=Decimal("500"),
        body_surface_area_m2=Decimal("1.73"),
    )
    assert dose.total_dose_mg == Decimal("865.0")
    odd = give(
        clinical, recipient, dose_mg_per_m2=Decimal("25.5"), body_surface_area_m2=Decimal("1.77")
    )
    assert odd.total_dose_mg == Decimal("45.1")  # 45.135


def test_given_by_another_nurse(clinical):
    nurse = UserFactory.create(role="clinical")
    dose = give(clinical, RecipientFactory.create(), given_by=nurse)
    assert (dose.given_by, dose.recorded_by) == (nurse, clinical)


def test_given_by_someone_not_clinical_is_refused(clinical, technician):
    with pytest.raises(ValidationError) as exc:
        give(clinical, RecipientFactory.create(), given_by=technician)
    assert list(exc.value.message_dict) == ["given_by"]


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"given_on": TODAY() + timedelta(days=1)}, "given_on"),
        ({"agent": "busulfan"}, "agent"),
        ({"dose_mg_per_m2": Decimal("0")}, "dose_mg_per_m2"),
        ({"dose_mg_per_m2": Decimal("3000.1")}, "dose_mg_per_m2"),
        ({"body_surface_area_m2": Decimal("0.19")}, "body_surface_area_m2"),
        ({"body_surface_area_m2": Decimal("3.51")}, "body_surface_area_m2"),
    ],
)
def test_a_dose_out_of_bounds_is_refused_on_its_field(clinical, changes, field):
    recipient = RecipientFactory.create()
    with pytest.raises(ValidationError) as exc:
        give(clinical, recipient, **changes)
    assert list(exc.value.message_dict) == [field]
    assert not LymphodepletionDose.objects.exists()


def test_an_agent_is_given_once_a_day(clinical):
    recipient = RecipientFactory.create()
    give(clinical, recipient)
    with pytest.raises(ValidationError) as exc:
        give(clinical, recipient)
    assert "recorded already" in exc.value.message_dict["given_on"][0]
    give(clinical, recipient, agent="cyclophosphamide", dose_mg_per_m2=Decimal("500"))
    assert recipient.lymphodepletion_doses.count() == 2


def test_recording_a_dose_is_clinical(technician):
    with pytest.raises(PermissionDenied):
        give(technician, RecipientFactory.create())


# --- the rule: lymphodepletion_blocker ---


def why_not(recipient, on):
    """The reason the recipient may not be infused on `on` (the test expects one)."""
    reason = lymphodepletion_blocker(recipient, on=on)
    assert reason is not None
    return reason


@pytest.mark.clause("21 CFR 312.60")
def test_complete_on_days_minus_5_to_minus_3_allows_the_infusion(clinical):
    recipient = RecipientFactory.create()
    lymphodeplete(recipient, clinical)
    assert lymphodepletion_blocker(recipient, on=TODAY()) is None
    # Held up: still within 7 days of the last dose, not after.
    assert lymphodepletion_blocker(recipient, on=TODAY() + timedelta(days=4)) is None
    assert "at most 7 days" in why_not(recipient, TODAY() + timedelta(days=5))


@pytest.mark.clause("21 CFR 312.60")
def test_no_lymphodepletion_blocks(clinical):
    recipient = RecipientFactory.create(subject_id="CARNK-LD0")
    reason = why_not(recipient, TODAY())
    assert reason.startswith("No lymphodepletion is recorded for CARNK-LD0")
    assert "fludarabine 30 mg/m2 x3 days and cyclophosphamide 500 mg/m2 x3 days" in reason


@pytest.mark.clause("21 CFR 312.60")
def test_missing_doses_block_naming_them(clinical):
    recipient = RecipientFactory.create()
    lymphodeplete(recipient, clinical, days=(-4, -3))
    reason = why_not(recipient, TODAY())
    assert "not complete: fludarabine on 2 of 3 days, cyclophosphamide on 2 of 3 days" in reason


@pytest.mark.clause("21 CFR 312.60")
def test_an_agent_missing_blocks(clinical):
    recipient = RecipientFactory.create()
    for day in (5, 4, 3):
        give(clinical, recipient, given_on=TODAY() - timedelta(days=day))
    reason = why_not(recipient, TODAY())
    assert "cyclophosphamide on 0 of 3 days" in reason and "fludarabine on" not in reason


@pytest.mark.clause("21 CFR 312.60")
def test_a_last_dose_too_recent_blocks(clinical):
    recipient = RecipientFactory.create()
    lymphodeplete(recipient, clinical, days=(-4, -3, -2))
    reason = why_not(recipient, TODAY())
    assert "2 days ago: the infusion is 3 to 7 days after it" in reason
    assert lymphodepletion_blocker(recipient, on=TODAY() + timedelta(days=1)) is None


@pytest.mark.clause("21 CFR 312.60")
def test_a_last_dose_too_old_blocks(clinical):
    recipient = RecipientFactory.create()
    lymphodeplete(recipient, clinical, days=(-10, -9, -8))
    reason = why_not(recipient, TODAY())
    assert "8 days ago: the infusion is at most 7 days after it" in reason


def test_the_window_and_regimen_are_settings(clinical, settings):
    settings.LYMPHODEPLETION_INFUSION_MIN_DAYS = 2
    settings.LYMPHODEPLETION_REGIMEN = {
        "fludarabine": {"mg_per_m2": 25, "days": 2},
        "cyclophosphamide": {"mg_per_m2": 250, "days": 2},
    }
    recipient = RecipientFactory.create()
    lymphodeplete(recipient, clinical, days=(-3, -2))
    assert lymphodepletion_blocker(recipient, on=TODAY()) is None


# --- the bedside check and the infusion start ask it ---


def verify(actor, bag):
    return bedside.bedside_verify(actor=actor, **bedside_scans(bag))


@pytest.mark.clause("21 CFR 312.60")
def test_a_bedside_check_is_blocked_and_records_the_missing_doses(issued_bag, clinical):
    doses = issued_bag.recipient.lymphodepletion_doses
    # The course's last day (day -3 of the infusion the fixture planned) left out.
    doses.filter(given_on=max(doses.values_list("given_on", flat=True))).delete()
    check = verify(clinical, issued_bag)
    assert check.outcome == "blocked"
    assert check.reasons == [
        lymphodepletion_blocker(issued_bag.recipient, on=TODAY()),
    ]
    assert "not complete" in check.reasons[0]


@pytest.mark.clause("21 CFR 312.60")
def test_a_bedside_check_is_blocked_for_a_dose_outside_the_window(issued_bag, clinical):
    # A dose today: the last one is too recent for an infusion today.
    give(clinical, issued_bag.recipient, given_on=TODAY())
    check = verify(clinical, issued_bag)
    assert check.outcome == "blocked"
    assert "0 days ago: the infusion is 3 to 7 days after it" in check.reasons[0]


@pytest.mark.clause("21 CFR 312.60")
def test_the_infusion_start_is_refused_with_the_reason(issued_bag, clinical):
    check = verify(clinical, issued_bag)
    assert check.outcome == "match"
    # Between the check and the start a dose is given today: the start is refused.
    give(clinical, issued_bag.recipient, given_on=TODAY())
    with pytest.raises(ValidationError) as exc:
        bedside.infusion_start(
            actor=clinical, password=PASSWORD, check=check, started_at=check.checked_at
        )
    assert "the infusion is 3 to 7 days after it" in exc.value.message_dict["recipient"][0]
    issued_bag.refresh_from_db()
    assert issued_bag.status == "issued"


@pytest.mark.clause("21 CFR 312.60")
def test_complete_lymphodepletion_lets_the_infusion_start(issued_bag, clinical):
    check = verify(clinical, issued_bag)
    infusion = bedside.infusion_start(
        actor=clinical, password=PASSWORD, check=check, started_at=check.checked_at
    )
    assert infusion.in_progress
