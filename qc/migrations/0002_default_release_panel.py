"""The default release panel of DESIGN section 5 for the CB-CAR-NK template, as a draft spec
set that QA approves (signed) before use; and the roles' QC permissions."""

from django.db import migrations

H = 1  # hours
DAY = 24 * H
# code, name, method, type, unit, lower, lower strict, upper, upper strict, per kg,
# passing values, turnaround, required for release, may release pending
PANEL = [
    ("viability", "Viability", "Trypan blue / AO-PI count", "numeric", "%", 70, True, None, False, False, [], 4 * H, True, False),
    ("sterility", "Sterility (14-day culture)", "BacT/ALERT, 14 days", "pass_fail", "", None, False, None, False, False, ["negative"], 14 * DAY, True, True),
    ("gram_stain", "Gram stain", "Gram stain", "pass_fail", "", None, False, None, False, False, ["negative"], 4 * H, True, False),
    ("endotoxin", "Endotoxin", "LAL kinetic chromogenic", "numeric", "EU/mL", None, False, 5.0, True, False, [], 1 * DAY, True, False),
    ("mycoplasma", "Mycoplasma (PCR)", "qPCR", "pass_fail", "", None, False, None, False, False, ["negative"], 1 * DAY, True, False),
    ("identity_nk", "Identity: CD56+CD3-", "Flow cytometry", "numeric", "%", 70, True, None, False, False, [], 8 * H, True, False),
    ("cd3_per_kg", "CD3+ T cells per kg of recipient", "Flow cytometry x viable count", "numeric", "cells", None, False, 2e5, True, True, [], 8 * H, True, False),
    ("car_positive", "CAR+ (transduction efficiency)", "Flow cytometry", "numeric", "%", 15, False, None, False, False, [], 8 * H, True, False),
    ("residual_feeder", "Residual feeder cells", "Flow cytometry (CD32/K562 marker)", "numeric", "%", None, False, 0.1, True, False, [], 1 * DAY, True, False),
    ("rcr", "Replication-competent retrovirus", "RCR co-culture assay", "pass_fail", "", None, False, None, False, False, ["negative"], 21 * DAY, True, True),
    ("vcn", "Vector copy number", "ddPCR", "numeric", "copies/cell", None, False, 5, False, False, [], 3 * DAY, True, False),
]


def load_panel(apps, schema_editor):
    ProcessTemplate = apps.get_model("batches", "ProcessTemplate")
    QcSpecSet = apps.get_model("qc", "QcSpecSet")
    QcTestDefinition = apps.get_model("qc", "QcTestDefinition")
    template = ProcessTemplate.objects.filter(code="CB-CAR-NK", version=1).first()
    if template is None or QcSpecSet.objects.filter(template=template).exists():
        return
    spec = QcSpecSet.objects.create(
        template=template, version=1, name="CB-CAR-NK release panel", status="draft"
    )
    for (code, name, method, rtype, unit, low, low_strict, high, high_strict, per_kg,
         passing, turnaround, required, pending) in PANEL:
        QcTestDefinition.objects.create(
            spec_set=spec, code=code, name=name, method=method, result_type=rtype, unit=unit,
            lower_limit=low, lower_strict=low_strict, upper_limit=high, upper_strict=high_strict,
            per_kg_of_recipient=per_kg,
            allowed_values=["negative", "positive"] if rtype == "pass_fail" else [],
            passing_values=passing, trigger_step_code="harvest", sample_offset_hours=0,
            turnaround_hours=turnaround, required_for_release=required,
            may_release_pending=pending,
        )


def sync_roles(apps, schema_editor):
    from carnk_mfg.roles import sync_roles as sync

    sync(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("qc", "0001_initial"),
        ("batches", "0003_default_template"),
    ]

    operations = [
        migrations.RunPython(load_panel, migrations.RunPython.noop),
        migrations.RunPython(sync_roles, migrations.RunPython.noop),
    ]
