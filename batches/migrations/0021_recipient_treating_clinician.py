"""Each recipient has a treating clinician, whose home page lists the recipient's work. A
recipient enrolled before this is given the clinical staff member who enrolled them (the
trail records the change)."""

import django.db.models.deletion
import pgtrigger.compiler
import pgtrigger.migrations
from django.conf import settings
from django.db import migrations, models


def enrolling_clinician_treats(apps, schema_editor):
    Recipient = apps.get_model("batches", "Recipient")
    Recipient.objects.filter(treating_clinician__isnull=True).update(
        treating_clinician=models.F("registered_by")
    )


class Migration(migrations.Migration):
    dependencies = [
        ("batches", "0020_long_term_follow_up_rcr_and_follow_up_end"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        pgtrigger.migrations.RemoveTrigger(
            model_name="recipient",
            name="insert_insert",
        ),
        pgtrigger.migrations.RemoveTrigger(
            model_name="recipient",
            name="update_update",
        ),
        pgtrigger.migrations.RemoveTrigger(
            model_name="recipient",
            name="delete_delete",
        ),
        migrations.AddField(
            model_name="recipient",
            name="treating_clinician",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="treated_recipients",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="recipientevent",
            name="treating_clinician",
            field=models.ForeignKey(
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                related_query_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="recipient",
            trigger=pgtrigger.compiler.Trigger(
                name="insert_insert",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "batches_recipientevent" ("diagnosis", "diagnosis_detail", "dose_level", "hla_a", "hla_b", "hla_c", "hla_drb1", "id", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "planned_infusion_on", "registered_at", "registered_by_id", "subject_id", "treating_clinician_id") VALUES (NEW."diagnosis", NEW."diagnosis_detail", NEW."dose_level", NEW."hla_a", NEW."hla_b", NEW."hla_c", NEW."hla_drb1", NEW."id", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'insert\', NEW."id", NEW."planned_infusion_on", NEW."registered_at", NEW."registered_by_id", NEW."subject_id", NEW."treating_clinician_id"); RETURN NULL;',
                    hash="91c4ffc5d4f58fce04b71deb4235d1cf21844476",
                    operation="INSERT",
                    pgid="pgtrigger_insert_insert_bc262",
                    table="batches_recipient",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="recipient",
            trigger=pgtrigger.compiler.Trigger(
                name="update_update",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    condition="WHEN (OLD.* IS DISTINCT FROM NEW.*)",
                    func='INSERT INTO "batches_recipientevent" ("diagnosis", "diagnosis_detail", "dose_level", "hla_a", "hla_b", "hla_c", "hla_drb1", "id", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "planned_infusion_on", "registered_at", "registered_by_id", "subject_id", "treating_clinician_id") VALUES (NEW."diagnosis", NEW."diagnosis_detail", NEW."dose_level", NEW."hla_a", NEW."hla_b", NEW."hla_c", NEW."hla_drb1", NEW."id", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'update\', NEW."id", NEW."planned_infusion_on", NEW."registered_at", NEW."registered_by_id", NEW."subject_id", NEW."treating_clinician_id"); RETURN NULL;',
                    hash="f0fa45a8476996d19a6b28dbec91b73b2a1dc2d3",
                    operation="UPDATE",
                    pgid="pgtrigger_update_update_e0972",
                    table="batches_recipient",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="recipient",
            trigger=pgtrigger.compiler.Trigger(
                name="delete_delete",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "batches_recipientevent" ("diagnosis", "diagnosis_detail", "dose_level", "hla_a", "hla_b", "hla_c", "hla_drb1", "id", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "planned_infusion_on", "registered_at", "registered_by_id", "subject_id", "treating_clinician_id") VALUES (OLD."diagnosis", OLD."diagnosis_detail", OLD."dose_level", OLD."hla_a", OLD."hla_b", OLD."hla_c", OLD."hla_drb1", OLD."id", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'delete\', OLD."id", OLD."planned_infusion_on", OLD."registered_at", OLD."registered_by_id", OLD."subject_id", OLD."treating_clinician_id"); RETURN NULL;',
                    hash="e5a76c8a3bbaa930cde172cad7f0e174b95b8d43",
                    operation="DELETE",
                    pgid="pgtrigger_delete_delete_f9079",
                    table="batches_recipient",
                    when="AFTER",
                ),
            ),
        ),
        migrations.RunPython(enrolling_clinician_treats, migrations.RunPython.noop),
    ]
