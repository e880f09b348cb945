"""Phase I laboratory investigation of an out-of-specification result: opened with the
result, completed by the analyst, approved by QA (signed). `retest_blocker` is the one rule
on whether a result may be retested; the database's trigger on QC tests holds the same."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils import timezone

from carnk_mfg.audit import gmp_write, validate_record
from carnk_mfg.models import SignatureMeaning
from carnk_mfg.signatures import signed_write
from qc.models import InvestigationState, OosInvestigation, QcTest

if TYPE_CHECKING:
    from django.contrib.auth.models import User

COMPLETE = "qc.complete_oos_investigation"
APPROVE = "qc.approve_oos_investigation"


def oos_investigation_open_locked(test: QcTest) -> OosInvestigation:
    """Inside the transaction that records the out-of-specification result: its phase I
    investigation (one per result)."""
    return OosInvestigation.objects.create(test=test, opened_at=timezone.now())


def retest_blocker(result: QcTest) -> str:
    """Why `result` may not be retested now, or "" when it may. A result out of specification
    is retested only once its phase I investigation is approved by QA; a result in
    specification may be repeated (e.g. a sample found unusable) and stays on record."""
    if result.state not in ("resulted", "reviewed"):
        return "Only a resulted test can be retested."
    if result.in_spec is not False:
        return ""
    investigation = OosInvestigation.objects.filter(test=result).first()
    if investigation is None:
        return (
            "This result is out of specification and has no phase I investigation on record; "
            "it cannot be retested."
        )
    if investigation.state != InvestigationState.APPROVED:
        return (
            "This result is out of specification: a retest waits for QA's approval of its "
            f"phase I investigation {investigation.pk} "
            f"({investigation.get_state_display()})."
        )
    return ""


def _lock(investigation: OosInvestigation) -> OosInvestigation:
    return (
        OosInvestigation.objects.select_for_update(of=("self",))
        .select_related("test__definition", "test__batch")
        .get(pk=investigation.pk)
    )


def oos_investigation_complete(
    *,
    actor: User,
    investigation: OosInvestigation,
    checks_done: str,
    assignable_cause_found: bool | None,
    assignable_cause: str = "",
    conclusion: str,
) -> OosInvestigation:
    """The analyst records the laboratory checks done, whether an assignable cause was found
    (and which), and the conclusion; QA approves it next."""
    errors = {}
    if not (checks_done or "").strip():
        errors["checks_done"] = "Record the checks done."
    if assignable_cause_found is None:
        errors["assignable_cause_found"] = "Say whether an assignable cause was found."
    elif assignable_cause_found and not (assignable_cause or "").strip():
        errors["assignable_cause"] = "Name the assignable cause found."
    if not (conclusion or "").strip():
        errors["conclusion"] = "Record the conclusion."
    if errors:
        raise ValidationError(errors)
    with gmp_write(
        actor=actor,
        permission=COMPLETE,
        reason=f"Phase I OOS investigation {investigation.pk} completed",
    ):
        investigation = _lock(investigation)
        if investigation.state != InvestigationState.OPEN:
            raise ValidationError(
                {
                    "state": "The investigation is already "
                    f"{investigation.get_state_display().lower()}."
                }
            )
        investigation.checks_done = checks_done.strip()
        investigation.assignable_cause_found = assignable_cause_found
        investigation.assignable_cause = (
            (assignable_cause or "").strip() if assignable_cause_found else ""
        )
        investigation.conclusion = conclusion.strip()
        investigation.state = InvestigationState.COMPLETED
        investigation.completed_by, investigation.completed_at = actor, timezone.now()
        validate_record(investigation, exclude=["test", "completed_by", "approved_by"])
        investigation.save()
    return investigation


def _approvable(investigation: OosInvestigation, actor: User) -> None:
    if investigation.state != InvestigationState.COMPLETED:
        raise ValidationError(
            {
                "state": "Only a completed investigation is approved; this one is "
                f"{investigation.get_state_display().lower()}."
            }
        )
    if investigation.completed_by_id == actor.pk:
        raise ValidationError(
            {"approver": "The investigation is approved by someone other than its analyst."}
        )


def oos_investigation_approve(
    *,
    actor: User,
    password: str,
    investigation: OosInvestigation,
    comment: str = "",
    request: HttpRequest | None = None,
) -> OosInvestigation:
    """QA's signed approval of a completed phase I investigation; a retest of the result may
    be recorded from then on."""
    investigation = OosInvestigation.objects.select_related("test__definition", "test__batch").get(
        pk=investigation.pk
    )
    _approvable(investigation, actor)
    test = investigation.test
    with signed_write(
        actor=actor,
        password=password,
        permission=APPROVE,
        meaning=SignatureMeaning.APPROVED,
        label=f"Phase I OOS investigation of {test.definition.code} for batch "
        f"{test.batch.lot_number}",
        reason="Phase I OOS investigation approved",
        request=request,
    ) as signing:
        investigation = _lock(investigation)
        _approvable(investigation, actor)
        investigation.state = InvestigationState.APPROVED
        investigation.approved_by, investigation.approved_at = actor, timezone.now()
        investigation.save()
        signing.sign(investigation, comment=comment)
    return investigation
