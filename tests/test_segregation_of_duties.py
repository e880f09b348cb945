"""Segregation of duties: the administrator manages people, roles and instruments and reads
everything, but makes no GMP decision, whatever else the account holds (another role, the
superuser flag); whoever performed a step of a batch may neither review its record nor release
it, and the record review and the release may be the same QA person."""

import pytest
from django.contrib.auth.models import Group

from carnk_mfg.roles import ROLE_PERMISSIONS, Role, actor_may, is_gmp_write
from tests.factories import (
    PASSWORD,
    CordBloodUnitFactory,
    FeederLotFactory,
    ReagentLotFactory,
    UserFactory,
    VectorLotFactory,
)

pytestmark = pytest.mark.django_db


def gmp_writes(batch, unit, test, deviation):
    """Every write of the API that is a GMP record or decision, signed ones first."""
    lot, vector, feeder, reagent = (
        batch.lot_number,
        VectorLotFactory(status="quarantined"),
        FeederLotFactory(status="quarantined"),
        ReagentLotFactory(status="quarantined"),
    )
    signed = {"password": PASSWORD, "reason": "x"}
    yield "/api/v1/donor-units/", {"din": "G123498654321", "check_character": "H", **signed}
    yield f"/api/v1/donor-units/{unit.din}/eligibility/", {"eligibility": "eligible", **signed}
    for kind, item in (("vector", vector), ("feeder", feeder), ("reagent", reagent)):
        body = {"status": "released", **signed}
        yield f"/api/v1/{kind}-lots/{item.lot_number}/disposition/", body
    template = batch.template_id
    yield f"/api/v1/process-templates/{template}/approve/", signed
    spec = batch.template.spec_sets.get().pk
    yield f"/api/v1/qc-spec-sets/{spec}/approve/", signed
    yield f"/api/v1/batches/{lot}/steps/", {"step": "thaw_isolation", **signed}
    yield f"/api/v1/batches/{lot}/transitions/", {"to_state": "terminated", **signed}
    yield (
        f"/api/v1/batches/{lot}/deviations/{deviation.pk}/disposition/",
        {
            "disposition": "accept",
            "classification": "minor",
            "root_cause": "Assessed by QA",
            "notes": "x",
            **signed,
        },
    )
    yield f"/api/v1/batches/{lot}/formulate/", {"bags": [], **signed}
    yield f"/api/v1/batches/{lot}/record-review/", signed
    yield f"/api/v1/batches/{lot}/release/", {"decision": "release", **signed}
    yield f"/api/v1/batches/{lot}/recall/", signed
    yield f"/api/v1/qc-tests/{test.pk}/review/", signed
    yield "/api/v1/infusions/", {"bedside_check": 1, **signed}
    # and the unsigned ones
    yield f"/api/v1/donor-units/{unit.din}/allocate/", {"reason": "x"}
    yield f"/api/v1/donor-units/{unit.din}/discard/", {"reason": "x"}
    yield f"/api/v1/donor-units/{unit.din}/move/", {"reason": "x"}
    yield "/api/v1/recipients/", {"subject_id": "X"}
    yield "/api/v1/batches/", {"source_unit": unit.din}
    yield f"/api/v1/batches/{lot}/counts/", {"day": 1}
    yield f"/api/v1/batches/{lot}/deviations/", {"kind": "other"}
    yield f"/api/v1/batches/{lot}/custody/", {"subject": "batch"}
    yield f"/api/v1/qc-tests/{test.pk}/result/", {"value": "1"}
    yield f"/api/v1/qc-tests/{test.pk}/sample/", {}
    yield f"/api/v1/qc-tests/{test.pk}/retest/", {"reason": "x"}
    yield "/api/v1/bedside-checks/", {"scanned_bag": "x"}
    yield "/api/v1/adverse-events/", {"kind": "crs"}


@pytest.fixture
def record(in_qc_batch, qa):
    from batches.services import batch_record
    from qc.models import QcTest

    deviation = batch_record.deviation_open(
        actor=qa, batch=in_qc_batch, kind="other", what="x", why="y", impact="z"
    )
    return (
        in_qc_batch,
        CordBloodUnitFactory(),
        QcTest.objects.filter(batch=in_qc_batch)[0],
        deviation,
    )


