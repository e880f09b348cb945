"""Statistical process control for continued process verification: individuals and
moving-range (I-MR) control limits, the Western Electric / Nelson run rules, and process
capability (Cpk, Ppk) with confidence intervals.

Pure arithmetic on a series of numbers, oldest first; what a series is made of (which batches,
which attribute) and what is done with a signal live elsewhere. The constants are the standard
ones for subgroups of two consecutive points (Montgomery, Introduction to Statistical Quality
Control): d2 = 1.128 turns the mean moving range into sigma, D4 = 3.267 gives the moving-range
chart's upper limit.
"""

from __future__ import annotations

import enum
import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

D2 = 1.128  # mean of the range of two normal values, in sigmas
D4 = 3.267  # moving-range chart: upper limit = D4 x mean moving range

# Stated with every capability figure: Cpk and Ppk assume the values are normally distributed
# and the process stable; neither is checked by the figure itself.
NORMALITY_CAVEAT = (
    "Cpk and Ppk assume the values are normally distributed and the process in control; "
    "check the chart and the distribution before relying on them."
)


class NotEnoughPoints(ValueError):
    """Too few points for the figure asked for."""


@dataclass(frozen=True)
class ControlLimits:
    """I-MR limits from a baseline: the centre line, sigma estimated from the mean moving range,
    and the moving-range chart's own centre and upper limit."""

    centre: float
    sigma: float
    mean_moving_range: float
    baseline_points: int

    @property
    def upper(self) -> float:
        return self.centre + 3 * self.sigma

    @property
    def lower(self) -> float:
        return self.centre - 3 * self.sigma

    @property
    def moving_range_upper(self) -> float:
        return D4 * self.mean_moving_range

    def zone(self, value: float) -> float:
        """How many sigmas the value lies from the centre, signed (above is positive)."""
        if self.sigma == 0:
            return 0.0 if value == self.centre else math.copysign(math.inf, value - self.centre)
        return (value - self.centre) / self.sigma


def moving_ranges(values: Sequence[float]) -> list[float]:
    """|x(i) - x(i-1)| for each point after the first."""
    return [abs(b - a) for a, b in zip(values, values[1:], strict=False)]


def control_limits(baseline: Sequence[float]) -> ControlLimits:
    """I-MR limits from the baseline the QA reviewer fixed (at least two points)."""
    values = [float(v) for v in baseline]
    if len(values) < 2:
        raise NotEnoughPoints("A baseline needs at least two points for a moving range.")
    mr_bar = statistics.fmean(moving_ranges(values))
    return ControlLimits(
        centre=statistics.fmean(values),
        sigma=mr_bar / D2,
        mean_moving_range=mr_bar,
        baseline_points=len(values),
    )


class Rule(enum.StrEnum):
    """The run rules evaluated on each new point; the value is what QA reads."""

    BEYOND_3_SIGMA = "1 point beyond 3 sigma"
    TWO_OF_THREE_BEYOND_2_SIGMA = "2 of 3 points beyond 2 sigma on one side"
    FOUR_OF_FIVE_BEYOND_1_SIGMA = "4 of 5 points beyond 1 sigma on one side"
    EIGHT_ON_ONE_SIDE = "8 points in a row on one side of the centre"
    SIX_TRENDING = "6 points in a row steadily rising or falling"


def _k_of_n_beyond(zones: Sequence[float], i: int, k: int, n: int, limit: float) -> bool:
    """Of the n points ending at i, at least k lie beyond `limit` sigmas on the side of point
    i, and point i is one of them (the signal is the point that completes the pattern)."""
    if i + 1 < n:
        return False
    side = math.copysign(1.0, zones[i])
    if zones[i] * side <= limit:
        return False
    window = zones[i - n + 1 : i + 1]
    return sum(1 for z in window if z * side > limit) >= k


def _run_on_one_side(zones: Sequence[float], i: int, length: int) -> bool:
    if i + 1 < length:
        return False
    window = zones[i - length + 1 : i + 1]
    return all(z > 0 for z in window) or all(z < 0 for z in window)


