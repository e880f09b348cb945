"""`make run` loads the demo lab through the services, once: a batch in each state of the
lifecycle with the work each role has in front of them today, instruments with API keys, and
two QC analysts so that second-person review can be tried."""

import re
from collections import Counter
from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import transaction
from django.db.models import Sum
from django.test.utils import override_settings
from django.utils import timezone

from batches.management.commands.seed_demo import DEMO_USERS
from batches.models import (
    AdverseEvent,
    Batch,
    CordBloodUnit,
    DoseUnit,
    FeederLot,
    FollowUpVisit,
    Infusion,
    LotCertificate,
    MaterialUse,
    ProcessTemplate,
    ReagentLot,
    Recall,
    Recipient,
    ReleaseDecision,
    StockAdjustment,
    VectorLot,
)
from batches.presenters.due_work import due_work
from batches.selectors import release_readiness, worklists
from batches.selectors.clinical import visit_overdue_q
from carnk_mfg.models import ElectronicSignature
from qc import spc
from qc.models import Instrument, InstrumentKey, QcTest, TrendAttribute, TrendSignal
from qc.selectors.trends import baseline_in_force
from qc.services.instruments import instrument_for_key
from qc.services.results import qc_result_review

PASSWORD = "carnk-demo-2026"
pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """The demo loaded once for this module (its output), rolled back after the last test;
    each test runs in its own savepoint inside it."""
    fast = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    mail = "django.core.mail.backends.locmem.EmailBackend"
    with (
        django_db_blocker.unblock(),
        override_settings(PASSWORD_HASHERS=fast, EMAIL_BACKEND=mail),
        transaction.atomic(),
    ):
        out = StringIO()
        call_command("seed_demo", stdout=out)
        yield out.getvalue()
        transaction.set_rollback(True)


def lot(output: str, what: str) -> Batch:
    """The batch the load's summary lists as `what`."""
    (number,) = re.findall(rf"^  (\S+) +{re.escape(what)}$", output, flags=re.M)
    return Batch.objects.get(lot_number=number)


def bag_statuses(batch: Batch) -> dict[str, str]:
    return dict(DoseUnit.objects.filter(batch=batch).values_list("division", "status"))


def test_the_load_prints_users_keys_and_its_time(demo):
    assert re.search(r"Demo data loaded in \d+\.\d s\.", demo)
    assert PASSWORD in demo and re.search(r"^  qc2 +QC analyst", demo, flags=re.M)
    # Each key printed is a working key of its instrument, shown this once.
    keys = dict(re.findall(r"\((\S+)\): (ik_\S+)$", demo, flags=re.M))
    assert sorted(keys) == ["CYTO-0117", "VCB-0042"]
    for serial, raw in keys.items():
        found = instrument_for_key(raw)
        assert found is not None and found[0].serial_number == serial
    assert not InstrumentKey.objects.filter(key_hash__in=keys.values()).exists()
    # The instrument whose calibration lapsed is there to show its data refused: no key.
    lapsed = Instrument.objects.get(serial_number="NC200-0309")
    assert lapsed.calibration_due < timezone.localdate() and not lapsed.keys.exists()


def test_a_batch_in_each_state(demo):
    states = Counter(Batch.objects.values_list("state", flat=True))
    assert states == {
        "in_process": 2,
        "on_hold": 1,
        "in_qc": 2,
        # Two of the lifecycle, and the 25 of the process history the trends are drawn from.
        "released": 2 + 25,
        "recalled": 1,
        "terminated": 1,
    }
    now = timezone.now()
    due = lot(demo, "in process, step due today")
    late = lot(demo, "in process, step late")
    assert due_work(due, now)["status"] == "due" and due_work(due, now)["step"].order == 3
    assert due_work(late, now)["status"] == "late" and due_work(late, now)["step"].order == 4
    assert due.day0_at is not None and late.day0_at is not None
    assert (now - due.day0_at).days == 4 and (now - late.day0_at).days == 9
    held = lot(demo, "on hold")
    assert held.state == "on_hold" and held.deviations.get(kind="other").state == "open"
    terminated = lot(demo, "terminated")
    assert terminated.deviations.get().disposition == "reject_batch"


def test_qc_has_results_to_review_and_tests_overdue(demo):
    batch = lot(demo, "in QC")
    tests = QcTest.objects.filter(batch=batch)
    now = timezone.now()
    awaiting = tests.filter(state="resulted", resulted_by__username="qc")
    assert awaiting.count() == 3
    assert tests.filter(state="reviewed", reviewed_by__username="qc2").count() == 2
    open_tests = tests.filter(state="planned")
    assert open_tests.filter(due_at__lt=now).count() == 3  # endotoxin, mycoplasma, feeders
    assert open_tests.filter(due_at__gt=now).count() == 3  # VCN, sterility, RCR


