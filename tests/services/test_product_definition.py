"""The product definition (batches/models/product.py, batches/services/product.py): its
defaults from the data migration, the bag's product code composed from it, the expiry from
its stability, and what it puts on the label (PDF and ZPL)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from batches.documents import bag_label_zpl, bag_labels_pdf
from batches.models import INVESTIGATIONAL_CAUTION, DoseUnit, ProcessTemplate, ProductDefinition
from batches.selectors import bag_label_for
from batches.services import bedside, release
from batches.services.product import product_definition_change
from carnk_mfg import isbt128
from tests.batch_steps import bedside_scans
from tests.documents.pdf_reading import norm_text, page_texts
from tests.documents.zpl_reading import read_label
from tests.factories import PASSWORD
from tests.services.trail import assert_trailed, unchanged

pytestmark = pytest.mark.django_db

CAUTION_312_6 = (
    "Caution: New Drug--Limited by Federal (or United States) law to investigational use."
)


def product() -> ProductDefinition:
    found = ProcessTemplate.objects.get(code="CB-CAR-NK", version=1).product
    assert found is not None
    return found


def fill(actor, batch, *bags):
    return release.dose_units_formulate(
        actor=actor,
        password=PASSWORD,
        batch=batch,
        bags=[{"division": d, "presentation": p, "volume_ml": Decimal("20")} for d, p in bags],
    )


# --- the data migration's defaults ---


@pytest.mark.clause("21 CFR 312.6(a)", "ISBT 128 ST-001 product code")
def test_the_default_product_is_loaded_and_named_by_the_template():
    p = product()
    assert (p.product_description_code, p.collection_type) == ("S1145", "V")
    assert p.caution_statement == CAUTION_312_6 == INVESTIGATIONAL_CAUTION
    assert p.handling == ["Do not irradiate", "Do not use a leukoreduction filter"]
    assert p.storage_range_c("fresh") == (15.0, 25.0)
    assert p.storage_range_c("cryopreserved") == (-196.0, -150.0)
    assert p.stability("fresh") == timedelta(hours=48)
    assert p.stability("cryopreserved") == timedelta(days=180)
    assert ProductDefinition.objects.count() == 1
    assert not ProcessTemplate.objects.filter(product__isnull=True).exists()


def test_a_new_template_version_makes_the_same_product(approved_template, admin_user):
    from batches.services.templates import template_new_version

    draft = template_new_version(
        actor=admin_user, template=approved_template, reason="Next version"
    )
    assert draft.product == approved_template.product is not None


# --- the bag's product code: one composition ---


@pytest.mark.clause("ISBT 128 ST-001 product code")
def test_the_bag_product_code_is_the_products_code_collection_type_and_division(
    in_qc_batch, technician, qa
):
    a0, ab = fill(technician, in_qc_batch, ("A0", "fresh"), ("Ab", "cryopreserved"))
    assert (a0.product_code, ab.product_code) == ("S1145VA0", "S1145VAb")
    product_definition_change(
        actor=qa,
        product=product(),
        reason="Product code assigned by ICCBBA",
        product_description_code="S9876",
        collection_type="D",
    )
    (c0,) = fill(technician, in_qc_batch, ("C0", "fresh"))
    assert c0.product_code == "S9876DC0"
    # The bags already made keep the code their labels carry.
    assert DoseUnit.objects.get(pk=a0.pk).product_code == "S1145VA0"
    label = bag_label_for(DoseUnit.objects.get(pk=c0.pk))
    assert label.product_code_data == "=<S9876DC0"


@pytest.mark.clause("ISBT 128 ST-001 product code")
@pytest.mark.parametrize("division", ["AB", "a0", "0A", "A1", "00", "A", "A0 x", "Ä0"])
def test_a_division_outside_st001_is_refused_by_the_service(in_qc_batch, technician, division):
    with unchanged(in_qc_batch), pytest.raises(ValidationError) as refused:
        fill(technician, in_qc_batch, (division, "fresh"))
    assert (
        "capital letter, then a small letter or 0"
        in refused.value.message_dict["bags.0.division"][0]
    )


@pytest.mark.clause("ISBT 128 ST-001 product code")
def test_product_code_composition_refuses_each_wrong_part():
    assert isbt128.product_code("S1145", "V", "A0") == "S1145VA0"
    assert isbt128.product_code("S1145", "d", "Bc") == "S1145dBc"
    for args, field in [
        (("S114", "V", "A0"), "product_description_code"),
        (("s1145", "V", "A0"), "product_description_code"),
        (("S1145", "v", "A0"), "collection_type"),
        (("S1145", "VV", "A0"), "collection_type"),
        (("S1145", "V", "AB"), "division"),
    ]:
        with pytest.raises(isbt128.ProductCodeError) as refused:
            isbt128.product_code(*args)
        assert refused.value.field == field


@pytest.mark.clause("ISBT 128 ST-001 product code")
def test_the_bedside_expects_the_bags_full_product_code(issued_bag, clinical):
    check = bedside.bedside_verify(
        actor=clinical,
        # Right division, wrong collection type.
        **bedside_scans(issued_bag, scanned_product_code=f"=<S1145D{issued_bag.division}"),
    )
    assert check.outcome == "blocked"
    assert f"this bag's is {issued_bag.product_code}" in " ".join(check.reasons)


# --- expiry from the product's stability ---


def test_the_expiry_is_formulation_plus_the_stability_of_the_presentation(
    in_qc_batch, technician, qa
):
    before = timezone.now()
    fresh, frozen = fill(technician, in_qc_batch, ("A0", "fresh"), ("B0", "cryopreserved"))
    after = timezone.now()
    assert before + timedelta(hours=48) <= fresh.expires_at <= after + timedelta(hours=48)
    assert before + timedelta(days=180) <= frozen.expires_at <= after + timedelta(days=180)
    assert fresh.expires_at == fresh.created_at + timedelta(hours=48)

    product_definition_change(
        actor=qa,
        product=product(),
        reason="Stability study SS-12",
        fresh_stability=timedelta(hours=6),
    )
    (later,) = fill(technician, in_qc_batch, ("C0", "fresh"))
    assert later.expires_at == later.created_at + timedelta(hours=6)


# --- changing the definition ---


def test_a_change_needs_the_permission_and_a_reason(technician, qa):
    p = product()
    with unchanged(p), pytest.raises(PermissionDenied):
        product_definition_change(actor=technician, product=p, reason="x", collection_type="D")
    with unchanged(p), pytest.raises(ValidationError) as refused:
        product_definition_change(actor=qa, product=p, reason=" ", collection_type="D")
    assert "reason" in refused.value.message_dict
    changed = product_definition_change(
        actor=qa, product=p, reason="Directed donations only", collection_type="D"
    )
    assert_trailed(changed, actor=qa, reason="Directed donations only", label="update")


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"product_description_code": "S11450"}, "product_description_code"),
        ({"product_description_code": "11450"}, "product_description_code"),
        ({"collection_type": "Z"}, "collection_type"),
        ({"fresh_storage_low_c": Decimal("30")}, "__all__"),
        ({"cryopreserved_stability": timedelta(0)}, "__all__"),
        ({"caution_statement": ""}, "caution_statement"),
        ({"lot_number": "X"}, "lot_number"),
    ],
    ids=["code-long", "code-letter", "type", "storage", "stability", "caution", "unknown"],
)
def test_a_wrong_setting_is_refused_with_its_field(qa, changes, field):
    p = product()
    with unchanged(p), pytest.raises(ValidationError) as refused:
        product_definition_change(actor=qa, product=p, reason="Try", **changes)
    assert field in refused.value.message_dict


# --- the label ---


@pytest.mark.clause("21 CFR 312.6(a)")
def test_the_bag_label_carries_the_caution_storage_and_handling_pdf_and_zpl(
    in_qc_batch, technician
):
    fresh, frozen = fill(technician, in_qc_batch, ("A0", "fresh"), ("B0", "cryopreserved"))
    for bag, storage in (
        (fresh, "Store at 15 °C to 25 °C"),
        (frozen, "Store at -196 °C to -150 °C"),
    ):
        label = bag_label_for(DoseUnit.objects.get(pk=bag.pk))
        pdf = page_texts(bag_labels_pdf([label]))[0]
        zpl = read_label(bag_label_zpl(label)).texts
        for text in (
            CAUTION_312_6,
            storage,
            "Do not irradiate",
            "Do not use a leukoreduction filter",
        ):
            assert norm_text(text) in pdf, text
            assert text in zpl, text
        assert "Rx only" not in pdf and "Rx only" not in zpl


@pytest.mark.clause("21 CFR 312.6(a)")
def test_the_caution_statement_is_a_setting_of_the_product(in_qc_batch, technician, qa):
    wording = "CAUTION: New Drug - Limited by United States law to investigational use."
    product_definition_change(
        actor=qa, product=product(), reason="Sponsor's wording", caution_statement=wording
    )
    (bag,) = fill(technician, in_qc_batch, ("A0", "fresh"))
    label = bag_label_for(DoseUnit.objects.get(pk=bag.pk))
    assert norm_text(wording) in page_texts(bag_labels_pdf([label]))[0]
    assert wording in read_label(bag_label_zpl(label)).texts
