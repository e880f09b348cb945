"""QC in the admin console: specs, tests, alerts and the notification outbox, view-only."""

from django.contrib import admin, messages

from batches.models import Equipment, EquipmentKind
from carnk_mfg.admin import ReadOnlyAdmin, reasoned_action
from qc.models import (
    EmExcursionDeviation,
    EmLimit,
    EmSample,
    Instrument,
    InstrumentImport,
    InstrumentKey,
    InstrumentReading,
    Notification,
    OosInvestigation,
    QcAlert,
    QcSpecSet,
    QcTest,
    QcTestDefinition,
    SamplingPoint,
)
from qc.services.instruments import (
    instrument_key_create,
    instrument_key_revoke,
    instrument_register,
)

# An approved spec set is frozen: its definitions are shown, never edited here.
DEFINITION_FIELDS = (
    "code",
    "name",
    "result_type",
    "unit",
    "lower_limit",
    "upper_limit",
    "turnaround_hours",
    "required_for_release",
    "may_release_pending",
)


class DefinitionInline(admin.TabularInline):
    model = QcTestDefinition
    extra = 0
    can_delete = False
    fields = DEFINITION_FIELDS
    readonly_fields = DEFINITION_FIELDS

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(QcSpecSet)
class QcSpecSetAdmin(ReadOnlyAdmin):
    list_display = ["name", "version", "template", "status", "approved_at"]
    inlines = [DefinitionInline]


@admin.register(QcTest)
class QcTestAdmin(ReadOnlyAdmin):
    list_display = ["batch", "definition", "state", "due_at", "in_spec", "overdue_flagged_at"]
    list_filter = ["state", "definition__code", "in_spec"]
    search_fields = ["batch__lot_number"]


@admin.register(OosInvestigation)
class OosInvestigationAdmin(ReadOnlyAdmin):
    list_display = ["test", "state", "assignable_cause_found", "completed_by", "approved_by"]
    list_filter = ["state", "assignable_cause_found"]
    search_fields = ["test__batch__lot_number"]


@admin.register(QcAlert)
class QcAlertAdmin(ReadOnlyAdmin):
    list_display = ["test", "kind", "raised_at", "cleared_at"]
    list_filter = ["kind"]


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "channel", "recipient", "subject", "sent_at"]
    list_filter = ["channel"]


# --- instruments ---


# A key is issued and revoked through the instrument services, never edited here.
KEY_FIELDS = ("prefix", "label", "created_at", "last_used_at", "revoked_at")


class KeyInline(admin.TabularInline):
    model = InstrumentKey
    extra = 0
    can_delete = False
    fields = KEY_FIELDS
    readonly_fields = KEY_FIELDS

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Instrument)
class InstrumentAdmin(admin.ModelAdmin):
    """Register instruments and issue keys here; each goes through the instrument services,
    and a new key is shown once, in the confirmation message, never again."""

    list_display = [
        "name",
        "model",
        "serial_number",
        "kind",
        "location",
        "calibration_due",
        "retired",
    ]
    list_filter = ["kind", "retired"]
    search_fields = ["name", "serial_number"]
    fields = [
        "name",
        "model",
        "serial_number",
        "location",
        "kind",
        "calibration_due",
        "equipment",
        "retired",
    ]
    inlines = [KeyInline]
    actions = ["issue_key"]

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        # Only what the service accepts: a cell counter no other instrument is linked to.
        if db_field.name == "equipment":
            kwargs["queryset"] = Equipment.objects.filter(
                kind=EquipmentKind.CELL_COUNTER, instrument__isnull=True
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        created = instrument_register(
            actor=request.user,
            name=obj.name,
            model=obj.model,
            serial_number=obj.serial_number,
            location=obj.location,
            kind=obj.kind,
            calibration_due=obj.calibration_due,
            equipment=obj.equipment,
        )
        obj.pk, obj.user_id = created.pk, created.user_id

    @admin.action(description="Issue a new API key (shown once)")
    def issue_key(self, request, queryset):
        for instrument in queryset:
            _key, raw = instrument_key_create(
                actor=request.user, instrument=instrument, label="admin"
            )
            self.message_user(
                request,
                f"Key for {instrument.serial_number} (copy it now, it is not shown again): {raw}",
                messages.WARNING,
            )


def _revoke(*, actor, obj, reason):
    instrument_key_revoke(actor=actor, key=obj, reason=reason)


@admin.register(InstrumentKey)
class InstrumentKeyAdmin(ReadOnlyAdmin):
    list_display = ["prefix", "instrument", "label", "created_at", "last_used_at", "revoked_at"]
    exclude = ["key_hash"]
    actions = [
        reasoned_action(
            description="Revoke selected keys",
            service=_revoke,
            permission="qc.change_instrumentkey",
        )
    ]


@admin.register(InstrumentReading)
class InstrumentReadingAdmin(ReadOnlyAdmin):
    list_display = ["reading_id", "instrument", "sample_id", "batch", "measured_at", "received_at"]
    search_fields = ["sample_id", "reading_id"]


@admin.register(InstrumentImport)
class InstrumentImportAdmin(ReadOnlyAdmin):
    list_display = ["filename", "instrument", "file_format", "status", "uploaded_at", "sha256"]
    exclude = ["raw_file"]


# --- environmental monitoring: written through qc.services.environment ---


@admin.register(EmLimit)
class EmLimitAdmin(ReadOnlyAdmin):
    list_display = ["grade", "sample_type", "alert_limit", "action_limit"]
    list_filter = ["grade", "sample_type"]


@admin.register(SamplingPoint)
class SamplingPointAdmin(ReadOnlyAdmin):
    list_display = ["room", "code", "description"]
    list_filter = ["room"]
    search_fields = ["code", "description"]


@admin.register(EmSample)
class EmSampleAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "sampling_point",
        "sample_type",
        "sampling_started_at",
        "sampled_by",
        "cfu",
        "level",
        "read_by",
        "read_at",
    ]
    list_filter = ["sample_type", "level", "sampling_point__room"]


@admin.register(EmExcursionDeviation)
class EmExcursionDeviationAdmin(ReadOnlyAdmin):
    list_display = ["sample", "deviation"]
