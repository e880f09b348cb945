"""Unit selection (batches/services/unit_selection.py and the allocation for a recipient in
batches/services/donor.py): typing checked per field, DSA recorded, the selection recorded with
its rationale and the match as shown, each with its trail row."""

import importlib
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from batches.models import DonorSpecificAntibody, UnitSelection
from batches.selectors.unit_selection import unit_match
from batches.services import donor, recipients, unit_selection
from tests.factories import CordBloodUnitFactory, RecipientFactory
from tests.services.trail import assert_trailed, unchanged

pytestmark = pytest.mark.django_db

# The factory unit: A*02:01, A*24:02 / B*07:02, B*44:02 / C*05:01, C*07:02 / DRB1*04:01, *15:01
RECIPIENT_TYPING = {
    "hla_a": "A*02:01, A*03:01",
    "hla_b": "B*07:02, B*44:03",  # B44 antigen: a match at antigen level
    "hla_c": "C*07:01, C*07:02",
    "hla_drb1": "DRB1*04:01, DRB1*15:01",
}


def test_allocation_for_a_recipient_records_the_selection_with_the_match(clinical):
    unit = CordBloodUnitFactory.create()
    recipient = RecipientFactory.create(**RECIPIENT_TYPING)
    dsa = unit_selection.dsa_record(
        actor=clinical,
        recipient=recipient,
        unit=unit,
        present=False,
        tested_on=timezone.localdate() - timedelta(days=2),
    )
    donor.cord_blood_unit_allocate(
        actor=clinical,
        unit=unit,
        reason="Selected for CARNK",
        recipient=recipient,
        selection_rationale="Best grade available; C2 mismatch wanted for NK alloreactivity",
    )
    selection = UnitSelection.objects.get(unit=unit)
    assert selection.recipient == recipient and selection.selected_by == clinical
    assert selection.match_grade == "5/6"  # A*24 against A*03
    assert selection.unit_kir_ligands == "C1/C2, Bw4"
    assert selection.recipient_kir_ligands == "C1/C1, Bw4"
    assert selection.kir_mismatch == "Mismatch (GvH direction): recipient lacks C2"
    assert selection.dsa == dsa
    assert_trailed(selection, actor=clinical, reason="Selected for CARNK", label="insert")
    unit.refresh_from_db()
    assert unit.status == "allocated"


@pytest.mark.parametrize("rationale", ["", "   "])
def test_allocation_for_a_recipient_needs_a_rationale(clinical, rationale):
    unit = CordBloodUnitFactory.create()
    recipient = RecipientFactory.create()
    with unchanged(unit), pytest.raises(ValidationError) as exc:
        donor.cord_blood_unit_allocate(
            actor=clinical,
            unit=unit,
            reason="r",
            recipient=recipient,
            selection_rationale=rationale,
        )
    assert "selection_rationale" in exc.value.message_dict
    assert not UnitSelection.objects.exists()


def test_a_rationale_without_a_recipient_is_refused(clinical):
    unit = CordBloodUnitFactory.create()
    with unchanged(unit), pytest.raises(ValidationError) as exc:
        donor.cord_blood_unit_allocate(
            actor=clinical, unit=unit, reason="r", selection_rationale="Because"
        )
    assert "recipient" in exc.value.message_dict


def test_the_selection_keeps_the_match_it_was_made_on(clinical):
    """Typing corrected later changes the match shown, not the recorded selection."""
    unit = CordBloodUnitFactory.create()
    recipient = RecipientFactory.create(**RECIPIENT_TYPING)
    donor.cord_blood_unit_allocate(
        actor=clinical, unit=unit, reason="r", recipient=recipient, selection_rationale="Best"
    )
    recipients.recipient_update(
        actor=clinical, recipient=recipient, reason="Retyped", hla_a="A*02:01, A*24:02"
    )
    assert UnitSelection.objects.get().match_grade == "5/6"


def test_dsa_present_needs_its_mfi_and_is_trailed(clinical):
    unit = CordBloodUnitFactory.create()
    recipient = RecipientFactory.create()
    with pytest.raises(ValidationError) as exc:
        unit_selection.dsa_record(
            actor=clinical,
            recipient=recipient,
            unit=unit,
            present=True,
            tested_on=timezone.localdate(),
        )
    assert "mfi" in exc.value.message_dict
    dsa = unit_selection.dsa_record(
        actor=clinical,
        recipient=recipient,
        unit=unit,
        present=True,
        mfi=4500,
        specificity="anti-A*24:02",
        tested_on=timezone.localdate(),
        reason="Single antigen beads",
    )
    assert DonorSpecificAntibody.objects.get() == dsa
    assert_trailed(dsa, actor=clinical, reason="Single antigen beads", label="insert")


def test_dsa_date_cannot_be_in_the_future(clinical):
    with pytest.raises(ValidationError) as exc:
        unit_selection.dsa_record(
            actor=clinical,
            recipient=RecipientFactory.create(),
            unit=CordBloodUnitFactory.create(),
            present=False,
            tested_on=timezone.localdate() + timedelta(days=1),
        )
    assert "tested_on" in exc.value.message_dict


def test_dsa_needs_the_permission(technician):
    with pytest.raises(PermissionDenied):
        unit_selection.dsa_record(
            actor=technician,
            recipient=RecipientFactory.create(),
            unit=CordBloodUnitFactory.create(),
            present=False,
            tested_on=timezone.localdate(),
        )
    assert not DonorSpecificAntibody.objects.exists()


def test_recipient_typing_is_checked_per_field_and_stored_canonically(clinical):
    with pytest.raises(ValidationError) as exc:
        recipients.recipient_register(
            actor=clinical,
            subject_id="CARNK-HLA",
            diagnosis="NHL",
            weight_kg=Decimal("70"),
            weight_measured_on=timezone.localdate(),
            hla_a="A*02:01",
            hla_b="B7",
            hla_drb1="DRB1*04:01, DRB1*15:01, DRB1*01:01",
        )
    assert set(exc.value.message_dict) == {"hla_b", "hla_drb1"}
    recipient = recipients.recipient_register(
        actor=clinical,
        subject_id="CARNK-HLA",
        diagnosis="NHL",
        weight_kg=Decimal("70"),
        weight_measured_on=timezone.localdate(),
        hla_a="a*02:01:01;A*03:01",
    )
    assert recipient.hla_a == "A*02:01, A*03:01"


def test_the_data_migration_puts_old_typing_in_canonical_form_and_keeps_unreadable_text():
    from django.apps import apps

    migration = importlib.import_module("batches.migrations.0027_hla_typing_in_canonical_form")
    unit = CordBloodUnitFactory.create(hla_a="a*02:01:01;A*03:01", hla_b="B7 B8 (serology)")
    migration.canonical_typing(apps, None)
    unit.refresh_from_db()
    assert unit.hla_a == "A*02:01, A*03:01"
    assert unit.hla_b == "B7 B8 (serology)"  # kept as typed: the match then says it is unread
    recipient = RecipientFactory.create()
    assert unit_match(unit=unit, recipient=recipient).unreadable == ["unit HLA-B"]
