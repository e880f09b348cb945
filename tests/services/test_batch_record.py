"""The batch record: planning, steps, counts, deviations, custody
(batches/services/batch_record.py), called directly."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from batches.models import Batch, CellCount, CordBloodUnit, Deviation, ProcessTemplate
from batches.services import batch_record, lifecycle
from batches.services.batch_record import DeviationInput
from carnk_mfg import isbt128
from carnk_mfg.signatures import signatures_for
from tests.batch_steps import step_payloads
from tests.factories import PASSWORD, CordBloodUnitFactory, ReagentLotFactory
from tests.services.trail import assert_trailed, unchanged

pytestmark = pytest.mark.django_db


# --- planning ---


def plan(actor, template, unit, share=100, **extra):
    return batch_record.batch_create(
        actor=actor, source_unit=unit, template=template, unit_fraction_used_pct=share, **extra
    )


def test_create_plans_a_batch_and_allocates_its_unit(technician, approved_template):
    unit = CordBloodUnitFactory.create()
    batch = plan(technician, approved_template, unit, lot_number="CNK-T1")
    batch = Batch.objects.get(pk=batch.pk)
    assert (batch.lot_number, batch.state, batch.created_by) == ("CNK-T1", "planned", technician)
    assert isbt128.validate_din(batch.din) == batch.din
    assert CordBloodUnit.objects.get(pk=unit.pk).status == "allocated"
    assert_trailed(batch, actor=technician, reason="Batch planned", label="insert")
    assert_trailed(unit, actor=technician, reason="Batch planned", label="update")


def test_create_shares_one_unit_up_to_all_of_it(technician, approved_template):
    unit = CordBloodUnitFactory.create()
    plan(technician, approved_template, unit, 60)
    plan(technician, approved_template, unit, 40)
    with unchanged(unit), pytest.raises(ValidationError, match="Only 0.00% of unit"):
        plan(technician, approved_template, unit, 1)


def test_create_refuses_a_template_not_approved(technician):
    draft, unit = (
        ProcessTemplate.objects.get(code="CB-CAR-NK", version=1),
        CordBloodUnitFactory.create(),
    )
    with unchanged(unit), pytest.raises(ValidationError) as exc:
        plan(technician, draft, unit)
    assert "template" in exc.value.message_dict


def test_create_refuses_a_unit_qa_has_not_determined(technician, approved_template):
    unit = CordBloodUnitFactory.create(eligibility="pending", status="received")
    with unchanged(unit), pytest.raises(ValidationError) as exc:
        plan(technician, approved_template, unit)
    assert "eligibility" in exc.value.message_dict


def test_create_refuses_a_lot_number_taken(technician, approved_template, planned_batch):
    unit = CordBloodUnitFactory.create()
    with unchanged(unit), pytest.raises(ValidationError) as exc:
        plan(technician, approved_template, unit, lot_number=planned_batch.lot_number)
    assert "lot_number" in exc.value.message_dict


def test_create_is_the_technicians(qa, approved_template):
    unit = CordBloodUnitFactory.create()
    with unchanged(unit), pytest.raises(PermissionDenied):
        plan(qa, approved_template, unit)


# --- checking a proposed step ---


def payload(batch, code, **changes):
    """The default payload of step `code`, with `changes` to its values or its time/materials."""
    day0 = timezone.now() - timedelta(days=20)
    for c, at, values, materials in step_payloads(day0, din=batch.source_unit.din):
        if c == code:
            args = {"performed_at": at, "values": dict(values), "materials": list(materials)}
            for key, value in changes.items():
                if key in args:
                    args[key] = value
                else:
                    args["values"][key] = value
            return {"template_step": batch.template.steps.get(code=code), **args}
    raise KeyError(code)


def test_check_step_cleans_the_values_and_finds_no_departure(running_batch, lots):
    check = batch_record.check_step(batch=running_batch, **payload(running_batch, "thaw_isolation"))
    assert check.departures == []
    assert check.values["cbu_din"] == running_batch.source_unit.din
    assert check.values["post_thaw_viability_pct"] == 88.0
    assert [lot for lot, _qty, _index in check.lots] == [lots["isolation"]]


@pytest.mark.parametrize(
    "changes, kind",
    [
        ({"post_thaw_viability_pct": 40}, "out_of_range"),
        ({"materials": []}, "material"),
        ({"materials": [{"kind": "reagent", "lot_number": "IL2-1"}]}, "material"),
    ],
    ids=["out-of-range", "missing-material", "other-material"],
)
def test_check_step_lists_departures_a_deviation_must_cover(running_batch, lots, changes, kind):
    changes.setdefault("performed_at", timezone.now() - timedelta(days=20))
    check = batch_record.check_step(
        batch=running_batch, **payload(running_batch, "thaw_isolation", **changes)
    )
    assert kind in [k for k, _text in check.departures]


def test_check_step_counts_lateness_from_day0(running_batch, record_steps):
    record_steps(running_batch, ["thaw_isolation"])
    day0 = running_batch.day0_at
    on_time = payload(running_batch, "stimulation", performed_at=day0 + timedelta(hours=23))
    late = payload(running_batch, "stimulation", performed_at=day0 + timedelta(days=2))
    assert batch_record.check_step(batch=running_batch, **on_time).departures == []
    ((kind, text),) = batch_record.check_step(batch=running_batch, **late).departures
    assert kind == "late" and "performed on day 2, planned for day 0" in text


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"colour": "red"}, "values.colour"),
        ({"post_thaw_tnc": "lots"}, "values.post_thaw_tnc"),
        ({"nk_purity_pct": None}, "values.nk_purity_pct"),
        ({"cbu_din": "G123426999999"}, "values.cbu_din"),
        ({"materials": [{"kind": "reagent", "lot_number": "NOPE"}]}, "materials.0.lot_number"),
        ({"materials": [{"kind": "blood", "lot_number": "ISO-1"}]}, "materials.0.kind"),
        ({"performed_at": timezone.now() + timedelta(days=1)}, "performed_at"),
        ({"performed_at": timezone.now() - timedelta(days=40)}, "performed_at"),
    ],
    ids=[
        "unknown-param",
        "not-a-number",
        "required",
        "wrong-unit",
        "unknown-lot",
        "kind",
        "future",
        "before-planned",
    ],
)
def test_check_step_refuses_what_cannot_be_saved(running_batch, lots, changes, field):
    with pytest.raises(ValidationError) as exc:
        batch_record.check_step(
            batch=running_batch, **payload(running_batch, "thaw_isolation", **changes)
        )
    assert field in exc.value.message_dict


def test_check_step_refuses_an_unusable_lot(running_batch, lots):
    ReagentLotFactory.create(lot_number="ISO-Q", reagent="isolation", status="quarantined")
    materials = [{"kind": "reagent", "lot_number": "ISO-Q"}]
    with pytest.raises(ValidationError, match="quarantined, not released"):
        batch_record.check_step(
            batch=running_batch, **payload(running_batch, "thaw_isolation", materials=materials)
        )


# --- recording a step (signed) ---


def record(actor, batch, code="thaw_isolation", password=PASSWORD, deviation=None, **changes):
    return batch_record.step_record(
        actor=actor,
        password=password,
        batch=batch,
        deviation=deviation,
        **payload(batch, code, **changes),
    )


def test_step_record_saves_step_materials_and_day0_signed(running_batch, technician, lots):
    step = record(technician, running_batch)
    running_batch.refresh_from_db()
    assert running_batch.day0_at == step.performed_at
    assert [m.lot for m in step.materials.all()] == [lots["isolation"]]
    (signature,) = signatures_for(step)
    assert (signature.meaning, signature.signer) == ("performed", technician)
    reason = f"Step recorded: {step.template_step.name}"
    assert_trailed(step, actor=technician, reason=reason, label="insert")


def test_step_record_saves_a_departure_only_with_a_deviation(running_batch, technician):
    with unchanged(running_batch), pytest.raises(ValidationError, match="departs from"):
        record(technician, running_batch, post_thaw_viability_pct=40)
    step = record(
        technician,
        running_batch,
        post_thaw_viability_pct=40,
        deviation=DeviationInput(what="", why="Long transport", impact="Within NK release"),
    )
    (deviation,) = Deviation.objects.filter(step=step)
    assert (deviation.kind, deviation.state) == ("out_of_range", "open")
    assert Batch.objects.get(pk=running_batch.pk).state == "on_hold"


@pytest.mark.parametrize(
    "deviation, changes",
    [
        (DeviationInput(what="x", why=" ", impact="none"), {"post_thaw_viability_pct": 40}),
        (DeviationInput(what=" ", why="y", impact="none"), {}),
    ],
    ids=["no-why", "nothing-departed-and-no-what"],
)
def test_step_record_refuses_an_incomplete_deviation(running_batch, technician, deviation, changes):
    with unchanged(running_batch), pytest.raises(ValidationError) as exc:
        record(technician, running_batch, deviation=deviation, **changes)
    assert "deviation" in exc.value.message_dict


def test_step_record_keeps_template_order_and_records_a_step_once(running_batch, technician):
    with unchanged(running_batch), pytest.raises(ValidationError, match="template order"):
        record(technician, running_batch, "stimulation")
    record(technician, running_batch)
    with unchanged(running_batch), pytest.raises(ValidationError, match="already recorded"):
        record(technician, running_batch)


def test_step_record_needs_a_batch_in_process(planned_batch, technician):
    with unchanged(planned_batch), pytest.raises(ValidationError, match="while the batch is in"):
        record(technician, planned_batch)


def test_step_record_refuses_a_step_of_another_template(running_batch, technician, admin_user):
    from batches.services.templates import template_new_version

    other = template_new_version(actor=admin_user, template=running_batch.template, reason="v2")
    args = payload(running_batch, "thaw_isolation")
    args["template_step"] = other.steps.get(code="thaw_isolation")
    with unchanged(running_batch), pytest.raises(ValidationError, match="another template"):
        batch_record.step_record(actor=technician, password=PASSWORD, batch=running_batch, **args)


def test_step_record_refuses_an_ineligible_unit_without_urgent_need(running_batch, technician):
    CordBloodUnit.objects.filter(pk=running_batch.source_unit_id).update(eligibility="ineligible")
    with unchanged(running_batch), pytest.raises(ValidationError, match="no recorded urgent"):
        record(technician, running_batch)


def test_step_record_is_the_technicians(running_batch, qc_analyst):
    with unchanged(running_batch), pytest.raises(PermissionDenied):
        record(qc_analyst, running_batch)


def test_step_record_refuses_a_wrong_password(running_batch, technician):
    with unchanged(running_batch, signing_failures=1), pytest.raises(ValidationError) as exc:
        record(technician, running_batch, password="wrong")
    assert "password" in exc.value.message_dict


# --- cell counts ---


def count_args(batch, **changes):
    return {
        "batch": batch,
        "day": 3,
        "measured_at": timezone.now() - timedelta(hours=1),
        "total_cells_per_ml": 2e6,
        "viable_cells_per_ml": 1.8e6,
        "volume_ml": Decimal("50"),
        **changes,
    }


def test_cell_count_build_computes_viability_and_total_unsaved(running_batch, technician):
    count = batch_record.cell_count_build(actor=technician, **count_args(running_batch))
    assert count.pk is None
    assert count.viability_pct == Decimal("90.00")
    assert count.total_viable_cells == pytest.approx(9e7)
    alone = batch_record.cell_count_build(
        actor=technician, **count_args(running_batch, volume_ml=None)
    )
    assert alone.total_viable_cells is None


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"viable_cells_per_ml": 3e6}, "viable_cells_per_ml"),
        ({"viability_pct": Decimal("70")}, "viability_pct"),
        ({"day": 61}, "day"),
        ({"total_cells_per_ml": 0}, "total_cells_per_ml"),
        ({"measured_at": timezone.now() + timedelta(days=1)}, "measured_at"),
        ({"measured_at": timezone.now() - timedelta(days=40)}, "measured_at"),
    ],
    ids=["viable-above-total", "viability-disagrees", "day", "total", "future", "before-planned"],
)
def test_cell_count_build_refuses(running_batch, technician, changes, field):
    with pytest.raises(ValidationError) as exc:
        batch_record.cell_count_build(actor=technician, **count_args(running_batch, **changes))
    assert field in exc.value.message_dict


def test_cell_count_build_refuses_a_batch_not_in_culture(planned_batch, technician):
    with pytest.raises(ValidationError) as exc:
        batch_record.cell_count_build(actor=technician, **count_args(planned_batch))
    assert "batch" in exc.value.message_dict


def test_cell_count_record_saves_and_trails(running_batch, qc_analyst):
    count = batch_record.cell_count_record(actor=qc_analyst, **count_args(running_batch))
    count = CellCount.objects.get(pk=count.pk)
    assert (count.day, count.recorded_by, count.source) == (3, qc_analyst, "manual")
    assert_trailed(count, actor=qc_analyst, reason="Cell count day 3", label="insert")


@pytest.mark.parametrize(
    "changes, field",
    [({"volume_ml": None}, "volume_ml"), ({"viable_cells_per_ml": 3e6}, "viable_cells_per_ml")],
)
def test_cell_count_record_refuses(running_batch, technician, changes, field):
    with unchanged(running_batch), pytest.raises(ValidationError) as exc:
        batch_record.cell_count_record(actor=technician, **count_args(running_batch, **changes))
    assert field in exc.value.message_dict


def test_cell_count_record_is_the_labs(running_batch, clinical):
    with unchanged(running_batch), pytest.raises(PermissionDenied):
        batch_record.cell_count_record(actor=clinical, **count_args(running_batch))


# --- deviations ---


def deviate(actor, batch, kind="other", why="Dropped"):
    return batch_record.deviation_open(
        actor=actor, batch=batch, kind=kind, what="Flask spill", why=why, impact="Minor"
    )


def test_open_deviation_locked_holds_an_active_batch_once(running_batch, technician):
    with transaction.atomic():
        locked = lifecycle.lock_batch(running_batch)
        first = batch_record.open_deviation_locked(
            actor=technician, batch=locked, step=None, kind="other", what="a", why="b", impact="c"
        )
        batch_record.open_deviation_locked(
            actor=technician, batch=locked, step=None, kind="late", what="d", why="e", impact="f"
        )
    running_batch.refresh_from_db()
    assert (running_batch.state, running_batch.held_from_state) == ("on_hold", "in_process")
    assert (first.state, first.opened_by) == ("open", technician)
    assert running_batch.deviations.count() == 2


def test_deviation_open_holds_the_batch_with_the_reason(running_batch, technician):
    deviation = deviate(technician, running_batch)
    running_batch.refresh_from_db()
    assert running_batch.state == "on_hold"
    assert Deviation.objects.get(pk=deviation.pk).what == "Flask spill"
    assert_trailed(deviation, actor=technician, reason="Deviation: Flask spill", label="insert")
    assert_trailed(running_batch, actor=technician, reason="Deviation: Flask spill")


@pytest.mark.parametrize("kind, why, field", [("typo", "x", "kind"), ("other", " ", "why")])
def test_deviation_open_refuses_an_incomplete_record(running_batch, technician, kind, why, field):
    with unchanged(running_batch), pytest.raises(ValidationError) as exc:
        deviate(technician, running_batch, kind, why)
    assert field in exc.value.message_dict


def test_deviation_open_refuses_a_batch_past_its_decision(planned_batch, technician, qa):
    from batches.services.lifecycle import batch_transition

    batch_transition(
        actor=qa, batch=planned_batch, to_state="terminated", reason="r", password=PASSWORD
    )
    with unchanged(planned_batch), pytest.raises(ValidationError, match="is terminated"):
        deviate(technician, planned_batch)


def test_deviation_open_is_not_clinicals(running_batch, clinical):
    with unchanged(running_batch), pytest.raises(PermissionDenied):
        deviate(clinical, running_batch)


def dispose(actor, deviation, disposition="accept", notes="Impact assessed", password=PASSWORD):
    return batch_record.deviation_disposition(
        classification="minor",
        root_cause="Assessed by QA",
        actor=actor,
        password=password,
        deviation=deviation,
        disposition=disposition,
        notes=notes,
    )


def test_accepting_the_last_deviation_resumes_the_batch(running_batch, technician, qa):
    first, second = deviate(technician, running_batch), deviate(technician, running_batch)
    dispose(qa, first)
    assert Batch.objects.get(pk=running_batch.pk).state == "on_hold"
    dispose(qa, second)
    second.refresh_from_db()
    assert (second.state, second.disposition, second.dispositioned_by) == ("closed", "accept", qa)
    assert Batch.objects.get(pk=running_batch.pk).state == "in_process"
    (signature,) = signatures_for(second)
    assert signature.meaning == "approved"
    assert_trailed(second, actor=qa, reason="Deviation accept: Impact assessed")


def test_rejecting_a_deviation_terminates_the_batch(running_batch, technician, qa):
    deviation = dispose(qa, deviate(technician, running_batch), "reject_batch")
    assert deviation.disposition == "reject_batch"
    assert Batch.objects.get(pk=running_batch.pk).state == "terminated"


@pytest.mark.parametrize(
    "disposition, notes, message",
    [("maybe", "n", "Choose accept"), ("accept", " ", "rationale")],
)
def test_disposition_refuses_an_incomplete_decision(
    running_batch, technician, qa, disposition, notes, message
):
    deviation = deviate(technician, running_batch)
    with unchanged(deviation), pytest.raises(ValidationError, match=message):
        dispose(qa, deviation, disposition, notes)


def test_disposition_refuses_a_closed_deviation(running_batch, technician, qa):
    deviation = dispose(qa, deviate(technician, running_batch))
    with unchanged(deviation), pytest.raises(ValidationError, match="already closed"):
        dispose(qa, deviation, "reject_batch")


def test_disposition_is_qas(running_batch, technician):
    deviation = deviate(technician, running_batch)
    with unchanged(deviation), pytest.raises(PermissionDenied):
        dispose(technician, deviation)


def test_disposition_refuses_a_wrong_password(running_batch, technician, qa):
    deviation = deviate(technician, running_batch)
    with unchanged(deviation, signing_failures=1), pytest.raises(ValidationError) as exc:
        dispose(qa, deviation, password="wrong")
    assert "password" in exc.value.message_dict


# --- chain of custody ---


def hand_off(actor, **changes):
    args = {
        "released_by": "technician1",
        "received_by": "qc_analyst1",
        "from_location": "LN2-01",
        "to_location": "Thaw bench",
        "occurred_at": timezone.now() - timedelta(minutes=5),
        "temperature_c": Decimal("-150"),
        **changes,
    }
    return batch_record.custody_record(actor=actor, **args)


def test_custody_record_of_a_unit_and_of_a_batch(technician, qc_analyst, planned_batch):
    unit = planned_batch.source_unit
    event = hand_off(technician, unit=unit)
    assert (event.unit, event.released_by, event.received_by) == (unit, technician, qc_analyst)
    assert_trailed(
        event, actor=technician, reason=f"Custody of {unit}: LN2-01 → Thaw bench", label="insert"
    )
    assert hand_off(technician, batch=planned_batch).batch == planned_batch


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"received_by": "nobody"}, "received_by"),
        ({"unit": None}, "subject"),
        ({"temperature_c": Decimal("-250")}, "temperature_c"),
        ({"to_location": " "}, "to_location"),
        ({"occurred_at": timezone.now() + timedelta(hours=1)}, "occurred_at"),
        ({"occurred_at": timezone.now() - timedelta(days=40)}, "occurred_at"),
    ],
    ids=["no-such-user", "no-subject", "temperature", "location", "future", "before-planned"],
)
def test_custody_record_refuses(technician, qc_analyst, planned_batch, changes, field):
    subject = {"batch": planned_batch, "unit": None}
    if "unit" in changes:
        subject = {"batch": None}
    with unchanged(planned_batch), pytest.raises(ValidationError) as exc:
        hand_off(technician, **{**subject, **changes})
    assert field in exc.value.message_dict


def test_custody_record_is_the_technicians(clinical, qc_analyst, technician, planned_batch):
    with unchanged(planned_batch), pytest.raises(PermissionDenied):
        hand_off(clinical, batch=planned_batch)


# --- planning on an ineligible unit ---


def test_create_on_an_ineligible_unit_needs_the_urgent_need_record(approved_template):
    """A planner who may also allocate (clinical) takes an ineligible unit only with the
    urgent medical need recorded."""
    from django.contrib.auth.models import Group

    from tests.factories import UserFactory

    planner = UserFactory.create(username="tech-clinic", role="technician")
    planner.groups.add(Group.objects.get(name="clinical"))
    unit = CordBloodUnitFactory.create(eligibility="ineligible", status="quarantined")
    with unchanged(unit), pytest.raises(ValidationError) as exc:
        plan(planner, approved_template, unit)
    assert "urgent medical need" in exc.value.message_dict["urgent_need_justification"][0]
    batch = plan(
        planner,
        approved_template,
        unit,
        urgent_need_justification="No eligible match; relapsed CLL",
        urgent_need_physician="Dr. A. Physician",
    )
    assert CordBloodUnit.objects.get(pk=unit.pk).urgent_medical_need is not None
    assert batch.source_unit_id == unit.pk


# --- what the batch page shows on an action it cannot offer: the refusal's own words ---


def test_step_blocker_is_the_step_refusal(running_batch, technician):
    assert batch_record.step_blocker(running_batch) == ""
    batch_record.deviation_open(
        actor=technician, batch=running_batch, kind="other", what="w", why="y", impact="i"
    )
    running_batch.refresh_from_db()
    blocker = batch_record.step_blocker(running_batch)
    assert blocker.startswith("The batch is on hold")
    with unchanged(running_batch), pytest.raises(ValidationError) as refused:
        record(technician, running_batch)
    assert refused.value.message_dict == {"step": [blocker]}


def test_count_and_deviation_blockers_are_their_refusals(planned_batch, technician):
    blocker = batch_record.count_blocker(planned_batch)
    assert blocker == "Counts are recorded during manufacturing; the batch is planned."
    with pytest.raises(ValidationError) as refused:
        batch_record.cell_count_record(
            actor=technician,
            batch=planned_batch,
            day=0,
            measured_at=timezone.now(),
            total_cells_per_ml=2e6,
            viable_cells_per_ml=1.8e6,
            volume_ml=Decimal("10"),
        )
    assert refused.value.message_dict["batch"] == [blocker]
    assert batch_record.deviation_blocker(planned_batch) == ""
    planned_batch.state = "terminated"  # as read; the service locks and reads it again
    assert "the batch is terminated" in batch_record.deviation_blocker(planned_batch)
