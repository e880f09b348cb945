"""API shapes of the batch record: the batch, its steps, counts, deviations and custody."""

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from batches.api.serializers.release import RecallOut, ReleaseDecisionOut
from batches.models import (
    Batch,
    BatchState,
    CellCount,
    CustodyEvent,
    Deviation,
    DeviationClassification,
    DeviationDisposition,
    DeviationKind,
    ExecutedStep,
    MaterialUse,
)
from batches.selectors import (
    Newest,
    batch_newest,
    expansion_flag,
    growth_of,
    next_template_step,
)
from batches.services import lifecycle
from carnk_mfg.api.serializers import FreeTextIn, IdentifierInField, PasswordField
from carnk_mfg.fields import validators_of


class MaterialUseOut(serializers.ModelSerializer):
    kind = serializers.SerializerMethodField()
    lot_number = serializers.SerializerMethodField()
    quantity = serializers.DecimalField(
        source="quantity_used",
        max_digits=12,
        decimal_places=3,
        allow_null=True,
        help_text="Drawn from the lot's stock, in the lot's unit; null when none was recorded",
    )
    unit = serializers.CharField(source="lot.unit")
    quantity_as_written = serializers.CharField(
        source="quantity", help_text="Quantity as written before stock was counted"
    )

    class Meta:
        model = MaterialUse
        fields = ["kind", "lot_number", "quantity", "unit", "quantity_as_written"]

    def get_kind(self, use) -> str:
        return use.lot.kind

    def get_lot_number(self, use) -> str:
        return use.lot.lot_number


class ExecutedStepOut(serializers.ModelSerializer):
    order = serializers.IntegerField(source="template_step.order")
    code = serializers.CharField(source="template_step.code")
    name = serializers.CharField(source="template_step.name")
    performed_by = serializers.CharField(source="performed_by.username")
    materials = MaterialUseOut(many=True, read_only=True)

    class Meta:
        model = ExecutedStep
        fields = [
            "order",
            "code",
            "name",
            "performed_by",
            "performed_at",
            "values",
            "notes",
            "materials",
        ]


class CellCountOut(serializers.ModelSerializer):
    class Meta:
        model = CellCount
        fields = [
            "id",
            "day",
            "measured_at",
            "total_cells_per_ml",
            "viable_cells_per_ml",
            "viability_pct",
            "volume_ml",
            "total_viable_cells",
            "source",
            "notes",
            "corrects",
            "correction_reason",
            "corrected_by",
        ]
        extra_kwargs = {
            "corrects": {"help_text": "The id of the count this one corrects (replaces), or null."}
        }

    corrected_by = serializers.SerializerMethodField(
        help_text="The id of the count that corrected this one, or null when this is the day's "
        "current count (the one every calculation reads).",
    )

    def get_corrected_by(self, count) -> int | None:
        correction = getattr(count, "corrected_by", None)
        return correction.pk if correction is not None else None


class GrowthPointOut(CellCountOut):
    """A count with the growth it shows: fold expansion from the batch's day-0 count and
    population doublings (null without a day-0 count or viable cells)."""

    fold_expansion = serializers.FloatField(allow_null=True, read_only=True)
    population_doublings = serializers.FloatField(allow_null=True, read_only=True)

    class Meta(CellCountOut.Meta):
        fields = [*CellCountOut.Meta.fields, "fold_expansion", "population_doublings"]

    def to_representation(self, point):
        # A growth point (selectors.growth_point): the count, and what it shows.
        return {
            **super().to_representation(point["count"]),
            "fold_expansion": point["fold_expansion"],
            "population_doublings": point["population_doublings"],
        }


