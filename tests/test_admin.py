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


def test_reasoned_action_asks_for_a_reason_first(staff_admin):
    unit = CordBloodUnitFactory()
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


def test_admin_action_needs_the_permission(client, technician):
    technician.is_staff = True
    technician.save()
    client.force_login(technician)
    unit = CordBloodUnitFactory()
    response = client.post(
        "/admin/batches/cordbloodunit/",
        {"action": "action__discard", "_selected_action": [unit.pk], "apply": "1", "reason": "x"},
    )
    assert response.status_code in (200, 302, 403)
    unit.refresh_from_db()
    assert unit.status == "available"
