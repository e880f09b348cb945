"""The donor test panel: one row per test of a cord blood unit's donor (marker, sample date,
result, kit, laboratory) in place of the free-form maternal marker list kept at registration.

Each list is converted where it can be read: a known marker name with a negative, positive or
indeterminate result becomes a row marked as converted (no sample date, kit or laboratory were
recorded, so it counts as undated until the full record is added); "not tested", unknown names
and unreadable values become no row. The list itself stays in the unit's audit trail. Also
gives the technician role its permission to record donor tests."""

import re

import pghistory
import carnk_mfg.fields
import datetime
import django.db.models.deletion
import django.db.models.expressions
import django.db.models.functions.comparison
import pghistory.utils
import pgtrigger.compiler
import pgtrigger.migrations
from django.conf import settings
from django.db import migrations, models


# Old marker names (lower case, letters and digits only) -> panel marker.
MARKER_NAMES = {
    "hiv": "hiv_1_2_ab",
    "hiv12": "hiv_1_2_ab",
    "hivab": "hiv_1_2_ab",
    "hiv12ab": "hiv_1_2_ab",
    "hiv12antibody": "hiv_1_2_ab",
    "antihiv12": "hiv_1_2_ab",
    "hiv1nat": "hiv_1_nat",
    "hivnat": "hiv_1_nat",
    "hbsag": "hbsag",
    "antihbc": "anti_hbc",
    "hbc": "anti_hbc",
    "hbcab": "anti_hbc",
    "hbvnat": "hbv_nat",
    "hcv": "hcv_ab",
    "hcvab": "hcv_ab",
    "antihcv": "hcv_ab",
    "hcvantibody": "hcv_ab",
    "hcvnat": "hcv_nat",
    "syphilis": "syphilis",
    "tpallidum": "syphilis",
    "htlv": "htlv_i_ii",
    "htlviii": "htlv_i_ii",
    "htlv12": "htlv_i_ii",
    "antihtlviii": "htlv_i_ii",
    "cmv": "cmv",
    "wnv": "wnv_nat",
    "wnvnat": "wnv_nat",
}
RESULTS = {
    "negative": "non_reactive",
    "nonreactive": "non_reactive",
    "positive": "reactive",
    "reactive": "reactive",
    "indeterminate": "indeterminate",
    "equivocal": "indeterminate",
}
# Where two names of one list reach one marker, the result that weighs most is kept.
WEIGHT = {"non_reactive": 0, "indeterminate": 1, "reactive": 2}


def _plain(text):
    return re.sub(r"[^a-z0-9]", "", text.lower()) if isinstance(text, str) else ""


def tests_from_marker_list(markers):
    """{panel marker: result} read from one unit's old marker list."""
    if not isinstance(markers, dict):
        return {}
    found = {}
    for name, value in markers.items():
        marker, result = MARKER_NAMES.get(_plain(name)), RESULTS.get(_plain(value))
        if marker is None or result is None:
            continue
        if marker not in found or WEIGHT[result] > WEIGHT[found[marker]]:
            found[marker] = result
    return found


