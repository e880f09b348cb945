"""The default release panel measures CD3+ T cells as a percentage of the product; the limit
per kg of a recipient is a property of a dose (ProtocolDoseLevel.max_cd3_cells_per_kg),
checked when a bag is assigned, so a batch without a recipient can be released. A draft
panel is changed in place; an approved one is frozen and needs a new version."""

from django.db import migrations

H = 1  # hours
DAY = 24 * H
# code, name, method, type, unit, lower, lower strict, upper, upper strict,
# passing values, turnaround, required for release, may release pending
PANEL = [
    ("viability", "Viability", "Trypan blue / AO-PI count", "numeric", "%", 70, True, None, False, [], 4 * H, True, False),
    ("sterility", "Sterility (14-day culture)", "BacT/ALERT, 14 days", "pass_fail", "", None, False, None, False, ["negative"], 14 * DAY, True, True),
    ("gram_stain", "Gram stain", "Gram stain", "pass_fail", "", None, False, None, False, ["negative"], 4 * H, True, False),
    ("endotoxin", "Endotoxin", "LAL kinetic chromogenic", "numeric", "EU/mL", None, False, 5.0, True, [], 1 * DAY, True, False),
    ("mycoplasma", "Mycoplasma (PCR)", "qPCR", "pass_fail", "", None, False, None, False, ["negative"], 1 * DAY, True, False),
    ("identity_nk", "Identity: CD56+CD3-", "Flow cytometry", "numeric", "%", 70, True, None, False, [], 8 * H, True, False),
    ("cd3_pct", "CD3+ T cells (% of total cells)", "Flow cytometry", "numeric", "%", None, False, 1.0, False, [], 8 * H, True, False),
    ("car_positive", "CAR+ (transduction efficiency)", "Flow cytometry", "numeric", "%", 15, False, None, False, [], 8 * H, True, False),
    ("residual_feeder", "Residual feeder cells", "Flow cytometry (CD32/K562 marker)", "numeric", "%", None, False, 0.1, True, [], 1 * DAY, True, False),
    ("rcr", "Replication-competent retrovirus", "RCR co-culture assay", "pass_fail", "", None, False, None, False, ["negative"], 21 * DAY, True, True),
    ("vcn", "Vector copy number", "ddPCR", "numeric", "copies/cell", None, False, 5, False, [], 3 * DAY, True, False),
]


def _definition(QcTestDefinition, spec, row):
    (code, name, method, rtype, unit, low, low_strict, high, high_strict, passing,
     turnaround, required, pending) = row
    return QcTestDefinition.objects.create(
        spec_set=spec, code=code, name=name, method=method, result_type=rtype, unit=unit,
        lower_limit=low, lower_strict=low_strict, upper_limit=high, upper_strict=high_strict,
        allowed_values=["negative", "positive"] if rtype == "pass_fail" else [],
        passing_values=passing, trigger_step_code="harvest", sample_offset_hours=0,
        turnaround_hours=turnaround, required_for_release=required,
        may_release_pending=pending,
    )


def cd3_as_percent(apps, schema_editor):
    QcSpecSet = apps.get_model("qc", "QcSpecSet")
    QcTestDefinition = apps.get_model("qc", "QcTestDefinition")
    row = next(r for r in PANEL if r[0] == "cd3_pct")
    for spec in QcSpecSet.objects.filter(status="draft", definitions__code="cd3_per_kg"):
        spec.definitions.filter(code="cd3_per_kg").delete()
        if not spec.definitions.filter(code="cd3_pct").exists():
            _definition(QcTestDefinition, spec, row)


def load_panel(apps, schema_editor):
    """The default panel as it stands now, as a draft (used again by tests after a flush)."""
    ProcessTemplate = apps.get_model("batches", "ProcessTemplate")
    QcSpecSet = apps.get_model("qc", "QcSpecSet")
    QcTestDefinition = apps.get_model("qc", "QcTestDefinition")
    template = ProcessTemplate.objects.filter(code="CB-CAR-NK", version=1).first()
    if template is None or QcSpecSet.objects.filter(template=template).exists():
        return
    spec = QcSpecSet.objects.create(
        template=template, version=1, name="CB-CAR-NK release panel", status="draft"
    )
    for row in PANEL:
        _definition(QcTestDefinition, spec, row)


class Migration(migrations.Migration):
    dependencies = [
        ("qc", "0006_cd3_at_dose_recall_notices"),
    ]

    operations = [
        migrations.RunPython(cd3_as_percent, migrations.RunPython.noop),
    ]
