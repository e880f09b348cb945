"""Web UI: material lots (vector, feeder, reagent): list, register, detail, QA disposition."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from batches.models import FeederLot, LotStatus, RcrResult, ReagentLot, VectorLot
from carnk_mfg.models import ElectronicSignature
from carnk_mfg.roles import Role
from tests.factories import (
    PASSWORD,
    FeederLotFactory,
    ReagentLotFactory,
    UserFactory,
    VectorLotFactory,
)

pytestmark = pytest.mark.django_db


ALL_ROLES = [Role.TECHNICIAN, Role.QC_ANALYST, Role.QA, Role.CLINICAL, Role.ADMIN]
KINDS = ["vector", "feeder", "reagent"]
MODELS: dict[str, type[VectorLot] | type[FeederLot] | type[ReagentLot]] = {
    "vector": VectorLot,
    "feeder": FeederLot,
    "reagent": ReagentLot,
}
FACTORIES: dict[str, type[VectorLotFactory] | type[FeederLotFactory] | type[ReagentLotFactory]] = {
    "vector": VectorLotFactory,
    "feeder": FeederLotFactory,
    "reagent": ReagentLotFactory,
}


def days(n):
    return (timezone.localdate() + timedelta(days=n)).isoformat()


def lot_data(kind, **overrides):
    data = {
        "lot_number": f"NEW-{kind.upper()}-001",
        "manufacturer": "Takara Bio",
        "received_on": days(-2),
        "expiry_date": days(200),
        "quantity_received": "100",
        "unit": "ml",
    }
    data.update(
        {
            "vector": {
                "construct": "iC9/CAR.19/IL15",
                "titer_iu_per_ml": "1.5e7",
                "rcr_result": "negative",
            },
            "feeder": {
                "cell_line": "K562 uAPC",
                "irradiation_dose_gy": "100",
                "irradiated_on": days(-3),
            },
            "reagent": {"reagent": "il2", "description": "Proleukin 22 MIU"},
        }[kind]
    )
    data.update(overrides)
    return data


def detail_url(lot):
    return reverse("lot-detail", args=[lot.kind, lot.lot_number])


# --- access ---


@pytest.mark.parametrize("role", ALL_ROLES)
def test_list_and_details_render_for_every_role(client, users_by_role, role):
    lots = [VectorLotFactory.create(), FeederLotFactory.create(), ReagentLotFactory.create()]
    client.force_login(users_by_role[role])
    html = client.get(reverse("lot-list")).content.decode()
    for lot in lots:
        assert lot.lot_number in html
        assert client.get(detail_url(lot)).status_code == 200


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    "role,status",
    [
        (Role.TECHNICIAN, 200),
        (Role.ADMIN, 403),
        (Role.QC_ANALYST, 403),
        (Role.QA, 403),
        (Role.CLINICAL, 403),
    ],
)
def test_register_page_by_role(client, users_by_role, role, status, kind):
    client.force_login(users_by_role[role])
    assert client.get(reverse("lot-register", args=[kind])).status_code == status


def test_anonymous_users_are_sent_to_login(client):
    lot = VectorLotFactory.create()
    for url in (reverse("lot-list"), reverse("lot-register", args=["vector"]), detail_url(lot)):
        response = client.get(url)
        assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_user_without_role_gets_403(client):
    lot = VectorLotFactory.create()
    client.force_login(UserFactory.create(username="visitor"))
    assert client.get(reverse("lot-list")).status_code == 403
    assert client.get(detail_url(lot)).status_code == 403


def test_unknown_kind_or_lot_is_404(client, qa):
    client.force_login(qa)
    assert client.get("/lots/plasmid/X-1/").status_code == 404
    assert client.get("/lots/new/plasmid/").status_code == 404
    assert client.get(reverse("lot-detail", args=["vector", "NO-SUCH-LOT"])).status_code == 404


def test_lot_number_with_slashes_has_a_working_page(client, qa):
    lot = VectorLotFactory.create(lot_number="RV/2025/007")
    client.force_login(qa)
    html = client.get(reverse("lot-list")).content.decode()
    assert 'href="/lots/vector/RV/2025/007/"' in html
    assert client.get("/lots/vector/RV/2025/007/").context["lot"] == lot


# --- what each role sees ---


@pytest.mark.parametrize(
    "role,register,disposition",
    [
        (Role.TECHNICIAN, True, False),
        (Role.QC_ANALYST, False, False),
        (Role.QA, False, True),
        (Role.CLINICAL, False, False),
        (Role.ADMIN, False, False),
    ],
)
def test_buttons_by_role(client, users_by_role, role, register, disposition):
    lot = VectorLotFactory.create(status=LotStatus.QUARANTINED)
    client.force_login(users_by_role[role])
    html = client.get(reverse("lot-list")).content.decode()
    for kind in KINDS:
        assert (f'href="{reverse("lot-register", args=[kind])}"' in html) == register
    html = client.get(detail_url(lot)).content.decode()
    assert ('id="disposition-form"' in html) == disposition
    assert ('id="esign-dialog"' in html) == disposition


def test_list_shows_usability_and_why_not(client, qc_analyst):
    usable = VectorLotFactory.create()
    expired = FeederLotFactory.create(
        received_on=timezone.localdate() - timedelta(days=100),
        expiry_date=timezone.localdate() - timedelta(days=1),
    )
    quarantined = ReagentLotFactory.create(status=LotStatus.QUARANTINED)
    no_rcr = VectorLotFactory.create(rcr_result=RcrResult.PENDING)
    client.force_login(qc_analyst)
    response = client.get(reverse("lot-list"))
    html = response.content.decode()
    assert f"Feeder lot {expired.lot_number} expired on" in html
    assert f"Reagent lot {quarantined.lot_number} is quarantined, not released." in html
    assert f"Vector lot {no_rcr.lot_number} has no negative RCR result" in html
    rows = {
        row["lot"].lot_number: row["usability"].usable
        for section in response.context["sections"]
        for row in section["rows"]
    }
    assert rows[usable.lot_number] is True
    assert rows[expired.lot_number] is False


# --- register through the form ---


@pytest.mark.parametrize("kind", KINDS)
def test_register_a_lot_through_the_form(client, technician, kind):
    client.force_login(technician)
    response = client.post(reverse("lot-register", args=[kind]), lot_data(kind))
    lot = MODELS[kind].objects.get(lot_number=f"NEW-{kind.upper()}-001")
    assert response.status_code == 302
    assert response.url == detail_url(lot)
    assert lot.status == LotStatus.QUARANTINED
    assert lot.registered_by == technician
    response = client.get(response.url)
    html = response.content.decode()
    assert "quarantined, not released" in html
    assert response.context["history"][0]["who"] == technician.username
    assert response.context["history"][0]["why"] == "Material lot received"


@pytest.mark.parametrize(
    "kind,overrides,field",
    [
        ("vector", {"titer_iu_per_ml": "-1"}, "titer_iu_per_ml"),
        ("vector", {"titer_iu_per_ml": "high"}, "titer_iu_per_ml"),
        ("vector", {"rcr_result": "unknown"}, "rcr_result"),
        ("vector", {"received_on": "last tuesday"}, "received_on"),
        ("vector", {"lot_number": ""}, "lot_number"),
        ("vector", {"lot_number": "X" * 61}, "lot_number"),
        ("feeder", {"irradiation_dose_gy": "0"}, "irradiation_dose_gy"),
        ("feeder", {"irradiation_dose_gy": "1e9"}, "irradiation_dose_gy"),
        ("feeder", {"irradiated_on": "2025-02-30"}, "irradiated_on"),
        ("reagent", {"reagent": "coffee"}, "reagent"),
        ("reagent", {"manufacturer": "\x00"}, "manufacturer"),
    ],
)
def test_bad_lot_input_gives_form_errors_and_writes_nothing(
    client, technician, kind, overrides, field
):
    client.force_login(technician)
    response = client.post(reverse("lot-register", args=[kind]), lot_data(kind, **overrides))
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not MODELS[kind].objects.exists()


def test_empty_lot_form_is_errors_not_a_crash(client, technician):
    client.force_login(technician)
    response = client.post(reverse("lot-register", args=["feeder"]), {})
    assert response.status_code == 200
    assert {"lot_number", "manufacturer", "irradiated_on"} <= set(response.context["form"].errors)


def test_register_post_without_permission_is_403(client, qa):
    client.force_login(qa)
    response = client.post(reverse("lot-register", args=["vector"]), lot_data("vector"))
    assert response.status_code == 403
    assert not VectorLot.objects.exists()


# --- QA disposition ---


def test_register_then_qa_releases_through_the_forms(client, technician, qa):
    client.force_login(technician)
    client.post(reverse("lot-register", args=["vector"]), lot_data("vector"))
    lot = VectorLot.objects.get()
    coa = SimpleUploadedFile("coa.pdf", b"%PDF-1.4 CoA", content_type="application/pdf")
    upload = reverse("lot-certificate-upload", args=["vector", lot.lot_number])
    assert client.post(upload, {"file": coa}).status_code == 302
    client.force_login(qa)
    response = client.post(
        detail_url(lot),
        {
            "status": "released",
            "reason": "CoA reviewed; sterility and RCR negative",
            "password": PASSWORD,
        },
    )
    assert response.status_code == 302
    lot.refresh_from_db()
    assert lot.status == LotStatus.RELEASED
    assert lot.dispositioned_by == qa
    response = client.get(detail_url(lot))
    html = response.content.decode()
    assert "Released" in html and "unchanged since signing" in html
    assert response.context["usability"].usable
    last = response.context["history"][-1]
    assert last["who"] == qa.username
    assert last["why"] == "CoA reviewed; sterility and RCR negative"
    changed = {c["field"]: (c["old"], c["new"]) for c in last["changes"]}
    assert changed["Status"] == ("quarantined", "released")


@pytest.mark.parametrize("kind", KINDS)
def test_qa_rejects_each_kind(client, qa, kind):
    lot = FACTORIES[kind].create(status=LotStatus.QUARANTINED)
    client.force_login(qa)
    response = client.post(
        detail_url(lot), {"status": "rejected", "reason": "Failed sterility", "password": PASSWORD}
    )
    assert response.status_code == 302
    lot.refresh_from_db()
    assert lot.status == LotStatus.REJECTED
    sig = ElectronicSignature.objects.get()
    assert sig.meaning == "rejected"


@pytest.mark.parametrize(
    "data,field",
    [
        ({"status": "released", "reason": "", "password": PASSWORD}, "reason"),
        ({"status": "destroyed", "reason": "x", "password": PASSWORD}, "status"),
        ({"status": "quarantined", "reason": "x", "password": PASSWORD}, "status"),  # already
        ({}, "status"),
    ],
)
def test_bad_disposition_input_is_a_form_error(client, qa, data, field):
    lot = FeederLotFactory.create(status=LotStatus.QUARANTINED)
    client.force_login(qa)
    response = client.post(detail_url(lot), data)
    assert response.status_code == 200
    assert field in response.context["form"].errors
    lot.refresh_from_db()
    assert lot.status == LotStatus.QUARANTINED


def test_disposition_by_technician_is_403(client, technician):
    lot = FeederLotFactory.create(status=LotStatus.QUARANTINED)
    client.force_login(technician)
    response = client.post(
        detail_url(lot), {"status": "released", "reason": "x", "password": PASSWORD}
    )
    assert response.status_code == 403
    lot.refresh_from_db()
    assert lot.status == LotStatus.QUARANTINED


# --- dashboard ---


def test_dashboard_lists_lots_expiring_within_30_days(client, technician):
    soon = VectorLotFactory.create(expiry_date=timezone.localdate() + timedelta(days=10))
    later = FeederLotFactory.create(expiry_date=timezone.localdate() + timedelta(days=90))
    rejected = ReagentLotFactory.create(
        status=LotStatus.REJECTED, expiry_date=timezone.localdate() + timedelta(days=5)
    )
    client.force_login(technician)
    response = client.get(reverse("dashboard"))
    listed = {row["lot"].lot_number for row in response.context["expiring_lots"]}
    assert listed == {soon.lot_number}
    html = response.content.decode()
    assert soon.lot_number in html and later.lot_number not in html
    assert rejected.lot_number not in html


# --- no input gives a server error ---

NASTY = ["", "\x00", "💥", "1e400", "NaN", "9" * 40, "0001-01-01", "9999-12-31", "x" * 3000]


def test_no_typed_input_gives_a_server_error(client, every_gmp_role):
    lot = VectorLotFactory.create(status=LotStatus.QUARANTINED)
    client.force_login(every_gmp_role)
    targets = [(reverse("lot-register", args=[kind]), lot_data(kind)) for kind in KINDS]
    # The right password: wrong ones would lock the account out after five tries.
    targets.append((detail_url(lot), {"status": "rejected", "reason": "r", "password": PASSWORD}))
    for url, valid in targets:
        for field in set(valid) - {"password"}:
            for bad in NASTY:
                response = client.post(url, {**valid, field: bad})
                assert response.status_code in (200, 302), (url, field, bad)


@pytest.mark.parametrize(
    "path", ["/lots/vector/%00/", "/lots/feeder/a%00b/", "/lots/reagent/" + "a/" * 60]
)
def test_malformed_lot_number_in_the_url_is_404(client, qa, path):
    client.force_login(qa)
    assert client.get(path).status_code == 404