@pytest.mark.clause("DESIGN 8 Segregation of duties")
@pytest.mark.parametrize("also", ["nothing", "qa_role", "superuser"])
def test_the_administrator_makes_no_gmp_decision(api, admin_user, record, also):
    if also == "qa_role":
        admin_user.groups.add(Group.objects.get(name=Role.QA))
    elif also == "superuser":
        admin_user.is_superuser = True
        admin_user.save()
    client = api.as_user(type(admin_user).objects.get(pk=admin_user.pk))
    tried = 0
    for url, body in gmp_writes(*record):
        response = client.post(url, body, format="json")
        assert response.status_code == 403, (url, response.status_code, response.content[:200])
        tried += 1
    assert tried == 29
    batch = record[0]
    batch.refresh_from_db()
    assert batch.state == "on_hold"  # the open deviation's hold, untouched


def test_the_administrator_reads_everything(api, admin_user, record):
    client = api.as_user(admin_user)
    batch, unit, test, _ = record
    for url in (
        "/api/v1/donor-units/",
        f"/api/v1/donor-units/{unit.din}/history/",
        "/api/v1/recipients/",
        "/api/v1/batches/",
        f"/api/v1/batches/{batch.lot_number}/",
        f"/api/v1/batches/{batch.lot_number}/signatures/",
        "/api/v1/qc-tests/",
        f"/api/v1/qc-tests/{test.pk}/history/",
        "/api/v1/doses/",
        "/api/v1/infusions/",
        "/api/v1/adverse-events/",
    ):
        assert client.get(url).status_code == 200, url


def test_the_administrator_manages_people_and_instruments(client, admin_user):
    from qc.models import Instrument

    admin_user.is_staff = True
    admin_user.save()
    client.force_login(admin_user)
    response = client.post(
        "/admin/auth/user/add/",
        {"username": "new-tech", "password1": "Lab-Pass-2026!x", "password2": "Lab-Pass-2026!x"},
    )
    assert response.status_code == 302, response.content[:2000]
    response = client.post(
        "/admin/qc/instrument/add/",
        {
            "name": "Counter",
            "model": "Vi-CELL BLU",
            "serial_number": "VCB-SOD",
            "location": "QC lab",
            "kind": "cell_counter",
            "calibration_due": "2030-01-01",
            "keys-TOTAL_FORMS": "0",
            "keys-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302
    assert Instrument.objects.filter(serial_number="VCB-SOD").exists()


@pytest.mark.clause("DESIGN 8 Segregation of duties")
def test_no_role_but_administration_holds_an_administrators_rights():
    """The administrator's writes are administration only; GMP writes belong to other roles."""
    admin = ROLE_PERMISSIONS[Role.ADMIN]
    assert not [p for p in admin if is_gmp_write(p) and p != "*.view_*"]
    for role in (Role.TECHNICIAN, Role.QC_ANALYST, Role.QA, Role.CLINICAL):
        assert all(is_gmp_write(p) or ".view_" in p for p in ROLE_PERMISSIONS[role]), role


@pytest.mark.clause("DESIGN 8 Segregation of duties")
def test_the_maker_may_neither_review_nor_release_through_the_api(
    api, in_qc_batch, qc_analyst, technician, qa
):
    """Four eyes, whatever the maker's roles; one QA person may review and release."""

    from tests.batch_steps import result_all

    result_all(in_qc_batch, qc_analyst, UserFactory(username="qc-b", role="qc_analyst"))
    lot = in_qc_batch.lot_number
    r = api.as_user(technician).post(
        f"/api/v1/batches/{lot}/formulate/",
        {
            "bags": [{"division": "A0", "presentation": "fresh", "volume_ml": "40"}],
            "password": PASSWORD,
        },
        format="json",
    )
    assert r.status_code == 201
    technician.groups.add(Group.objects.get(name=Role.QA))
    maker = type(technician).objects.get(pk=technician.pk)
    assert actor_may(maker, "batches.release_batch")  # the role is there; four eyes is not
    review = api.as_user(maker).post(
        f"/api/v1/batches/{lot}/record-review/", {"password": PASSWORD}
    )
    assert review.status_code == 400 and "another QA reviewer" in str(review.json())
    assert (
        api.as_user(qa)
        .post(f"/api/v1/batches/{lot}/record-review/", {"password": PASSWORD})
        .status_code
        == 201
    )
    body = {"decision": "release", "reason": "In spec", "password": PASSWORD}
    refused = api.as_user(maker).post(f"/api/v1/batches/{lot}/release/", body)
    assert refused.status_code == 400 and "another QA reviewer" in str(refused.json())
    released = api.as_user(qa).post(f"/api/v1/batches/{lot}/release/", body)
    assert released.status_code == 200 and released.json()["state"] == "released"
