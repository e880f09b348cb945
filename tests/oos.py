"""Phase I OOS investigations in tests: the steps a retest of an out-of-specification result
waits for (the analyst completes the investigation, QA approves it, signed)."""

from django.contrib.auth.models import User

from qc.models import OosInvestigation, QcTest
from qc.services import investigations
from tests.factories import PASSWORD, UserFactory


def approve_investigation(
    test: QcTest, *, analyst: User, qa: User | None = None, cause: str = ""
) -> OosInvestigation:
    """Complete `test`'s investigation as `analyst` and approve it as `qa` (a new QA person
    when none is given), so the result may be retested."""
    investigation = investigations.oos_investigation_complete(
        actor=analyst,
        investigation=test.oos_investigation,
        checks_done="Calculation, pipettes, reagent lots and sample handling checked.",
        assignable_cause_found=bool(cause),
        assignable_cause=cause,
        conclusion="No laboratory error confirmed; retest ordered."
        if not cause
        else "Laboratory error; retest ordered.",
    )
    approver = qa or UserFactory.create(role="qa")
    return investigations.oos_investigation_approve(
        actor=approver, password=PASSWORD, investigation=investigation
    )
