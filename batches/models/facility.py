"""The facility: the cleanrooms a batch is made in, each with its EU GMP Annex 1 grade.

Environmental monitoring of the rooms (sampling points, samples, limits) is QC's, in
qc.models.environment; a batch only knows its room."""

import pghistory
from django.conf import settings
from django.db import models

from carnk_mfg.fields import FreeCharField, IdentifierField, identifier_check


class CleanroomGrade(models.TextChoices):
    """EU GMP Annex 1 cleanroom grades, A the cleanest (open product in a BSC)."""

    A = "A", "Grade A"
    B = "B", "Grade B"
    C = "C", "Grade C"
    D = "D", "Grade D"


@pghistory.track()
class Room(models.Model):
    """A cleanroom (or the grade A zone of one) where batches are made."""

    identifier = IdentifierField(max_length=40, unique=True)
    name = FreeCharField(max_length=120)
    grade = models.CharField(max_length=1, choices=CleanroomGrade.choices)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["identifier"]
        permissions = [("manage_room", "Register a cleanroom and its grade")]
        constraints = [
            identifier_check("identifier", name="room_identifier_identifier"),
            models.CheckConstraint(
                condition=models.Q(grade__in=CleanroomGrade.values), name="room_grade_known"
            ),
        ]

    def __str__(self):
        return f"{self.identifier} {self.name} (grade {self.grade})"