class DeviationOut(serializers.ModelSerializer):
    opened_by = serializers.CharField(source="opened_by.username")
    capas = serializers.PrimaryKeyRelatedField[Any](
        many=True, read_only=True, help_text="The CAPAs raised on this deviation"
    )
    step = serializers.IntegerField(
        source="step.template_step.order",
        default=None,
        allow_null=True,
        help_text="Order of the step it was opened on; null when opened on the batch as a whole",
    )

    class Meta:
        model = Deviation
        fields = [
            "id",
            "kind",
            "step",
            "what",
            "why",
            "impact",
            "state",
            "opened_by",
            "opened_at",
            "disposition",
            "disposition_notes",
            "dispositioned_at",
            "classification",
            "root_cause",
            "classified_at",
            "capas",
        ]


class CustodyOut(serializers.ModelSerializer):
    released_by = serializers.CharField(source="released_by.username")
    received_by = serializers.CharField(source="received_by.username")

    class Meta:
        model = CustodyEvent
        fields = [
            "id",
            "released_by",
            "received_by",
            "from_location",
            "to_location",
            "occurred_at",
            "temperature_c",
            "notes",
        ]


class BatchOut(serializers.ModelSerializer):
    source_unit = serializers.CharField(source="source_unit.din")
    template = serializers.CharField(source="template.__str__")
    intended_recipient = serializers.CharField(
        source="intended_recipient.subject_id", default=None, allow_null=True
    )
    room = serializers.CharField(
        source="room.identifier",
        default=None,
        allow_null=True,
        help_text="The cleanroom the batch is made in",
    )

    class Meta:
        model = Batch
        fields = [
            "lot_number",
            "din",
            "source_unit",
            "template",
            "intended_recipient",
            "room",
            "unit_fraction_used_pct",
            "state",
            "held_from_state",
            "state_changed_at",
            "day0_at",
            "created_at",
        ]


class SubListOut(serializers.Serializer):
    total = serializers.IntegerField(help_text="Rows in the whole sub-list")
    shown = serializers.IntegerField(
        help_text="How many of them, the newest, this answer embeds (at most BATCH_DETAIL_LATEST)"
    )
    path = serializers.CharField(help_text="Where to page through all of them")


class SubListsOut(serializers.Serializer):
    steps = SubListOut()
    counts = SubListOut()
    deviations = SubListOut()
    custody = SubListOut()


class NextStepOut(serializers.Serializer):
    order = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()


class BatchDetailOut(BatchOut):
    """A batch with the newest rows of each sub-list (steps, counts, deviations, custody),
    and in `sub_lists` each list's total and the path that pages through all of it."""

    release_decision = serializers.SerializerMethodField()
    recall = serializers.SerializerMethodField()
    steps = serializers.SerializerMethodField()
    counts = serializers.SerializerMethodField()
    deviations = serializers.SerializerMethodField()
    custody = serializers.SerializerMethodField()
    sub_lists = serializers.SerializerMethodField()
    next_step = serializers.SerializerMethodField()
    expansion_flag = serializers.SerializerMethodField()

    class Meta(BatchOut.Meta):
        fields = [
            *BatchOut.Meta.fields,
            "next_step",
            "expansion_flag",
            "release_decision",
            "recall",
            "steps",
            "counts",
            "deviations",
            "custody",
            "sub_lists",
        ]

    def _newest(self, batch) -> dict[str, Newest]:
        if not hasattr(batch, "_newest"):
            batch._newest = batch_newest(batch, settings.BATCH_DETAIL_LATEST)
        return batch._newest

    @extend_schema_field(ExecutedStepOut(many=True))
    def get_steps(self, batch):
        return ExecutedStepOut(self._newest(batch)["steps"].rows, many=True).data

    @extend_schema_field(GrowthPointOut(many=True))
    def get_counts(self, batch):
        return GrowthPointOut(growth_of(batch, self._newest(batch)["counts"].rows), many=True).data

    @extend_schema_field(DeviationOut(many=True))
    def get_deviations(self, batch):
        return DeviationOut(self._newest(batch)["deviations"].rows, many=True).data

    @extend_schema_field(CustodyOut(many=True))
    def get_custody(self, batch):
        return CustodyOut(self._newest(batch)["custody"].rows, many=True).data

    @extend_schema_field(SubListsOut)
    def get_sub_lists(self, batch):
        return {
            name: {
                "total": newest.total,
                "shown": len(newest.rows),
                "path": reverse(f"api-batch-{name}", kwargs={"lot_number": batch.lot_number}),
            }
            for name, newest in self._newest(batch).items()
        }

    @extend_schema_field(ReleaseDecisionOut(allow_null=True))
    def get_release_decision(self, batch):
        decision = getattr(batch, "release_decision", None)
        return ReleaseDecisionOut(decision).data if decision is not None else None

    @extend_schema_field(RecallOut(allow_null=True))
    def get_recall(self, batch):
        recall = getattr(batch, "recall", None)
        return RecallOut(recall).data if recall is not None else None

    @extend_schema_field(NextStepOut(allow_null=True))
    def get_next_step(self, batch):
        step = next_template_step(batch)
        return NextStepOut(step).data if step is not None else None

    def get_expansion_flag(self, batch) -> str:
        return expansion_flag(batch)