def test_qc2_may_review_what_qc_entered_and_qc_may_not(demo):
    test = QcTest.objects.filter(state="resulted", resulted_by__username="qc")[0]
    qc, qc2 = User.objects.get(username="qc"), User.objects.get(username="qc2")
    with pytest.raises(ValidationError, match="different person"):
        qc_result_review(actor=qc, password=PASSWORD, test=test)
    reviewed = qc_result_review(actor=qc2, password=PASSWORD, test=test)
    assert reviewed.state == "reviewed" and reviewed.reviewed_by == qc2
    assert ElectronicSignature.objects.filter(signer=qc2, object_id=str(test.pk)).exists()


def test_release_queue_and_released_batches(demo):
    waiting = lot(demo, "awaiting release")
    assert release_readiness(waiting).problems == ["The batch record has not been reviewed by QA."]
    released = lot(demo, "released")
    decision = ReleaseDecision.objects.get(batch=released)
    assert not decision.conditional and decision.closed_at is not None
    assert bag_statuses(released) == {
        "A0": "assigned",
        "B0": "issued",
        "C0": "infused",
        "D0": "released",
        "E0": "infused",
    }
    conditional = lot(demo, "conditionally released")
    decision = ReleaseDecision.objects.get(batch=conditional)
    assert decision.conditional and decision.closed_at is None
    pending = decision.pending_tests.values_list("definition__code", flat=True)
    assert sorted(pending) == ["rcr", "sterility"]
    recalled = lot(demo, "recalled")
    recall = Recall.objects.get(batch=recalled)
    assert recall.qc_test is not None and recall.qc_test.definition.code == "sterility"
    assert recall.qc_test.in_spec is False
    assert set(bag_statuses(recalled).values()) == {"recalled"}


def test_the_clinic_has_follow_ups_due_and_overdue_and_an_open_adverse_event(demo):
    now = timezone.now()
    visits = FollowUpVisit.objects.filter(done_at__isnull=True)
    assert [v.visit for v in visits.filter(visit_overdue_q(now=now))] == ["day 3"]
    week_1 = visits.get(visit="week 1", recipient__subject_id="CARNK-001")
    assert abs(week_1.due_at - now) < timedelta(hours=4)
    (event,) = AdverseEvent.objects.all()
    assert event.resolved_at is None and event.recipient.subject_id == "CARNK-001"


def test_clinicians_treat_their_recipients_and_an_infusion_runs(demo):
    treating = dict(Recipient.objects.values_list("subject_id", "treating_clinician__username"))
    assert treating == {
        "CARNK-001": "clinic",
        "CARNK-002": "clinic",
        "CARNK-003": "clinic",
        "CARNK-004": "clinic",
        "CARNK-005": "clinic2",
    }
    (running,) = Infusion.objects.filter(completed_by__isnull=True)
    assert running.in_progress and running.recipient.subject_id == "CARNK-004"
    courier = User.objects.get(username="courier")
    assert courier.groups.filter(name="courier").exists()
    (carried,) = worklists.bags_held_by(courier)
    assert carried.division == "B0"
    # Besides the process history's bags (one each, made before these), D0 and A0.
    first, last = (
        lot(demo, "process history, first of 25"),
        lot(demo, "process history, last of 25"),
    )
    history = Batch.objects.filter(pk__gte=first.pk, pk__lte=last.pk)
    stock = worklists.bags_in_stock()
    assert [bag.division for bag in stock.exclude(batch__in=history)] == ["D0", "A0"]
    assert stock.filter(batch__in=history).count() == 25


def test_qa_has_a_draft_a_lot_and_a_unit_to_decide(demo):
    assert ProcessTemplate.objects.get(code="CB-CAR-NK", version=2).status == "draft"
    assert FeederLot.objects.get(lot_number="uAPC-2302").status == "quarantined"
    assert CordBloodUnit.objects.filter(eligibility="pending").count() == 1


def test_released_lots_have_their_certificate_and_steps_drew_their_stock(demo):
    for model in (VectorLot, FeederLot, ReagentLot):
        for released in model.objects.filter(status="released"):
            assert LotCertificate.objects.filter(**{f"{released.kind}_lot": released}).exists()
    vector = VectorLot.objects.get(lot_number="RV-iC9-CAR19-IL15-0007")
    drawn = MaterialUse.objects.filter(vector_lot=vector).aggregate(s=Sum("quantity_used"))["s"]
    assert drawn > 0
    assert vector.quantity_on_hand == vector.quantity_received - drawn
    il2 = ReagentLot.objects.get(lot_number="IL2-PROLEUKIN-5521")
    (breakage,) = StockAdjustment.objects.filter(reagent_lot=il2)
    used = MaterialUse.objects.filter(reagent_lot=il2).aggregate(s=Sum("quantity_used"))["s"]
    assert il2.quantity_on_hand == il2.quantity_received + breakage.change - used > 0


