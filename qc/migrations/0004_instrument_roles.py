"""Give the roles the instrument permissions (carnk_mfg.roles.ROLE_PERMISSIONS)."""

from django.db import migrations


def sync_roles(apps, schema_editor):
    from carnk_mfg.roles import sync_roles as sync

    sync(apps)


class Migration(migrations.Migration):
    dependencies = [("qc", "0003_instruments")]

    operations = [migrations.RunPython(sync_roles, migrations.RunPython.noop)]
