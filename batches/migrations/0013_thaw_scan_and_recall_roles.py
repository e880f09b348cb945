"""The thaw step's "CBU DIN as scanned" becomes a checked scan of the batch's own source unit
(a draft default template is changed in place; an approved one is frozen and needs a new
version); and the roles get the recall permission."""

from django.db import migrations


def scan_the_source_unit(apps, schema_editor):
    StepParameter = apps.get_model("batches", "StepParameter")
    StepParameter.objects.filter(
        step__template__code="CB-CAR-NK",
        step__template__status="draft",
        step__code="thaw_isolation",
        code="cbu_din",
    ).update(value_type="unit_din", name="CBU DIN (scan the unit's barcode)")


def load_template(apps, schema_editor):
    """The default template as it stands now (used again by tests after a flush)."""
    from importlib import import_module

    import_module("batches.migrations.0003_default_template").load_template(apps, schema_editor)
    scan_the_source_unit(apps, schema_editor)


def sync_roles(apps, schema_editor):
    from carnk_mfg.roles import sync_roles as sync

    sync(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("batches", "0012_recall_and_release_guards"),
        ("qc", "0006_cd3_at_dose_recall_notices"),
    ]

    operations = [
        migrations.RunPython(scan_the_source_unit, migrations.RunPython.noop),
        migrations.RunPython(sync_roles, migrations.RunPython.noop),
    ]
