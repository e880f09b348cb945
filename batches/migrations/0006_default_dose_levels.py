"""The trial protocol's default dose levels (DESIGN section 6), and the roles' new rights."""

from django.db import migrations

LEVELS = [("DL1", 1e5), ("DL2", 1e6), ("DL3", 1e7)]


def load_levels(apps, schema_editor):
    ProtocolDoseLevel = apps.get_model("batches", "ProtocolDoseLevel")
    for code, per_kg in LEVELS:
        ProtocolDoseLevel.objects.get_or_create(
            code=code, defaults={"car_nk_cells_per_kg": per_kg, "max_weight_age_days": 14}
        )


def sync_roles(apps, schema_editor):
    from carnk_mfg.roles import sync_roles as sync

    sync(apps)


class Migration(migrations.Migration):
    dependencies = [("batches", "0005_dose_units"), ("qc", "0004_instrument_roles")]

    operations = [
        migrations.RunPython(load_levels, migrations.RunPython.noop),
        migrations.RunPython(sync_roles, migrations.RunPython.noop),
    ]
