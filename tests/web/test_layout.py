"""Web UI: the header, navigation, signing in and out, and the home page, for every role."""

import pytest
from django.urls import reverse

from batches.models import UnitStatus
from tests.factories import PASSWORD, CordBloodUnitFactory, UserFactory

pytestmark = pytest.mark.django_db

pytestmark = pytest.mark.django_db


def page(client, user, url):
    client.force_login(user)
    return client.get(url)


# --- layout, navigation, login ---


def test_header_shows_user_roles_navigation_and_logout(client, qc_analyst):
    html = page(client, qc_analyst, reverse("cbu-list")).content.decode()
    assert qc_analyst.get_full_name() in html
    assert "QC analyst" in html
    for link in (reverse("cbu-list"), reverse("lot-list"), reverse("recipient-list"), "/api/docs/"):
        assert f'href="{link}"' in html
    assert f'action="{reverse("logout")}"' in html and 'method="post"' in html
    assert f'href="{reverse("admin:index")}"' not in html
    assert "carnk_mfg/app.css" in html


def test_staff_users_see_the_admin_link(client, admin_user):
    admin_user.is_staff = True
    admin_user.save(update_fields=["is_staff"])
    html = page(client, admin_user, reverse("home")).content.decode()
    assert f'href="{reverse("admin:index")}"' in html


def test_user_without_view_permission_sees_no_unit_link(client):
    nobody = UserFactory.create(username="visitor")
    html = page(client, nobody, reverse("home")).content.decode()
    assert f'href="{reverse("cbu-list")}"' not in html


def test_logout_is_a_post(client, technician):
    client.force_login(technician)
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert client.get(reverse("cbu-list")).status_code == 302


def test_login_page_renders_and_signs_in(client, technician):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert 'name="username"' in response.content.decode()
    response = client.post(
        reverse("login"),
        {"username": technician.username, "password": PASSWORD},
        REMOTE_ADDR="127.0.0.1",
    )
    assert response.status_code == 302


def test_locked_out_page_shows_the_message(rf):
    from carnk_mfg.sign_in import locked_out

    response = locked_out(rf.get("/accounts/login/"), credentials={"username": "tech"})
    assert response.status_code == 403
    assert b"Signing in as this user from this computer is locked" in response.content


def test_dashboard_counts_units_by_status(client, technician, pending_unit, eligible_unit):
    CordBloodUnitFactory.create(status=UnitStatus.DISCARDED)
    response = page(client, technician, reverse("dashboard"))
    assert response.status_code == 200
    counts = {row["status"]: row["count"] for row in response.context["unit_counts"]}
    assert counts["received"] == 1 and counts["available"] == 1 and counts["discarded"] == 1
    assert counts["allocated"] == 0
    assert response.context["unit_total"] == 3
    html = response.content.decode()
    assert f'href="{reverse("cbu-register")}"' in html


def test_home_page_renders_for_every_role(client, users_by_role):
    for user in users_by_role.values():
        client.force_login(user)
        assert client.get(reverse("home")).status_code == 200
