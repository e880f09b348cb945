"""Existing free-text HLA typing put in the canonical form batches/hla.py reads
("A*02:01, A*03:01"). Text that cannot be read is kept as it was: the unit or recipient then
counts as not typed at that locus (the match grade says so) until someone corrects it.
Also gives the clinical role its new permission to record donor-specific antibodies."""

from django.db import migrations

from batches import hla


def canonical_typing(apps, schema_editor):
    for model in ("CordBloodUnit", "Recipient"):
        for record in apps.get_model("batches", model).objects.all():
            changed = []
            for locus, name in hla.FIELD_OF_LOCUS.items():
                try:
                    text = hla.format_locus(hla.parse_locus(locus, getattr(record, name)))
                except hla.TypingError:
                    continue  # unreadable: kept as typed
                if text != getattr(record, name):
                    setattr(record, name, text)
                    changed.append(name)
            if changed:
                record.save(update_fields=changed)


def sync_roles(apps, schema_editor):
    from carnk_mfg.roles import sync_roles as sync

    sync(apps)


class Migration(migrations.Migration):
    dependencies = [("batches", "0026_unit_selection_hla_dsa")]

    operations = [
        migrations.RunPython(canonical_typing, migrations.RunPython.noop),
        migrations.RunPython(sync_roles, migrations.RunPython.noop),
    ]