def convert_marker_lists(apps, schema_editor):
    unit_model = apps.get_model("batches", "CordBloodUnit")
    test_model = apps.get_model("batches", "DonorTest")
    reason = "Maternal marker list converted to the donor test panel (migration 0031)"
    with pghistory.context(reason=reason):
        for unit in unit_model.objects.exclude(maternal_markers={}).iterator():
            test_model.objects.bulk_create(
                test_model(
                    unit=unit,
                    marker=marker,
                    result=result,
                    from_marker_list=True,
                    recorded_by_id=unit.registered_by_id,
                    recorded_at=unit.registered_at,
                )
                for marker, result in tests_from_marker_list(unit.maternal_markers).items()
            )
    # The new rows' deferred checks run now, before the unit table is altered below.
    schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def sync_roles(apps, schema_editor):
    from carnk_mfg.roles import sync_roles as sync

    sync(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("batches", "0030_bag_product_code_checks_and_roles"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="DonorTest",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "marker",
                    models.CharField(
                        choices=[
                            ("hiv_1_2_ab", "HIV-1/2 antibody"),
                            ("hiv_1_nat", "HIV-1 NAT"),
                            ("hbsag", "HBsAg"),
                            ("anti_hbc", "Anti-HBc"),
                            ("hbv_nat", "HBV NAT"),
                            ("hcv_ab", "HCV antibody"),
                            ("hcv_nat", "HCV NAT"),
                            ("syphilis", "Syphilis"),
                            ("htlv_i_ii", "HTLV-I/II antibody"),
                            ("cmv", "CMV"),
                            ("wnv_nat", "WNV NAT"),
                        ],
                        max_length=20,
                    ),
                ),
                (
                    "sample_date",
                    models.DateField(blank=True, null=True, verbose_name="Specimen sampled on"),
                ),
                (
                    "result",
                    models.CharField(
                        choices=[
                            ("non_reactive", "Non-reactive"),
                            ("reactive", "Reactive"),
                            ("indeterminate", "Indeterminate"),
                        ],
                        max_length=20,
                    ),
                ),
                (
                    "test_kit",
                    carnk_mfg.fields.FreeCharField(
                        blank=True, max_length=120, verbose_name="Test kit"
                    ),
                ),
                (
                    "kit_lot",
                    carnk_mfg.fields.FreeCharField(
                        blank=True, max_length=40, verbose_name="Kit lot"
                    ),
                ),
                (
                    "laboratory",
                    carnk_mfg.fields.FreeCharField(
                        blank=True, max_length=200, verbose_name="Testing laboratory"
                    ),
                ),
                (
                    "from_marker_list",
                    models.BooleanField(
                        default=False, verbose_name="Converted from the registration's marker list"
                    ),
                ),
                ("recorded_at", models.DateTimeField()),
            ],
            options={
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(
                            (
                                "test_kit__regex",
                                "[\\u0001-\\u0008\\u000b-\\u000c\\u000e-\\u001f\\u007f-\\u009f\\u202a-\\u202e\\u2066-\\u2069]",
                            ),
                            _negated=True,
                        ),
                        name="donortest_test_kit_free_text",
                        violation_error_message="test_kit: control characters are not allowed.",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            (
                                "kit_lot__regex",
                                "[\\u0001-\\u0008\\u000b-\\u000c\\u000e-\\u001f\\u007f-\\u009f\\u202a-\\u202e\\u2066-\\u2069]",
                            ),
                            _negated=True,
                        ),
                        name="donortest_kit_lot_free_text",
                        violation_error_message="kit_lot: control characters are not allowed.",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            (
                                "laboratory__regex",
                                "[\\u0001-\\u0008\\u000b-\\u000c\\u000e-\\u001f\\u007f-\\u009f\\u202a-\\u202e\\u2066-\\u2069]",
                            ),
                            _negated=True,
                        ),
                        name="donortest_laboratory_free_text",
                        violation_error_message="laboratory: control characters are not allowed.",
                    ),
                ],
                "ordering": ["unit", "marker", "from_marker_list"],
                "permissions": [
                    ("record_donor_test", "Record a donor test result of a cord blood unit")
                ],
            },
        ),
        migrations.CreateModel(
            name="DonorTestEvent",
            fields=[
                ("pgh_id", models.AutoField(primary_key=True, serialize=False)),
                ("pgh_created_at", models.DateTimeField(auto_now_add=True)),
                ("pgh_label", models.TextField(help_text="The event label.")),
                ("pgh_context", pghistory.utils.JSONField(null=True)),
                ("pgh_context_id", models.UUIDField(null=True)),
                ("id", models.BigIntegerField()),
                (
                    "marker",
                    models.CharField(
                        choices=[
                            ("hiv_1_2_ab", "HIV-1/2 antibody"),
                            ("hiv_1_nat", "HIV-1 NAT"),
                            ("hbsag", "HBsAg"),
                            ("anti_hbc", "Anti-HBc"),
                            ("hbv_nat", "HBV NAT"),
                            ("hcv_ab", "HCV antibody"),
                            ("hcv_nat", "HCV NAT"),
                            ("syphilis", "Syphilis"),
                            ("htlv_i_ii", "HTLV-I/II antibody"),
                            ("cmv", "CMV"),
                            ("wnv_nat", "WNV NAT"),
                        ],
                        max_length=20,
                    ),
                ),
                (
                    "sample_date",
                    models.DateField(blank=True, null=True, verbose_name="Specimen sampled on"),
                ),
                (
                    "result",
                    models.CharField(
                        choices=[
                            ("non_reactive", "Non-reactive"),
                            ("reactive", "Reactive"),
                            ("indeterminate", "Indeterminate"),
                        ],
                        max_length=20,
                    ),
                ),
                (
                    "test_kit",
                    carnk_mfg.fields.FreeCharField(
                        blank=True, max_length=120, verbose_name="Test kit"
                    ),
                ),
                (
                    "kit_lot",
                    carnk_mfg.fields.FreeCharField(
                        blank=True, max_length=40, verbose_name="Kit lot"
                    ),
                ),
                (
                    "laboratory",
                    carnk_mfg.fields.FreeCharField(
                        blank=True, max_length=200, verbose_name="Testing laboratory"
                    ),
                ),
                (
                    "from_marker_list",
                    models.BooleanField(
                        default=False, verbose_name="Converted from the registration's marker list"
                    ),
                ),
                ("recorded_at", models.DateTimeField()),
            ],
            options={
                "abstract": False,
            },
        ),
        migrations.AddField(
            model_name="donortest",
            name="recorded_by",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="donortest",
            name="unit",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="donor_tests",
                to="batches.cordbloodunit",
            ),
        ),
        migrations.AddField(
            model_name="donortestevent",
            name="pgh_obj",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="events",
                to="batches.donortest",
            ),
        ),
        migrations.AddField(
            model_name="donortestevent",
            name="recorded_by",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                related_query_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="donortestevent",
            name="unit",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                related_query_name="+",
                to="batches.cordbloodunit",
            ),
        ),
        migrations.AddConstraint(
            model_name="donortest",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    (
                        "marker__in",
                        [
                            "hiv_1_2_ab",
                            "hiv_1_nat",
                            "hbsag",
                            "anti_hbc",
                            "hbv_nat",
                            "hcv_ab",
                            "hcv_nat",
                            "syphilis",
                            "htlv_i_ii",
                            "cmv",
                            "wnv_nat",
                        ],
                    )
                ),
                name="donortest_marker_known",
            ),
        ),
        migrations.AddConstraint(
            model_name="donortest",
            constraint=models.CheckConstraint(
                condition=models.Q(("result__in", ["non_reactive", "reactive", "indeterminate"])),
                name="donortest_result_known",
            ),
        ),
        migrations.AddConstraint(
            model_name="donortest",
            constraint=models.UniqueConstraint(
                condition=models.Q(("from_marker_list", False)),
                fields=("unit", "marker"),
                name="donortest_one_result_per_marker",
                violation_error_message="This marker already has its result for this unit.",
            ),
        ),
        migrations.AddConstraint(
            model_name="donortest",
            constraint=models.UniqueConstraint(
                condition=models.Q(("from_marker_list", True)),
                fields=("unit", "marker"),
                name="donortest_one_converted_result_per_marker",
            ),
        ),
        migrations.AddConstraint(
            model_name="donortest",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("from_marker_list", True),
                    models.Q(
                        ("sample_date__isnull", False),
                        models.Q(("test_kit", ""), _negated=True),
                        models.Q(("kit_lot", ""), _negated=True),
                        models.Q(("laboratory", ""), _negated=True),
                    ),
                    _connector="OR",
                ),
                name="donortest_recorded_in_full",
            ),
        ),
        migrations.AddConstraint(
            model_name="donortest",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("sample_date__isnull", True),
                    (
                        "sample_date__lte",
                        django.db.models.expressions.CombinedExpression(
                            django.db.models.functions.comparison.Cast(
                                "recorded_at", models.DateField()
                            ),
                            "+",
                            models.Value(datetime.timedelta(days=1)),
                        ),
                    ),
                    _connector="OR",
                ),
                name="donortest_sampled_before_recorded",
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="donortest",
            trigger=pgtrigger.compiler.Trigger(
                name="insert_insert",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "batches_donortestevent" ("from_marker_list", "id", "kit_lot", "laboratory", "marker", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "recorded_at", "recorded_by_id", "result", "sample_date", "test_kit", "unit_id") VALUES (NEW."from_marker_list", NEW."id", NEW."kit_lot", NEW."laboratory", NEW."marker", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'insert\', NEW."id", NEW."recorded_at", NEW."recorded_by_id", NEW."result", NEW."sample_date", NEW."test_kit", NEW."unit_id"); RETURN NULL;',
                    hash="454121d00c4c3332951ff4697fbb520fd7dbc950",
                    operation="INSERT",
                    pgid="pgtrigger_insert_insert_58612",
                    table="batches_donortest",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="donortest",
            trigger=pgtrigger.compiler.Trigger(
                name="update_update",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    condition="WHEN (OLD.* IS DISTINCT FROM NEW.*)",
                    func='INSERT INTO "batches_donortestevent" ("from_marker_list", "id", "kit_lot", "laboratory", "marker", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "recorded_at", "recorded_by_id", "result", "sample_date", "test_kit", "unit_id") VALUES (NEW."from_marker_list", NEW."id", NEW."kit_lot", NEW."laboratory", NEW."marker", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'update\', NEW."id", NEW."recorded_at", NEW."recorded_by_id", NEW."result", NEW."sample_date", NEW."test_kit", NEW."unit_id"); RETURN NULL;',
                    hash="ec3bd8b57e0f8a5cb4dc75fdb827484a48f0032c",
                    operation="UPDATE",
                    pgid="pgtrigger_update_update_63df0",
                    table="batches_donortest",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="donortest",
            trigger=pgtrigger.compiler.Trigger(
                name="delete_delete",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "batches_donortestevent" ("from_marker_list", "id", "kit_lot", "laboratory", "marker", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "recorded_at", "recorded_by_id", "result", "sample_date", "test_kit", "unit_id") VALUES (OLD."from_marker_list", OLD."id", OLD."kit_lot", OLD."laboratory", OLD."marker", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'delete\', OLD."id", OLD."recorded_at", OLD."recorded_by_id", OLD."result", OLD."sample_date", OLD."test_kit", OLD."unit_id"); RETURN NULL;',
                    hash="e81cf9bf00e3c4d35a8e1b1459fbb162e92a371a",
                    operation="DELETE",
                    pgid="pgtrigger_delete_delete_3a228",
                    table="batches_donortest",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="donortestevent",
            trigger=pgtrigger.compiler.Trigger(
                name="append_only",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func="RAISE EXCEPTION 'pgtrigger: Cannot update or delete rows from % table', TG_TABLE_NAME;",
                    hash="8b7bdd14fe4542d7b69f7bc5b2da48997948bb44",
                    operation="UPDATE OR DELETE",
                    pgid="pgtrigger_append_only_294a9",
                    table="batches_donortestevent",
                    when="BEFORE",
                ),
            ),
        ),
        migrations.RunPython(convert_marker_lists, migrations.RunPython.noop),
        pgtrigger.migrations.RemoveTrigger(
            model_name="cordbloodunit",
            name="insert_insert",
        ),
        pgtrigger.migrations.RemoveTrigger(
            model_name="cordbloodunit",
            name="update_update",
        ),
        pgtrigger.migrations.RemoveTrigger(
            model_name="cordbloodunit",
            name="delete_delete",
        ),
        migrations.RemoveField(
            model_name="cordbloodunit",
            name="maternal_markers",
        ),
        # The trail keeps the lists as they were recorded: the event table's column stays
        # (nullable, so later events need not fill it) and only the model forgets it.
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(model_name="cordbloodunitevent", name="maternal_markers"),
            ],
            database_operations=[
                migrations.RunSQL(
                    'ALTER TABLE "batches_cordbloodunitevent" '
                    'ALTER COLUMN "maternal_markers" DROP NOT NULL',
                    # Going back leaves the column nullable: trail rows are never changed.
                    reverse_sql=migrations.RunSQL.noop,
                ),
            ],
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="cordbloodunit",
            trigger=pgtrigger.compiler.Trigger(
                name="insert_insert",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "batches_cordbloodunitevent" ("box", "cd34_count", "collected_at", "cryopreserved_at", "din", "eligibility", "eligibility_determined_at", "eligibility_determined_by_id", "eligibility_notes", "freezer", "hla_a", "hla_b", "hla_c", "hla_drb1", "id", "kir_ligand_group", "nrbc_count", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "position", "product_code", "rack", "registered_at", "registered_by_id", "source_bank", "status", "tnc_count", "urgent_medical_need_id", "viability_pct", "volume_ml") VALUES (NEW."box", NEW."cd34_count", NEW."collected_at", NEW."cryopreserved_at", NEW."din", NEW."eligibility", NEW."eligibility_determined_at", NEW."eligibility_determined_by_id", NEW."eligibility_notes", NEW."freezer", NEW."hla_a", NEW."hla_b", NEW."hla_c", NEW."hla_drb1", NEW."id", NEW."kir_ligand_group", NEW."nrbc_count", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'insert\', NEW."id", NEW."position", NEW."product_code", NEW."rack", NEW."registered_at", NEW."registered_by_id", NEW."source_bank", NEW."status", NEW."tnc_count", NEW."urgent_medical_need_id", NEW."viability_pct", NEW."volume_ml"); RETURN NULL;',
                    hash="79ddc30537a5a4804a8495e6501ee4646bd3bee0",
                    operation="INSERT",
                    pgid="pgtrigger_insert_insert_46f9c",
                    table="batches_cordbloodunit",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="cordbloodunit",
            trigger=pgtrigger.compiler.Trigger(
                name="update_update",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    condition="WHEN (OLD.* IS DISTINCT FROM NEW.*)",
                    func='INSERT INTO "batches_cordbloodunitevent" ("box", "cd34_count", "collected_at", "cryopreserved_at", "din", "eligibility", "eligibility_determined_at", "eligibility_determined_by_id", "eligibility_notes", "freezer", "hla_a", "hla_b", "hla_c", "hla_drb1", "id", "kir_ligand_group", "nrbc_count", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "position", "product_code", "rack", "registered_at", "registered_by_id", "source_bank", "status", "tnc_count", "urgent_medical_need_id", "viability_pct", "volume_ml") VALUES (NEW."box", NEW."cd34_count", NEW."collected_at", NEW."cryopreserved_at", NEW."din", NEW."eligibility", NEW."eligibility_determined_at", NEW."eligibility_determined_by_id", NEW."eligibility_notes", NEW."freezer", NEW."hla_a", NEW."hla_b", NEW."hla_c", NEW."hla_drb1", NEW."id", NEW."kir_ligand_group", NEW."nrbc_count", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'update\', NEW."id", NEW."position", NEW."product_code", NEW."rack", NEW."registered_at", NEW."registered_by_id", NEW."source_bank", NEW."status", NEW."tnc_count", NEW."urgent_medical_need_id", NEW."viability_pct", NEW."volume_ml"); RETURN NULL;',
                    hash="1e9e9d25ed97760604eb4693d7d57ee5bf248c2c",
                    operation="UPDATE",
                    pgid="pgtrigger_update_update_11402",
                    table="batches_cordbloodunit",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="cordbloodunit",
            trigger=pgtrigger.compiler.Trigger(
                name="delete_delete",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "batches_cordbloodunitevent" ("box", "cd34_count", "collected_at", "cryopreserved_at", "din", "eligibility", "eligibility_determined_at", "eligibility_determined_by_id", "eligibility_notes", "freezer", "hla_a", "hla_b", "hla_c", "hla_drb1", "id", "kir_ligand_group", "nrbc_count", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "position", "product_code", "rack", "registered_at", "registered_by_id", "source_bank", "status", "tnc_count", "urgent_medical_need_id", "viability_pct", "volume_ml") VALUES (OLD."box", OLD."cd34_count", OLD."collected_at", OLD."cryopreserved_at", OLD."din", OLD."eligibility", OLD."eligibility_determined_at", OLD."eligibility_determined_by_id", OLD."eligibility_notes", OLD."freezer", OLD."hla_a", OLD."hla_b", OLD."hla_c", OLD."hla_drb1", OLD."id", OLD."kir_ligand_group", OLD."nrbc_count", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, CLOCK_TIMESTAMP(), \'delete\', OLD."id", OLD."position", OLD."product_code", OLD."rack", OLD."registered_at", OLD."registered_by_id", OLD."source_bank", OLD."status", OLD."tnc_count", OLD."urgent_medical_need_id", OLD."viability_pct", OLD."volume_ml"); RETURN NULL;',
                    hash="ba6c767ff2a8761ded7896fc8a37c90bdffe5a16",
                    operation="DELETE",
                    pgid="pgtrigger_delete_delete_48148",
                    table="batches_cordbloodunit",
                    when="AFTER",
                ),
            ),
        ),
        migrations.RunPython(sync_roles, migrations.RunPython.noop),
    ]
