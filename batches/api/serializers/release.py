"""API shapes of release: formulation into bags, the release decision, recall with its
lookback, and dose units."""

from rest_framework import serializers

from batches.models import (
    CustodyEvent,
    DoseUnit,
    LabelPrintJob,
    LookbackEntry,
    Recall,
    ReleaseDecision,
)
from carnk_mfg.api.serializers import FreeTextIn, PasswordField
from carnk_mfg.fields import validators_of


class PendingTestOut(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    code = serializers.CharField(source="definition.code")
    state = serializers.CharField()
    in_spec = serializers.BooleanField(allow_null=True)


class ReleaseDecisionOut(serializers.ModelSerializer):
    decided_by = serializers.CharField(source="decided_by.username")
    status = serializers.CharField(read_only=True)
    pending_tests = PendingTestOut(many=True, read_only=True)

    class Meta:
        model = ReleaseDecision
        fields = [
            "decision",
            "conditional",
            "status",
            "reason",
            "decided_by",
            "decided_at",
            "pending_tests",
            "closed_at",
            "failed_at",
            "failure",
        ]


class LookbackOut(serializers.ModelSerializer):
    bag = serializers.CharField(source="dose_unit.__str__")
    dose_unit = serializers.IntegerField(source="dose_unit_id")
    recipient = serializers.CharField(source="recipient.subject_id")
    infusion = serializers.IntegerField(source="infusion_id")

    class Meta:
        model = LookbackEntry
        fields = ["bag", "dose_unit", "recipient", "infusion", "infused_at"]


class RecallOut(serializers.ModelSerializer):
    raised_by = serializers.CharField(source="raised_by.username")
    qc_test = serializers.IntegerField(source="qc_test_id", allow_null=True)
    lookback = LookbackOut(many=True, read_only=True)

    class Meta:
        model = Recall
        fields = ["reason", "qc_test", "raised_by", "raised_at", "lookback"]


class RecallIn(serializers.Serializer):
    reason = FreeTextIn()
    password = PasswordField()


class BagIn(serializers.Serializer):
    division = serializers.CharField(max_length=2)
    presentation = serializers.ChoiceField(["fresh", "cryopreserved"])
    volume_ml = serializers.DecimalField(
        max_digits=7, decimal_places=2, validators=validators_of(DoseUnit, "volume_ml")
    )


class FormulateIn(serializers.Serializer):
    bags = BagIn(many=True)  # each bag's expiry follows from the product's stability
    password = PasswordField()


class SignIn(serializers.Serializer):
    password = PasswordField()


class ReleaseIn(serializers.Serializer):
    decision = serializers.ChoiceField(["release", "reject"])
    reason = FreeTextIn()
    conditional = serializers.BooleanField(
        required=False,
        default=False,
        help_text="QA approves release while pending-allowed tests are still open",
    )
    password = PasswordField()


class DoseUnitOut(serializers.ModelSerializer):
    batch = serializers.CharField(source="batch.lot_number")
    din = serializers.CharField(source="batch.din")
    car_nk_cells = serializers.FloatField(read_only=True)
    # Null until the bag is assigned.
    recipient = serializers.CharField(source="recipient.subject_id", default=None, allow_null=True)
    dose_level = serializers.CharField(source="dose_level.code", default=None, allow_null=True)
    coi_identifier = serializers.SerializerMethodField(
        help_text="Chain of Identity identifier of the batch and the bag's recipient; null "
        "until the bag is assigned"
    )

    class Meta:
        model = DoseUnit
        fields = [
            "id",
            "batch",
            "din",
            "division",
            "product_code",
            "presentation",
            "volume_ml",
            "total_cells_per_ml",
            "car_positive_pct",
            "cd3_positive_pct",
            "car_nk_cells",
            "expires_at",
            "status",
            "recipient",
            "dose_level",
            "coi_identifier",
            "dose_car_nk_cells",
            "dose_volume_ml",
        ]

    def get_coi_identifier(self, unit: DoseUnit) -> str | None:
        # The batch's chains are prefetched: one of them is this bag's recipient's.
        chains = unit.batch.chains_of_identity.all()
        return next((c.identifier for c in chains if c.recipient_id == unit.recipient_id), None)


class AssignIn(serializers.Serializer):
    recipient = serializers.CharField()
    dose_level = serializers.CharField()
    reason = FreeTextIn(required=False, default="Dose assigned")


class LabelPrintIn(serializers.Serializer):
    reason = FreeTextIn(
        required=False,
        default="Bag label printed",
        max_length=500,
        help_text="Why the label is printed (a reprint says why: damaged, smudged ...)",
    )


class LabelPrintJobOut(serializers.ModelSerializer):
    printed_by = serializers.CharField(source="printed_by.username", read_only=True)

    class Meta:
        model = LabelPrintJob
        fields = [
            "id",
            "dose_unit",
            "printer",
            "printed_by",
            "printed_at",
            "reason",
            "bytes_sent",
            "outcome",
            "error",
        ]


class DoseCustodyIn(serializers.Serializer):
    kind = serializers.ChoiceField(["issue", "ship", "receive"])
    released_by = serializers.CharField(max_length=150)
    released_by_password = PasswordField(help_text="The releasing party's own password")
    received_by = serializers.CharField(max_length=150)
    received_by_password = PasswordField(help_text="The receiving party's own password")
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


class RecordReviewOut(serializers.Serializer):
    signed_at = serializers.DateTimeField()
    meaning = serializers.CharField()


class RecordFindingOut(serializers.Serializer):
    area = serializers.CharField(help_text="What the check is about: deviations, late steps, ...")
    text = serializers.CharField()


class RecordExceptionsOut(serializers.Serializer):
    """QA's review by exception: what needs judgement, and the checks that passed."""

    batch = serializers.CharField(source="batch.lot_number")
    exceptions = RecordFindingOut(many=True)
    passed_count = serializers.SerializerMethodField()
    passed = RecordFindingOut(many=True)

    def get_passed_count(self, review) -> int:
        return len(review.passed)


class DoseCustodyOut(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField(help_text="issue, ship or receive")


class DoseCalculationOut(serializers.Serializer):
    """The dose at a level for a recipient from this bag, with its arithmetic; a non-empty
    `refusals` means the dose may not be given."""

    dose_level = serializers.CharField(source="level")
    weight_kg = serializers.FloatField(allow_null=True)
    weight_measured_on = serializers.DateField(allow_null=True)
    dose_car_nk_cells = serializers.FloatField()
    volume_ml = serializers.SerializerMethodField()
    cd3_cells_per_kg = serializers.FloatField()
    cd3_limit_per_kg = serializers.FloatField()
    arithmetic = serializers.ListField(child=serializers.CharField())
    refusals = serializers.ListField(child=serializers.CharField())

    def get_volume_ml(self, calc) -> float:
        return round(calc.volume_ml, 2)