@pytest.mark.clause("21 CFR 1271.80")
def test_every_unit_has_its_donor_panel_and_one_donor_is_ineligible(demo):
    from batches.selectors import donor_panel_assessment, reactive_markers

    pairs = {
        (unit.eligibility, donor_panel_assessment(unit).suggested)
        for unit in CordBloodUnit.objects.all()
    }
    assert pairs == {
        ("eligible", "eligible"),
        ("incomplete", "incomplete"),
        ("ineligible", "ineligible"),
        ("pending", "eligible"),
    }
    (ineligible,) = CordBloodUnit.objects.filter(eligibility="ineligible")
    assert reactive_markers(ineligible) == ["HBsAg"]


def test_the_demo_accounts_keep_full_strength_hashes(demo):
    for user in User.objects.filter(username__in=list(DEMO_USERS)):
        assert not user.password.startswith("demo_load$")
        assert user.check_password(PASSWORD)


def test_a_second_run_changes_nothing(demo):
    def counts():
        return [
            model.objects.count()
            for model in (User, Batch, CordBloodUnit, ElectronicSignature, InstrumentKey)
        ]

    before = counts()
    again = StringIO()
    call_command("seed_demo", stdout=again)
    assert "already loaded" in again.getvalue() and "ik_" not in again.getvalue()
    assert "create_instrument_key" in again.getvalue()
    assert counts() == before


@pytest.mark.clause("21 CFR 1271.170")
def test_the_new_technician_is_untrained_and_the_others_are_current(demo):
    from batches.services.training import step_training_blocker

    template = ProcessTemplate.objects.get(code="CB-CAR-NK", version=1)
    transduction = template.steps.get(code="transduction")
    tech, tech2 = User.objects.get(username="tech"), User.objects.get(username="tech2")
    assert "SOP-MFG-020 v1: never trained" in step_training_blocker(transduction, tech2)
    assert step_training_blocker(transduction, tech) == ""


def test_one_recipient_waits_for_lymphodepletion_the_others_had_it(demo):
    from batches.selectors import lymphodepletion_blocker

    today = timezone.localdate()
    blockers = {
        r.subject_id: lymphodepletion_blocker(r, on=today)
        for r in Recipient.objects.filter(subject_id__in=["CARNK-002", "CARNK-003", "CARNK-004"])
    }
    assert blockers["CARNK-003"] is None and blockers["CARNK-004"] is None
    assert blockers["CARNK-002"] is not None and "CARNK-002" in blockers["CARNK-002"]
    c0 = Infusion.objects.get(recipient__subject_id="CARNK-001")
    assert lymphodepletion_blocker(c0.recipient, on=timezone.localdate(c0.started_at)) is None


def test_the_process_history_drifts_and_qa_has_its_signals(demo, client):
    template = ProcessTemplate.objects.get(code="CB-CAR-NK", version=1)
    fold = TrendAttribute.objects.get(template=template, key="fold:13")
    first, last = (
        lot(demo, "process history, first of 25"),
        lot(demo, "process history, last of 25"),
    )
    history = Batch.objects.filter(pk__gte=first.pk, pk__lte=last.pk, template=template)
    assert history.filter(state="released").count() == 25
    assert fold.points.filter(batch__in=history).count() == 25
    baseline = baseline_in_force(fold)
    assert baseline is not None and baseline.point_count == 12
    assert baseline.fixed_by.username == "qa"
    # The slide of the later batches fired the run rules, and only after the baseline.
    signals = TrendSignal.objects.filter(point__attribute=fold)
    assert signals.filter(rule=spc.Rule.EIGHT_ON_ONE_SIDE).exists()
    assert all(s.point.observed_at > baseline.covers_until for s in signals)
    assert not TrendSignal.objects.exclude(point__attribute=fold).exists()
    client.force_login(User.objects.get(username="qa"))
    page = client.get(f"/qc/trends/{fold.pk}/").content.decode()
    assert str(spc.Rule.EIGHT_ON_ONE_SIDE) in page and "Assess" in page


def test_one_excursion_opened_a_deviation_on_the_batch_made_in_its_room(demo):
    from qc.models import EmExcursionDeviation, EmSample

    held = lot(demo, "on hold")
    assert held.room is not None and held.room.identifier == "CPS-2"
    (link,) = EmExcursionDeviation.objects.all()
    assert link.deviation.batch == held and link.deviation.kind == "environmental"
    assert Batch.objects.exclude(room__identifier="CPS-2").filter(room__isnull=True).count() == 0
    levels = Counter(EmSample.objects.values_list("level", flat=True))
    assert levels == {"within": 3, "alert": 1, "action": 1}


