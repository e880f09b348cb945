"""Admin console: every GMP record is visible; changes go through services with a reason."""

from django.contrib import admin

from batches.models import (
    AdverseEvent,
    Batch,
    BedsideCheck,
    Capa,
    CellCount,
    ChainOfIdentity,
    CordBloodUnit,
    CustodyEvent,
    Deviation,
    DonorTest,
    DoseUnit,
    Equipment,
    EquipmentCalibration,
    EquipmentFailure,
    EquipmentMaintenance,
    EquipmentUse,
    ExecutedStep,
    FeederIrradiation,
    FeederLot,
    FollowUpVisit,
    Infusion,
    LookbackEntry,
    LotCertificate,
    LymphodepletionDose,
    MaterialUse,
    Procedure,
    ProcedureVersion,
    ProcessTemplate,
    ProductDefinition,
    ProtocolDoseLevel,
    ReagentLot,
    Recall,
    Recipient,
    ReleaseDecision,
    Room,
    SafetySwitchActivation,
    StepParameter,
    StepQualification,
    StockAdjustment,
    Supervision,
    TemplateStep,
    TrainingRecord,
    UrgentMedicalNeed,
    VectorLot,
    WeightMeasurement,
)
from batches.services import donor, materials, templates
from carnk_mfg.admin import ReadOnlyAdmin, reasoned_action


def _discard(*, actor, obj, reason):
    donor.cord_blood_unit_discard(actor=actor, unit=obj, reason=reason)


@admin.register(CordBloodUnit)
class CordBloodUnitAdmin(ReadOnlyAdmin):
    list_display = [
        "din",
        "product_code",
        "source_bank",
        "status",
        "eligibility",
        "freezer",
        "registered_at",
    ]
    list_filter = ["status", "eligibility", "source_bank"]
    search_fields = ["din", "source_bank"]
    actions = [
        reasoned_action(
            description="Discard selected cord blood units",
            service=_discard,
            permission="batches.discard_cordbloodunit",
        )
    ]


@admin.register(DonorTest)
class DonorTestAdmin(ReadOnlyAdmin):
    list_display = ["unit", "marker", "result", "sample_date", "laboratory", "recorded_at"]
    list_filter = ["marker", "result", "from_marker_list"]
    search_fields = ["unit__din", "test_kit", "kit_lot", "laboratory"]


@admin.register(UrgentMedicalNeed)
class UrgentMedicalNeedAdmin(ReadOnlyAdmin):
    list_display = ["unit", "physician", "recorded_by", "recorded_at"]


def _quarantine_lot(*, actor, obj, reason):
    materials.material_lot_quarantine(actor=actor, lot=obj, reason=reason)


class LotAdmin(ReadOnlyAdmin):
    list_display = ["lot_number", "manufacturer", "status", "expiry_date", "received_on"]
    list_filter = ["status", "manufacturer"]
    search_fields = ["lot_number", "manufacturer"]

    def get_actions(self, request):
        actions = super().get_actions(request)
        action = reasoned_action(
            description="Quarantine selected lots (recall)",
            service=_quarantine_lot,
            permission=f"batches.disposition_{self.model._meta.model_name}",
        )
        actions[action.__name__] = self.get_action(action)
        return actions


admin.site.register(VectorLot, LotAdmin)
admin.site.register(FeederLot, LotAdmin)
admin.site.register(ReagentLot, LotAdmin)


class WeightInline(admin.TabularInline):
    model = WeightMeasurement
    extra = 0
    can_delete = False
    readonly_fields = ["weight_kg", "measured_on", "recorded_by", "recorded_at"]

    def has_add_permission(self, request, obj=None):
        return False


class LymphodepletionInline(admin.TabularInline):
    model = LymphodepletionDose
    extra = 0
    can_delete = False
    readonly_fields = fields = (
        "agent",
        "dose_mg_per_m2",
        "body_surface_area_m2",
        "total_dose_mg",
        "given_on",
        "given_by",
        "recorded_by",
        "recorded_at",
    )

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Recipient)
class RecipientAdmin(ReadOnlyAdmin):
    list_display = ["subject_id", "diagnosis", "dose_level", "planned_infusion_on"]
    list_filter = ["diagnosis", "dose_level"]
    search_fields = ["subject_id", "medical_record_number"]
    inlines = [WeightInline, LymphodepletionInline]


@admin.register(LymphodepletionDose)
class LymphodepletionDoseAdmin(ReadOnlyAdmin):
    list_display = [
        "recipient",
        "agent",
        "given_on",
        "dose_mg_per_m2",
        "body_surface_area_m2",
        "total_dose_mg",
        "given_by",
    ]
    list_filter = ["agent"]
    search_fields = ["recipient__subject_id"]


# --- batch record ---


# A template's steps and parameters are shown here, never edited: a change is a new version.
STEP_FIELDS = (
    "order",
    "code",
    "name",
    "planned_day",
    "late_after_days",
    "material_kinds",
    "is_harvest",
)


