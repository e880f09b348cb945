"""The default CB-CAR-NK (iC9/CAR.19/IL15) process template of DESIGN section 2, loaded as a
draft: QA approves it with an e-signature before the first batch. Also the sequence behind
Chain of Identity identifiers, and the roles' new permissions."""

from django.db import migrations

STEPS = [
    # order, code, name, planned day, late after (days), materials, harvest, parameters
    (
        1,
        "thaw_isolation",
        "CBU thaw and NK isolation (CD3/CD14/CD19 depletion)",
        0,
        1,
        ["reagent:isolation"],
        False,
        [
            ("cbu_din", "CBU DIN as scanned", "text", "", None, None, True),
            ("post_thaw_tnc", "Post-thaw TNC", "number", "cells", 1e8, None, True),
            ("post_thaw_viability_pct", "Post-thaw viability", "number", "%", 50, 100, True),
            ("nk_purity_pct", "NK purity (CD56+CD3-)", "number", "%", 70, 100, True),
        ],
    ),
    (
        2,
        "stimulation",
        "Stimulation with irradiated uAPC feeders and IL-2",
        0,
        1,
        ["feeder", "reagent:il2"],
        False,
        [
            ("feeder_nk_ratio", "Feeder:NK ratio", "number", ":1", 1.5, 2.5, True),
            ("il2_iu_per_ml", "IL-2 concentration", "number", "IU/mL", 180, 220, True),
            ("feeder_irradiation_gy", "Feeder irradiation dose", "number", "Gy", 90, 110, True),
        ],
    ),
    (
        3,
        "transduction",
        "Retroviral transduction on RetroNectin-coated vessels",
        4,
        2,
        ["vector", "reagent:retronectin"],
        False,
        [
            ("vector_titer", "Vector titer", "number", "IU/mL", 1e6, None, True),
            ("moi", "Multiplicity of infection", "number", "", 5, 20, True),
            ("vector_volume_ml", "Vector volume", "number", "mL", 0.1, 500, True),
        ],
    ),
    (
        4,
        "restimulation",
        "Restimulation with feeders",
        7,
        1,
        ["feeder"],
        False,
        [
            ("feeder_nk_ratio", "Feeder:NK ratio", "number", ":1", 0.5, 2.5, True),
        ],
    ),
    (
        5,
        "harvest",
        "Harvest, wash and formulation",
        14,
        1,
        [],
        True,
        [
            ("final_viable_cells", "Final viable cells", "number", "cells", 1e8, None, True),
            ("final_volume_ml", "Final volume", "number", "mL", 1, 2000, True),
            ("final_concentration", "Final concentration", "number", "cells/mL", 1e5, None, True),
            ("car_positive_pct", "CAR+ (transduction efficiency)", "number", "%", 15, 100, True),
            ("cd3_positive_pct", "CD3+ T cells", "number", "%", 0, 1, True),
        ],
    ),
]


def load_template(apps, schema_editor):
    ProcessTemplate = apps.get_model("batches", "ProcessTemplate")
    TemplateStep = apps.get_model("batches", "TemplateStep")
    StepParameter = apps.get_model("batches", "StepParameter")
    if ProcessTemplate.objects.filter(code="CB-CAR-NK").exists():
        return
    template = ProcessTemplate.objects.create(
        code="CB-CAR-NK",
        version=1,
        name="Cord blood CAR-NK, iC9/CAR.19/IL15",
        construct="iC9/CAR.19/IL15",
        expected_fold_min=300,
        expected_fold_max=20000,
        status="draft",
        notes="Default master batch record (DESIGN section 2). Days and limits are defaults.",
    )
    for order, code, name, day, late, kinds, harvest, params in STEPS:
        step = TemplateStep.objects.create(
            template=template,
            order=order,
            code=code,
            name=name,
            planned_day=day,
            late_after_days=late,
            material_kinds=kinds,
            is_harvest=harvest,
        )
        for pcode, pname, vtype, unit, low, high, required in params:
            StepParameter.objects.create(
                step=step,
                code=pcode,
                name=pname,
                value_type=vtype,
                unit=unit,
                min_value=low,
                max_value=high,
                required=required,
            )


def sync_roles(apps, schema_editor):
    from carnk_mfg.roles import sync_roles as sync

    sync(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("batches", "0002_batch_record"),
        ("carnk_mfg", "0002_roles"),
    ]

    operations = [
        migrations.RunSQL(
            "CREATE SEQUENCE IF NOT EXISTS batches_coi_sequence START 1",
            "DROP SEQUENCE IF EXISTS batches_coi_sequence",
        ),
        migrations.RunPython(load_template, migrations.RunPython.noop),
        migrations.RunPython(sync_roles, migrations.RunPython.noop),
    ]
