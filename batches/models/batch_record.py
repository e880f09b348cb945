"""Manufacturing batches and their record: executed steps, materials, counts,
chain of custody (DESIGN sections 3 and 4)."""

import math

import pghistory
import pgtrigger
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse

from carnk_mfg.fields import (
    ABOVE_ZERO,
    PERCENT,
    FreeCharField,
    FreeTextField,
    IdentifierField,
    Range,
    identifier_check,
)
from carnk_mfg.notation import lab_number_text
from carnk_mfg.trail_trackers import track_per_statement


class BatchState(models.TextChoices):
    PLANNED = "planned", "Planned"
    IN_PROCESS = "in_process", "In process"
    HARVESTED = "harvested", "Harvested"
    IN_QC = "in_qc", "In QC"
    RELEASED = "released", "Released"
    REJECTED = "rejected", "Rejected"
    ON_HOLD = "on_hold", "On hold"
    TERMINATED = "terminated", "Terminated"
    RECALLED = "recalled", "Recalled"


# The state sets every rule reads; each is defined here once.
S = BatchState
# Manufacturing or QC under way: a deviation holds the batch from here.
ACTIVE_STATES = [S.PLANNED, S.IN_PROCESS, S.HARVESTED, S.IN_QC]
# States in which cells are in culture or just harvested, so a count can be recorded.
COUNT_STATES = [S.IN_PROCESS, S.HARVESTED, S.ON_HOLD]
# States a batch may be terminated from (before any release decision).
TERMINABLE_STATES = [*ACTIVE_STATES, S.ON_HOLD]
# States from which the harvest may be filled into bags.
FORMULATION_STATES = [S.HARVESTED, S.IN_QC]
# States only QA's release decision leads to (the database refuses them without one).
DECIDED_STATES = [S.RELEASED, S.REJECTED]
# The decision each decided state needs (ReleaseDecision.decision).
DECISION_FOR_STATE = {S.RELEASED: "release", S.REJECTED: "reject"}

# (from, to) pairs the database allows. Who may ask for each, and through which service, is
# in batches.services.lifecycle; a test keeps the two equal.
DB_TRANSITIONS: list[tuple[str, str]] = [
    (S.PLANNED, S.IN_PROCESS),
    (S.IN_PROCESS, S.HARVESTED),
    (S.HARVESTED, S.IN_QC),
    (S.IN_QC, S.RELEASED),
    (S.IN_QC, S.REJECTED),
    (S.RELEASED, S.RECALLED),
    *[(state, S.ON_HOLD) for state in ACTIVE_STATES],
    *[(S.ON_HOLD, state) for state in ACTIVE_STATES],
    *[(state, S.TERMINATED) for state in TERMINABLE_STATES],
]

# The database's own guards on a batch's state, whatever path writes it:
# - a batch starts planned;
# - released or rejected only with QA's release decision of that kind recorded first;
# - recalled only with its recall recorded first.
BATCH_STATE_GUARDS = [
    pgtrigger.Trigger(
        name="starts_planned",
        operation=pgtrigger.Insert,
        when=pgtrigger.Before,
        condition=pgtrigger.Q(new__state__df=S.PLANNED),
        func="RAISE EXCEPTION 'a batch starts planned, not %', NEW.state; RETURN NULL;",
    ),
    pgtrigger.Trigger(
        name="decided_by_release_decision",
        operation=pgtrigger.Update,
        when=pgtrigger.Before,
        condition=pgtrigger.Q(new__state__in=DECIDED_STATES)
        & pgtrigger.Q(old__state__df=pgtrigger.F("new__state")),
        func="""
            IF NOT EXISTS (
                SELECT 1 FROM batches_releasedecision d
                WHERE d.batch_id = NEW.id
                  AND d.decision = CASE NEW.state WHEN 'released' THEN 'release' ELSE 'reject' END
            ) THEN
                RAISE EXCEPTION 'batch % cannot become % without a release decision: '
                    'release and rejection are QA''s release decision', NEW.lot_number, NEW.state;
            END IF;
            RETURN NEW;
        """,
    ),
    pgtrigger.Trigger(
        name="recalled_by_recall",
        operation=pgtrigger.Update,
        when=pgtrigger.Before,
        condition=pgtrigger.Q(new__state=S.RECALLED)
        & pgtrigger.Q(old__state__df=pgtrigger.F("new__state")),
        func="""
            IF NOT EXISTS (SELECT 1 FROM batches_recall r WHERE r.batch_id = NEW.id) THEN
                RAISE EXCEPTION 'batch % cannot become recalled without a recall record',
                    NEW.lot_number;
            END IF;
            RETURN NEW;
        """,
    ),
]