class BatchCreateIn(serializers.Serializer):
    source_unit = serializers.CharField(help_text="DIN of the cord blood unit")
    template = serializers.IntegerField(help_text="id of an approved process template version")
    unit_fraction_used_pct = serializers.DecimalField(
        max_digits=5,
        decimal_places=2,
        validators=validators_of(Batch, "unit_fraction_used_pct"),
    )
    intended_recipient = serializers.CharField(required=False, allow_blank=True, default="")
    lot_number = IdentifierInField(required=False, allow_blank=True, default="", max_length=40)
    room = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=40,
        help_text="Identifier of the cleanroom the batch will be made in",
    )
    reason = FreeTextIn(required=False, default="Batch planned")
    urgent_need_justification = serializers.CharField(required=False, allow_blank=True, default="")
    urgent_need_physician = serializers.CharField(required=False, allow_blank=True, default="")


class MaterialIn(serializers.Serializer):
    kind = serializers.ChoiceField(["vector", "feeder", "reagent"])
    lot_number = serializers.CharField(max_length=60)
    quantity = serializers.DecimalField(
        max_digits=12,
        decimal_places=3,
        min_value=Decimal("0.001"),
        required=False,
        allow_null=True,
        default=None,
        help_text="Drawn from the lot's stock, in the lot's unit; none given draws nothing",
    )


class DeviationIn(serializers.Serializer):
    what = serializers.CharField(required=False, allow_blank=True, default="")
    why = serializers.CharField()
    impact = serializers.CharField()


class StepIn(serializers.Serializer):
    step = serializers.CharField(help_text="template step code, e.g. thaw_isolation")
    performed_at = serializers.DateTimeField()
    values = serializers.DictField(child=serializers.JSONField(), required=False, default=dict)
    materials = MaterialIn(many=True, required=False, default=list)
    equipment = serializers.ListField(
        child=serializers.CharField(max_length=40),
        required=False,
        default=list,
        max_length=20,
        help_text="Identifiers of the equipment used, as scanned from their barcodes",
    )
    notes = serializers.CharField(required=False, allow_blank=True, default="")
    deviation = DeviationIn(required=False, allow_null=True, default=None)
    password = PasswordField()


# A batch has one count per culture day; a second count of a day is a correction.
CORRECTS_HELP = (
    "A batch has one count per culture day. To replace the day's count, give its id here "
    "(with correction_reason): the new count corrects it, and the corrected count stays in "
    "the record, marked as corrected. Without it, a second count of the same day is refused "
    "(400)."
)
CORRECTION_REASON_HELP = "Why the count is corrected: required with `corrects`, else empty."


