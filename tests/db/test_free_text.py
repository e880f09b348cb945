"""Free text (names, notes, reasons, descriptions) holds no control characters: refused with
a message per field by the API and the forms, and by a CHECK on its table whatever path
writes, the application's own database role included."""

from datetime import timedelta

import psycopg2
import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import connection, models
from django.urls import reverse
from django.utils import timezone

from batches.models import Deviation, ReagentLot, Recipient
from carnk_mfg.fields import (
    FreeCharField,
    FreeTextField,
    IdentifierField,
    free_text_validator,
)
from tests.db.test_app_role import app_db  # noqa: F401  (a fixture)
from tests.factories import ReagentLotFactory, RecipientFactory

HOSTILE = [
    pytest.param("Takara\x00Bio", id="nul"),
    pytest.param("Takara\x07Bio", id="c0-bell"),
    pytest.param("Takara\x1bBio", id="c0-escape"),
    pytest.param("Takara\x0bBio", id="vertical-tab"),
    pytest.param("Takara\x7fBio", id="del"),
    pytest.param("Takara\x85Bio", id="c1-next-line"),
    pytest.param("Takara\x9bBio", id="c1-csi"),
    pytest.param("Takara\u202eoiB", id="bidi-override"),
    pytest.param("Takara\u202aBio", id="bidi-embedding"),
    pytest.param("Takara\u2066Bio\u2069", id="bidi-isolate"),
]
ORDINARY = ["Takara Bio", "line one\nline two\r\n\ttabbed", "5 µL, 37 °C, Ø 2 mm", "Zoë – 😀"]

# Text fields that are neither identifiers nor free text, and why.
NOT_FREE_TEXT = {
    ("carnk_mfg", "ElectronicSignature", "record_sha256"): "a hex digest the server computes",
    ("qc", "InstrumentImport", "sha256"): "a hex digest the server computes",
    ("batches", "LotCertificate", "sha256"): "a hex digest the server computes",
    ("batches", "EquipmentCalibration", "certificate_sha256"): "a hex digest the server computes",
    ("batches", "EquipmentMaintenance", "certificate_sha256"): "a hex digest the server computes",
    ("qc", "InstrumentKey", "key_hash"): "a keyed hash the server computes",
    ("qc", "InstrumentKey", "prefix"): "random letters the server generates",
    ("batches", "TemplateStep", "code"): "a slug (SlugField's own pattern)",
    ("batches", "StepParameter", "code"): "a slug (SlugField's own pattern)",
    ("qc", "QcTestDefinition", "code"): "a slug (SlugField's own pattern)",
    ("qc", "QcTestDefinition", "trigger_step_code"): "a slug (SlugField's own pattern)",
    ("batches", "DoseUnit", "product_code"): "an ISBT 128 product code (its check constraint)",
    ("batches", "ChainOfIdentity", "identifier"): (
        "a Chain of Identity identifier the server generates (its format check constraint)"
    ),
    ("batches", "ProductDefinition", "product_description_code"): (
        "an ISBT 128 product description code (its check constraint)"
    ),
}


def app_models():
    """The apps' own models, without the audit trail's event copies."""
    for label in ("batches", "qc", "carnk_mfg"):
        for model in apps.get_app_config(label).get_models():
            if not any(b.__module__.startswith("pghistory") for b in model.__mro__[1:]):
                yield model


def text_fields():
    for model in app_models():
        for field in model._meta.concrete_fields:
            if isinstance(field, models.CharField | models.TextField) and field.model is model:
                yield model, field


@pytest.mark.parametrize("value", HOSTILE)
def test_the_validator_refuses_and_names_the_character(value):
    with pytest.raises(ValidationError) as refused:
        free_text_validator(value)
    assert "Remove the control character U+" in refused.value.messages[0]


@pytest.mark.parametrize("value", ORDINARY)
def test_ordinary_text_passes(value):
    free_text_validator(value)