class StepInline(admin.TabularInline):
    model = TemplateStep
    extra = 0
    can_delete = False
    fields = STEP_FIELDS
    readonly_fields = STEP_FIELDS
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


def _new_version(*, actor, obj, reason):
    templates.template_new_version(actor=actor, template=obj, reason=reason)


@admin.register(ProcessTemplate)
class ProcessTemplateAdmin(ReadOnlyAdmin):
    list_display = ["code", "version", "name", "product", "status", "approved_at"]
    list_filter = ["code", "status"]
    inlines = [StepInline]
    actions = [
        reasoned_action(
            description="Copy into a new draft version",
            service=_new_version,
            permission="batches.add_processtemplate",
        )
    ]


PARAMETER_FIELDS = ("code", "name", "value_type", "unit", "min_value", "max_value", "required")


class ParameterInline(admin.TabularInline):
    model = StepParameter
    extra = 0
    can_delete = False
    readonly_fields = PARAMETER_FIELDS
    fields = PARAMETER_FIELDS

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(TemplateStep)
class TemplateStepAdmin(ReadOnlyAdmin):
    list_display = ["template", "order", "name", "planned_day"]
    list_filter = ["template"]
    inlines = [ParameterInline]


@admin.register(Batch)
class BatchAdmin(ReadOnlyAdmin):
    list_display = ["lot_number", "din", "source_unit", "state", "created_at"]
    list_filter = ["state", "template"]
    search_fields = ["lot_number", "din", "source_unit__din"]


@admin.register(ExecutedStep)
class ExecutedStepAdmin(ReadOnlyAdmin):
    list_display = ["batch", "template_step", "performed_by", "performed_at"]
    list_filter = ["template_step__code"]
    search_fields = ["batch__lot_number"]


@admin.register(CellCount)
class CellCountAdmin(ReadOnlyAdmin):
    list_display = ["batch", "day", "measured_at", "total_viable_cells", "viability_pct", "source"]
    search_fields = ["batch__lot_number"]


@admin.register(Deviation)
class DeviationAdmin(ReadOnlyAdmin):
    list_display = [
        "batch",
        "kind",
        "classification",
        "state",
        "opened_by",
        "opened_at",
        "disposition",
    ]
    list_filter = ["state", "kind", "classification"]
    search_fields = ["batch__lot_number", "what", "root_cause"]


@admin.register(Capa)
class CapaAdmin(ReadOnlyAdmin):
    list_display = ["id", "owner", "due_on", "state", "effectiveness_check_on", "verified_by"]
    list_filter = ["state"]
    search_fields = ["action", "owner__username"]


@admin.register(CustodyEvent)
class CustodyEventAdmin(ReadOnlyAdmin):
    list_display = [
        "occurred_at",
        "unit",
        "batch",
        "from_location",
        "to_location",
        "released_by",
        "received_by",
    ]
    search_fields = ["batch__lot_number", "unit__din"]


@admin.register(MaterialUse)
class MaterialUseAdmin(ReadOnlyAdmin):
    list_display = ["step", "vector_lot", "feeder_lot", "reagent_lot", "quantity"]


# The file itself is downloaded from the lot's page; the admin shows what was received.
@admin.register(LotCertificate)
class LotCertificateAdmin(ReadOnlyAdmin):
    list_display = ["uploaded_at", "filename", "vector_lot", "feeder_lot", "reagent_lot", "sha256"]
    exclude = ["content"]
    search_fields = ["filename", "sha256"]


@admin.register(StockAdjustment)
class StockAdjustmentAdmin(ReadOnlyAdmin):
    list_display = [
        "adjusted_at",
        "adjustment_kind",
        "change",
        "on_hand_after",
        "vector_lot",
        "feeder_lot",
        "reagent_lot",
        "adjusted_by",
    ]
    list_filter = ["adjustment_kind"]


# --- release ---


# Read-only: the settings change through product_definition_change (QA, with a reason).
@admin.register(ProductDefinition)
class ProductDefinitionAdmin(ReadOnlyAdmin):
    list_display = [
        "name",
        "product_description_code",
        "collection_type",
        "fresh_stability",
        "cryopreserved_stability",
    ]


@admin.register(ProtocolDoseLevel)
class ProtocolDoseLevelAdmin(ReadOnlyAdmin):
    list_display = ["code", "car_nk_cells_per_kg", "max_weight_age_days"]


@admin.register(DoseUnit)
class DoseUnitAdmin(ReadOnlyAdmin):
    list_display = [
        "batch",
        "division",
        "product_code",
        "presentation",
        "volume_ml",
        "status",
        "recipient",
        "dose_level",
        "expires_at",
    ]
    list_filter = ["status", "presentation"]
    search_fields = ["batch__lot_number", "batch__din", "recipient__subject_id"]


