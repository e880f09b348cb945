"""The batch's identifier is what it always was, a DIN, and is called so (the history
triggers naming its column are dropped before the rename and made again after it); the
Chain of Identity identifier of each batch and recipient, numbered from its own sequence;
and the recipient's second patient identifiers, and what the bedside check compares with
them."""

import carnk_mfg.fields
import pgtrigger.compiler
import pgtrigger.migrations
import batches.models.recipients
import django.db.models.deletion
import pghistory.utils
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("batches", "0031_donor_test_panel"),
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
        migrations.RunSQL(
            "CREATE SEQUENCE IF NOT EXISTS batches_chain_of_identity_sequence START 1",
            "DROP SEQUENCE IF EXISTS batches_chain_of_identity_sequence",
        ),
        migrations.CreateModel(
            name='ChainOfIdentity',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('identifier', models.CharField(max_length=15, unique=True, verbose_name='Chain of Identity identifier')),
                ('assigned_at', models.DateTimeField()),
            ],
            options={
                'verbose_name': 'Chain of Identity',
                'verbose_name_plural': 'Chains of Identity',
                'ordering': ['assigned_at', 'id'],
            },
        ),
        migrations.CreateModel(
            name='ChainOfIdentityEvent',
            fields=[
                ('pgh_id', models.AutoField(primary_key=True, serialize=False)),
                ('pgh_created_at', models.DateTimeField(auto_now_add=True)),
                ('pgh_label', models.TextField(help_text='The event label.')),
                ('pgh_context', pghistory.utils.JSONField(null=True)),
                ('pgh_context_id', models.UUIDField(null=True)),
                ('id', models.BigIntegerField()),
                ('identifier', models.CharField(max_length=15, verbose_name='Chain of Identity identifier')),
                ('assigned_at', models.DateTimeField()),
            ],
            options={
                'abstract': False,
            },
        ),
        pgtrigger.migrations.RemoveTrigger(
            model_name='recipient',
            name='insert_insert',
        ),
        pgtrigger.migrations.RemoveTrigger(
            model_name='recipient',
            name='update_update',
        ),
        pgtrigger.migrations.RemoveTrigger(
            model_name='recipient',
            name='delete_delete',
        ),
        migrations.AddField(
            model_name='recipient',
            name='date_of_birth',
            field=models.DateField(blank=True, null=True, validators=[batches.models.recipients.not_in_the_future]),
        ),
        migrations.AddField(
            model_name='recipient',
            name='medical_record_number',
            field=carnk_mfg.fields.FreeCharField(blank=True, max_length=40, verbose_name='Medical record number'),
        ),
        migrations.AddField(
            model_name='recipientevent',
            name='date_of_birth',
            field=models.DateField(blank=True, null=True, validators=[batches.models.recipients.not_in_the_future]),
        ),
        migrations.AddField(
            model_name='recipientevent',
            name='medical_record_number',
            field=carnk_mfg.fields.FreeCharField(blank=True, max_length=40, verbose_name='Medical record number'),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='recipient',
            trigger=pgtrigger.compiler.Trigger(name='insert_insert', sql=pgtrigger.compiler.UpsertTriggerSql(func='INSERT INTO "batches_recipientevent" ("date_of_birth", "diagnosis", "diagnosis_detail", "dose_level", "hla_a", "hla_b", "hla_c", "hla_drb1", "id", "kir_ligand_group", "medical_record_number", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "planned_infusion_on", "registered_at", "registered_by_id", "subject_id", "treating_clinician_id") VALUES (NEW."date_of_birth", NEW."diagnosis", NEW."diagnosis_detail", NEW."dose_level", NEW."hla_a", NEW."hla_b", NEW."hla_c", NEW."hla_drb1", NEW."id", NEW."kir_ligand_group", NEW."medical_record_number", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'insert\', NEW."id", NEW."planned_infusion_on", NEW."registered_at", NEW."registered_by_id", NEW."subject_id", NEW."treating_clinician_id"); RETURN NULL;', hash='df82e729b75362794a0fb3f614892960b122ed2a', operation='INSERT', pgid='pgtrigger_insert_insert_bc262', table='batches_recipient', when='AFTER')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='recipient',
            trigger=pgtrigger.compiler.Trigger(name='update_update', sql=pgtrigger.compiler.UpsertTriggerSql(condition='WHEN (OLD.* IS DISTINCT FROM NEW.*)', func='INSERT INTO "batches_recipientevent" ("date_of_birth", "diagnosis", "diagnosis_detail", "dose_level", "hla_a", "hla_b", "hla_c", "hla_drb1", "id", "kir_ligand_group", "medical_record_number", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "planned_infusion_on", "registered_at", "registered_by_id", "subject_id", "treating_clinician_id") VALUES (NEW."date_of_birth", NEW."diagnosis", NEW."diagnosis_detail", NEW."dose_level", NEW."hla_a", NEW."hla_b", NEW."hla_c", NEW."hla_drb1", NEW."id", NEW."kir_ligand_group", NEW."medical_record_number", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'update\', NEW."id", NEW."planned_infusion_on", NEW."registered_at", NEW."registered_by_id", NEW."subject_id", NEW."treating_clinician_id"); RETURN NULL;', hash='b76586cae91682a2a8860933e298713a8672ef65', operation='UPDATE', pgid='pgtrigger_update_update_e0972', table='batches_recipient', when='AFTER')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='recipient',
            trigger=pgtrigger.compiler.Trigger(name='delete_delete', sql=pgtrigger.compiler.UpsertTriggerSql(func='INSERT INTO "batches_recipientevent" ("date_of_birth", "diagnosis", "diagnosis_detail", "dose_level", "hla_a", "hla_b", "hla_c", "hla_drb1", "id", "kir_ligand_group", "medical_record_number", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "planned_infusion_on", "registered_at", "registered_by_id", "subject_id", "treating_clinician_id") VALUES (OLD."date_of_birth", OLD."diagnosis", OLD."diagnosis_detail", OLD."dose_level", OLD."hla_a", OLD."hla_b", OLD."hla_c", OLD."hla_drb1", OLD."id", OLD."kir_ligand_group", OLD."medical_record_number", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'delete\', OLD."id", OLD."planned_infusion_on", OLD."registered_at", OLD."registered_by_id", OLD."subject_id", OLD."treating_clinician_id"); RETURN NULL;', hash='d1cb9e0050274fc0e8714296bd41e516cac7f9e5', operation='DELETE', pgid='pgtrigger_delete_delete_f9079', table='batches_recipient', when='AFTER')),
        ),
        migrations.AddConstraint(
            model_name='recipient',
            constraint=models.CheckConstraint(condition=models.Q(('medical_record_number__regex', '[\\u0001-\\u0008\\u000b-\\u000c\\u000e-\\u001f\\u007f-\\u009f\\u202a-\\u202e\\u2066-\\u2069]'), _negated=True), name='recipient_medical_record_number_free_text', violation_error_message='medical_record_number: control characters are not allowed.'),
        ),
        migrations.AddField(
            model_name='chainofidentity',
            name='assigned_by',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='chainofidentity',
            name='batch',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='chains_of_identity', to='batches.batch'),
        ),
        migrations.AddField(
            model_name='chainofidentity',
            name='recipient',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='chains_of_identity', to='batches.recipient'),
        ),
        migrations.AddField(
            model_name='chainofidentityevent',
            name='assigned_by',
            field=models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', related_query_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='chainofidentityevent',
            name='batch',
            field=models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', related_query_name='+', to='batches.batch'),
        ),
        migrations.AddField(
            model_name='chainofidentityevent',
            name='pgh_obj',
            field=models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='events', to='batches.chainofidentity'),
        ),
        migrations.AddField(
            model_name='chainofidentityevent',
            name='recipient',
            field=models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', related_query_name='+', to='batches.recipient'),
        ),
        migrations.AddConstraint(
            model_name='chainofidentity',
            constraint=models.UniqueConstraint(fields=('batch', 'recipient'), name='chain_of_identity_once_per_batch_recipient'),
        ),
        migrations.AddConstraint(
            model_name='chainofidentity',
            constraint=models.CheckConstraint(condition=models.Q(('identifier__regex', '^[A-NP-Z1-9][0-9]{4}[0-9]{2}[0-9]{8}$')), name='chain_of_identity_identifier_format'),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='chainofidentity',
            trigger=pgtrigger.compiler.Trigger(name='never_changed', sql=pgtrigger.compiler.UpsertTriggerSql(func="RAISE EXCEPTION 'Chain of Identity % is assigned once and never changed', OLD.identifier; RETURN NULL;", hash='6a448285717fb1d511463ca06a4f3ba2d5132ad3', operation='UPDATE', pgid='pgtrigger_never_changed_736dd', table='batches_chainofidentity', when='BEFORE')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='chainofidentity',
            trigger=pgtrigger.compiler.Trigger(name='kept', sql=pgtrigger.compiler.UpsertTriggerSql(func="RAISE EXCEPTION 'Chain of Identity % is kept: it is never deleted', OLD.identifier; RETURN NULL;", hash='a72e447a8937072029ef34eb1e65772e63f47f51', operation='DELETE', pgid='pgtrigger_kept_bbb55', table='batches_chainofidentity', when='BEFORE')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='chainofidentity',
            trigger=pgtrigger.compiler.Trigger(name='insert_insert', sql=pgtrigger.compiler.UpsertTriggerSql(func='INSERT INTO "batches_chainofidentityevent" ("assigned_at", "assigned_by_id", "batch_id", "id", "identifier", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "recipient_id") VALUES (NEW."assigned_at", NEW."assigned_by_id", NEW."batch_id", NEW."id", NEW."identifier", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'insert\', NEW."id", NEW."recipient_id"); RETURN NULL;', hash='1b8e1664b0c4122adda4dbbbaba68b120006b950', operation='INSERT', pgid='pgtrigger_insert_insert_63d07', table='batches_chainofidentity', when='AFTER')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='chainofidentity',
            trigger=pgtrigger.compiler.Trigger(name='update_update', sql=pgtrigger.compiler.UpsertTriggerSql(condition='WHEN (OLD.* IS DISTINCT FROM NEW.*)', func='INSERT INTO "batches_chainofidentityevent" ("assigned_at", "assigned_by_id", "batch_id", "id", "identifier", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "recipient_id") VALUES (NEW."assigned_at", NEW."assigned_by_id", NEW."batch_id", NEW."id", NEW."identifier", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'update\', NEW."id", NEW."recipient_id"); RETURN NULL;', hash='e58eb70526032c22de75e6c996bca6067129efc8', operation='UPDATE', pgid='pgtrigger_update_update_56524', table='batches_chainofidentity', when='AFTER')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='chainofidentity',
            trigger=pgtrigger.compiler.Trigger(name='delete_delete', sql=pgtrigger.compiler.UpsertTriggerSql(func='INSERT INTO "batches_chainofidentityevent" ("assigned_at", "assigned_by_id", "batch_id", "id", "identifier", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "recipient_id") VALUES (OLD."assigned_at", OLD."assigned_by_id", OLD."batch_id", OLD."id", OLD."identifier", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'delete\', OLD."id", OLD."recipient_id"); RETURN NULL;', hash='3527e7f933f6393728b59867f525cc2e865df858', operation='DELETE', pgid='pgtrigger_delete_delete_c388d', table='batches_chainofidentity', when='AFTER')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='chainofidentityevent',
            trigger=pgtrigger.compiler.Trigger(name='append_only', sql=pgtrigger.compiler.UpsertTriggerSql(func="RAISE EXCEPTION 'pgtrigger: Cannot update or delete rows from % table', TG_TABLE_NAME;", hash='ee5ca94b13f1f25494e548eeb5fb653003f95b9c', operation='UPDATE OR DELETE', pgid='pgtrigger_append_only_d17bc', table='batches_chainofidentityevent', when='BEFORE')),
        ),
        pgtrigger.migrations.RemoveTrigger(
            model_name='bedsidecheck',
            name='insert_insert',
        ),
        pgtrigger.migrations.RemoveTrigger(
            model_name='bedsidecheck',
            name='update_update',
        ),
        pgtrigger.migrations.RemoveTrigger(
            model_name='bedsidecheck',
            name='delete_delete',
        ),
        migrations.AddField(
            model_name='bedsidecheck',
            name='scanned_coi',
            field=carnk_mfg.fields.FreeCharField(blank=True, max_length=60, verbose_name='Scanned Chain of Identity'),
        ),
        migrations.AddField(
            model_name='bedsidecheck',
            name='scanned_date_of_birth',
            field=models.DateField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='bedsidecheck',
            name='scanned_medical_record_number',
            field=carnk_mfg.fields.FreeCharField(blank=True, max_length=40),
        ),
        migrations.AddField(
            model_name='bedsidecheckevent',
            name='scanned_coi',
            field=carnk_mfg.fields.FreeCharField(blank=True, max_length=60, verbose_name='Scanned Chain of Identity'),
        ),
        migrations.AddField(
            model_name='bedsidecheckevent',
            name='scanned_date_of_birth',
            field=models.DateField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='bedsidecheckevent',
            name='scanned_medical_record_number',
            field=carnk_mfg.fields.FreeCharField(blank=True, max_length=40),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='bedsidecheck',
            trigger=pgtrigger.compiler.Trigger(name='insert_insert', sql=pgtrigger.compiler.UpsertTriggerSql(func='INSERT INTO "batches_bedsidecheckevent" ("checked_at", "checked_by_id", "dose_unit_id", "id", "outcome", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "reasons", "recipient_id", "scanned_bag", "scanned_coi", "scanned_date_of_birth", "scanned_medical_record_number", "scanned_product_code", "scanned_wristband") VALUES (NEW."checked_at", NEW."checked_by_id", NEW."dose_unit_id", NEW."id", NEW."outcome", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'insert\', NEW."id", NEW."reasons", NEW."recipient_id", NEW."scanned_bag", NEW."scanned_coi", NEW."scanned_date_of_birth", NEW."scanned_medical_record_number", NEW."scanned_product_code", NEW."scanned_wristband"); RETURN NULL;', hash='2e252e23ac3ea2fe938dd1761fa7233850d59ead', operation='INSERT', pgid='pgtrigger_insert_insert_30924', table='batches_bedsidecheck', when='AFTER')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='bedsidecheck',
            trigger=pgtrigger.compiler.Trigger(name='update_update', sql=pgtrigger.compiler.UpsertTriggerSql(condition='WHEN (OLD.* IS DISTINCT FROM NEW.*)', func='INSERT INTO "batches_bedsidecheckevent" ("checked_at", "checked_by_id", "dose_unit_id", "id", "outcome", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "reasons", "recipient_id", "scanned_bag", "scanned_coi", "scanned_date_of_birth", "scanned_medical_record_number", "scanned_product_code", "scanned_wristband") VALUES (NEW."checked_at", NEW."checked_by_id", NEW."dose_unit_id", NEW."id", NEW."outcome", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'update\', NEW."id", NEW."reasons", NEW."recipient_id", NEW."scanned_bag", NEW."scanned_coi", NEW."scanned_date_of_birth", NEW."scanned_medical_record_number", NEW."scanned_product_code", NEW."scanned_wristband"); RETURN NULL;', hash='435bbaea9801d12f4f76955e580542423078cb0f', operation='UPDATE', pgid='pgtrigger_update_update_4a550', table='batches_bedsidecheck', when='AFTER')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='bedsidecheck',
            trigger=pgtrigger.compiler.Trigger(name='delete_delete', sql=pgtrigger.compiler.UpsertTriggerSql(func='INSERT INTO "batches_bedsidecheckevent" ("checked_at", "checked_by_id", "dose_unit_id", "id", "outcome", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "reasons", "recipient_id", "scanned_bag", "scanned_coi", "scanned_date_of_birth", "scanned_medical_record_number", "scanned_product_code", "scanned_wristband") VALUES (OLD."checked_at", OLD."checked_by_id", OLD."dose_unit_id", OLD."id", OLD."outcome", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'delete\', OLD."id", OLD."reasons", OLD."recipient_id", OLD."scanned_bag", OLD."scanned_coi", OLD."scanned_date_of_birth", OLD."scanned_medical_record_number", OLD."scanned_product_code", OLD."scanned_wristband"); RETURN NULL;', hash='4dd26d59dd3cdcdf8b14b182a756d74f3535c80e', operation='DELETE', pgid='pgtrigger_delete_delete_093a5', table='batches_bedsidecheck', when='AFTER')),
        ),
        migrations.AddConstraint(
            model_name='bedsidecheck',
            constraint=models.CheckConstraint(condition=models.Q(('scanned_coi__regex', '[\\u0001-\\u0008\\u000b-\\u000c\\u000e-\\u001f\\u007f-\\u009f\\u202a-\\u202e\\u2066-\\u2069]'), _negated=True), name='bedsidecheck_scanned_coi_free_text', violation_error_message='scanned_coi: control characters are not allowed.'),
        ),
        migrations.AddConstraint(
            model_name='bedsidecheck',
            constraint=models.CheckConstraint(condition=models.Q(('scanned_medical_record_number__regex', '[\\u0001-\\u0008\\u000b-\\u000c\\u000e-\\u001f\\u007f-\\u009f\\u202a-\\u202e\\u2066-\\u2069]'), _negated=True), name='bedsidecheck_scanned_medical_record_number_free_text', violation_error_message='scanned_medical_record_number: control characters are not allowed.'),
        ),
    ]
