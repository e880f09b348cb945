"""Training and qualification: procedures and their versions, training records, the steps'
qualifications and supervisors; QA records training and issues procedures."""

import carnk_mfg.fields
import django.core.validators
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
        ('batches', '0032_chain_of_identity'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='Procedure',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('code', carnk_mfg.fields.IdentifierField(max_length=40, unique=True)),
                ('title', carnk_mfg.fields.FreeCharField(max_length=200)),
                ('training_valid_days', models.PositiveIntegerField(blank=True, null=True, validators=[django.core.validators.MinValueValidator(1), django.core.validators.MaxValueValidator(3650)])),
                ('required_for_release', models.BooleanField(default=False)),
                ('created_at', models.DateTimeField()),
                ('created_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'constraints': [models.CheckConstraint(condition=models.Q(('title__regex', '[\\u0001-\\u0008\\u000b-\\u000c\\u000e-\\u001f\\u007f-\\u009f\\u202a-\\u202e\\u2066-\\u2069]'), _negated=True), name='procedure_title_free_text', violation_error_message='title: control characters are not allowed.')],
                'ordering': ['code'],
                'permissions': [('issue_procedure', "Issue a procedure, its versions and the steps' qualifications"), ('record_training', "Record a person's training on a procedure version")],
            },
        ),
        migrations.CreateModel(
            name='ProcedureEvent',
            fields=[
                ('pgh_id', models.AutoField(primary_key=True, serialize=False)),
                ('pgh_created_at', models.DateTimeField(auto_now_add=True)),
                ('pgh_label', models.TextField(help_text='The event label.')),
                ('pgh_context', pghistory.utils.JSONField(null=True)),
                ('pgh_context_id', models.UUIDField(null=True)),
                ('id', models.BigIntegerField()),
                ('code', carnk_mfg.fields.IdentifierField(max_length=40)),
                ('title', carnk_mfg.fields.FreeCharField(max_length=200)),
                ('training_valid_days', models.PositiveIntegerField(blank=True, null=True, validators=[django.core.validators.MinValueValidator(1), django.core.validators.MaxValueValidator(3650)])),
                ('required_for_release', models.BooleanField(default=False)),
                ('created_at', models.DateTimeField()),
                ('created_by', models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', related_query_name='+', to=settings.AUTH_USER_MODEL)),
                ('pgh_obj', models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='events', to='batches.procedure')),
            ],
            options={
                'abstract': False,
            },
        ),
        migrations.CreateModel(
            name='ProcedureVersion',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('version', models.PositiveIntegerField()),
                ('effective_on', models.DateField()),
                ('document_reference', carnk_mfg.fields.FreeCharField(max_length=200)),
                ('issued_at', models.DateTimeField()),
                ('issued_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('procedure', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='versions', to='batches.procedure')),
            ],
            options={
                'constraints': [models.CheckConstraint(condition=models.Q(('document_reference__regex', '[\\u0001-\\u0008\\u000b-\\u000c\\u000e-\\u001f\\u007f-\\u009f\\u202a-\\u202e\\u2066-\\u2069]'), _negated=True), name='procedureversion_document_reference_free_text', violation_error_message='document_reference: control characters are not allowed.')],
                'ordering': ['procedure', '-version'],
            },
        ),
        migrations.CreateModel(
            name='ProcedureVersionEvent',
            fields=[
                ('pgh_id', models.AutoField(primary_key=True, serialize=False)),
                ('pgh_created_at', models.DateTimeField(auto_now_add=True)),
                ('pgh_label', models.TextField(help_text='The event label.')),
                ('pgh_context', pghistory.utils.JSONField(null=True)),
                ('pgh_context_id', models.UUIDField(null=True)),
                ('id', models.BigIntegerField()),
                ('version', models.PositiveIntegerField()),
                ('effective_on', models.DateField()),
                ('document_reference', carnk_mfg.fields.FreeCharField(max_length=200)),
                ('issued_at', models.DateTimeField()),
                ('issued_by', models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', related_query_name='+', to=settings.AUTH_USER_MODEL)),
                ('pgh_obj', models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='events', to='batches.procedureversion')),
                ('procedure', models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', related_query_name='+', to='batches.procedure')),
            ],
            options={
                'abstract': False,
            },
        ),
        migrations.CreateModel(
            name='StepQualification',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('purpose', models.CharField(choices=[('perform', 'Perform the step'), ('review', 'Review the step')], max_length=10)),
                ('procedure', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='batches.procedure')),
                ('template_step', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='qualifications', to='batches.templatestep')),
            ],
            options={
                'ordering': ['template_step', 'purpose', 'procedure'],
            },
        ),
        migrations.CreateModel(
            name='StepQualificationEvent',
            fields=[
                ('pgh_id', models.AutoField(primary_key=True, serialize=False)),
                ('pgh_created_at', models.DateTimeField(auto_now_add=True)),
                ('pgh_label', models.TextField(help_text='The event label.')),
                ('pgh_context', pghistory.utils.JSONField(null=True)),
                ('pgh_context_id', models.UUIDField(null=True)),
                ('id', models.BigIntegerField()),
                ('purpose', models.CharField(choices=[('perform', 'Perform the step'), ('review', 'Review the step')], max_length=10)),
                ('pgh_obj', models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='events', to='batches.stepqualification')),
                ('procedure', models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', related_query_name='+', to='batches.procedure')),
                ('template_step', models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', related_query_name='+', to='batches.templatestep')),
            ],
            options={
                'abstract': False,
            },
        ),
        migrations.CreateModel(
            name='Supervision',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('person', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='supervision', to=settings.AUTH_USER_MODEL)),
                ('supervisor', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='supervised', to=settings.AUTH_USER_MODEL)),
            ],
        ),
        migrations.CreateModel(
            name='SupervisionEvent',
            fields=[
                ('pgh_id', models.AutoField(primary_key=True, serialize=False)),
                ('pgh_created_at', models.DateTimeField(auto_now_add=True)),
                ('pgh_label', models.TextField(help_text='The event label.')),
                ('pgh_context', pghistory.utils.JSONField(null=True)),
                ('pgh_context_id', models.UUIDField(null=True)),
                ('id', models.BigIntegerField()),
                ('person', models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', related_query_name='+', to=settings.AUTH_USER_MODEL)),
                ('pgh_obj', models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='events', to='batches.supervision')),
                ('supervisor', models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', related_query_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'abstract': False,
            },
        ),
        migrations.CreateModel(
            name='TrainingRecord',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('trained_on', models.DateField()),
                ('assessment', models.CharField(choices=[('passed', 'Passed'), ('failed', 'Failed')], max_length=10)),
                ('expires_on', models.DateField()),
                ('notes', carnk_mfg.fields.FreeTextField(blank=True)),
                ('recorded_at', models.DateTimeField()),
                ('expiry_warned_at', models.DateTimeField(blank=True, null=True)),
                ('procedure_version', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='training_records', to='batches.procedureversion')),
                ('recorded_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('trained_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('trainee', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='training_records', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'constraints': [models.CheckConstraint(condition=models.Q(('notes__regex', '[\\u0001-\\u0008\\u000b-\\u000c\\u000e-\\u001f\\u007f-\\u009f\\u202a-\\u202e\\u2066-\\u2069]'), _negated=True), name='trainingrecord_notes_free_text', violation_error_message='notes: control characters are not allowed.')],
                'ordering': ['-trained_on', '-id'],
            },
        ),
        migrations.CreateModel(
            name='TrainingRecordEvent',
            fields=[
                ('pgh_id', models.AutoField(primary_key=True, serialize=False)),
                ('pgh_created_at', models.DateTimeField(auto_now_add=True)),
                ('pgh_label', models.TextField(help_text='The event label.')),
                ('pgh_context', pghistory.utils.JSONField(null=True)),
                ('pgh_context_id', models.UUIDField(null=True)),
                ('id', models.BigIntegerField()),
                ('trained_on', models.DateField()),
                ('assessment', models.CharField(choices=[('passed', 'Passed'), ('failed', 'Failed')], max_length=10)),
                ('expires_on', models.DateField()),
                ('notes', carnk_mfg.fields.FreeTextField(blank=True)),
                ('recorded_at', models.DateTimeField()),
                ('expiry_warned_at', models.DateTimeField(blank=True, null=True)),
                ('pgh_obj', models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='events', to='batches.trainingrecord')),
                ('procedure_version', models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', related_query_name='+', to='batches.procedureversion')),
                ('recorded_by', models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', related_query_name='+', to=settings.AUTH_USER_MODEL)),
                ('trained_by', models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', related_query_name='+', to=settings.AUTH_USER_MODEL)),
                ('trainee', models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', related_query_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'abstract': False,
            },
        ),
        migrations.AddConstraint(
            model_name='procedure',
            constraint=models.CheckConstraint(condition=models.Q(('code__regex', '^[A-Za-z0-9]([A-Za-z0-9._/+-]*[A-Za-z0-9])?$')), name='procedure_code_identifier'),
        ),
        migrations.AddConstraint(
            model_name='procedure',
            constraint=models.CheckConstraint(condition=models.Q(('training_valid_days__isnull', True), models.Q(('training_valid_days__gte', 1), ('training_valid_days__lte', 3650)), _connector='OR'), name='procedure_training_valid_days_range'),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='procedure',
            trigger=pgtrigger.compiler.Trigger(name='insert_insert', sql=pgtrigger.compiler.UpsertTriggerSql(func='INSERT INTO "batches_procedureevent" ("code", "created_at", "created_by_id", "id", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "required_for_release", "title", "training_valid_days") VALUES (NEW."code", NEW."created_at", NEW."created_by_id", NEW."id", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'insert\', NEW."id", NEW."required_for_release", NEW."title", NEW."training_valid_days"); RETURN NULL;', hash='19e69e3775cefba4f36bbcabf01a642b79901218', operation='INSERT', pgid='pgtrigger_insert_insert_1f774', table='batches_procedure', when='AFTER')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='procedure',
            trigger=pgtrigger.compiler.Trigger(name='update_update', sql=pgtrigger.compiler.UpsertTriggerSql(condition='WHEN (OLD.* IS DISTINCT FROM NEW.*)', func='INSERT INTO "batches_procedureevent" ("code", "created_at", "created_by_id", "id", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "required_for_release", "title", "training_valid_days") VALUES (NEW."code", NEW."created_at", NEW."created_by_id", NEW."id", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'update\', NEW."id", NEW."required_for_release", NEW."title", NEW."training_valid_days"); RETURN NULL;', hash='639e18b85a1bfc7188ea4b5615032136cbd33630', operation='UPDATE', pgid='pgtrigger_update_update_09242', table='batches_procedure', when='AFTER')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='procedure',
            trigger=pgtrigger.compiler.Trigger(name='delete_delete', sql=pgtrigger.compiler.UpsertTriggerSql(func='INSERT INTO "batches_procedureevent" ("code", "created_at", "created_by_id", "id", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "required_for_release", "title", "training_valid_days") VALUES (OLD."code", OLD."created_at", OLD."created_by_id", OLD."id", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'delete\', OLD."id", OLD."required_for_release", OLD."title", OLD."training_valid_days"); RETURN NULL;', hash='ec38c3d2ef1c3e1a45f621636e00465aeec0c629', operation='DELETE', pgid='pgtrigger_delete_delete_e0155', table='batches_procedure', when='AFTER')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='procedureevent',
            trigger=pgtrigger.compiler.Trigger(name='append_only', sql=pgtrigger.compiler.UpsertTriggerSql(func="RAISE EXCEPTION 'pgtrigger: Cannot update or delete rows from % table', TG_TABLE_NAME;", hash='234081b8f3911a79076784368eb581d0eb3aba1d', operation='UPDATE OR DELETE', pgid='pgtrigger_append_only_c4078', table='batches_procedureevent', when='BEFORE')),
        ),
        migrations.AddConstraint(
            model_name='procedureversion',
            constraint=models.UniqueConstraint(fields=('procedure', 'version'), name='procedure_version_unique'),
        ),
        migrations.AddConstraint(
            model_name='procedureversion',
            constraint=models.CheckConstraint(condition=models.Q(('version__gte', 1)), name='procedure_version_from_1'),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='procedureversion',
            trigger=pgtrigger.compiler.Trigger(name='insert_insert', sql=pgtrigger.compiler.UpsertTriggerSql(func='INSERT INTO "batches_procedureversionevent" ("document_reference", "effective_on", "id", "issued_at", "issued_by_id", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "procedure_id", "version") VALUES (NEW."document_reference", NEW."effective_on", NEW."id", NEW."issued_at", NEW."issued_by_id", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'insert\', NEW."id", NEW."procedure_id", NEW."version"); RETURN NULL;', hash='6f1511064cdba845d1f24badbe0bafbf986ace91', operation='INSERT', pgid='pgtrigger_insert_insert_da09b', table='batches_procedureversion', when='AFTER')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='procedureversion',
            trigger=pgtrigger.compiler.Trigger(name='update_update', sql=pgtrigger.compiler.UpsertTriggerSql(condition='WHEN (OLD.* IS DISTINCT FROM NEW.*)', func='INSERT INTO "batches_procedureversionevent" ("document_reference", "effective_on", "id", "issued_at", "issued_by_id", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "procedure_id", "version") VALUES (NEW."document_reference", NEW."effective_on", NEW."id", NEW."issued_at", NEW."issued_by_id", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'update\', NEW."id", NEW."procedure_id", NEW."version"); RETURN NULL;', hash='22ac1a26718bbbe569ee9512f175141df4b0fade', operation='UPDATE', pgid='pgtrigger_update_update_c7873', table='batches_procedureversion', when='AFTER')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='procedureversion',
            trigger=pgtrigger.compiler.Trigger(name='delete_delete', sql=pgtrigger.compiler.UpsertTriggerSql(func='INSERT INTO "batches_procedureversionevent" ("document_reference", "effective_on", "id", "issued_at", "issued_by_id", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "procedure_id", "version") VALUES (OLD."document_reference", OLD."effective_on", OLD."id", OLD."issued_at", OLD."issued_by_id", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'delete\', OLD."id", OLD."procedure_id", OLD."version"); RETURN NULL;', hash='109f4202d081bce0022ea8a49d383156f019e242', operation='DELETE', pgid='pgtrigger_delete_delete_8e314', table='batches_procedureversion', when='AFTER')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='procedureversionevent',
            trigger=pgtrigger.compiler.Trigger(name='append_only', sql=pgtrigger.compiler.UpsertTriggerSql(func="RAISE EXCEPTION 'pgtrigger: Cannot update or delete rows from % table', TG_TABLE_NAME;", hash='3d774669fab5bad7ee78e0bbfad7297366f7165f', operation='UPDATE OR DELETE', pgid='pgtrigger_append_only_a968c', table='batches_procedureversionevent', when='BEFORE')),
        ),
        migrations.AddConstraint(
            model_name='stepqualification',
            constraint=models.UniqueConstraint(fields=('template_step', 'procedure', 'purpose'), name='step_qualification_once'),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='stepqualification',
            trigger=pgtrigger.compiler.Trigger(name='insert_insert', sql=pgtrigger.compiler.UpsertTriggerSql(func='INSERT INTO "batches_stepqualificationevent" ("id", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "procedure_id", "purpose", "template_step_id") VALUES (NEW."id", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'insert\', NEW."id", NEW."procedure_id", NEW."purpose", NEW."template_step_id"); RETURN NULL;', hash='33f70404b294ab1272e051975d0cc7fdf2467e78', operation='INSERT', pgid='pgtrigger_insert_insert_25bce', table='batches_stepqualification', when='AFTER')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='stepqualification',
            trigger=pgtrigger.compiler.Trigger(name='update_update', sql=pgtrigger.compiler.UpsertTriggerSql(condition='WHEN (OLD.* IS DISTINCT FROM NEW.*)', func='INSERT INTO "batches_stepqualificationevent" ("id", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "procedure_id", "purpose", "template_step_id") VALUES (NEW."id", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'update\', NEW."id", NEW."procedure_id", NEW."purpose", NEW."template_step_id"); RETURN NULL;', hash='a10e1e3f87b91a6e99aac410e2f5f6f3926a055d', operation='UPDATE', pgid='pgtrigger_update_update_fe760', table='batches_stepqualification', when='AFTER')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='stepqualification',
            trigger=pgtrigger.compiler.Trigger(name='delete_delete', sql=pgtrigger.compiler.UpsertTriggerSql(func='INSERT INTO "batches_stepqualificationevent" ("id", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "procedure_id", "purpose", "template_step_id") VALUES (OLD."id", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'delete\', OLD."id", OLD."procedure_id", OLD."purpose", OLD."template_step_id"); RETURN NULL;', hash='2cf717da90f70676c703664f03dc7fde1598ad8a', operation='DELETE', pgid='pgtrigger_delete_delete_f0c8a', table='batches_stepqualification', when='AFTER')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='stepqualificationevent',
            trigger=pgtrigger.compiler.Trigger(name='append_only', sql=pgtrigger.compiler.UpsertTriggerSql(func="RAISE EXCEPTION 'pgtrigger: Cannot update or delete rows from % table', TG_TABLE_NAME;", hash='3b5ff0c2a571a6ae2d1338be0129dc93f9bf9431', operation='UPDATE OR DELETE', pgid='pgtrigger_append_only_e642a', table='batches_stepqualificationevent', when='BEFORE')),
        ),
        migrations.AddConstraint(
            model_name='supervision',
            constraint=models.CheckConstraint(condition=models.Q(('person', models.F('supervisor')), _negated=True), name='supervisor_not_self'),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='supervision',
            trigger=pgtrigger.compiler.Trigger(name='insert_insert', sql=pgtrigger.compiler.UpsertTriggerSql(func='INSERT INTO "batches_supervisionevent" ("id", "person_id", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "supervisor_id") VALUES (NEW."id", NEW."person_id", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'insert\', NEW."id", NEW."supervisor_id"); RETURN NULL;', hash='9f7388a5c59ce776cfb46c0d8f079fe022ddbff4', operation='INSERT', pgid='pgtrigger_insert_insert_4ca3e', table='batches_supervision', when='AFTER')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='supervision',
            trigger=pgtrigger.compiler.Trigger(name='update_update', sql=pgtrigger.compiler.UpsertTriggerSql(condition='WHEN (OLD.* IS DISTINCT FROM NEW.*)', func='INSERT INTO "batches_supervisionevent" ("id", "person_id", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "supervisor_id") VALUES (NEW."id", NEW."person_id", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'update\', NEW."id", NEW."supervisor_id"); RETURN NULL;', hash='30cc244e798cb039d2fe59dd3fbfea3de1fc28dd', operation='UPDATE', pgid='pgtrigger_update_update_4a8ef', table='batches_supervision', when='AFTER')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='supervision',
            trigger=pgtrigger.compiler.Trigger(name='delete_delete', sql=pgtrigger.compiler.UpsertTriggerSql(func='INSERT INTO "batches_supervisionevent" ("id", "person_id", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "supervisor_id") VALUES (OLD."id", OLD."person_id", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'delete\', OLD."id", OLD."supervisor_id"); RETURN NULL;', hash='0dee0c5718b09d8be97b373569a3de0f900003f2', operation='DELETE', pgid='pgtrigger_delete_delete_b1a3f', table='batches_supervision', when='AFTER')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='supervisionevent',
            trigger=pgtrigger.compiler.Trigger(name='append_only', sql=pgtrigger.compiler.UpsertTriggerSql(func="RAISE EXCEPTION 'pgtrigger: Cannot update or delete rows from % table', TG_TABLE_NAME;", hash='b578c6b561af338f451e7534f2371ca7c009b578', operation='UPDATE OR DELETE', pgid='pgtrigger_append_only_53dd0', table='batches_supervisionevent', when='BEFORE')),
        ),
        migrations.AddIndex(
            model_name='trainingrecord',
            index=models.Index(condition=models.Q(('assessment', 'passed'), ('expiry_warned_at__isnull', True)), fields=['expires_on'], name='training_expiry_unwarned'),
        ),
        migrations.AddConstraint(
            model_name='trainingrecord',
            constraint=models.CheckConstraint(condition=models.Q(('trained_by', models.F('trainee')), _negated=True), name='training_trainer_not_trainee'),
        ),
        migrations.AddConstraint(
            model_name='trainingrecord',
            constraint=models.CheckConstraint(condition=models.Q(('recorded_by', models.F('trainee')), _negated=True), name='training_recorder_not_trainee'),
        ),
        migrations.AddConstraint(
            model_name='trainingrecord',
            constraint=models.CheckConstraint(condition=models.Q(('expires_on__gt', models.F('trained_on'))), name='training_expires_after'),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='trainingrecord',
            trigger=pgtrigger.compiler.Trigger(name='insert_insert', sql=pgtrigger.compiler.UpsertTriggerSql(func='INSERT INTO "batches_trainingrecordevent" ("assessment", "expires_on", "expiry_warned_at", "id", "notes", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "procedure_version_id", "recorded_at", "recorded_by_id", "trained_by_id", "trained_on", "trainee_id") VALUES (NEW."assessment", NEW."expires_on", NEW."expiry_warned_at", NEW."id", NEW."notes", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'insert\', NEW."id", NEW."procedure_version_id", NEW."recorded_at", NEW."recorded_by_id", NEW."trained_by_id", NEW."trained_on", NEW."trainee_id"); RETURN NULL;', hash='5c7bfa2980e0b446c12a5b6ceb4bcdfc117381e7', operation='INSERT', pgid='pgtrigger_insert_insert_62892', table='batches_trainingrecord', when='AFTER')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='trainingrecord',
            trigger=pgtrigger.compiler.Trigger(name='update_update', sql=pgtrigger.compiler.UpsertTriggerSql(condition='WHEN (OLD.* IS DISTINCT FROM NEW.*)', func='INSERT INTO "batches_trainingrecordevent" ("assessment", "expires_on", "expiry_warned_at", "id", "notes", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "procedure_version_id", "recorded_at", "recorded_by_id", "trained_by_id", "trained_on", "trainee_id") VALUES (NEW."assessment", NEW."expires_on", NEW."expiry_warned_at", NEW."id", NEW."notes", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'update\', NEW."id", NEW."procedure_version_id", NEW."recorded_at", NEW."recorded_by_id", NEW."trained_by_id", NEW."trained_on", NEW."trainee_id"); RETURN NULL;', hash='45e77fa0370bc7acecfc9b2b66ae4c05dae52722', operation='UPDATE', pgid='pgtrigger_update_update_ff175', table='batches_trainingrecord', when='AFTER')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='trainingrecord',
            trigger=pgtrigger.compiler.Trigger(name='delete_delete', sql=pgtrigger.compiler.UpsertTriggerSql(func='INSERT INTO "batches_trainingrecordevent" ("assessment", "expires_on", "expiry_warned_at", "id", "notes", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "procedure_version_id", "recorded_at", "recorded_by_id", "trained_by_id", "trained_on", "trainee_id") VALUES (OLD."assessment", OLD."expires_on", OLD."expiry_warned_at", OLD."id", OLD."notes", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'delete\', OLD."id", OLD."procedure_version_id", OLD."recorded_at", OLD."recorded_by_id", OLD."trained_by_id", OLD."trained_on", OLD."trainee_id"); RETURN NULL;', hash='804e5c33af4d3ec09bdc92da011a83d885e3cea2', operation='DELETE', pgid='pgtrigger_delete_delete_77858', table='batches_trainingrecord', when='AFTER')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='trainingrecordevent',
            trigger=pgtrigger.compiler.Trigger(name='append_only', sql=pgtrigger.compiler.UpsertTriggerSql(func="RAISE EXCEPTION 'pgtrigger: Cannot update or delete rows from % table', TG_TABLE_NAME;", hash='49985ea66fda3eac80ea92e14d01dbe08af6e64c', operation='UPDATE OR DELETE', pgid='pgtrigger_append_only_5b520', table='batches_trainingrecordevent', when='BEFORE')),
        ),
        migrations.RunPython(sync_roles, migrations.RunPython.noop),
    ]