class CountIn(serializers.Serializer):
    # Bounds are the model fields' own (carnk_mfg.fields); the rest is cell_count_build's.
    day = serializers.IntegerField(validators=validators_of(CellCount, "day"))
    measured_at = serializers.DateTimeField()
    total_cells_per_ml = serializers.FloatField(
        validators=validators_of(CellCount, "total_cells_per_ml")
    )
    viable_cells_per_ml = serializers.FloatField(
        validators=validators_of(CellCount, "viable_cells_per_ml")
    )
    viability_pct = serializers.DecimalField(
        max_digits=5,
        decimal_places=2,
        validators=validators_of(CellCount, "viability_pct"),
        required=False,
        allow_null=True,
        default=None,
    )
    volume_ml = serializers.DecimalField(
        max_digits=9, decimal_places=2, validators=validators_of(CellCount, "volume_ml")
    )
    notes = serializers.CharField(required=False, allow_blank=True, default="")
    corrects = serializers.IntegerField(
        required=False,
        allow_null=True,
        default=None,
        min_value=1,
        help_text=CORRECTS_HELP,
    )
    correction_reason = FreeTextIn(
        required=False, allow_blank=True, default="", help_text=CORRECTION_REASON_HELP
    )


def _reason_help() -> str:
    routine = ", ".join(f"{frm} → {to}" for frm, to in lifecycle.routine_forward_moves())
    return (
        "Why the batch moves, kept in the audit trail. Required, except for the routine "
        f"forward moves ({routine}), recorded as {lifecycle.ROUTINE_FORWARD_REASON!r} "
        "when none is given."
    )


class TransitionIn(serializers.Serializer):
    to_state = serializers.ChoiceField(BatchState.choices)
    expected_state = serializers.ChoiceField(BatchState.choices, required=False)
    # Whether this move needs one is the lifecycle's rule (reason_required), which the
    # service applies: it needs the batch's state, which only the service reads.
    reason = FreeTextIn(required=False, allow_blank=True, default="", help_text=_reason_help())
    password = PasswordField(required=False, allow_blank=True, default="")


class TransitionsOut(serializers.Serializer):
    state = serializers.ChoiceField(BatchState.choices)
    allowed = serializers.ListField(
        child=serializers.ChoiceField(BatchState.choices),
        help_text="The states a person may move the batch to from here",
    )


class DeviationOpenIn(serializers.Serializer):
    kind = serializers.ChoiceField(DeviationKind.choices)
    what = serializers.CharField()
    why = serializers.CharField()
    impact = serializers.CharField()


CLASSIFY_HELP = (
    "Minor, major or critical. Closing needs it, given here or before; a major or critical "
    "deviation closes only with at least one CAPA."
)


class DeviationDispositionIn(serializers.Serializer):
    disposition = serializers.ChoiceField(DeviationDisposition.choices)
    notes = serializers.CharField()
    classification = serializers.ChoiceField(
        DeviationClassification.choices,
        required=False,
        allow_blank=True,
        default="",
        help_text=CLASSIFY_HELP + " Empty: as classified before.",
    )
    root_cause = FreeTextIn(
        required=False,
        allow_blank=True,
        default="",
        max_length=4000,
        help_text="Empty: as recorded before.",
    )
    password = PasswordField()


class DeviationClassifyIn(serializers.Serializer):
    classification = serializers.ChoiceField(
        DeviationClassification.choices, help_text=CLASSIFY_HELP
    )
    root_cause = FreeTextIn(required=False, allow_blank=True, default="", max_length=4000)


class CustodyIn(serializers.Serializer):
    subject = serializers.ChoiceField(["unit", "batch"], default="batch")
    released_by = serializers.CharField(max_length=150)
    received_by = serializers.CharField(max_length=150)
    from_location = serializers.CharField(max_length=120)
    to_location = serializers.CharField(max_length=120)
    occurred_at = serializers.DateTimeField()
    temperature_c = serializers.DecimalField(
        max_digits=5,
        decimal_places=1,
        required=False,
        allow_null=True,
        default=None,
        validators=validators_of(CustodyEvent, "temperature_c"),
    )
    notes = serializers.CharField(required=False, allow_blank=True, default="")
