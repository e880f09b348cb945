"""Bag labels sent to the thermal label printer, each a job with who, why and the outcome;
technicians and QA may print."""

import carnk_mfg.fields
import django.db.models.deletion
import pghistory.utils
import pgtrigger.compiler
import pgtrigger.migrations
from django.conf import settings
from django.db import migrations, models


def sync_roles(apps, schema_editor):
    from carnk_mfg.roles import sync_roles as sync

    sync(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("batches", "0024_adverse_event_astct_findings"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="LabelPrintJob",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("printer", carnk_mfg.fields.FreeCharField(max_length=300)),
                ("printed_at", models.DateTimeField()),
                ("reason", carnk_mfg.fields.FreeTextField()),
                ("bytes_sent", models.PositiveIntegerField(default=0)),
                (
                    "outcome",
                    models.CharField(
                        choices=[
                            ("sending", "Sending"),
                            ("printed", "Sent to the printer"),
                            ("failed", "Failed"),
                        ],
                        default="sending",
                        max_length=10,
                    ),
                ),
                ("error", carnk_mfg.fields.FreeTextField(blank=True)),
                (
                    "dose_unit",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="label_print_jobs",
                        to="batches.doseunit",
                    ),
                ),
                (
                    "printed_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["-printed_at", "-pk"],
                "permissions": [("print_label", "Print a bag label on the label printer")],
                # In the model's state from the start, so the free-text fields do not add
                # their checks a second time.
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(
                            (
                                "printer__regex",
                                "[\\u0001-\\u0008\\u000b-\\u000c\\u000e-\\u001f\\u007f-\\u009f\\u202a-\\u202e\\u2066-\\u2069]",
                            ),
                            _negated=True,
                        ),
                        name="labelprintjob_printer_free_text",
                        violation_error_message="printer: control characters are not allowed.",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            (
                                "reason__regex",
                                "[\\u0001-\\u0008\\u000b-\\u000c\\u000e-\\u001f\\u007f-\\u009f\\u202a-\\u202e\\u2066-\\u2069]",
                            ),
                            _negated=True,
                        ),
                        name="labelprintjob_reason_free_text",
                        violation_error_message="reason: control characters are not allowed.",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            (
                                "error__regex",
                                "[\\u0001-\\u0008\\u000b-\\u000c\\u000e-\\u001f\\u007f-\\u009f\\u202a-\\u202e\\u2066-\\u2069]",
                            ),
                            _negated=True,
                        ),
                        name="labelprintjob_error_free_text",
                        violation_error_message="error: control characters are not allowed.",
                    ),
                ],
            },
        ),
        migrations.CreateModel(
            name="LabelPrintJobEvent",
            fields=[
                ("pgh_id", models.AutoField(primary_key=True, serialize=False)),
                ("pgh_created_at", models.DateTimeField(auto_now_add=True)),
                ("pgh_label", models.TextField(help_text="The event label.")),
                ("pgh_context", pghistory.utils.JSONField(null=True)),
                ("pgh_context_id", models.UUIDField(null=True)),
                ("id", models.BigIntegerField()),
                ("printer", carnk_mfg.fields.FreeCharField(max_length=300)),
                ("printed_at", models.DateTimeField()),
                ("reason", carnk_mfg.fields.FreeTextField()),
                ("bytes_sent", models.PositiveIntegerField(default=0)),
                (
                    "outcome",
                    models.CharField(
                        choices=[
                            ("sending", "Sending"),
                            ("printed", "Sent to the printer"),
                            ("failed", "Failed"),
                        ],
                        default="sending",
                        max_length=10,
                    ),
                ),
                ("error", carnk_mfg.fields.FreeTextField(blank=True)),
                (
                    "dose_unit",
                    models.ForeignKey(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        related_query_name="+",
                        to="batches.doseunit",
                    ),
                ),
                (
                    "pgh_obj",
                    models.ForeignKey(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="events",
                        to="batches.labelprintjob",
                    ),
                ),
                (
                    "printed_by",
                    models.ForeignKey(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        related_query_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "abstract": False,
            },
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="labelprintjob",
            trigger=pgtrigger.compiler.Trigger(
                name="insert_insert",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "batches_labelprintjobevent" ("bytes_sent", "dose_unit_id", "error", "id", "outcome", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "printed_at", "printed_by_id", "printer", "reason") VALUES (NEW."bytes_sent", NEW."dose_unit_id", NEW."error", NEW."id", NEW."outcome", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'insert\', NEW."id", NEW."printed_at", NEW."printed_by_id", NEW."printer", NEW."reason"); RETURN NULL;',
                    hash="26c0386a299c697d3cd54591d07f5496856ce3f9",
                    operation="INSERT",
                    pgid="pgtrigger_insert_insert_1e5d4",
                    table="batches_labelprintjob",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="labelprintjob",
            trigger=pgtrigger.compiler.Trigger(
                name="update_update",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    condition="WHEN (OLD.* IS DISTINCT FROM NEW.*)",
                    func='INSERT INTO "batches_labelprintjobevent" ("bytes_sent", "dose_unit_id", "error", "id", "outcome", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "printed_at", "printed_by_id", "printer", "reason") VALUES (NEW."bytes_sent", NEW."dose_unit_id", NEW."error", NEW."id", NEW."outcome", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'update\', NEW."id", NEW."printed_at", NEW."printed_by_id", NEW."printer", NEW."reason"); RETURN NULL;',
                    hash="e34c503a47ca30058cfef47c6f1dfd3472cc3bd9",
                    operation="UPDATE",
                    pgid="pgtrigger_update_update_b4919",
                    table="batches_labelprintjob",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="labelprintjob",
            trigger=pgtrigger.compiler.Trigger(
                name="delete_delete",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "batches_labelprintjobevent" ("bytes_sent", "dose_unit_id", "error", "id", "outcome", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "printed_at", "printed_by_id", "printer", "reason") VALUES (OLD."bytes_sent", OLD."dose_unit_id", OLD."error", OLD."id", OLD."outcome", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'delete\', OLD."id", OLD."printed_at", OLD."printed_by_id", OLD."printer", OLD."reason"); RETURN NULL;',
                    hash="6df490541e964b07e1dcf9e2778714a3622cee85",
                    operation="DELETE",
                    pgid="pgtrigger_delete_delete_7b73b",
                    table="batches_labelprintjob",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="labelprintjobevent",
            trigger=pgtrigger.compiler.Trigger(
                name="append_only",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func="RAISE EXCEPTION 'pgtrigger: Cannot update or delete rows from % table', TG_TABLE_NAME;",
                    hash="5f8668b101738ea535143d77eeeb9f5aa1044a51",
                    operation="UPDATE OR DELETE",
                    pgid="pgtrigger_append_only_b8e98",
                    table="batches_labelprintjobevent",
                    when="BEFORE",
                ),
            ),
        ),
        migrations.RunPython(sync_roles, migrations.RunPython.noop),
    ]
