"""The admin shows every GMP record read-only; changes only through reasoned actions."""

import pytest

from tests.factories import (
    CordBloodUnitFactory,
    FeederLotFactory,
    ReagentLotFactory,
    RecipientFactory,
    VectorLotFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_admin(client, admin_user):
    admin_user.is_staff = True
    admin_user.save()
    client.force_login(admin_user)
    return client


@pytest.mark.parametrize(
    "factory, path",
    [
        (CordBloodUnitFactory, "batches/cordbloodunit"),
        (VectorLotFactory, "batches/vectorlot"),
        (FeederLotFactory, "batches/feederlot"),
        (ReagentLotFactory, "batches/reagentlot"),
        (RecipientFactory, "batches/recipient"),
    ],
)
def test_gmp_records_are_visible_but_not_editable(staff_admin, factory, path):
    _check_read_only(staff_admin, factory(), path)


def test_certificates_and_stock_adjustments_are_visible_but_not_editable(staff_admin, technician):
    from decimal import Decimal

    from batches.services.inventory import lot_stock_adjust
    from tests.factories import certificate_for

    lot = ReagentLotFactory.create()
    _check_read_only(staff_admin, certificate_for(lot), "batches/lotcertificate")
    adjustment = lot_stock_adjust(
        actor=technician,
        lot=lot,
        adjustment_kind="breakage",
        change=Decimal("-1"),
        reason="Vial dropped in the BSC",
    )
    _check_read_only(staff_admin, adjustment, "batches/stockadjustment")


@pytest.mark.parametrize(
    "model, path",
    [
        ("batches.ProcessTemplate", "batches/processtemplate"),
        ("batches.TemplateStep", "batches/templatestep"),
        ("qc.QcSpecSet", "qc/qcspecset"),
    ],
)
def test_loaded_records_are_visible_but_not_editable(staff_admin, model, path):
    from django.apps import apps

    _check_read_only(staff_admin, apps.get_model(model).objects.first(), path)


def test_batch_record_admin_pages_render(staff_admin):
    for path in [
        "batches/batch",
        "batches/doseunit",
        "batches/releasedecision",
        "batches/recall",
        "batches/bedsidecheck",
        "batches/infusion",
        "batches/adverseevent",
        "batches/safetyswitchactivation",
        "batches/followupvisit",
        "batches/protocoldoselevel",
        "batches/executedstep",
        "batches/cellcount",
        "batches/deviation",
        "batches/custodyevent",
        "qc/qctest",
        "qc/qcalert",
        "qc/notification",
    ]:
        assert staff_admin.get(f"/admin/{path}/").status_code == 200, path


def _check_read_only(staff_admin, obj, path):
    assert staff_admin.get(f"/admin/{path}/").status_code == 200
    page = staff_admin.get(f"/admin/{path}/{obj.pk}/change/")
    assert page.status_code == 200
    assert b'name="_save"' not in page.content  # view-only: no save button
    assert staff_admin.get(f"/admin/{path}/add/").status_code == 403
    assert staff_admin.post(f"/admin/{path}/{obj.pk}/delete/", {"post": "yes"}).status_code == 403


@pytest.fixture
def staff_qa(client, qa):
    """QA working in the admin console: the GMP actions there are QA's, not the admin's."""
    qa.is_staff = True
    qa.save()
    client.force_login(qa)
    return client


def test_reasoned_action_asks_for_a_reason_first(staff_qa):
    staff_admin = staff_qa
    unit = CordBloodUnitFactory.create()
    page = staff_admin.post(
        "/admin/batches/cordbloodunit/",
        {"action": "action__discard", "_selected_action": [unit.pk]},
    )
    assert page.status_code == 200
    assert b"reason" in page.content
    unit.refresh_from_db()
    assert unit.status == "available"
    done = staff_admin.post(
        "/admin/batches/cordbloodunit/",
        {
            "action": "action__discard",
            "_selected_action": [unit.pk],
            "apply": "1",
            "reason": "Bag breach",
        },
    )
    assert done.status_code == 302
    unit.refresh_from_db()
    assert unit.status == "discarded"


@pytest.mark.parametrize("role", ["technician", "admin"])
def test_admin_action_needs_the_permission(client, users_by_role, role):
    """Neither a technician nor the administrator may discard a unit: a GMP decision."""
    user = users_by_role[role]
    user.is_staff = True
    user.save()
    client.force_login(user)
    unit = CordBloodUnitFactory.create()
    response = client.post(
        "/admin/batches/cordbloodunit/",
        {"action": "action__discard", "_selected_action": [unit.pk], "apply": "1", "reason": "x"},
    )
    assert response.status_code in (200, 302, 403)
    unit.refresh_from_db()
    assert unit.status == "available"


def test_instrument_registered_and_key_issued_in_the_admin(staff_admin):
    from qc.models import Instrument, InstrumentKey

    r = staff_admin.post(
        "/admin/qc/instrument/add/",
        {
            "name": "NC-200 A",
            "model": "NucleoCounter NC-200",
            "serial_number": "NC-77",
            "location": "QC lab",
            "kind": "cell_counter",
            "calibration_due": "2030-01-01",
            "keys-TOTAL_FORMS": "0",
            "keys-INITIAL_FORMS": "0",
        },
    )
    assert r.status_code == 302, r.content[:3000]
    instrument = Instrument.objects.get(serial_number="NC-77")
    assert instrument.user.groups.filter(name="instrument").exists()
    r = staff_admin.post(
        "/admin/qc/instrument/",
        {"action": "issue_key", "_selected_action": [instrument.pk]},
        follow=True,
    )
    key = InstrumentKey.objects.get(instrument=instrument)
    assert f"ik_{key.prefix}_" in r.content.decode()
    r = staff_admin.post(
        "/admin/qc/instrumentkey/",
        {"action": "action__revoke", "_selected_action": [key.pk], "apply": "1", "reason": "Lost"},
    )
    key.refresh_from_db()
    assert key.revoked_at is not None


def test_a_counter_is_registered_with_its_bench_equipment(staff_admin):
    """Only a cell counter no other instrument holds is offered; another kind is refused as a
    form error, and the link lands with the instrument."""
    from qc.models import Instrument
    from tests.factories import EquipmentFactory

    counter = EquipmentFactory.create(kind="cell_counter", identifier="CC-01")
    cabinet = EquipmentFactory.create(identifier="BSC-09")
    form = {
        "name": "NC-200 B",
        "model": "NucleoCounter NC-200",
        "serial_number": "NC-78",
        "location": "QC lab",
        "kind": "cell_counter",
        "calibration_due": "2030-01-01",
        "keys-TOTAL_FORMS": "0",
        "keys-INITIAL_FORMS": "0",
    }
    refused = staff_admin.post("/admin/qc/instrument/add/", {**form, "equipment": cabinet.pk})
    assert refused.status_code == 200 and "equipment" in refused.context["adminform"].form.errors
    assert not Instrument.objects.filter(serial_number="NC-78").exists()
    r = staff_admin.post("/admin/qc/instrument/add/", {**form, "equipment": counter.pk})
    assert r.status_code == 302, r.content[:3000]
    assert Instrument.objects.get(serial_number="NC-78").equipment == counter


def test_every_admin_list_opens(staff_admin, running_batch):
    """Each registered model's list renders, with rows where the records exist."""
    from django.contrib import admin

    from tests.factories import EquipmentFactory, certificate_for

    EquipmentFactory.create()
    certificate_for(ReagentLotFactory.create())
    broken = [
        f"{model._meta.label}: {status}"
        for model in admin.site._registry
        if (
            status := staff_admin.get(
                f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
            ).status_code
        )
        != 200
    ]
    assert broken == []


def test_create_instrument_key_command(admin_user):
    from io import StringIO

    from django.core.management import call_command
    from django.utils import timezone

    from qc.services.instruments import instrument_for_key, instrument_register

    instrument_register(
        actor=admin_user,
        name="X",
        model="Vi-CELL XR",
        serial_number="XR-1",
        location="L",
        kind="cell_counter",
        calibration_due=timezone.localdate(),
    )
    out = StringIO()
    call_command("create_instrument_key", "XR-1", "--by", admin_user.username, stdout=out)
    raw = out.getvalue().strip().splitlines()[-1]
    found = instrument_for_key(raw)
    assert found is not None
    assert found[0].serial_number == "XR-1"
