"""Lymphodepletion doses recorded per recipient (the table holds each total to dose x body
surface area), the clinical deviation of an infused volume off its prescription, and clinical
staff may record lymphodepletion."""

import carnk_mfg.fields
import django.core.validators
import django.db.models.deletion
import django.db.models.expressions
import django.db.models.functions.math
import pghistory.utils
import pgtrigger.compiler
import pgtrigger.migrations
from decimal import Decimal
from django.conf import settings
from django.db import migrations, models


def sync_roles(apps, schema_editor):
    from carnk_mfg.roles import sync_roles as sync

    sync(apps)


class Migration(migrations.Migration):

    dependencies = [
        ('batches', '0033_training_and_qualification'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name='deviation',
            name='kind',
            field=models.CharField(choices=[('out_of_range', 'Parameter out of range'), ('late', 'Step performed late'), ('material', 'Different or unusable material'), ('out_of_spec', 'Out-of-specification result'), ('infused_volume', 'Infused volume differs from the prescribed volume'), ('other', 'Other departure from procedure')], max_length=20),
        ),
        migrations.AlterField(
            model_name='deviationevent',
            name='kind',
            field=models.CharField(choices=[('out_of_range', 'Parameter out of range'), ('late', 'Step performed late'), ('material', 'Different or unusable material'), ('out_of_spec', 'Out-of-specification result'), ('infused_volume', 'Infused volume differs from the prescribed volume'), ('other', 'Other departure from procedure')], max_length=20),
        ),
        migrations.CreateModel(
            name='LymphodepletionDose',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('agent', models.CharField(choices=[('fludarabine', 'Fludarabine'), ('cyclophosphamide', 'Cyclophosphamide')], max_length=20)),
                ('dose_mg_per_m2', models.DecimalField(decimal_places=1, max_digits=6, validators=[carnk_mfg.fields.AboveValidator(0), django.core.validators.MaxValueValidator(3000)], verbose_name='Dose (mg/m2)')),
                ('body_surface_area_m2', models.DecimalField(decimal_places=2, max_digits=3, validators=[django.core.validators.MinValueValidator(Decimal('0.2')), django.core.validators.MaxValueValidator(Decimal('3.5'))], verbose_name='Body surface area (m2)')),
                ('total_dose_mg', models.DecimalField(decimal_places=1, max_digits=7, validators=[carnk_mfg.fields.AboveValidator(0), django.core.validators.MaxValueValidator(10500)], verbose_name='Total dose (mg)')),
                ('given_on', models.DateField()),
                ('recorded_at', models.DateTimeField()),
                ('given_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('recipient', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='lymphodepletion_doses', to='batches.recipient')),
                ('recorded_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'ordering': ['given_on', 'agent'],
                'permissions': [('record_lymphodepletion', 'Record a lymphodepletion dose')],
            },
        ),
        migrations.CreateModel(
            name='LymphodepletionDoseEvent',
            fields=[
                ('pgh_id', models.AutoField(primary_key=True, serialize=False)),
                ('pgh_created_at', models.DateTimeField(auto_now_add=True)),
                ('pgh_label', models.TextField(help_text='The event label.')),
                ('pgh_context', pghistory.utils.JSONField(null=True)),
                ('pgh_context_id', models.UUIDField(null=True)),
                ('id', models.BigIntegerField()),
                ('agent', models.CharField(choices=[('fludarabine', 'Fludarabine'), ('cyclophosphamide', 'Cyclophosphamide')], max_length=20)),
                ('dose_mg_per_m2', models.DecimalField(decimal_places=1, max_digits=6, validators=[carnk_mfg.fields.AboveValidator(0), django.core.validators.MaxValueValidator(3000)], verbose_name='Dose (mg/m2)')),
                ('body_surface_area_m2', models.DecimalField(decimal_places=2, max_digits=3, validators=[django.core.validators.MinValueValidator(Decimal('0.2')), django.core.validators.MaxValueValidator(Decimal('3.5'))], verbose_name='Body surface area (m2)')),
                ('total_dose_mg', models.DecimalField(decimal_places=1, max_digits=7, validators=[carnk_mfg.fields.AboveValidator(0), django.core.validators.MaxValueValidator(10500)], verbose_name='Total dose (mg)')),
                ('given_on', models.DateField()),
                ('recorded_at', models.DateTimeField()),
                ('given_by', models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', related_query_name='+', to=settings.AUTH_USER_MODEL)),
                ('pgh_obj', models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='events', to='batches.lymphodepletiondose')),
                ('recipient', models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', related_query_name='+', to='batches.recipient')),
                ('recorded_by', models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', related_query_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'abstract': False,
            },
        ),
        migrations.AddConstraint(
            model_name='lymphodepletiondose',
            constraint=models.CheckConstraint(condition=models.Q(('dose_mg_per_m2__gt', 0), ('dose_mg_per_m2__lte', 3000)), name='lymphodepletion_dose_in_range'),
        ),
        migrations.AddConstraint(
            model_name='lymphodepletiondose',
            constraint=models.CheckConstraint(condition=models.Q(('body_surface_area_m2__gte', Decimal('0.2')), ('body_surface_area_m2__lte', Decimal('3.5'))), name='lymphodepletion_bsa_in_human_range'),
        ),
        migrations.AddConstraint(
            model_name='lymphodepletiondose',
            constraint=models.CheckConstraint(condition=models.Q(('total_dose_mg__gt', 0), ('total_dose_mg__lte', 10500)), name='lymphodepletion_total_in_range'),
        ),
        migrations.AddConstraint(
            model_name='lymphodepletiondose',
            constraint=models.CheckConstraint(condition=models.Q(('total_dose_mg', django.db.models.functions.math.Round(django.db.models.expressions.CombinedExpression(models.F('dose_mg_per_m2'), '*', models.F('body_surface_area_m2')), 1))), name='lymphodepletion_total_is_dose_times_bsa'),
        ),
        migrations.AddConstraint(
            model_name='lymphodepletiondose',
            constraint=models.UniqueConstraint(fields=('recipient', 'agent', 'given_on'), name='lymphodepletion_one_dose_of_an_agent_a_day'),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='lymphodepletiondose',
            trigger=pgtrigger.compiler.Trigger(name='insert_insert', sql=pgtrigger.compiler.UpsertTriggerSql(func='INSERT INTO "batches_lymphodepletiondoseevent" ("agent", "body_surface_area_m2", "dose_mg_per_m2", "given_by_id", "given_on", "id", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "recipient_id", "recorded_at", "recorded_by_id", "total_dose_mg") VALUES (NEW."agent", NEW."body_surface_area_m2", NEW."dose_mg_per_m2", NEW."given_by_id", NEW."given_on", NEW."id", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'insert\', NEW."id", NEW."recipient_id", NEW."recorded_at", NEW."recorded_by_id", NEW."total_dose_mg"); RETURN NULL;', hash='92172d4d3136b162faf8e863fab50013aacc0eea', operation='INSERT', pgid='pgtrigger_insert_insert_0903e', table='batches_lymphodepletiondose', when='AFTER')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='lymphodepletiondose',
            trigger=pgtrigger.compiler.Trigger(name='update_update', sql=pgtrigger.compiler.UpsertTriggerSql(condition='WHEN (OLD.* IS DISTINCT FROM NEW.*)', func='INSERT INTO "batches_lymphodepletiondoseevent" ("agent", "body_surface_area_m2", "dose_mg_per_m2", "given_by_id", "given_on", "id", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "recipient_id", "recorded_at", "recorded_by_id", "total_dose_mg") VALUES (NEW."agent", NEW."body_surface_area_m2", NEW."dose_mg_per_m2", NEW."given_by_id", NEW."given_on", NEW."id", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'update\', NEW."id", NEW."recipient_id", NEW."recorded_at", NEW."recorded_by_id", NEW."total_dose_mg"); RETURN NULL;', hash='26c958ad4b5382c48be7a4b9ad097fbae0d4586f', operation='UPDATE', pgid='pgtrigger_update_update_ce946', table='batches_lymphodepletiondose', when='AFTER')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='lymphodepletiondose',
            trigger=pgtrigger.compiler.Trigger(name='delete_delete', sql=pgtrigger.compiler.UpsertTriggerSql(func='INSERT INTO "batches_lymphodepletiondoseevent" ("agent", "body_surface_area_m2", "dose_mg_per_m2", "given_by_id", "given_on", "id", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "recipient_id", "recorded_at", "recorded_by_id", "total_dose_mg") VALUES (OLD."agent", OLD."body_surface_area_m2", OLD."dose_mg_per_m2", OLD."given_by_id", OLD."given_on", OLD."id", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'delete\', OLD."id", OLD."recipient_id", OLD."recorded_at", OLD."recorded_by_id", OLD."total_dose_mg"); RETURN NULL;', hash='922560e60bb1562dc13a5c84003731f3c3167d9f', operation='DELETE', pgid='pgtrigger_delete_delete_b7dcd', table='batches_lymphodepletiondose', when='AFTER')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='lymphodepletiondoseevent',
            trigger=pgtrigger.compiler.Trigger(name='append_only', sql=pgtrigger.compiler.UpsertTriggerSql(func="RAISE EXCEPTION 'pgtrigger: Cannot update or delete rows from % table', TG_TABLE_NAME;", hash='2a4f6bacd5ee99ad306b7bccb78707d07a5ac0fe', operation='UPDATE OR DELETE', pgid='pgtrigger_append_only_36f3e', table='batches_lymphodepletiondoseevent', when='BEFORE')),
        ),
        migrations.RunPython(sync_roles, migrations.RunPython.noop),
    ]
