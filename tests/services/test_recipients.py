"""Recipients and their weights (batches/services/recipients.py), called directly."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from batches.models import Recipient, WeightMeasurement
from batches.services import recipients
from carnk_mfg.audit import audit_history
from tests.factories import RecipientFactory, UserFactory
from tests.services.trail import assert_trailed, unchanged

pytestmark = pytest.mark.django_db


def today(days=0):
    return timezone.localdate() + timedelta(days=days)


def register(actor, **fields):
    base = {
        "subject_id": "CARNK-101",
        "diagnosis": "NHL",
        "weight_kg": Decimal("70.5"),
        "weight_measured_on": today(),
        "dose_level": "DL1",
    }
    return recipients.recipient_register(actor=actor, **{**base, **fields})


def test_register_enrols_the_recipient_with_a_first_weight(clinical):
    register(clinical)
    recipient = Recipient.objects.get(subject_id="CARNK-101")
    (weight,) = recipient.weights.all()
    assert (recipient.diagnosis, recipient.dose_level, recipient.registered_by) == (
        "NHL",
        "DL1",
        clinical,
    )
    assert (weight.weight_kg, weight.measured_on, weight.recorded_by) == (
        Decimal("70.5"),
        today(),
        clinical,
    )
    assert_trailed(recipient, actor=clinical, reason="Recipient enrolled", label="insert")
    assert_trailed(weight, actor=clinical, reason="Recipient enrolled", label="insert")


def test_register_keeps_the_second_identifiers_for_the_bedside(clinical):
    register(clinical, date_of_birth=today(-20000), medical_record_number="MRN-4471")
    recipient = Recipient.objects.get(subject_id="CARNK-101")
    assert (recipient.date_of_birth, recipient.medical_record_number) == (
        today(-20000),
        "MRN-4471",
    )


@pytest.mark.parametrize(
    "fields, field",
    [
        ({"diagnosis": "flu"}, "diagnosis"),
        ({"dose_level": "DL9"}, "dose_level"),
        ({"weight_kg": Decimal("0")}, "weight_kg"),
        ({"weight_kg": Decimal("401")}, "weight_kg"),
        ({"weight_measured_on": today(1)}, "measured_on"),
        ({"date_of_birth": today(1)}, "date_of_birth"),
        ({"medical_record_number": "MRN\x07"}, "medical_record_number"),
    ],
    ids=[
        "diagnosis",
        "dose-level",
        "weight-zero",
        "weight-too-high",
        "weighed-tomorrow",
        "born-tomorrow",
        "mrn-control-character",
    ],
)
def test_register_refuses(clinical, fields, field):
    with unchanged(), pytest.raises(ValidationError) as exc:
        register(clinical, **fields)
    assert field in exc.value.message_dict
    assert not Recipient.objects.filter(subject_id="CARNK-101").exists()


def test_register_refuses_a_subject_id_taken(clinical):
    RecipientFactory.create(subject_id="CARNK-101")
    with unchanged(), pytest.raises(ValidationError) as exc:
        register(clinical)
    assert "subject_id" in exc.value.message_dict


def test_register_is_clinical(technician):
    with unchanged(), pytest.raises(PermissionDenied):
        register(technician)


# --- update ---


def test_update_changes_the_editable_fields_with_the_reason(clinical):
    recipient = RecipientFactory.create(dose_level="DL2")
    recipients.recipient_update(
        actor=clinical,
        recipient=recipient,
        reason="Escalated by safety committee",
        dose_level="DL3",
        planned_infusion_on=today(14),
    )
    recipient.refresh_from_db()
    assert (recipient.dose_level, recipient.planned_infusion_on) == ("DL3", today(14))
    assert_trailed(recipient, actor=clinical, reason="Escalated by safety committee")


@pytest.mark.parametrize(
    "changes, field",
    [({"subject_id": "CARNK-999"}, "subject_id"), ({"dose_level": "DL9"}, "dose_level")],
)
def test_update_refuses_a_field_not_editable_or_a_bad_value(clinical, changes, field):
    recipient = RecipientFactory.create()
    with unchanged(recipient), pytest.raises(ValidationError) as exc:
        recipients.recipient_update(actor=clinical, recipient=recipient, reason="r", **changes)
    assert field in exc.value.message_dict


def test_update_needs_a_reason(clinical):
    recipient = RecipientFactory.create()
    with unchanged(recipient), pytest.raises(ValidationError) as exc:
        recipients.recipient_update(
            actor=clinical, recipient=recipient, reason="", dose_level="DL1"
        )
    assert "reason" in exc.value.message_dict


def test_update_is_clinical(qa):
    recipient = RecipientFactory.create()
    with unchanged(recipient), pytest.raises(PermissionDenied):
        recipients.recipient_update(actor=qa, recipient=recipient, reason="r", dose_level="DL1")


# --- weights ---


def test_record_weight_adds_a_measurement(clinical):
    recipient = RecipientFactory.create()
    weight = recipients.recipient_record_weight(
        actor=clinical, recipient=recipient, weight_kg=Decimal("68.0"), measured_on=today(-1)
    )
    assert WeightMeasurement.objects.filter(recipient=recipient).count() == 2
    weight.refresh_from_db()
    assert (weight.weight_kg, weight.recorded_by) == (Decimal("68.0"), clinical)
    assert_trailed(weight, actor=clinical, reason="Body weight measured", label="insert")


@pytest.mark.parametrize(
    "weight_kg, measured_on, field",
    [
        (Decimal("-1"), today(), "weight_kg"),
        (Decimal("450"), today(), "weight_kg"),
        (Decimal("70"), today(1), "measured_on"),
    ],
)
def test_record_weight_refuses(clinical, weight_kg, measured_on, field):
    recipient = RecipientFactory.create()
    with unchanged(recipient), pytest.raises(ValidationError) as exc:
        recipients.recipient_record_weight(
            actor=clinical, recipient=recipient, weight_kg=weight_kg, measured_on=measured_on
        )
    assert field in exc.value.message_dict


def test_record_weight_is_clinical(technician):
    recipient = RecipientFactory.create()
    with unchanged(recipient), pytest.raises(PermissionDenied):
        recipients.recipient_record_weight(
            actor=technician, recipient=recipient, weight_kg=Decimal("70"), measured_on=today()
        )


# --- treating clinician ---


def test_the_enrolling_clinician_treats_the_recipient_unless_another_is_chosen(clinical):
    assert register(clinical).treating_clinician == clinical
    colleague = UserFactory.create(username="clinic-b", role="clinical")
    chosen = register(clinical, subject_id="CARNK-102", treating_clinician=colleague)
    assert Recipient.objects.get(pk=chosen.pk).treating_clinician == colleague


def test_an_enroller_who_is_not_clinical_staff_must_choose_one(clinical):
    # Holds the permission but not the role: no one to default to.
    enroller = UserFactory.create(username="research-nurse")
    enroller.user_permissions.add(
        Permission.objects.get(content_type__app_label="batches", codename="add_recipient")
    )
    with pytest.raises(ValidationError) as exc:
        register(enroller)
    assert "treating_clinician" in exc.value.message_dict
    assert register(enroller, treating_clinician=clinical).treating_clinician == clinical


@pytest.mark.parametrize("role", [None, "qa", "courier"])
def test_the_treating_clinician_must_be_clinical_staff(clinical, role):
    other = UserFactory.create(username="not-clinical", role=role)
    with pytest.raises(ValidationError) as exc:
        register(clinical, treating_clinician=other)
    assert "not active clinical staff" in exc.value.message_dict["treating_clinician"][0]
    assert not Recipient.objects.filter(subject_id="CARNK-101").exists()


def test_reassign_hands_the_recipient_to_another_clinician_with_the_reason(clinical):
    recipient = RecipientFactory.create()
    before = recipient.treating_clinician
    assert before is not None and before != clinical
    changed = recipients.recipient_reassign_clinician(
        actor=clinical,
        recipient=recipient,
        treating_clinician=clinical,
        reason=f"{before.username} on leave",
    )
    assert (
        Recipient.objects.get(pk=recipient.pk).treating_clinician
        == clinical
        == (changed.treating_clinician)
    )
    assert_trailed(recipient, actor=clinical, reason=f"{before.username} on leave")
    event = audit_history(recipient).last()
    assert event is not None and event.pgh_data["treating_clinician_id"] == clinical.pk


def test_reassign_needs_a_reason(clinical):
    recipient = RecipientFactory.create()
    with unchanged(recipient), pytest.raises(ValidationError) as exc:
        recipients.recipient_reassign_clinician(
            actor=clinical, recipient=recipient, treating_clinician=clinical, reason="  "
        )
    assert "reason" in exc.value.message_dict


@pytest.mark.parametrize("who", ["qa", "courier", "technician"])
def test_reassign_is_clinical(request, clinical, who):
    recipient = RecipientFactory.create()
    with unchanged(recipient), pytest.raises(PermissionDenied):
        recipients.recipient_reassign_clinician(
            actor=request.getfixturevalue(who),
            recipient=recipient,
            treating_clinician=clinical,
            reason="r",
        )


def test_reassign_refuses_someone_not_clinical_or_the_same_clinician(clinical, qa):
    recipient = RecipientFactory.create(treating_clinician=clinical)
    for who, message in [(qa, "not active clinical staff"), (clinical, "already treats")]:
        with unchanged(recipient), pytest.raises(ValidationError) as exc:
            recipients.recipient_reassign_clinician(
                actor=clinical, recipient=recipient, treating_clinician=who, reason="r"
            )
        assert message in exc.value.message_dict["treating_clinician"][0]
