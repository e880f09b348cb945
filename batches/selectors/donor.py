"""Reads of cord blood units and of their donor's test panel (21 CFR 1271.80, 1271.85)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db.models import QuerySet
from django.utils import timezone

from batches.models import CordBloodUnit, DonorMarker, DonorTest, DonorTestResult, Eligibility


def cord_blood_unit_list() -> QuerySet[CordBloodUnit]:
    return CordBloodUnit.objects.all()


def _markers_setting(name: str) -> list[DonorMarker]:
    codes = getattr(settings, name)
    unknown = [code for code in codes if code not in DonorMarker.values]
    if unknown:
        raise ImproperlyConfigured(
            f"{name} names markers that are not tests of the panel: {', '.join(unknown)} "
            f"(known: {', '.join(DonorMarker.values)})."
        )
    return [DonorMarker(code) for code in codes]


def required_donor_markers() -> list[DonorMarker]:
    """The markers the site requires before a donor may be found eligible, in panel order."""
    required = set(_markers_setting("DONOR_TESTS_REQUIRED"))
    return [marker for marker in DonorMarker if marker in required]


def _in_panel_order(tests: list[DonorTest]) -> list[DonorTest]:
    order = {marker.value: n for n, marker in enumerate(DonorMarker)}
    return sorted(tests, key=lambda t: (order[t.marker], t.from_marker_list))


def donor_tests_of(unit: CordBloodUnit) -> list[DonorTest]:
    """The unit's donor tests in panel order; a marker's full record before its converted one."""
    return _in_panel_order(list(DonorTest.objects.filter(unit=unit).select_related("recorded_by")))


def reactive_markers(unit: CordBloodUnit) -> list[str]:
    """The names of the markers the unit's donor tested reactive for, in panel order (what
    the label of an ineligible donor's product lists, 21 CFR 1271.65(b)(2))."""
    found = DonorTest.objects.filter(unit=unit, result=DonorTestResult.REACTIVE)
    return list(dict.fromkeys(DonorMarker(t.marker).label for t in _in_panel_order(list(found))))


@dataclass(frozen=True)
class PanelAssessment:
    """What the donor test panel supports, in words: each list names its markers, and
    `suggested` is the determination the panel points to, `reasons` why."""

    tests: list[DonorTest]
    window: str
    missing: list[str] = field(default_factory=list)
    out_of_window: list[str] = field(default_factory=list)
    reactive: list[str] = field(default_factory=list)
    reactive_under_procedure: list[str] = field(default_factory=list)
    indeterminate: list[str] = field(default_factory=list)
    suggested: Eligibility = Eligibility.INCOMPLETE
    reasons: list[str] = field(default_factory=list)

    @property
    def refusals(self) -> list[str]:
        """Why the donor cannot be found eligible now (empty: nothing in the panel stops it)."""
        return [] if self.suggested == Eligibility.ELIGIBLE else self.reasons


def _window(collected_on: date) -> tuple[int, int, str]:
    before = settings.DONOR_TEST_WINDOW_DAYS_BEFORE
    after = settings.DONOR_TEST_WINDOW_DAYS_AFTER
    words = (
        f"specimen within {before} days before to {after} days after collection "
        f"({collected_on:%Y-%m-%d})"
    )
    return before, after, words


def _days(n: int) -> str:
    return f"{n} day{'s' if n != 1 else ''}"


def _outside(test: DonorTest, collected_on: date, before: int, after: int) -> str | None:
    """Why the test's specimen does not count for the determination, or None if it does."""
    name = DonorMarker(test.marker).label
    if test.sample_date is None:
        return f"{name}: sample date not recorded (converted from the registration's list)"
    offset = (test.sample_date - collected_on).days
    if offset < -before:
        return f"{name}: sampled {test.sample_date:%Y-%m-%d}, {_days(-offset)} before collection"
    if offset > after:
        return f"{name}: sampled {test.sample_date:%Y-%m-%d}, {_days(offset)} after collection"
    return None


def donor_panel_assessment(unit: CordBloodUnit) -> PanelAssessment:
    """The donor test panel against the site's required markers and the sampling window:
    missing tests, tests outside the window, reactive and indeterminate markers, and the
    determination they suggest (eligible; ineligible when a marker is reactive; incomplete
    when a required test is missing, undated, outside the window or indeterminate)."""
    tests = donor_tests_of(unit)
    collected_on = timezone.localdate(unit.collected_at)
    before, after, window = _window(collected_on)
    under_procedure = set(_markers_setting("DONOR_TESTS_REACTIVE_UNDER_PROCEDURE"))
    by_marker: dict[str, list[DonorTest]] = {}
    for test in tests:
        by_marker.setdefault(test.marker, []).append(test)

    missing: list[str] = []
    out_of_window: list[str] = []
    for marker in required_donor_markers():
        found = by_marker.get(marker.value, [])
        if not found:
            missing.append(marker.label)
            continue
        # The full record counts; a converted row alone is undated.
        why = _outside(found[0], collected_on, before, after)
        if why:
            out_of_window.append(why)

    reactive: list[str] = []
    procedure: list[str] = []
    indeterminate: list[str] = []
    for marker in DonorMarker:
        results = {t.result for t in by_marker.get(marker.value, [])}
        if DonorTestResult.REACTIVE in results:
            (procedure if marker in under_procedure else reactive).append(marker.label)
        elif DonorTestResult.INDETERMINATE in results:
            indeterminate.append(marker.label)

    suggested, reasons = _suggestion(
        missing, out_of_window, reactive, procedure, indeterminate, window
    )
    return PanelAssessment(
        tests=tests,
        window=window,
        missing=missing,
        out_of_window=out_of_window,
        reactive=reactive,
        reactive_under_procedure=procedure,
        indeterminate=indeterminate,
        suggested=suggested,
        reasons=reasons,
    )


def _suggestion(
    missing: list[str],
    out_of_window: list[str],
    reactive: list[str],
    procedure: list[str],
    indeterminate: list[str],
    window: str,
) -> tuple[Eligibility, list[str]]:
    if reactive:
        return Eligibility.INELIGIBLE, [
            f"Reactive: {', '.join(reactive)}. A donor whose specimen tests reactive is "
            "ineligible (21 CFR 1271.80(d)(1))."
        ]
    reasons = []
    if missing:
        reasons.append(f"Required tests missing: {', '.join(missing)}.")
    if out_of_window:
        reasons.append(f"Not within the window ({window}): {'; '.join(out_of_window)}.")
    if indeterminate:
        reasons.append(f"Indeterminate: {', '.join(indeterminate)}; resolve before deciding.")
    if reasons:
        return Eligibility.INCOMPLETE, reasons
    reasons = [f"Every required test present, {window}, and non-reactive."]
    if procedure:
        reasons.append(
            f"Reactive under the site's procedure: {', '.join(procedure)} "
            "(21 CFR 1271.85(b)(2)); the determination's notes name how the unit may be used."
        )
    return Eligibility.ELIGIBLE, reasons
