"""Reads of environmental monitoring, and the one judgement of a result against its limits
(`em_evaluation`): above the action limit an excursion, above the alert limit an alert,
otherwise within limits. Limits come from the one table, EmLimit (`em_limit`)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Prefetch, QuerySet

from batches.models import Room
from qc.models import EmExcursionDeviation, EmLevel, EmLimit, EmSample, SamplingPoint


def em_limit(*, grade: str, sample_type: str) -> EmLimit | None:
    """The limits of this sample type in rooms of this grade; None: the type is not taken
    in such rooms (glove prints outside grades A and B)."""
    return EmLimit.objects.filter(grade=grade, sample_type=sample_type).first()


def em_evaluation(cfu: int, limit: EmLimit) -> str:
    """Within, alert or action (EmLevel) for a count of `cfu` against `limit`."""
    if cfu > limit.action_limit:
        return EmLevel.ACTION
    if cfu > limit.alert_limit:
        return EmLevel.ALERT
    return EmLevel.WITHIN


def em_limits() -> QuerySet[EmLimit]:
    return EmLimit.objects.order_by("grade", "sample_type")


def sampling_points() -> QuerySet[SamplingPoint]:
    return SamplingPoint.objects.select_related("room").order_by("room__identifier", "code")


def em_samples() -> QuerySet[EmSample]:
    """Samples with their point, room, people and the deviations an excursion opened."""
    links = EmExcursionDeviation.objects.select_related("deviation__batch")
    return EmSample.objects.select_related(
        "sampling_point__room", "sampled_by", "person_sampled", "read_by"
    ).prefetch_related(Prefetch("deviations", queryset=links))


def samples_awaiting_reading() -> QuerySet[EmSample]:
    return em_samples().filter(read_at__isnull=True).order_by("sampling_ended_at", "id")


@dataclass(frozen=True)
class RoomPoints:
    room: Room
    points: list[SamplingPoint]


def rooms_with_points() -> list[RoomPoints]:
    points = list(sampling_points())
    return [
        RoomPoints(room, [p for p in points if p.room_id == room.pk])
        for room in Room.objects.order_by("identifier")
    ]


def point_results(point: SamplingPoint) -> list[EmSample]:
    """The point's read samples, oldest first (the trend chart's points)."""
    return list(
        em_samples()
        .filter(sampling_point=point, read_at__isnull=False)
        .order_by("sampling_started_at", "id")
    )