def test_every_text_field_is_an_identifier_free_text_or_listed_with_a_reason():
    unaccounted = [
        f"{model._meta.label}.{field.name}"
        for model, field in text_fields()
        if not isinstance(field, IdentifierField | FreeCharField | FreeTextField)
        and not field.choices
        and (model._meta.app_label, model.__name__, field.name) not in NOT_FREE_TEXT
    ]
    assert unaccounted == []
    listed = {(m._meta.app_label, m.__name__, f.name) for m, f in text_fields()}
    assert set(NOT_FREE_TEXT) <= listed  # the list names no field that has gone


@pytest.mark.django_db
def test_every_free_text_field_has_its_check_in_the_database():
    with connection.cursor() as cursor:
        cursor.execute("SELECT conname FROM pg_constraint WHERE contype = 'c'")
        in_database = {name for (name,) in cursor.fetchall()}
    expected = {
        f"{model._meta.model_name}_{field.name}_free_text"
        for model, field in text_fields()
        if isinstance(field, FreeCharField | FreeTextField)
    }
    assert len(expected) > 60
    assert expected - in_database == set()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("value", HOSTILE[1:])  # PostgreSQL keeps no NUL in text at all
def test_the_database_refuses_it_from_the_application_role(app_db, value):  # noqa: F811
    lot, recipient = ReagentLotFactory.create(), RecipientFactory.create()
    for table, column, pk in (
        (ReagentLot._meta.db_table, "manufacturer", lot.pk),
        (Recipient._meta.db_table, "diagnosis_detail", recipient.pk),
    ):
        with pytest.raises(psycopg2.errors.CheckViolation, match="_free_text"):
            app_db((f"UPDATE {table} SET {column} = %s WHERE id = %s", [value, pk]))
    app_db(
        (
            f"UPDATE {ReagentLot._meta.db_table} SET manufacturer = %s WHERE id = %s",
            [ORDINARY[1], lot.pk],
        )
    )
    lot.refresh_from_db()
    assert lot.manufacturer == ORDINARY[1]


@pytest.mark.django_db
def test_the_api_answers_400_for_each_field(api, technician, running_batch):
    response = api.as_user(technician).post(
        f"/api/v1/batches/{running_batch.lot_number}/deviations/",
        {"kind": "other", "what": "Late\u202e", "why": "Incubator\x85alarm", "impact": "None"},
        format="json",
    )
    assert response.status_code == 400, response.content
    body = response.json()
    assert set(body) == {"what", "why"}
    assert "U+202E" in body["what"][0] and "U+0085" in body["why"][0]
    assert not Deviation.objects.exists()


@pytest.mark.django_db
def test_a_form_shows_the_error_on_each_field(client, technician):
    client.force_login(technician)
    day = timezone.localdate()
    response = client.post(
        reverse("lot-register", args=["reagent"]),
        {
            "lot_number": "IL2-77",
            "manufacturer": "Clini\u202egen",
            "received_on": day.isoformat(),
            "expiry_date": (day + timedelta(days=90)).isoformat(),
            "reagent": "il2",
            "description": "Proleukin\x1b[2J",
            "quantity_received": "20",
            "unit": "vial",
        },
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert set(errors) == {"manufacturer", "description"}
    assert "U+202E" in errors["manufacturer"][0] and "U+001B" in errors["description"][0]
    assert not ReagentLot.objects.filter(lot_number="IL2-77").exists()


@pytest.mark.django_db
def test_a_service_writing_without_a_form_answers_per_field(technician, running_batch):
    from batches.services.batch_record import deviation_open

    with pytest.raises(ValidationError) as refused:
        deviation_open(
            actor=technician,
            batch=running_batch,
            kind="other",
            what="a\x07",
            why="b",
            impact="c\u2066",
        )
    assert set(refused.value.message_dict) == {"what", "impact"}
    assert not Deviation.objects.exists()
