"""At thaw, the scanned cord blood unit must be the batch's own: the DIN barcode or the DIN
typed with its check character; another unit, or a typed DIN without its check character, is
refused naming both DINs, and nothing is saved (as the bedside check does for bags)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from batches.models import ExecutedStep
from carnk_mfg import isbt128
from carnk_mfg.models import ElectronicSignature, SignatureFailure
from tests.batch_steps import step_payloads
from tests.factories import PASSWORD, CordBloodUnitFactory

pytestmark = pytest.mark.django_db


def thaw(api, user, batch, scanned):
    code, at, values, materials = step_payloads(
        timezone.now() - timedelta(days=1), din=batch.source_unit.din
    )[0]
    return api.as_user(user).post(
        f"/api/v1/batches/{batch.lot_number}/steps/",
        {
            "step": code,
            "performed_at": at.isoformat(),
            "values": {**values, "cbu_din": scanned},
            "materials": materials,
            "password": PASSWORD,
        },
        format="json",
    )


def barcode(din: str) -> str:
    return isbt128.DIN.from_text(din).barcode(isbt128.computed_check_flags(din))


def nothing_saved():
    return (
        not ExecutedStep.objects.exists()
        and not ElectronicSignature.objects.filter(meaning="performed").exists()
        and not SignatureFailure.objects.exists()
    )


@pytest.mark.parametrize("form", ["typed", "barcode"])
def test_another_units_din_is_refused_naming_both(api, technician, running_batch, form):
    other = CordBloodUnitFactory.create()
    scanned = other.din + other.check_character if form == "typed" else barcode(other.din)
    response = thaw(api, technician, running_batch, scanned)
    assert response.status_code == 400
    message = response.json()["values.cbu_din"][0]
    assert "WRONG CORD BLOOD UNIT" in message
    assert other.din in message and running_batch.source_unit.din in message
    assert nothing_saved()


@pytest.mark.clause("ISBT 128 DIN")
def test_a_typed_din_without_its_check_character_is_refused(api, technician, running_batch):
    response = thaw(api, technician, running_batch, running_batch.source_unit.din)
    assert response.status_code == 400
    assert "check character" in response.json()["values.cbu_din"][0]
    assert nothing_saved()


@pytest.mark.parametrize("scanned", ["", "=G12349865432100", "G1234986543219", "💥" * 30])
def test_garbage_scans_are_refused(api, technician, running_batch, scanned):
    response = thaw(api, technician, running_batch, scanned)
    assert response.status_code == 400 and "values.cbu_din" in response.json()
    assert nothing_saved()


@pytest.mark.parametrize("form", ["typed", "eye-readable", "barcode"])
def test_the_batchs_own_unit_is_accepted(api, technician, running_batch, form):
    din = running_batch.source_unit.din
    scanned = {
        "typed": din + isbt128.check_character(din),
        "eye-readable": isbt128.DIN.from_text(din).eye_readable.lower(),
        "barcode": barcode(din),
    }[form]
    response = thaw(api, technician, running_batch, scanned)
    assert response.status_code == 201, response.json()
    step = ExecutedStep.objects.get()
    assert step.values["cbu_din"] == din  # stored as the DIN itself
