"""A bag's division and product code, and the product definition's codes, hold ISBT 128
ST-001 in the database itself, for the application's own role as for anyone; and the data
migration gives every template the default product and every bag made before it the code
its label carried."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from psycopg2 import errors

from batches.models import CordBloodUnit, DoseUnit, ProcessTemplate, ProductDefinition
from tests.batch_steps import formulate
from tests.db.test_app_role import app_db  # noqa: F401 (the fixture)

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.clause("ISBT 128 ST-001 product code"),
]

BAGS = DoseUnit._meta.db_table
PRODUCTS = ProductDefinition._meta.db_table


@pytest.fixture
def bag(in_qc_batch, technician, qc_analyst):
    (a0,) = formulate(in_qc_batch, technician, ("A0",), presentation="fresh")
    return a0


@pytest.mark.parametrize(
    "division, product_code",
    [("AB", "S1145VAB"), ("a0", "S1145Va0"), ("A1", "S1145VA1"), ("00", "S1145V00")],
)
def test_the_app_role_cannot_store_a_division_outside_st001(app_db, bag, division, product_code):  # noqa: F811
    with pytest.raises(errors.CheckViolation, match="bag_division_format"):
        app_db(
            (
                f"UPDATE {BAGS} SET division = %s, product_code = %s WHERE id = %s",
                [division, product_code, bag.pk],
            )
        )
    assert DoseUnit.objects.get(pk=bag.pk).division == "A0"


def test_the_app_role_may_store_a_small_letter_division(app_db, bag):  # noqa: F811
    app_db(
        (f"UPDATE {BAGS} SET division = 'Ab', product_code = 'S1145VAb' WHERE id = %s", [bag.pk])
    )
    assert DoseUnit.objects.get(pk=bag.pk).product_code == "S1145VAb"


@pytest.mark.parametrize(
    "product_code", ["S1145VB0", "S1145ZA0", "1145VVA0", "S1145VA", "s1145VA0"]
)
def test_the_app_role_cannot_store_a_product_code_that_is_not_the_bags(
    app_db,  # noqa: F811
    bag,
    product_code,
):
    with pytest.raises(errors.CheckViolation, match="bag_product_code_format"):
        app_db((f"UPDATE {BAGS} SET product_code = %s WHERE id = %s", [product_code, bag.pk]))


@pytest.mark.parametrize(
    "column, value, check",
    [
        ("product_description_code", "S114", "product_description_code_format"),
        ("product_description_code", "s1145", "product_description_code_format"),
        ("collection_type", "Z", "product_collection_type_known"),
        ("fresh_stability", "0 hours", "product_stability_positive"),
        ("cryopreserved_storage_high_c", "-200", "product_storage_range_ordered"),
    ],
)
def test_the_app_role_cannot_store_a_wrong_product_definition(app_db, column, value, check):  # noqa: F811
    with pytest.raises(errors.CheckViolation, match=check):
        app_db((f"UPDATE {PRODUCTS} SET {column} = %s", [value]))


# --- the data migration ---

BEFORE = [("batches", "0027_hla_typing_in_canonical_form")]


def migrate(targets=None):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets or executor.loader.graph.leaf_nodes())


@pytest.fixture
def newest_schema_after():
    yield
    migrate()


def test_the_migration_names_the_product_and_codes_the_bags_made_before(
    newest_schema_after, in_qc_batch, technician
):
    a0, b0 = formulate(in_qc_batch, technician, ("A0", "B0"))
    CordBloodUnit.objects.filter(pk=in_qc_batch.source_unit_id).update(product_code="S2345V00")
    assert in_qc_batch.template.status == "approved"  # frozen by the database
    migrate(BEFORE)
    migrate()
    template = ProcessTemplate.objects.get(pk=in_qc_batch.template_id)
    assert template.product is not None
    assert template.product.product_description_code == "S1145"
    # What the labels of those bags printed: the unit's description code, V, the division.
    assert DoseUnit.objects.get(pk=a0.pk).product_code == "S2345VA0"
    assert DoseUnit.objects.get(pk=b0.pk).product_code == "S2345VB0"
