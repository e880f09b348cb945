"""Identifiers (lot numbers, subject IDs, instrument serials, sample IDs) hold only the
documented pattern: refused with a message by the services, and by the database itself
whatever path writes."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from batches.models import ReagentLot, Recipient
from carnk_mfg.fields import IDENTIFIER_MESSAGE
from tests.services.test_materials import register as register_lot
from tests.services.test_recipients import register as register_recipient
from tests.services.trail import unchanged

pytestmark = pytest.mark.django_db

HOSTILE = [
    pytest.param("RV\u202eRAC", id="bidi-override"),
    pytest.param("IL2\u0085X", id="c1-control"),
    pytest.param("IL2\x07X", id="c0-control"),
    pytest.param("IL2-\U0001f600", id="emoji"),
    pytest.param("<b>IL2</b>", id="markup"),
    pytest.param("IL2 0001", id="space"),
    pytest.param("-IL2", id="leading-dash"),
    pytest.param("IL2\u2010001", id="unicode-hyphen"),
]


@pytest.mark.parametrize("value", HOSTILE)
def test_a_material_lot_number_outside_the_pattern_is_refused(technician, value):
    with unchanged(), pytest.raises(ValidationError) as refused:
        register_lot(technician, lot_number=value)
    assert refused.value.message_dict["lot_number"] == [IDENTIFIER_MESSAGE]


@pytest.mark.parametrize("value", HOSTILE)
def test_a_subject_id_outside_the_pattern_is_refused(clinical, value):
    with unchanged(), pytest.raises(ValidationError) as refused:
        register_recipient(clinical, subject_id=value)
    assert refused.value.message_dict["subject_id"] == [IDENTIFIER_MESSAGE]


@pytest.mark.parametrize(
    "value", ["RV-iC9-CAR19-IL15-0007", "IL2/2026.1", "LOT_7+A", "CNK-260001-QC42_CAR.fcs", "7"]
)
def test_ordinary_identifiers_pass(technician, value):
    assert register_lot(technician, lot_number=value).lot_number == value


@pytest.mark.parametrize("value", HOSTILE)
def test_the_database_refuses_them_whatever_path_writes(technician, clinical, value):
    lot = register_lot(technician)
    recipient = register_recipient(clinical)
    for model, record, field in (
        (ReagentLot, lot, "lot_number"),
        (Recipient, recipient, "subject_id"),
    ):
        with pytest.raises(IntegrityError, match="check"), transaction.atomic():
            model.objects.filter(pk=record.pk).update(**{field: value})
