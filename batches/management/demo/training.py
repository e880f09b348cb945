"""The demo lab's training matrix: the SOPs, what each step of the default template asks of
whoever performs or reviews it, the procedures release asks of QA, and who is trained on
what. Everyone is trained but the new technician (`tech2`), whose steps are refused until
they are; one of `tech`'s trainings runs out within the warning period."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth.models import User
from django.utils import timezone

from batches.management.demo import DEMO_PASSWORD
from batches.models import Procedure, ProcessTemplate
from batches.services import training

# code, title, step codes performed under it, required for release
PROCEDURES = [
    ("SOP-MFG-012", "Cord blood thaw and NK cell isolation", ["thaw_isolation"], False),
    (
        "SOP-MFG-015",
        "NK cell stimulation with feeder cells",
        ["stimulation", "restimulation"],
        False,
    ),
    ("SOP-MFG-020", "Retroviral transduction", ["transduction"], False),
    ("SOP-MFG-030", "Harvest", ["harvest"], False),
    ("SOP-QA-004", "Batch record review", [], False),
    ("SOP-QA-001", "Batch disposition and release", [], True),
]
MANUFACTURING = [code for code, _title, steps, _release in PROCEDURES if steps]
QA_PROCEDURES = ["SOP-QA-004", "SOP-QA-001"]
# tech's training on this one was given long ago and expires within the warning period.
EXPIRING = "SOP-MFG-015"
EXPIRING_IN_DAYS = 80  # from set-up, 60 days ago: 20 days from today


def set_up_training(
    *, qa: User, qa_lead: User, tech: User, tech2: User, template: ProcessTemplate
) -> None:
    """At the lab's set-up: issue the SOPs (in effect for the past year), ask them of the
    template's steps, train the lab, and name supervisors."""
    today = timezone.localdate()
    procedures: dict[str, Procedure] = {}
    steps = {s.code: s for s in template.steps.all()}
    for code, title, step_codes, for_release in PROCEDURES:
        procedure = training.procedure_create(
            actor=qa, code=code, title=title, required_for_release=for_release
        )
        training.procedure_version_issue(
            actor=qa,
            procedure=procedure,
            effective_on=today - timedelta(days=365),
            document_reference=f"DMS-{code} rev A",
        )
        procedures[code] = procedure
        for step_code in step_codes:
            training.step_qualification_require(
                actor=qa, template_step=steps[step_code], procedure=procedure, purpose="perform"
            )
    for step in steps.values():
        training.step_qualification_require(
            actor=qa, template_step=step, procedure=procedures["SOP-QA-004"], purpose="review"
        )
    for code in MANUFACTURING:
        expiring = code == EXPIRING
        _train(
            recorder=qa,
            trainee=tech,
            trainer=qa_lead,
            procedure=procedures[code],
            trained_on=today - timedelta(days=300),
            expires_in=EXPIRING_IN_DAYS if expiring else None,
        )
    for code in QA_PROCEDURES:
        _train(
            recorder=qa_lead,
            trainee=qa,
            trainer=qa_lead,
            procedure=procedures[code],
            trained_on=today - timedelta(days=200),
        )
    training.supervisor_set(actor=qa, person=tech, supervisor=qa_lead)
    training.supervisor_set(actor=qa, person=tech2, supervisor=tech)


def _train(
    *,
    recorder: User,
    trainee: User,
    trainer: User,
    procedure: Procedure,
    trained_on,
    expires_in: int | None = None,
) -> None:
    training.training_record_create(
        actor=recorder,
        password=DEMO_PASSWORD,
        procedure_version=procedure.versions.get(),
        trainee=trainee,
        trained_by=trainer,
        trained_on=trained_on,
        assessment="passed",
        expires_on=timezone.localdate() + timedelta(days=expires_in) if expires_in else None,
    )
