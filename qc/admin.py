"""QC in the admin console: specs, tests, alerts and the notification outbox, view-only."""

from django.contrib import admin

from carnk_mfg.admin import ReadOnlyAdmin
from qc.models import Notification, QcAlert, QcSpecSet, QcTest, QcTestDefinition


class DefinitionInline(admin.TabularInline):
    model = QcTestDefinition
    extra = 0
    can_delete = False
    fields = [
        "code",
        "name",
        "result_type",
        "unit",
        "lower_limit",
        "upper_limit",
        "per_kg_of_recipient",
        "turnaround_hours",
        "required_for_release",
        "may_release_pending",
    ]
    readonly_fields = fields

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


@admin.register(QcAlert)
class QcAlertAdmin(ReadOnlyAdmin):
    list_display = ["test", "kind", "raised_at", "cleared_at"]
    list_filter = ["kind"]


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "channel", "recipient", "subject", "sent_at"]
    list_filter = ["channel"]
