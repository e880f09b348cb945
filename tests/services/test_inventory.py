"""Stock of material lots (batches/services/inventory.py and the step's draw): quantities on
hand, what a step draws, adjustments, certificates of analysis, and the recall of a lot that
lists every batch that used it."""

import hashlib
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from batches.models import LotCertificate, MaterialUse, ReagentLot, StockAdjustment
from batches.selectors.inventory import lot_certificates, lot_uses
from batches.services import batch_record, inventory, materials
from batches.services.batch_record import batch_create
from carnk_mfg.signatures import signatures_for
from tests.batch_steps import planned_days_ago, step_payloads
from tests.factories import (
    PASSWORD,
    CordBloodUnitFactory,
    ReagentLotFactory,
    certificate_for,
)
from tests.services.trail import assert_trailed, unchanged

pytestmark = pytest.mark.django_db


def thaw(batch, actor, quantity=None, lot_number="ISO-1"):
    """Record the batch's first step drawing `quantity` of the isolation reagent lot."""
    code, at, values, _materials = step_payloads(
        timezone.now() - timedelta(days=20), din=batch.source_unit.din
    )[0]
    item = {"kind": "reagent", "lot_number": lot_number}
    if quantity is not None:
        item["quantity"] = quantity
    return batch_record.step_record(
        actor=actor,
        password=PASSWORD,
        batch=batch,
        template_step=batch.template.steps.get(code=code),
        performed_at=at,
        values=values,
        materials=[item],
    )


def second_batch(technician, template):
    with planned_days_ago(30):
        batch = batch_create(
            actor=technician,
            source_unit=CordBloodUnitFactory.create(),
            template=template,
            unit_fraction_used_pct=Decimal("100"),
        )
    from batches.services.lifecycle import batch_transition

    return batch_transition(actor=technician, batch=batch, to_state="in_process", reason="go")


# --- a step draws from stock ---


def test_a_step_draws_the_quantity_it_records(running_batch, technician, lots):
    step = thaw(running_batch, technician, quantity="12.5")
    lot = ReagentLot.objects.get(pk=lots["isolation"].pk)
    assert lot.quantity_on_hand == Decimal("987.5")
    (use,) = step.materials.all()
    assert use.quantity_used == Decimal("12.5")


def test_a_step_recording_no_quantity_draws_nothing(running_batch, technician, lots):
    thaw(running_batch, technician)
    assert ReagentLot.objects.get(pk=lots["isolation"].pk).quantity_on_hand == Decimal("1000")
    assert MaterialUse.objects.get().quantity_used is None


def test_drawing_more_than_on_hand_is_refused_naming_the_lot(running_batch, technician, lots):
    ReagentLot.objects.filter(pk=lots["isolation"].pk).update(quantity_on_hand=Decimal("3"))
    with unchanged(running_batch), pytest.raises(ValidationError) as exc:
        thaw(running_batch, technician, quantity="5")
    message = exc.value.message_dict["materials.0.quantity"][0]
    assert "Reagent lot ISO-1 has 3 mL on hand" in message
    assert "5 mL cannot be drawn" in message
    assert ReagentLot.objects.get(pk=lots["isolation"].pk).quantity_on_hand == Decimal("3")


@pytest.mark.parametrize("quantity", ["-1", "0", "abc", "1.0001", "NaN"])
def test_a_quantity_that_is_no_amount_is_refused(running_batch, technician, lots, quantity):
    with unchanged(), pytest.raises(ValidationError) as exc:
        thaw(running_batch, technician, quantity=quantity)
    assert "materials.0.quantity" in exc.value.message_dict


# --- adjustments ---


def test_a_count_correction_sets_the_stock_trailed(technician, lots):
    lot = lots["il2"]
    adjustment = inventory.lot_stock_adjust(
        actor=technician,
        lot=lot,
        adjustment_kind="count",
        change=Decimal("-4"),
        reason="Counted 996 mL",
    )
    lot.refresh_from_db()
    assert (lot.quantity_on_hand, adjustment.on_hand_after) == (Decimal("996"), Decimal("996"))
    assert_trailed(adjustment, actor=technician, reason="Counted 996 mL", label="insert")
    assert_trailed(lot, actor=technician, reason="Counted 996 mL", label="update")


@pytest.mark.parametrize(
    "kind, change, field, message",
    [
        ("breakage", Decimal("2"), "change", "take stock away"),
        ("count", Decimal("0"), "change", "changes the stock"),
        ("count", Decimal("-1001"), "change", "1000 mL on hand"),
        ("lost", Decimal("-1"), "adjustment_kind", "Choose"),
    ],
)
def test_adjustments_refused(technician, lots, kind, change, field, message):
    lot = lots["il2"]
    with unchanged(lot), pytest.raises(ValidationError) as exc:
        inventory.lot_stock_adjust(
            actor=technician, lot=lot, adjustment_kind=kind, change=change, reason="r"
        )
    assert message in exc.value.message_dict[field][0]


def test_adjusting_stock_needs_the_permission(qa, lots):
    with unchanged(), pytest.raises(PermissionDenied):
        inventory.lot_stock_adjust(
            actor=qa, lot=lots["il2"], adjustment_kind="breakage", change=Decimal("-1"), reason="r"
        )


# --- certificates of analysis ---