def _trend(values: Sequence[float], i: int, length: int) -> bool:
    """`length` points each strictly above (or each strictly below) the one before; a tie
    breaks the run."""
    if i + 1 < length:
        return False
    window = values[i - length + 1 : i + 1]
    steps = [b - a for a, b in zip(window, window[1:], strict=False)]
    return all(s > 0 for s in steps) or all(s < 0 for s in steps)


def rules_fired_at(values: Sequence[float], i: int, limits: ControlLimits) -> list[Rule]:
    """The rules that point i (0-based, oldest first) fires, judged on the points up to it."""
    zones = [limits.zone(float(v)) for v in values[: i + 1]]
    fired = []
    if abs(zones[i]) > 3:
        fired.append(Rule.BEYOND_3_SIGMA)
    if _k_of_n_beyond(zones, i, k=2, n=3, limit=2):
        fired.append(Rule.TWO_OF_THREE_BEYOND_2_SIGMA)
    if _k_of_n_beyond(zones, i, k=4, n=5, limit=1):
        fired.append(Rule.FOUR_OF_FIVE_BEYOND_1_SIGMA)
    if _run_on_one_side(zones, i, 8):
        fired.append(Rule.EIGHT_ON_ONE_SIDE)
    if _trend(values[: i + 1], i, 6):
        fired.append(Rule.SIX_TRENDING)
    return fired


def signals(values: Sequence[float], limits: ControlLimits) -> dict[int, list[Rule]]:
    """Every point that fires at least one rule, with the rules it fires."""
    found = {}
    for i in range(len(values)):
        fired = rules_fired_at(values, i, limits)
        if fired:
            found[i] = fired
    return found


@dataclass(frozen=True)
class Capability:
    """Cpk (within-batch sigma, from the moving range) and Ppk (overall sigma), each with its
    two-sided confidence interval, and the number of points they rest on."""

    cpk: float
    cpk_interval: tuple[float, float]
    ppk: float
    ppk_interval: tuple[float, float]
    points: int
    confidence: float
    caveat: str = NORMALITY_CAVEAT


def _index(mean: float, sigma: float, lower: float | None, upper: float | None) -> float:
    """min((USL - mean) / 3 sigma, (mean - LSL) / 3 sigma), over the limits the spec has."""
    sides = []
    if upper is not None:
        sides.append((upper - mean) / (3 * sigma))
    if lower is not None:
        sides.append((mean - lower) / (3 * sigma))
    return min(sides)


def _interval(index: float, n: int, confidence: float) -> tuple[float, float]:
    """Bissell's normal approximation: index +/- z sqrt(1/(9n) + index^2 / (2(n - 1)))."""
    z = statistics.NormalDist().inv_cdf(0.5 + confidence / 2)
    half = z * math.sqrt(1 / (9 * n) + index**2 / (2 * (n - 1)))
    return index - half, index + half


def capability(
    values: Sequence[float],
    *,
    lower: float | None,
    upper: float | None,
    minimum_points: int,
    confidence: float = 0.95,
) -> Capability:
    """Cpk and Ppk of the values against the spec limits (one side may be open). Refused with
    fewer than `minimum_points` points, or when the values do not vary."""
    if lower is None and upper is None:
        raise ValueError("A capability needs at least one spec limit.")
    data = [float(v) for v in values]
    n = len(data)
    if n < max(minimum_points, 2):
        raise NotEnoughPoints(
            f"Capability needs at least {max(minimum_points, 2)} points; there are {n}."
        )
    mean = statistics.fmean(data)
    within = statistics.fmean(moving_ranges(data)) / D2
    overall = statistics.stdev(data)
    if within == 0 or overall == 0:
        raise NotEnoughPoints("The values do not vary: no capability can be computed.")
    cpk = _index(mean, within, lower, upper)
    ppk = _index(mean, overall, lower, upper)
    return Capability(
        cpk=cpk,
        cpk_interval=_interval(cpk, n, confidence),
        ppk=ppk,
        ppk_interval=_interval(ppk, n, confidence),
        points=n,
        confidence=confidence,
    )
