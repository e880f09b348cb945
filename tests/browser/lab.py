"""The lab the page checks read: a user in every role and batches at the stages the checked
pages show (a culture in process with its counts, a batch in QC with results at every stage
of review, each analyst with results awaiting their review, and a released batch whose bag
is issued to its lymphodepleted recipient). Built through the services, as the other tests
build theirs."""

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.contrib.auth.models import User
from django.utils import timezone

from batches.models import Batch, ProcessTemplate
from carnk_mfg.roles import Role
from tests.batch_steps import (
    formulate,
    in_spec_value,
    lymphodeplete,
    planned_days_ago,
    record_steps,
    result_all,
)
from tests.factories import (
    PASSWORD,
    CordBloodUnitFactory,
    FeederLotFactory,
    ReagentLotFactory,
    RecipientFactory,
    UserFactory,
    VectorLotFactory,
)

USERNAMES = {
    Role.TECHNICIAN: "tech1",
    Role.QC_ANALYST: "qc1",
    Role.QA: "qa1",
    Role.CLINICAL: "clinic1",
    Role.ADMIN: "admin1",
}


@dataclass
class Lab:
    users: dict[str, User]
    running: Batch
    in_qc: Batch
    released: Batch


def build_lab() -> Lab:
    users = {role: UserFactory.create(username=name, role=role) for role, name in USERNAMES.items()}
    users["qc2"] = UserFactory.create(username="qc2", role=Role.QC_ANALYST)
    template = _approved_template_and_lots(users[Role.QA])
    day0 = timezone.now() - timedelta(days=20)
    return Lab(
        users=users,
        running=_running(_started(template, users, "CARNK-101"), users, day0),
        in_qc=_in_qc(_started(template, users, "CARNK-102"), users, day0),
        released=_released(_started(template, users, "CARNK-103"), users, day0),
    )


def _approved_template_and_lots(qa: User) -> ProcessTemplate:
    from batches.services.templates import template_approve
    from qc.models import QcSpecSet
    from qc.services.specs import qc_spec_set_approve

    # Approved already where the migrations' rows were loaded again into an emptied database.
    template = ProcessTemplate.objects.get(code="CB-CAR-NK", version=1)
    if template.status == "draft":
        template = template_approve(actor=qa, password=PASSWORD, template=template)
    spec_set = QcSpecSet.objects.get(template=template, version=1)
    if spec_set.status == "draft":
        qc_spec_set_approve(actor=qa, password=PASSWORD, spec_set=spec_set)
    VectorLotFactory.create(lot_number="RV-1")
    FeederLotFactory.create(lot_number="FD-1")
    for reagent, lot in (("il2", "IL2-1"), ("retronectin", "RN-1"), ("isolation", "ISO-1")):
        ReagentLotFactory.create(lot_number=lot, reagent=reagent)
    return template


def _started(template: ProcessTemplate, users: dict[str, User], subject_id: str) -> Batch:
    from batches.services import lifecycle
    from batches.services.batch_record import batch_create

    tech = users[Role.TECHNICIAN]
    with planned_days_ago(30):
        batch = batch_create(
            actor=tech,
            source_unit=CordBloodUnitFactory.create(),
            template=template,
            unit_fraction_used_pct=Decimal("100"),
            intended_recipient=RecipientFactory.create(subject_id=subject_id),
        )
    return lifecycle.batch_transition(actor=tech, batch=batch, to_state="in_process", reason="go")


def _running(batch: Batch, users: dict[str, User], day0) -> Batch:
    """Three steps done, a count on each culture day so far."""
    from batches.services.batch_record import cell_count_record

    tech = users[Role.TECHNICIAN]
    batch = record_steps(batch, tech, day0=day0, first=3)
    for day, cells in ((0, 1.0e6), (3, 2.4e6), (5, 4.8e6)):
        cell_count_record(
            actor=tech,
            batch=batch,
            day=day,
            measured_at=day0 + timedelta(days=day, hours=1),
            total_cells_per_ml=cells * 1.1,
            viable_cells_per_ml=cells,
            volume_ml=Decimal("50"),
        )
    return batch


def _harvested_in_qc(batch: Batch, users: dict[str, User], day0) -> Batch:
    from batches.services import lifecycle

    tech = users[Role.TECHNICIAN]
    batch = record_steps(batch, tech, day0=day0)
    batch = lifecycle.batch_transition(
        actor=tech, batch=batch, to_state="harvested", reason="h", password=PASSWORD
    )
    return lifecycle.batch_transition(actor=tech, batch=batch, to_state="in_qc", reason="to QC")


def _in_qc(batch: Batch, users: dict[str, User], day0) -> Batch:
    """Harvested and in QC: four results entered by qc1, two of them reviewed by qc2 (two
    awaiting qc2's review), and two entered by qc2 awaiting qc1's review (qc1's batch review
    page)."""
    from qc.models import QcTest
    from qc.services import results

    batch = _harvested_in_qc(batch, users, day0)
    tests = QcTest.objects.filter(batch=batch).select_related("definition").order_by("pk")
    for n, test in enumerate(tests[:6]):
        analyst, reviewer = users[Role.QC_ANALYST], users["qc2"]
        if n >= 4:
            analyst, reviewer = reviewer, analyst
        results.qc_result_enter(
            actor=analyst,
            test=test,
            value=in_spec_value(test.definition),
            unit=test.definition.unit,
        )
        if n < 2:
            results.qc_result_review(actor=reviewer, password=PASSWORD, test=test)
    return batch


def _released(batch: Batch, users: dict[str, User], day0) -> Batch:
    """Every result reviewed, filled into bags A0 and B0, released; A0 assigned to the
    batch's recipient and issued to the ward (the bag list, the recipient's page)."""
    from batches.models import DoseUnit
    from batches.services import bedside, release
    from batches.services.recipients import recipient_record_weight

    qa, clinical = users[Role.QA], users[Role.CLINICAL]
    batch = _harvested_in_qc(batch, users, day0)
    result_all(batch, users[Role.QC_ANALYST], users["qc2"])
    formulate(batch, users[Role.TECHNICIAN], ("A0", "B0"))
    release.batch_record_review(actor=qa, password=PASSWORD, batch=batch)
    batch = release.batch_release_decide(
        actor=qa, password=PASSWORD, batch=batch, decision="release", reason="All specs met."
    )
    bag = DoseUnit.objects.get(batch=batch, division="A0")
    recipient = batch.intended_recipient
    assert recipient is not None
    # The dose is calculated from a weight measured within the protocol's window.
    recipient_record_weight(
        actor=clinical,
        recipient=recipient,
        weight_kg=Decimal("71.8"),
        measured_on=timezone.localdate(),
    )
    release.dose_assign(actor=clinical, dose_unit=bag, recipient=recipient, level_code="DL2")
    # Lymphodepleted on days -5 to -3: the recipient's page and the bedside page show it.
    lymphodeplete(recipient, clinical)
    bedside.dose_custody(
        actor=clinical,
        dose_unit=bag,
        kind="issue",
        released_by=qa.username,
        released_by_password=PASSWORD,
        received_by=clinical.username,
        received_by_password=PASSWORD,
        from_location="Cell therapy lab",
        to_location="Ward 7",
        occurred_at=timezone.now(),
        temperature_c=Decimal("-150"),
    )
    return batch
