"""The demo's cleanrooms and their environmental monitoring: two grade B suites (most demo
batches are made in CPS-1, the batch on hold in CPS-2), a few plates within limits, one at
alert level, and one settle plate in CPS-2 above the action limit that opened a deviation
on the batch made there."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.contrib.auth.models import User

from batches.management.demo import at
from batches.models import Batch, Room
from batches.services import facility
from qc.services import environment

# The room each demo batch is made in unless its story names another.
BATCH_ROOM = "CPS-1"
EXCURSION_ROOM = "CPS-2"


def set_up_rooms(*, qa: User, qc: User) -> None:
    """The suites and their sampling points, registered at set-up."""
    for identifier, name in (
        (BATCH_ROOM, "Cell processing suite 1"),
        (EXCURSION_ROOM, "Cell processing suite 2"),
    ):
        room = facility.room_create(actor=qa, identifier=identifier, name=name, grade="B")
        for code, description in (
            ("BSC-1", "Biosafety cabinet 1, centre of work surface"),
            ("FLOOR-1", "Floor beside the incubator stack"),
            ("AIR-1", "Settle plate beside the cabinet"),
        ):
            environment.sampling_point_create(
                actor=qc, room=room, code=code, description=description
            )


def _plate(qc: User, room: str, code: str, kind: str, start: datetime, read: datetime, cfu: int):
    point = Room.objects.get(identifier=room).sampling_points.get(code=code)
    with at(start + timedelta(hours=5)):
        sample = environment.em_sample_record(
            actor=qc,
            sampling_point=point,
            sample_type=kind,
            sampling_started_at=start,
            sampling_ended_at=start + timedelta(hours=4 if kind == "air_settle" else 0),
        )
    with at(read):
        environment.em_result_read(actor=qc, sample=sample, cfu=cfu)


def load_monitoring(*, qc: User, held: Batch, now: datetime) -> None:
    """Plates of the last days; the excursion falls while `held` was in culture in CPS-2."""
    days = timedelta(days=1)
    for n, (code, kind, cfu) in enumerate(
        [("BSC-1", "contact", 0), ("FLOOR-1", "contact", 2), ("AIR-1", "air_settle", 1)]
    ):
        start = now - (8 - n) * days
        _plate(qc, BATCH_ROOM, code, kind, start, start + 3 * days, cfu)
    start = now - 5 * days
    _plate(qc, BATCH_ROOM, "FLOOR-1", "contact", start, start + 3 * days, 4)  # alert: QA told
    assert held.day0_at is not None
    start = held.day0_at + 2 * days
    _plate(qc, EXCURSION_ROOM, "AIR-1", "air_settle", start, now - days / 2, 9)  # action
