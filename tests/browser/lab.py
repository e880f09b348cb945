"""The lab the page checks read: a user in every role and batches at the stages the checked
pages show (a culture in process with its counts, a batch in QC with results at every stage
of review). Built through the services, as the other tests build theirs."""

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.contrib.auth.models import User
from django.utils import timezone

from batches.models import Batch, ProcessTemplate
from carnk_mfg.roles import Role
from tests.batch_steps import in_spec_value, planned_days_ago, record_steps
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


def build_lab() -> Lab:
    users = {role: UserFactory.create(username=name, role=role) for role, name in USERNAMES.items()}
    users["qc2"] = UserFactory.create(username="qc2", role=Role.QC_ANALYST)
    template = _approved_template_and_lots(users[Role.QA])
    day0 = timezone.now() - timedelta(days=20)
    return Lab(
        users=users,
        running=_running(_started(template, users, "CARNK-101"), users, day0),
        in_qc=_in_qc(_started(template, users, "CARNK-102"), users, day0),
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


def _in_qc(batch: Batch, users: dict[str, User], day0) -> Batch:
    """Harvested and in QC: four results entered, two of them reviewed."""
    from batches.services import lifecycle
    from qc.models import QcTest
    from qc.services import results

    tech = users[Role.TECHNICIAN]
    batch = record_steps(batch, tech, day0=day0)
    batch = lifecycle.batch_transition(
        actor=tech, batch=batch, to_state="harvested", reason="h", password=PASSWORD
    )
    batch = lifecycle.batch_transition(actor=tech, batch=batch, to_state="in_qc", reason="to QC")
    tests = QcTest.objects.filter(batch=batch).select_related("definition").order_by("pk")
    for n, test in enumerate(tests[:4]):
        results.qc_result_enter(
            actor=users[Role.QC_ANALYST],
            test=test,
            value=in_spec_value(test.definition),
            unit=test.definition.unit,
        )
        if n < 2:
            results.qc_result_review(actor=users["qc2"], password=PASSWORD, test=test)
    return batch