def test_a_certificate_is_kept_with_its_sha256(technician, lots):
    data = b"%PDF-1.4 certificate of analysis"
    coa = inventory.lot_certificate_upload(
        actor=technician, lot=lots["il2"], filename="IL2-1 CoA.pdf", data=data
    )
    kept = LotCertificate.objects.get(pk=coa.pk)
    assert bytes(kept.content) == data
    assert kept.sha256 == hashlib.sha256(data).hexdigest()
    assert (kept.size_bytes, kept.lot) == (len(data), lots["il2"])
    assert list(lot_certificates(lots["il2"])) == [kept]
    assert_trailed(
        kept,
        actor=technician,
        reason="Certificate of analysis of reagent lot IL2-1: IL2-1 CoA.pdf",
        label="insert",
    )


@pytest.mark.parametrize(
    "data, message", [(b"", "empty"), (b"x" * (inventory.CERTIFICATE_MAX_BYTES + 1), "larger")]
)
def test_a_certificate_empty_or_too_large_is_refused(technician, lots, data, message):
    with unchanged(), pytest.raises(ValidationError, match=message):
        inventory.lot_certificate_upload(
            actor=technician, lot=lots["il2"], filename="c.pdf", data=data
        )


def test_release_needs_a_certificate_on_file(qa, technician):
    lot = ReagentLotFactory.create(status="quarantined")
    with unchanged(lot), pytest.raises(ValidationError, match="no certificate of analysis"):
        materials.material_lot_disposition(
            actor=qa, password=PASSWORD, lot=lot, status="released", reason="ok"
        )
    certificate_for(lot, technician)
    materials.material_lot_disposition(
        actor=qa, password=PASSWORD, lot=lot, status="released", reason="CoA reviewed"
    )
    lot.refresh_from_db()
    assert lot.status == "released"


def test_registration_puts_all_received_on_hand(technician):
    lot = materials.material_lot_register(
        actor=technician,
        kind="reagent",
        reagent="il2",
        lot_number="IL2-9",
        manufacturer="Clinigen",
        received_on=timezone.localdate(),
        expiry_date=timezone.localdate() + timedelta(days=90),
        quantity_received=Decimal("20"),
        unit="vial",
    )
    assert (lot.quantity_received, lot.quantity_on_hand, lot.unit) == (20, 20, "vial")


def test_registration_needs_the_quantity_received(technician):
    with unchanged(), pytest.raises(ValidationError) as exc:
        materials.material_lot_register(
            actor=technician,
            kind="reagent",
            reagent="il2",
            lot_number="IL2-9",
            manufacturer="Clinigen",
            received_on=timezone.localdate(),
            expiry_date=timezone.localdate() + timedelta(days=90),
        )
    assert "quantity_received" in exc.value.message_dict


# --- recall ---


def test_lot_recall_lists_its_batches(running_batch, technician, qa, approved_template, lots):
    """Acceptance: a recalled lot is refused for further use and lists every batch that
    used it, with the step, its date, the quantity and the batch's state."""
    other = second_batch(technician, approved_template)
    first = thaw(running_batch, technician, quantity="10")
    thaw(other, technician)
    lot = materials.LOT_MODELS["reagent"].objects.get(lot_number="ISO-1")
    recalled = inventory.material_lot_recall(
        actor=qa, password=PASSWORD, lot=lot, reason="Supplier recall notice 24-117"
    )
    assert recalled.status == "recalled"
    (signature,) = signatures_for(recalled)
    assert (signature.meaning, signature.signer) == ("recalled", qa)
    assert_trailed(recalled, actor=qa, reason="Supplier recall notice 24-117", label="update")
    uses = lot_uses(recalled)
    assert [(u.batch_lot_number, u.step_order, u.quantity_used) for u in uses] == [
        (running_batch.lot_number, 1, Decimal("10")),
        (other.lot_number, 1, None),
    ]
    assert uses[0].performed_at == first.performed_at
    assert uses[0].batch_state == "in_process"
    assert "is recalled, not released" in materials.lot_usability(recalled).reason
    assert lot_uses(lots["il2"]) == []


def test_a_recall_is_qas_signed_and_final(qa, technician, lots):
    lot = lots["il2"]
    with unchanged(lot), pytest.raises(PermissionDenied):
        inventory.material_lot_recall(actor=technician, password=PASSWORD, lot=lot, reason="r")
    with unchanged(lot, signing_failures=1), pytest.raises(ValidationError):
        inventory.material_lot_recall(actor=qa, password="wrong", lot=lot, reason="r")
    inventory.material_lot_recall(actor=qa, password=PASSWORD, lot=lot, reason="Recall")
    lot.refresh_from_db()
    with unchanged(lot), pytest.raises(ValidationError, match="already recalled"):
        inventory.material_lot_recall(actor=qa, password=PASSWORD, lot=lot, reason="again")
    with unchanged(lot), pytest.raises(ValidationError, match="recalled, for good"):
        materials.material_lot_disposition(
            actor=qa, password=PASSWORD, lot=lot, status="quarantined", reason="back"
        )
    with unchanged(lot), pytest.raises(ValidationError, match="Choose"):
        materials.material_lot_disposition(
            actor=qa, password=PASSWORD, lot=lot, status="recalled", reason="back"
        )


def test_stock_adjustments_are_listed(technician, lots):
    inventory.lot_stock_adjust(
        actor=technician,
        lot=lots["il2"],
        adjustment_kind="breakage",
        change=Decimal("-1.5"),
        reason="Vial dropped",
    )
    (row,) = StockAdjustment.objects.filter(reagent_lot=lots["il2"])
    assert (row.change, row.adjusted_by) == (Decimal("-1.5"), technician)