def test_equipment_has_a_lapsed_centrifuge_and_every_feeder_lot_its_irradiation(demo):
    from batches.models import Equipment, EquipmentUse
    from batches.services.equipment import equipment_usability

    assert Equipment.objects.count() == 9
    lapsed = equipment_usability(Equipment.objects.get(identifier="CEN-02"))
    assert not lapsed and "calibration lapsed" in lapsed.reason
    cabinet = Equipment.objects.get(identifier="BSC-01")
    assert equipment_usability(cabinet)
    # Every demo step was done in the usable cabinet; every feeder lot has its irradiation.
    assert {use.equipment_id for use in EquipmentUse.objects.all()} == {cabinet.pk}
    assert not FeederLot.objects.filter(irradiation__isnull=True).exists()


def test_the_terminated_batchs_major_deviation_has_its_capa_overdue(demo):
    from batches.models import Capa
    from batches.selectors.capa import overdue_q

    deviation = lot(demo, "terminated").deviations.get()
    assert deviation.classification == "major" and "water bath" in deviation.root_cause
    (capa,) = deviation.capas.all()
    assert Capa.objects.filter(overdue_q(), pk=capa.pk).exists()


def test_the_batch_awaiting_release_had_its_endotoxin_investigated_and_retested(demo):
    from batches.models import Deviation
    from carnk_mfg.models import SignatureMeaning
    from carnk_mfg.signatures import signatures_for
    from qc.models import OosInvestigation

    batch = lot(demo, "awaiting release")
    first, retest = QcTest.objects.filter(batch=batch, definition__code="endotoxin").order_by(
        "triggered_at", "id"
    )
    assert first.in_spec is False and retest.retest_of == first
    assert retest.in_spec and retest.state == "reviewed"
    investigation = OosInvestigation.objects.get(test=first)
    assert investigation.state == "approved" and investigation.assignable_cause_found
    assert investigation.checks_done and investigation.conclusion
    assert investigation.completed_by == User.objects.get(username="qc2")
    assert investigation.approved_by == User.objects.get(username="qa")
    assert signatures_for(investigation).get().meaning == SignatureMeaning.APPROVED
    # In the order the lab did it, all in the past: no retest before QA's approval.
    moments = [
        first.resulted_at,
        investigation.completed_at,
        investigation.approved_at,
        retest.triggered_at,
        retest.resulted_at,
        retest.reviewed_at,
        timezone.now(),
    ]
    assert None not in moments and moments == sorted(moments)  # type: ignore[type-var]
    # The deviation the result opened is closed (minor, accepted): the batch is back in QC.
    (deviation,) = Deviation.objects.filter(batch=batch)
    assert deviation.kind == "out_of_spec" and deviation.disposition == "accept"
    assert batch.state == "in_qc"
    # The recalled batch's positive sterility keeps its investigation open.
    recalled = OosInvestigation.objects.get(test__batch=lot(demo, "recalled"))
    assert recalled.state == "open" and recalled.test.definition.code == "sterility"
    assert OosInvestigation.objects.count() == 2


def test_the_vi_cell_sends_its_counts_as_the_usable_cell_counter_at_the_bench(demo):
    from rest_framework.test import APIClient

    from batches.models import CellCount
    from batches.services.equipment import equipment_usability
    from qc.services.readings import instrument_refusal

    vicell = Instrument.objects.get(serial_number="VCB-0042")
    assert vicell.equipment is not None and vicell.equipment.identifier == "CC-01"
    assert vicell.equipment.kind == "cell_counter" and equipment_usability(vicell.equipment)
    assert instrument_refusal(vicell, on=timezone.localdate()) == ""
    # The lapsed NucleoCounter has no bench record; its own calibration refuses its data.
    lapsed = Instrument.objects.get(serial_number="NC200-0309")
    assert lapsed.equipment is None and instrument_refusal(lapsed, on=timezone.localdate())
    # With the key the load printed, a count of today's batch is accepted.
    keys = dict(re.findall(r"\((\S+)\): (ik_\S+)$", demo, flags=re.M))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {keys['VCB-0042']}")
    batch = lot(demo, "in process, step due today")
    reading = {
        "reading_id": "9b7f3c1e-5a2d-4f6b-8c9e-0d1a2b3c4d5e",
        "sample_id": f"{batch.lot_number}-D04",
        "measured_at": (timezone.now() - timedelta(minutes=30)).isoformat(),
        "total_cells_per_ml": 2.5e6,
        "viable_cells_per_ml": 2.3e6,
        "viability_pct": 92.0,
        "volume_ml": 60,
    }
    response = client.post("/api/v1/readings/", [reading], format="json")
    assert response.status_code == 201, response.json()
    count = CellCount.objects.get(batch=batch, day=4)
    assert count.source == "instrument" and count.recorded_by == vicell.user