# The room a batch was made in is part of its record from day 0: the environmental
# monitoring of that room is judged against the batches it finds there.
BATCH_ROOM_FIXED = pgtrigger.Protect(
    name="room_fixed_from_day0",
    operation=pgtrigger.Update,
    condition=pgtrigger.Q(old__day0_at__isnull=False)
    & pgtrigger.Q(old__room__df=pgtrigger.F("new__room")),
)


# Bounds of numbers in the batch record (carnk_mfg.fields): each gives its field's
# validators and its table's CheckConstraint; forms and serializers read them off the field.
CULTURE_DAY = Range(low=0, high=60)
# No cell suspension in a flask comes near 1e12 cells/mL: above it the number was mistyped
# (and times a volume could overflow a float).
MAX_CELLS_PER_ML = 1e12
CELLS_PER_ML = Range(above=0, high=MAX_CELLS_PER_ML)
VIABLE_CELLS_PER_ML = Range(low=0, high=MAX_CELLS_PER_ML)
VOLUME_ML = ABOVE_ZERO
SHARE_OF_UNIT_PCT = Range(above=0, high=100)
# Cryogenic shipper (about -196 °C) to a warm room; anything outside is a typing error.
CUSTODY_TEMPERATURE_C = Range(low=-200, high=60)


@pghistory.track()
class Batch(models.Model):
    lot_number = IdentifierField(max_length=40, unique=True)
    source_unit = models.ForeignKey(
        "batches.CordBloodUnit", on_delete=models.PROTECT, related_name="batches"
    )
    template = models.ForeignKey(
        "batches.ProcessTemplate", on_delete=models.PROTECT, related_name="batches"
    )
    # ISBT 128 Donation Identification Number assigned to this batch, printed with its check
    # character, that every sample, bag and label of the batch carries.
    din = FreeCharField("DIN", max_length=13, unique=True)
    intended_recipient = models.ForeignKey(
        "batches.Recipient", null=True, blank=True, on_delete=models.PROTECT, related_name="batches"
    )
    unit_fraction_used_pct = models.DecimalField(
        "Share of the cord blood unit used (%)",
        max_digits=5,
        decimal_places=2,
        validators=SHARE_OF_UNIT_PCT.validators(),
    )
    state = models.CharField(max_length=20, choices=BatchState.choices, default=BatchState.PLANNED)
    held_from_state = models.CharField(max_length=20, choices=BatchState.choices, blank=True)
    state_changed_at = models.DateTimeField()
    day0_at = models.DateTimeField("Day 0 (thaw)", null=True, blank=True)
    # The cleanroom the batch is made in: chosen when it is planned or before its first step,
    # fixed from day 0 (BATCH_ROOM_FIXED). Environmental monitoring finds batches by it.
    room = models.ForeignKey(
        "batches.Room", null=True, blank=True, on_delete=models.PROTECT, related_name="batches"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "batches"
        permissions = [
            ("transition_batch", "Move a batch through its lifecycle"),
            ("release_batch", "Release or reject a batch"),
            ("record_step", "Record an executed manufacturing step"),
            ("record_count", "Record a cell count"),
            ("open_deviation", "Record a deviation"),
            ("disposition_deviation", "Disposition a deviation (QA)"),
            ("record_custody", "Record a chain-of-custody hand-off"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=SHARE_OF_UNIT_PCT.q("unit_fraction_used_pct"),
                name="batch_unit_fraction_0_100",
            ),
            identifier_check("lot_number", name="batch_lot_number_identifier"),
        ]
        # The batch list pages newest first, whole or by state: read from an index, never
        # sorted over every batch.
        indexes = [
            models.Index(fields=["-created_at", "-id"], name="batch_newest_first"),
            models.Index(fields=["state", "-created_at", "-id"], name="batch_state_newest"),
        ]
        triggers = [
            pgtrigger.FSM(name="lifecycle", field="state", transitions=DB_TRANSITIONS),
            *BATCH_STATE_GUARDS,
            BATCH_ROOM_FIXED,
        ]

    def __str__(self):
        return f"Batch {self.lot_number}"

    def get_absolute_url(self):
        return reverse("batch-detail", args=[self.lot_number])


@pghistory.track()
class ExecutedStep(models.Model):
    batch = models.ForeignKey(Batch, on_delete=models.PROTECT, related_name="steps")
    template_step = models.ForeignKey(
        "batches.TemplateStep", on_delete=models.PROTECT, related_name="+"
    )
    performed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    performed_at = models.DateTimeField()
    values = models.JSONField(default=dict, blank=True)
    notes = FreeTextField(blank=True)
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["batch", "template_step__order"]
        constraints = [
            models.UniqueConstraint(fields=["batch", "template_step"], name="step_once_per_batch"),
        ]

    def __str__(self):
        return f"{self.batch.lot_number}: {self.template_step.name}"


@pghistory.track()
class MaterialUse(models.Model):
    """One material lot consumed by one executed step (exactly one lot kind set)."""

    step = models.ForeignKey(ExecutedStep, on_delete=models.PROTECT, related_name="materials")
    vector_lot = models.ForeignKey(
        "batches.VectorLot", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    feeder_lot = models.ForeignKey(
        "batches.FeederLot", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reagent_lot = models.ForeignKey(
        "batches.ReagentLot", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # As written before stock was counted; new uses record `quantity_used` in the lot's unit.
    quantity = FreeCharField(max_length=60, blank=True)
    quantity_used = models.DecimalField(max_digits=12, decimal_places=3, null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity_used__isnull=True) | Q(quantity_used__gt=0),
                name="material_use_quantity_positive",
            ),
            models.CheckConstraint(
                condition=(
                    Q(vector_lot__isnull=False, feeder_lot__isnull=True, reagent_lot__isnull=True)
                    | Q(vector_lot__isnull=True, feeder_lot__isnull=False, reagent_lot__isnull=True)
                    | Q(vector_lot__isnull=True, feeder_lot__isnull=True, reagent_lot__isnull=False)
                ),
                name="material_use_one_lot",
            ),
        ]

    def __str__(self):
        return str(self.lot)

    @property
    def lot(self):
        return self.vector_lot or self.feeder_lot or self.reagent_lot


class CountSource(models.TextChoices):
    MANUAL = "manual", "Entered by hand"
    INSTRUMENT = "instrument", "Instrument"


@track_per_statement()
class CellCount(models.Model):
    batch = models.ForeignKey(Batch, on_delete=models.PROTECT, related_name="counts")
    day = models.IntegerField(
        help_text="Culture day (day 0 = thaw)", validators=CULTURE_DAY.validators()
    )
    measured_at = models.DateTimeField()
    total_cells_per_ml = models.FloatField(validators=CELLS_PER_ML.validators())
    viable_cells_per_ml = models.FloatField(validators=VIABLE_CELLS_PER_ML.validators())
    viability_pct = models.DecimalField(
        max_digits=5, decimal_places=2, validators=PERCENT.validators()
    )
    # Culture volume; an instrument reading of concentration alone leaves it (and so the
    # total viable cells) unknown rather than guessed.
    volume_ml = models.DecimalField(
        max_digits=9,
        decimal_places=2,
        null=True,
        blank=True,
        validators=VOLUME_ML.validators(),
    )
    total_viable_cells = models.FloatField(null=True, blank=True)
    source = models.CharField(
        max_length=20, choices=CountSource.choices, default=CountSource.MANUAL
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField()
    notes = FreeTextField(blank=True)
    # One count per batch and culture day; a later count of the same day replaces it only
    # as a correction that names it and says why. The current count of a day is the one no
    # correction names (batches.selectors.current_counts).
    corrects = models.OneToOneField(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="corrected_by",
        help_text="The count of the same batch and day this one replaces.",
    )
    correction_reason = FreeTextField(blank=True)

    class Meta:
        ordering = ["batch", "measured_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["batch", "day"],
                condition=Q(corrects__isnull=True),
                name="count_one_per_day",
                violation_error_message="The batch already has a count of this culture day.",
            ),
            # A correction says why; a first count has nothing to explain.
            models.CheckConstraint(
                condition=Q(corrects__isnull=True, correction_reason="")
                | Q(corrects__isnull=False, correction_reason__regex=r"\S"),
                name="count_correction_has_reason",
            ),
            models.CheckConstraint(
                condition=CELLS_PER_ML.q("total_cells_per_ml"), name="count_total_positive"
            ),
            models.CheckConstraint(
                condition=VIABLE_CELLS_PER_ML.q("viable_cells_per_ml")
                & Q(viable_cells_per_ml__lte=models.F("total_cells_per_ml")),
                name="count_viable_within_total",
            ),
            models.CheckConstraint(
                condition=PERCENT.q("viability_pct"), name="count_viability_0_100"
            ),
            models.CheckConstraint(
                condition=VOLUME_ML.q("volume_ml", nullable=True), name="count_volume_positive"
            ),
            models.CheckConstraint(condition=CULTURE_DAY.q("day"), name="count_day_0_60"),
        ]
        triggers = [
            pgtrigger.Trigger(
                name="correction_same_batch_and_day",
                operation=pgtrigger.Insert | pgtrigger.Update,
                when=pgtrigger.Before,
                condition=pgtrigger.Q(new__corrects__isnull=False),
                func="""
                    IF NOT EXISTS (
                        SELECT 1 FROM batches_cellcount c
                        WHERE c.id = NEW.corrects_id AND c.batch_id = NEW.batch_id
                          AND c.day = NEW.day
                    ) THEN
                        RAISE EXCEPTION 'count % corrects count %, which is not of the same '
                            'batch and culture day', NEW.id, NEW.corrects_id;
                    END IF;
                    RETURN NEW;
                """,
            ),
        ]

    def __str__(self):
        if self.total_viable_cells is None:
            return f"Day {self.day}: {lab_number_text(self.viable_cells_per_ml)} viable cells/mL"
        return f"Day {self.day}: {lab_number_text(self.total_viable_cells)} viable cells"


def fold_expansion(day0_tvc: float | None, tvc: float) -> float | None:
    return tvc / day0_tvc if day0_tvc else None


def population_doublings(fold: float | None) -> float | None:
    return math.log2(fold) if fold and fold > 0 else None


# The hand-offs of a bag are one chain, held here whatever path writes (two hand-offs of one
# bag at the same moment included): the bag is locked, so the hand-offs of a bag are written
# one after the other, and the id is drawn under that lock, so the chain's order is the ids'.
# The first hand-off is the issue, and only the first; each later one is given by the one who
# received the one before, and not before it (times are entered to the minute); and the bag
# is issued: not infused, recalled or back in quarantine.
BAG_CHAIN_FUNC = """
        SELECT u.status INTO bag_status FROM batches_doseunit u
        WHERE u.id = NEW.dose_unit_id FOR UPDATE;
        IF bag_status IS DISTINCT FROM 'issued' THEN
            RAISE EXCEPTION 'bag % is %: only an issued bag is handed off',
                NEW.dose_unit_id, bag_status;
        END IF;
        NEW.id := nextval(pg_get_serial_sequence('batches_custodyevent', 'id'));
        SELECT c.kind, c.received_by_id, c.occurred_at INTO previous
        FROM batches_custodyevent c WHERE c.dose_unit_id = NEW.dose_unit_id
        ORDER BY c.id DESC LIMIT 1;
        IF NOT FOUND THEN
            IF NEW.kind IS DISTINCT FROM 'issue' THEN
                RAISE EXCEPTION 'bag %: its first hand-off is its issue, not %',
                    NEW.dose_unit_id, NEW.kind;
            END IF;
        ELSIF NEW.kind = 'issue' THEN
            RAISE EXCEPTION 'bag % was issued already', NEW.dose_unit_id;
        ELSIF NEW.released_by_id IS DISTINCT FROM previous.received_by_id THEN
            RAISE EXCEPTION 'bag %: only its holder (user %) hands it off, not user %',
                NEW.dose_unit_id, previous.received_by_id, NEW.released_by_id;
        ELSIF NEW.occurred_at < date_trunc('minute', previous.occurred_at) THEN
            RAISE EXCEPTION 'bag %: a hand-off at % cannot be before the previous one at %',
                NEW.dose_unit_id, NEW.occurred_at, previous.occurred_at;
        END IF;
        RETURN NEW;
"""


@pghistory.track()
class CustodyEvent(models.Model):
    """A hand-off of the cord blood unit or of the batch: who gave, who took, where, when."""

    unit = models.ForeignKey(
        "batches.CordBloodUnit",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="custody",
    )
    batch = models.ForeignKey(
        Batch, null=True, blank=True, on_delete=models.PROTECT, related_name="custody"
    )
    dose_unit = models.ForeignKey(
        "batches.DoseUnit", null=True, blank=True, on_delete=models.PROTECT, related_name="custody"
    )
    # issue / ship / receive for a bag; "hand-off" for units and batches
    kind = FreeCharField(max_length=20, default="hand-off")
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    from_location = FreeCharField(max_length=120)
    to_location = FreeCharField(max_length=120)
    occurred_at = models.DateTimeField()
    temperature_c = models.DecimalField(
        max_digits=5,
        decimal_places=1,
        null=True,
        blank=True,
        validators=CUSTODY_TEMPERATURE_C.validators(),
    )
    notes = FreeTextField(blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["occurred_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(unit__isnull=False, batch__isnull=True, dose_unit__isnull=True)
                | Q(unit__isnull=True, batch__isnull=False, dose_unit__isnull=True)
                | Q(unit__isnull=True, batch__isnull=True, dose_unit__isnull=False),
                name="custody_one_subject",
            ),
            models.CheckConstraint(
                condition=CUSTODY_TEMPERATURE_C.q("temperature_c", nullable=True),
                name="custody_temperature_range",
            ),
            # A bag changes hands between two people, each signing for their side.
            models.CheckConstraint(
                condition=Q(dose_unit__isnull=True) | ~Q(released_by=models.F("received_by")),
                name="custody_bag_two_parties",
            ),
        ]
        triggers = [
            pgtrigger.Trigger(
                name="bag_hand_offs_form_one_chain",
                operation=pgtrigger.Insert,
                when=pgtrigger.Before,
                condition=pgtrigger.Q(new__dose_unit__isnull=False),
                declare=[("bag_status", "TEXT"), ("previous", "RECORD")],
                func=BAG_CHAIN_FUNC,
            ),
            # A signed hand-off of a bag stays as signed: the chain is not rewritten.
            pgtrigger.Protect(
                name="bag_hand_offs_are_final",
                operation=pgtrigger.Update | pgtrigger.Delete,
                condition=pgtrigger.Q(old__dose_unit__isnull=False),
            ),
        ]

    def __str__(self):
        return f"{self.from_location} → {self.to_location} at {self.occurred_at:%Y-%m-%d %H:%M}"
