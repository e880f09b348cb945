"""Give the roles the after-infusion permissions."""

from django.db import migrations


def sync_roles(apps, schema_editor):
    from carnk_mfg.roles import sync_roles as sync

    sync(apps)


class Migration(migrations.Migration):
    dependencies = [("batches", "0009_after_infusion")]

    operations = [migrations.RunPython(sync_roles, migrations.RunPython.noop)]
