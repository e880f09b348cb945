"""Admin console: every GMP record is visible; changes go through services with a reason."""

from django.contrib import admin

from batches.models import (
    CordBloodUnit,
    FeederLot,
    ReagentLot,
    Recipient,
    UrgentMedicalNeed,
    VectorLot,
    WeightMeasurement,
)
from batches.services import donor, materials
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
        actions[action.__name__] = (action, action.__name__, action.short_description)
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


@admin.register(Recipient)
class RecipientAdmin(ReadOnlyAdmin):
    list_display = ["subject_id", "diagnosis", "dose_level", "planned_infusion_on"]
    list_filter = ["diagnosis", "dose_level"]
    search_fields = ["subject_id"]
    inlines = [WeightInline]
