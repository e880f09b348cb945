"""Environmental monitoring: setting up sampling points, taking a sample, and reading it
after incubation. Reading judges the count (`qc.selectors.environment.em_evaluation`); an
action-level result opens, in the same transaction, a deviation on every batch open in the
room during the sampling period (`batches.selectors.facility.batches_open_in_room`) and
links each to the sample; an alert-level result tells QA through the outbox instead."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.utils import timezone

from batches.models import Room
from batches.selectors.facility import batches_open_in_room
from batches.services.batch_record import environmental_deviations_open
from carnk_mfg.audit import gmp_write, validate_record
from carnk_mfg.people import printed_name
from qc.models import EmExcursionDeviation, EmLevel, EmSample, EmSampleType, SamplingPoint
from qc.models.environment import CFU_MAX, LONGEST_SAMPLING_PERIOD
from qc.selectors.environment import em_evaluation, em_limit
from qc.services.notices import notify_em_result

if TYPE_CHECKING:
    from django.contrib.auth.models import User

MANAGE = "qc.manage_sampling_point"
SAMPLE = "qc.record_em_sample"
READ = "qc.read_em_result"


def sampling_point_create(*, actor: User, room: Room, code: str, description: str) -> SamplingPoint:
    point = SamplingPoint(
        room=room,
        code=code.strip(),
        description=description.strip(),
        created_by=actor,
        created_at=timezone.now(),
    )
    with gmp_write(actor=actor, permission=MANAGE, reason=f"Sampling point {point.code} set up"):
        validate_record(point, exclude=["room", "created_by"])
        try:
            point.save()
        except IntegrityError as exc:  # the same point set up twice at once
            raise ValidationError({"code": f"{room.identifier} has a point {point.code}."}) from exc
    return point


def _sample_errors(
    *,
    point: SamplingPoint,
    sample_type: str,
    started_at: datetime,
    ended_at: datetime,
    person_sampled: User | None,
) -> dict[str, str]:
    errors = {}
    if sample_type not in EmSampleType.values:
        errors["sample_type"] = "Choose air_active, air_settle, contact or glove."
    elif em_limit(grade=point.room.grade, sample_type=sample_type) is None:
        errors["sample_type"] = (
            f"{EmSampleType(sample_type).label} is not taken in grade {point.room.grade} rooms "
            "(no limit is set for it)."
        )
    if ended_at < started_at:
        errors["sampling_ended_at"] = "The sampling period ends after it starts."
    elif ended_at > timezone.now():
        errors["sampling_ended_at"] = "The sampling period cannot end in the future."
    elif ended_at - started_at > LONGEST_SAMPLING_PERIOD:
        errors["sampling_ended_at"] = (
            f"One plate samples at most {LONGEST_SAMPLING_PERIOD.seconds // 3600} hours; "
            "record each plate of a longer session on its own."
        )
    if sample_type == EmSampleType.GLOVE and person_sampled is None:
        errors["person_sampled"] = "Name whose gloves were printed."
    if sample_type != EmSampleType.GLOVE and person_sampled is not None:
        errors["person_sampled"] = "Only a glove print names a person."
    return errors


def em_sample_record(
    *,
    actor: User,
    sampling_point: SamplingPoint,
    sample_type: str,
    sampling_started_at: datetime,
    sampling_ended_at: datetime,
    person_sampled: User | None = None,
    notes: str = "",
) -> EmSample:
    """Record a plate taken at a point over a sampling period (read later)."""
    errors = _sample_errors(
        point=sampling_point,
        sample_type=sample_type,
        started_at=sampling_started_at,
        ended_at=sampling_ended_at,
        person_sampled=person_sampled,
    )
    if errors:
        raise ValidationError(errors)
    sample = EmSample(
        sampling_point=sampling_point,
        sample_type=sample_type,
        sampling_started_at=sampling_started_at,
        sampling_ended_at=sampling_ended_at,
        sampled_by=actor,
        person_sampled=person_sampled,
        notes=notes.strip(),
        recorded_at=timezone.now(),
    )
    with gmp_write(actor=actor, permission=SAMPLE, reason=f"EM sample at {sampling_point}"):
        validate_record(sample, exclude=["sampling_point", "sampled_by", "person_sampled"])
        sample.save()
    return sample


def em_result_read(*, actor: User, sample: EmSample, cfu: int) -> EmSample:
    """Read the plate: the count, judged against the limits of the room's grade. Action
    level: a deviation on each batch open in the room during the sampling period, linked to
    the sample; alert level (or action): QA is told. A read result is final (the database
    refuses any change)."""
    if isinstance(cfu, bool) or not isinstance(cfu, int) or not 0 <= cfu <= CFU_MAX:
        raise ValidationError(
            {"cfu": f"Give the colony count, a whole number from 0 to {CFU_MAX}."}
        )
    with gmp_write(actor=actor, permission=READ, reason=f"EM sample {sample.pk} read"):
        locked = (
            EmSample.objects.select_for_update()
            .select_related("sampling_point__room")
            .get(pk=sample.pk)
        )
        if locked.read_at is not None:
            raise ValidationError(
                {"cfu": f"Sample {locked.pk} was read on {locked.read_at:%Y-%m-%d}."}
            )
        room = locked.sampling_point.room
        limit = em_limit(grade=room.grade, sample_type=locked.sample_type)
        if limit is None:
            raise ValidationError({"cfu": "No limit is set for this sample type and grade."})
        locked.cfu = cfu
        locked.level = em_evaluation(cfu, limit)
        locked.alert_limit, locked.action_limit = limit.alert_limit, limit.action_limit
        locked.read_by, locked.read_at = actor, timezone.now()
        locked.save()
        if locked.level == EmLevel.ACTION:
            _open_excursion_deviations(actor=actor, sample=locked, room=room)
        if locked.level != EmLevel.WITHIN:
            notify_em_result(locked)
    return locked


def _open_excursion_deviations(*, actor: User, sample: EmSample, room: Room) -> None:
    batches = list(
        batches_open_in_room(room, start=sample.sampling_started_at, end=sample.sampling_ended_at)
    )
    if not batches:
        return
    deviations = environmental_deviations_open(
        actor=actor,
        batches=batches,
        what=(
            f"Environmental monitoring action-level result in {room.identifier} (grade "
            f"{room.grade}): {sample.get_sample_type_display()} at {sample.sampling_point.code}, "
            f"{sample.cfu} CFU (action limit above {sample.action_limit}), "
            f"sampled {sample.sampling_period}."
        ),
        why=(
            f"The batch was open in {room.identifier} during the sampling period; the cause of "
            "the contamination is to be investigated."
        ),
        impact=(
            f"Possible microbial contamination of product handled in {room.identifier}; "
            f"QA assesses sterility assurance (EM sample {sample.pk}, read by "
            f"{printed_name(actor)})."
        ),
    )
    EmExcursionDeviation.objects.bulk_create(
        [EmExcursionDeviation(sample=sample, deviation=d) for d in deviations]
    )
