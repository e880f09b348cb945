"""The infusion is recorded as it happens, in two signed parts: its start and, later, its
completion (end, volume, vitals after, reactions), so its end and volume may be empty while it
is in progress. An infusion recorded before this was recorded whole: its completion is the same
nurse at the same moment. The courier role joins the hand-offs of bags."""

import carnk_mfg.fields
import django.db.models.deletion
import pgtrigger.compiler
import pgtrigger.migrations
from django.conf import settings
from django.db import migrations, models


def complete_earlier_infusions(apps, schema_editor):
    Infusion = apps.get_model("batches", "Infusion")
    Infusion.objects.filter(ended_at__isnull=False, completed_by__isnull=True).update(
        completed_by=models.F("administered_by"), completed_recorded_at=models.F("recorded_at")
    )


def sync_roles(apps, schema_editor):
    from carnk_mfg.roles import sync_roles as sync

    sync(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("batches", "0018_count_correction_free_text"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="doseunit",
            options={
                "ordering": ["batch", "division"],
                "permissions": [
                    ("formulate_doseunit", "Formulate a harvested batch into bags"),
                    ("assign_dose", "Assign a released bag to a recipient at a dose level"),
                    ("issue_dose", "Issue a bag and record its hand-offs to the bedside"),
                    (
                        "hand_off_dose",
                        "Sign for a bag in a hand-off, and record a ship or a receive",
                    ),
                    ("record_infusion", "Record an infusion"),
                ],
            },
        ),
        pgtrigger.migrations.RemoveTrigger(
            model_name="infusion",
            name="insert_insert",
        ),
        pgtrigger.migrations.RemoveTrigger(
            model_name="infusion",
            name="update_update",
        ),
        pgtrigger.migrations.RemoveTrigger(
            model_name="infusion",
            name="delete_delete",
        ),
        migrations.RemoveConstraint(
            model_name="infusion",
            name="infusion_ends_after_start",
        ),
        migrations.RemoveConstraint(
            model_name="infusion",
            name="infusion_volume_positive",
        ),
        migrations.AddField(
            model_name="infusion",
            name="completed_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="infusion",
            name="completed_recorded_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="infusion",
            name="reactions",
            field=carnk_mfg.fields.FreeTextField(blank=True, verbose_name="Infusion reactions"),
        ),
        migrations.AddField(
            model_name="infusionevent",
            name="completed_by",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                related_query_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="infusionevent",
            name="completed_recorded_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="infusionevent",
            name="reactions",
            field=carnk_mfg.fields.FreeTextField(blank=True, verbose_name="Infusion reactions"),
        ),
        migrations.AlterField(
            model_name="infusion",
            name="ended_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AlterField(
            model_name="infusion",
            name="volume_ml",
            field=models.DecimalField(
                blank=True,
                decimal_places=2,
                max_digits=7,
                null=True,
                validators=[carnk_mfg.fields.AboveValidator(0)],
            ),
        ),
        migrations.AlterField(
            model_name="infusionevent",
            name="ended_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AlterField(
            model_name="infusionevent",
            name="volume_ml",
            field=models.DecimalField(
                blank=True,
                decimal_places=2,
                max_digits=7,
                null=True,
                validators=[carnk_mfg.fields.AboveValidator(0)],
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="infusion",
            trigger=pgtrigger.compiler.Trigger(
                name="insert_insert",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "batches_infusionevent" ("administered_by_id", "bedside_check_id", "completed_by_id", "completed_recorded_at", "dose_unit_id", "ended_at", "id", "notes", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "reactions", "recipient_id", "recorded_at", "started_at", "vitals", "volume_ml") VALUES (NEW."administered_by_id", NEW."bedside_check_id", NEW."completed_by_id", NEW."completed_recorded_at", NEW."dose_unit_id", NEW."ended_at", NEW."id", NEW."notes", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'insert\', NEW."id", NEW."reactions", NEW."recipient_id", NEW."recorded_at", NEW."started_at", NEW."vitals", NEW."volume_ml"); RETURN NULL;',
                    hash="b8d880af0012bf5a3cefba54034c11069c019707",
                    operation="INSERT",
                    pgid="pgtrigger_insert_insert_6352d",
                    table="batches_infusion",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="infusion",
            trigger=pgtrigger.compiler.Trigger(
                name="update_update",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    condition="WHEN (OLD.* IS DISTINCT FROM NEW.*)",
                    func='INSERT INTO "batches_infusionevent" ("administered_by_id", "bedside_check_id", "completed_by_id", "completed_recorded_at", "dose_unit_id", "ended_at", "id", "notes", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "reactions", "recipient_id", "recorded_at", "started_at", "vitals", "volume_ml") VALUES (NEW."administered_by_id", NEW."bedside_check_id", NEW."completed_by_id", NEW."completed_recorded_at", NEW."dose_unit_id", NEW."ended_at", NEW."id", NEW."notes", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'update\', NEW."id", NEW."reactions", NEW."recipient_id", NEW."recorded_at", NEW."started_at", NEW."vitals", NEW."volume_ml"); RETURN NULL;',
                    hash="581280459e5b6efd07175f59630e2dd542c0e1d2",
                    operation="UPDATE",
                    pgid="pgtrigger_update_update_92250",
                    table="batches_infusion",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="infusion",
            trigger=pgtrigger.compiler.Trigger(
                name="delete_delete",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "batches_infusionevent" ("administered_by_id", "bedside_check_id", "completed_by_id", "completed_recorded_at", "dose_unit_id", "ended_at", "id", "notes", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "reactions", "recipient_id", "recorded_at", "started_at", "vitals", "volume_ml") VALUES (OLD."administered_by_id", OLD."bedside_check_id", OLD."completed_by_id", OLD."completed_recorded_at", OLD."dose_unit_id", OLD."ended_at", OLD."id", OLD."notes", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'delete\', OLD."id", OLD."reactions", OLD."recipient_id", OLD."recorded_at", OLD."started_at", OLD."vitals", OLD."volume_ml"); RETURN NULL;',
                    hash="4afe8057c1e1802b08b48b47cacfe798d080a79a",
                    operation="DELETE",
                    pgid="pgtrigger_delete_delete_e19f2",
                    table="batches_infusion",
                    when="AFTER",
                ),
            ),
        ),
        migrations.AddConstraint(
            model_name="infusion",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("ended_at__isnull", True),
                    ("ended_at__gte", models.F("started_at")),
                    _connector="OR",
                ),
                name="infusion_ends_after_start",
            ),
        ),
        migrations.AddConstraint(
            model_name="infusion",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("volume_ml__isnull", True), ("volume_ml__gt", 0), _connector="OR"
                ),
                name="infusion_volume_positive",
            ),
        ),
        migrations.RunPython(complete_earlier_infusions, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="infusion",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(
                        ("completed_by__isnull", True),
                        ("completed_recorded_at__isnull", True),
                        ("ended_at__isnull", True),
                        ("volume_ml__isnull", True),
                    ),
                    models.Q(
                        ("completed_by__isnull", False),
                        ("completed_recorded_at__isnull", False),
                        ("ended_at__isnull", False),
                        ("volume_ml__isnull", False),
                    ),
                    _connector="OR",
                ),
                name="infusion_completion_whole",
            ),
        ),
        migrations.AddConstraint(
            model_name="infusion",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    (
                        "reactions__regex",
                        "[\\u0001-\\u0008\\u000b-\\u000c\\u000e-\\u001f\\u007f-\\u009f\\u202a-\\u202e\\u2066-\\u2069]",
                    ),
                    _negated=True,
                ),
                name="infusion_reactions_free_text",
                violation_error_message="reactions: control characters are not allowed.",
            ),
        ),
        migrations.RunPython(sync_roles, migrations.RunPython.noop),
    ]
