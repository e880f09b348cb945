"""The database holds every bag's division and product code to ISBT 128 ST-001, and QA may
change the product definition."""

from django.db import migrations, models


def sync_roles(apps, schema_editor):
    from carnk_mfg.roles import sync_roles as sync

    sync(apps)


class Migration(migrations.Migration):
    dependencies = [("batches", "0029_default_product_definition")]

    operations = [
        migrations.AddConstraint(
            model_name='doseunit',
            constraint=models.CheckConstraint(condition=models.Q(('division__regex', '^[A-Z][a-z0]$')), name='bag_division_format'),
        ),
        migrations.AddConstraint(
            model_name='doseunit',
            constraint=models.CheckConstraint(condition=models.Q(('product_code__regex', '^[A-Z][0-9]{4}[012345678ACDEFLPQRSTVXdrs][A-Z][a-z0]$'), ('product_code__endswith', models.F('division'))), name='bag_product_code_format'),
        ),
        migrations.RunPython(sync_roles, migrations.RunPython.noop),
    ]
