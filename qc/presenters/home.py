"""QC's worklists for the home page: the analysts' sections of the QC worklist (the same
selectors, linked to the worklist's sections), the spec sets awaiting QA's approval and the
trend signals QA has not assessed."""

from __future__ import annotations

from django.urls import reverse

from carnk_mfg.roles import Role
from carnk_mfg.worklists import Worklist, WorkRow
from qc.models import QcSpecSet, QcTest, TrendSignal
from qc.presenters.worklist import SECTIONS
from qc.selectors.trends import open_signals
from qc.selectors.worklist import spec_sets_awaiting_approval


def test_row(test: QcTest) -> WorkRow:
    return WorkRow(
        label=test.definition.name,
        href=reverse("qc-test", args=[test.pk]),
        detail=f"Batch {test.batch.lot_number} · {test.get_state_display()}",
        when=test.due_at,
        late=bool(getattr(test, "overdue", False)),
    )


def spec_set_row(spec_set: QcSpecSet) -> WorkRow:
    return WorkRow(
        label=str(spec_set),
        href=reverse("spec-set-detail", args=[spec_set.pk]),
        detail=f"Template {spec_set.template}",
    )


def signal_row(signal: TrendSignal) -> WorkRow:
    return WorkRow(
        label=f"{signal.rule}: {signal.point.attribute.name}",
        href=reverse("trend-signal-assess", args=[signal.pk]),
        detail=f"Batch {signal.point.batch.lot_number} · {signal.point.attribute.template}",
        when=signal.raised_at,
    )


def section_url(key: str):
    return lambda: f"{reverse('qc-worklist')}#{key}"


def qc_worklists() -> list[Worklist]:
    tests = [
        Worklist(
            key=f"qc-{s.key}",
            title=s.title,
            role=Role.QC_ANALYST,
            permission="qc.view_qctest",
            query=s.query,
            row=test_row,
            full_url=section_url(s.key),
            columns=("Batch and state", "Review due"),
        )
        for s in SECTIONS
    ]
    spec_sets = Worklist(
        key="spec-sets-to-approve",
        title="Spec sets awaiting approval",
        role=Role.QA,
        permission="qc.view_qcspecset",
        query=lambda actor, now: spec_sets_awaiting_approval(),
        row=spec_set_row,
        help="Draft QC specification sets; QA approves each with a signature.",
        columns=("Template", ""),
    )
    signals = Worklist(
        key="trend-signals",
        title="Trend signals to assess",
        role=Role.QA,
        permission="qc.assess_trend_signal",
        query=lambda actor, now: open_signals(),
        row=signal_row,
        help="A run rule fired on a new batch's figure; QA assesses each with a signature.",
        columns=("Batch and template", "Raised"),
    )
    return [*tests, spec_sets, signals]
