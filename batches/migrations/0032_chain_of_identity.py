"""The batch's identifier is what it always was, a DIN, and is called so: the history
triggers naming its column are dropped before the rename and made again after it."""

import carnk_mfg.fields
import pgtrigger.compiler
import pgtrigger.migrations
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("batches", "0030_bag_product_code_checks_and_roles"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        pgtrigger.migrations.RemoveTrigger(
            model_name="batch",
            name="insert_insert",
        ),
        pgtrigger.migrations.RemoveTrigger(
            model_name="batch",
            name="update_update",
        ),
        pgtrigger.migrations.RemoveTrigger(
            model_name="batch",
            name="delete_delete",
        ),
        migrations.RemoveConstraint(
            model_name="batch",
            name="batch_coi_identifier_free_text",
        ),
        migrations.RenameField(model_name="batch", old_name="coi_identifier", new_name="din"),
        migrations.RenameField(model_name="batchevent", old_name="coi_identifier", new_name="din"),
        migrations.RunSQL(
            "ALTER SEQUENCE batches_coi_sequence RENAME TO batches_din_sequence",
            "ALTER SEQUENCE batches_din_sequence RENAME TO batches_coi_sequence",
        ),
        migrations.AlterField(
            model_name="batch",
            name="din",
            field=carnk_mfg.fields.FreeCharField(max_length=13, unique=True, verbose_name="DIN"),
        ),
        migrations.AlterField(
            model_name="batchevent",
            name="din",
            field=carnk_mfg.fields.FreeCharField(max_length=13, verbose_name="DIN"),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="batch",
            trigger=pgtrigger.compiler.Trigger(
                name="insert_insert",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "batches_batchevent" ("created_at", "created_by_id", "day0_at", "din", "held_from_state", "id", "intended_recipient_id", "lot_number", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "source_unit_id", "state", "state_changed_at", "template_id", "unit_fraction_used_pct") VALUES (NEW."created_at", NEW."created_by_id", NEW."day0_at", NEW."din", NEW."held_from_state", NEW."id", NEW."intended_recipient_id", NEW."lot_number", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'insert\', NEW."id", NEW."source_unit_id", NEW."state", NEW."state_changed_at", NEW."template_id", NEW."unit_fraction_used_pct"); RETURN NULL;',
                    hash="75b9c22149970c8ae1f3ca83eaff9d67c391076c",
                    operation="INSERT",
                    pgid="pgtrigger_insert_insert_e9284",
                    table="batches_batch",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="batch",
            trigger=pgtrigger.compiler.Trigger(
                name="update_update",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    condition="WHEN (OLD.* IS DISTINCT FROM NEW.*)",
                    func='INSERT INTO "batches_batchevent" ("created_at", "created_by_id", "day0_at", "din", "held_from_state", "id", "intended_recipient_id", "lot_number", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "source_unit_id", "state", "state_changed_at", "template_id", "unit_fraction_used_pct") VALUES (NEW."created_at", NEW."created_by_id", NEW."day0_at", NEW."din", NEW."held_from_state", NEW."id", NEW."intended_recipient_id", NEW."lot_number", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'update\', NEW."id", NEW."source_unit_id", NEW."state", NEW."state_changed_at", NEW."template_id", NEW."unit_fraction_used_pct"); RETURN NULL;',
                    hash="22b74e0697093cfdb95f13bcf1cf2c229dd224a1",
                    operation="UPDATE",
                    pgid="pgtrigger_update_update_a4968",
                    table="batches_batch",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="batch",
            trigger=pgtrigger.compiler.Trigger(
                name="delete_delete",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "batches_batchevent" ("created_at", "created_by_id", "day0_at", "din", "held_from_state", "id", "intended_recipient_id", "lot_number", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "source_unit_id", "state", "state_changed_at", "template_id", "unit_fraction_used_pct") VALUES (OLD."created_at", OLD."created_by_id", OLD."day0_at", OLD."din", OLD."held_from_state", OLD."id", OLD."intended_recipient_id", OLD."lot_number", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'delete\', OLD."id", OLD."source_unit_id", OLD."state", OLD."state_changed_at", OLD."template_id", OLD."unit_fraction_used_pct"); RETURN NULL;',
                    hash="fadd47265a89841471bc9546a2bd0a7245824325",
                    operation="DELETE",
                    pgid="pgtrigger_delete_delete_d75bf",
                    table="batches_batch",
                    when="AFTER",
                ),
            ),
        ),
        migrations.AddConstraint(
            model_name="batch",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    (
                        "din__regex",
                        "[\\u0001-\\u0008\\u000b-\\u000c\\u000e-\\u001f\\u007f-\\u009f\\u202a-\\u202e\\u2066-\\u2069]",
                    ),
                    _negated=True,
                ),
                name="batch_din_free_text",
                violation_error_message="din: control characters are not allowed.",
            ),
        ),
    ]
