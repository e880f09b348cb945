"""Every role against every endpoint of this issue: 403 exactly where the role lacks the
permission (carnk_mfg.roles.ROLE_PERMISSIONS), and never a 500."""

import pytest

from carnk_mfg.roles import ALL_VIEW, ROLE_PERMISSIONS, Role
from tests.factories import (
    CordBloodUnitFactory,
    FeederLotFactory,
    ReagentLotFactory,
    RecipientFactory,
    VectorLotFactory,
)

pytestmark = pytest.mark.django_db


def endpoints(unit, recipient, lots):
    u, r = unit.din, recipient.subject_id
    v, f, g = (lot.lot_number for lot in lots)
    yield "get", "/api/v1/donor-units/", "batches.view_cordbloodunit"
    yield "get", f"/api/v1/donor-units/{u}/", "batches.view_cordbloodunit"
    yield "get", f"/api/v1/donor-units/{u}/history/", "batches.view_cordbloodunit"
    yield "get", f"/api/v1/donor-units/{u}/signatures/", "batches.view_cordbloodunit"
    yield "post", "/api/v1/donor-units/", "batches.add_cordbloodunit"
    yield "post", f"/api/v1/donor-units/{u}/eligibility/", "batches.determine_eligibility"
    yield "post", f"/api/v1/donor-units/{u}/allocate/", "batches.allocate_cordbloodunit"
    yield "post", f"/api/v1/donor-units/{u}/move/", "batches.store_cordbloodunit"
    yield "post", f"/api/v1/donor-units/{u}/discard/", "batches.discard_cordbloodunit"
    yield "get", "/api/v1/recipients/", "batches.view_recipient"
    yield "get", f"/api/v1/recipients/{r}/", "batches.view_recipient"
    yield "get", f"/api/v1/recipients/{r}/history/", "batches.view_recipient"
    yield "post", "/api/v1/recipients/", "batches.add_recipient"
    yield "patch", f"/api/v1/recipients/{r}/", "batches.change_recipient"
    yield "post", f"/api/v1/recipients/{r}/weights/", "batches.record_weight"
    for kind, number in (("vector", v), ("feeder", f), ("reagent", g)):
        yield "get", f"/api/v1/{kind}-lots/", f"batches.view_{kind}lot"
        yield "get", f"/api/v1/{kind}-lots/{number}/", f"batches.view_{kind}lot"
        yield "get", f"/api/v1/{kind}-lots/{number}/history/", f"batches.view_{kind}lot"
        yield "post", f"/api/v1/{kind}-lots/", f"batches.add_{kind}lot"
        yield "post", f"/api/v1/{kind}-lots/{number}/disposition/", f"batches.disposition_{kind}lot"


def role_has(role, perm):
    """What ROLE_PERMISSIONS grants: the administrator reads everything and writes nothing of
    these (every write here is a GMP record or decision)."""
    perms = ROLE_PERMISSIONS[role]
    return perm in perms or (ALL_VIEW in perms and ".view_" in perm)


@pytest.mark.clause("21 CFR 11.10(g)")
@pytest.mark.parametrize(
    "role", [Role.TECHNICIAN, Role.QC_ANALYST, Role.QA, Role.CLINICAL, Role.ADMIN]
)
def test_each_role_against_each_endpoint(api, users_by_role, role):
    unit = CordBloodUnitFactory()
    recipient = RecipientFactory()
    lots = [VectorLotFactory(), FeederLotFactory(), ReagentLotFactory()]
    client = api.as_user(users_by_role[role])
    checked = 0
    for method, url, perm in endpoints(unit, recipient, lots):
        # An empty body: permitted callers get 400 (validation), others 403 before parsing.
        response = getattr(client, method)(url, {}, format="json")
        assert response.status_code < 500, (method, url)
        if role_has(role, perm):
            assert response.status_code in (200, 400), (role, method, url, response.content)
        else:
            assert response.status_code == 403, (role, method, url, response.status_code)
        checked += 1
    assert checked == 30


@pytest.mark.clause("21 CFR 11.10(d)")
def test_anonymous_gets_401_or_403_everywhere(api):
    unit = CordBloodUnitFactory()
    recipient = RecipientFactory()
    lots = [VectorLotFactory(), FeederLotFactory(), ReagentLotFactory()]
    for method, url, _perm in endpoints(unit, recipient, lots):
        assert getattr(api, method)(url, {}, format="json").status_code in (401, 403)


@pytest.mark.clause("21 CFR 11.10(d)")
def test_a_user_without_any_role_is_refused(api, django_user_model):
    nobody = django_user_model.objects.create_user("nobody", password="x-Long-pass-1")
    assert api.as_user(nobody).get("/api/v1/donor-units/").status_code == 403


def test_unmapped_methods_are_not_allowed(api, admin_user):
    unit = CordBloodUnitFactory()
    client = api.as_user(admin_user)
    assert client.delete(f"/api/v1/donor-units/{unit.din}/").status_code == 405
    assert client.put(f"/api/v1/donor-units/{unit.din}/", {}, format="json").status_code == 405


def test_every_role_permission_exists():
    from carnk_mfg.roles import sync_roles

    sync_roles(strict=True)  # raises LookupError naming any permission that does not exist