@admin.register(ReleaseDecision)
class ReleaseDecisionAdmin(ReadOnlyAdmin):
    list_display = [
        "batch",
        "decision",
        "conditional",
        "decided_by",
        "decided_at",
        "closed_at",
        "failed_at",
    ]
    list_filter = ["decision", "conditional"]


class LookbackInline(admin.TabularInline):
    model = LookbackEntry
    extra = 0
    can_delete = False
    readonly_fields = ["dose_unit", "recipient", "infusion", "infused_at"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Recall)
class RecallAdmin(ReadOnlyAdmin):
    list_display = ["batch", "raised_at", "raised_by", "reason"]
    search_fields = ["batch__lot_number", "reason"]
    inlines = [LookbackInline]


# --- bedside and after infusion ---


@admin.register(ChainOfIdentity)
class ChainOfIdentityAdmin(ReadOnlyAdmin):
    list_display = ["identifier", "batch", "recipient", "assigned_by", "assigned_at"]
    search_fields = ["identifier", "batch__lot_number", "batch__din", "recipient__subject_id"]


@admin.register(BedsideCheck)
class BedsideCheckAdmin(ReadOnlyAdmin):
    list_display = ["checked_at", "scanned_bag", "scanned_wristband", "outcome", "checked_by"]
    list_filter = ["outcome"]


@admin.register(Infusion)
class InfusionAdmin(ReadOnlyAdmin):
    list_display = [
        "dose_unit",
        "recipient",
        "started_at",
        "ended_at",
        "volume_ml",
        "administered_by",
    ]


@admin.register(AdverseEvent)
class AdverseEventAdmin(ReadOnlyAdmin):
    list_display = [
        "recipient",
        "kind",
        "grade",
        "derived_grade",
        "ice_score",
        "onset_at",
        "reported_by",
    ]
    list_filter = ["kind", "grade"]


@admin.register(SafetySwitchActivation)
class SafetySwitchActivationAdmin(ReadOnlyAdmin):
    list_display = ["recipient", "given_at", "dose_mg_per_kg", "recorded_by"]


@admin.register(FollowUpVisit)
class FollowUpVisitAdmin(ReadOnlyAdmin):
    list_display = ["recipient", "visit", "due_at", "done_at", "response", "overdue_flagged_at"]
    list_filter = ["visit", "response"]


# --- training: written through batches.services.training (signed where it is a record) ---


@admin.register(Procedure)
class ProcedureAdmin(ReadOnlyAdmin):
    list_display = ["code", "title", "training_valid_days", "required_for_release"]
    search_fields = ["code", "title"]


@admin.register(ProcedureVersion)
class ProcedureVersionAdmin(ReadOnlyAdmin):
    list_display = ["procedure", "version", "effective_on", "document_reference"]
    list_filter = ["procedure"]


@admin.register(TrainingRecord)
class TrainingRecordAdmin(ReadOnlyAdmin):
    list_display = [
        "trainee",
        "procedure_version",
        "trained_on",
        "assessment",
        "expires_on",
        "trained_by",
        "recorded_by",
    ]
    list_filter = ["assessment", "procedure_version__procedure"]
    search_fields = ["trainee__username", "procedure_version__procedure__code"]


@admin.register(StepQualification)
class StepQualificationAdmin(ReadOnlyAdmin):
    list_display = ["template_step", "procedure", "purpose"]
    list_filter = ["purpose"]


@admin.register(Supervision)
class SupervisionAdmin(ReadOnlyAdmin):
    list_display = ["person", "supervisor"]


# --- the facility: rooms are registered through batches.services.facility ---


@admin.register(Room)
class RoomAdmin(ReadOnlyAdmin):
    list_display = ["identifier", "name", "grade", "created_by", "created_at"]
    list_filter = ["grade"]
    search_fields = ["identifier", "name"]


@admin.register(Equipment)
class EquipmentAdmin(ReadOnlyAdmin):
    list_display = ["identifier", "name", "kind", "location", "status"]
    list_filter = ["kind", "status"]
    search_fields = ["identifier", "name"]


@admin.register(EquipmentCalibration, EquipmentMaintenance)
class EquipmentServiceAdmin(ReadOnlyAdmin):
    list_display = ["equipment", "performed_on", "next_due_on", "result", "certificate_sha256"]
    list_filter = ["result"]
    search_fields = ["equipment__identifier"]
    exclude = ["certificate"]


@admin.register(EquipmentFailure)
class EquipmentFailureAdmin(ReadOnlyAdmin):
    list_display = ["equipment", "found_on", "last_good_check_on", "description"]
    search_fields = ["equipment__identifier"]


@admin.register(EquipmentUse)
class EquipmentUseAdmin(ReadOnlyAdmin):
    list_display = ["step", "equipment"]
    search_fields = ["equipment__identifier", "step__batch__lot_number"]


@admin.register(FeederIrradiation)
class FeederIrradiationAdmin(ReadOnlyAdmin):
    list_display = ["feeder_lot", "dose_gy", "irradiated_on", "irradiator"]
    search_fields = ["feeder_lot__lot_number"]
