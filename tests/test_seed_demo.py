"""`make run` loads demo data through the services, once."""

from io import StringIO

import pytest
from django.core.management import call_command

from batches.models import Batch, CordBloodUnit
from carnk_mfg.models import ElectronicSignature


@pytest.mark.django_db
def test_demo_data_loads_once_and_prints_credentials():
    out = StringIO()
    call_command("seed_demo", stdout=out)
    assert "Demo data loaded." in out.getvalue() and "carnk-demo-2026" in out.getvalue()
    units, signatures = CordBloodUnit.objects.count(), ElectronicSignature.objects.count()
    assert units == 4 and Batch.objects.get().state == "in_process" and signatures > 10
    again = StringIO()
    call_command("seed_demo", stdout=again)
    assert "already loaded" in again.getvalue()
    assert CordBloodUnit.objects.count() == units
    assert ElectronicSignature.objects.count() == signatures
