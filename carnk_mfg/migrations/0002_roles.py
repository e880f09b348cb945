"""Create the role groups with their permissions (carnk_mfg.roles.ROLE_PERMISSIONS)."""

from django.db import migrations


def create_roles(apps, schema_editor):
    from carnk_mfg.roles import sync_roles

    sync_roles(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("carnk_mfg", "0001_initial"),
        ("batches", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("authtoken", "0004_alter_tokenproxy_options"),
        ("axes", "0010_accessattemptexpiration"),
    ]

    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
