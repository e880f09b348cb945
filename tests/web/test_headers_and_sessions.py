"""What every page answers with, whatever its content: a Content-Security-Policy that its own
markup keeps (no inline script or style), and the end of a session left idle at a shared
terminal."""

import re
from datetime import timedelta
from io import StringIO
from urllib.parse import urlsplit

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import transaction
from django.test import Client
from django.test.utils import override_settings
from django.urls import reverse
from django.utils import timezone

from batches.management.commands.seed_demo import DEMO_USERS

pytestmark = pytest.mark.django_db

# Executable inline script (a data block, type="application/json", runs nothing), inline style
# elements and attributes, and inline event handlers: what the policy refuses.
INLINE = re.compile(
    r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>"
    r"|<style[\s>]|\sstyle=\"|\son[a-z]+=\"",
    re.IGNORECASE,
)
LINK = re.compile(r'href="(/[^"#?]*)"')
SKIPPED = ("/admin/", "/api/", "/static/", "/accounts/logout/")


def signed_in(username: str) -> Client:
    client = Client()
    client.force_login(get_user_model().objects.get(username=username))
    return client


def pages_of(client: Client, limit: int = 80) -> dict[str, str]:
    """The pages a user reaches from the home page and the pages it links to (two levels)."""
    seen: dict[str, str] = {}
    queue = [reverse("home")]
    depth = {queue[0]: 0}
    while queue and len(seen) < limit:
        path = queue.pop(0)
        response = client.get(path)
        if response.status_code != 200 or "text/html" not in response["Content-Type"]:
            continue
        html = response.content.decode()
        seen[path] = html
        assert "script-src 'self'" in response["Content-Security-Policy"], path
        if depth[path] >= 2:
            continue
        for link in LINK.findall(html):
            target = urlsplit(link).path
            if target not in depth and not target.startswith(SKIPPED):
                depth[target] = depth[path] + 1
                queue.append(target)
    return seen


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """The demo loaded once for the module, rolled back after its last test."""
    fast = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    with (
        django_db_blocker.unblock(),
        override_settings(PASSWORD_HASHERS=fast),
        transaction.atomic(),
    ):
        call_command("seed_demo", stdout=StringIO())
        yield
        transaction.set_rollback(True)


def test_policy_allows_nothing_inline_and_nothing_from_elsewhere(client):
    policy = client.get(reverse("login"))["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";") if d.strip())
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["object-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe" not in policy


@pytest.mark.parametrize("username", sorted(DEMO_USERS))
def test_every_page_a_role_reaches_keeps_the_policy(demo, username):
    pages = pages_of(signed_in(username))
    assert len(pages) >= 5, sorted(pages)
    offending = {path: INLINE.findall(html)[:3] for path, html in pages.items()}
    assert {path: found for path, found in offending.items() if found} == {}


def test_the_sign_in_and_api_docs_pages_keep_the_policy(client, qa):
    client.force_login(qa)
    for name in ("login", "api-docs"):
        response = client.get(reverse(name))
        assert response.status_code == 200
        assert not INLINE.findall(response.content.decode()), name


# --- idle sessions ---


@pytest.fixture(autouse=True)
def _lab_idle_timeout(settings):
    settings.SESSION_IDLE_TIMEOUT_MINUTES = 15


def test_a_session_idle_past_the_timeout_ends(client, technician):
    start = timezone.now()
    client.force_login(technician)
    with time_machine.travel(start, tick=False):
        assert client.get(reverse("batch-list")).status_code == 200
    with time_machine.travel(start + timedelta(minutes=14), tick=False):
        assert client.get(reverse("batch-list")).status_code == 200
    with time_machine.travel(start + timedelta(minutes=28), tick=False):
        # 28 minutes after signing in, 14 after the last request: still signed in.
        assert client.get(reverse("batch-list")).status_code == 200
    with time_machine.travel(start + timedelta(minutes=45), tick=False):
        response = client.get(reverse("batch-list"))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login") + "?next=")
        page = client.get(response["Location"])
    assert b"signed out after 15 minutes without activity" in page.content
    assert "_auth_user_id" not in client.session


def test_a_session_idle_past_the_timeout_cannot_use_the_api_either(client, technician):
    start = timezone.now()
    client.force_login(technician)
    with time_machine.travel(start, tick=False):
        assert client.get("/api/v1/batches/").status_code == 200
    with time_machine.travel(start + timedelta(minutes=16), tick=False):
        assert client.get("/api/v1/batches/").status_code in (401, 403)


def test_stay_signed_in_moves_the_activity(client, technician):
    start = timezone.now()
    client.force_login(technician)
    with time_machine.travel(start, tick=False):
        assert client.get(reverse("batch-list")).status_code == 200
    with time_machine.travel(start + timedelta(minutes=14), tick=False):
        kept = client.post(reverse("stay-signed-in"))
        assert kept.status_code == 200 and kept.json()["idle_timeout_seconds"] == 900
    with time_machine.travel(start + timedelta(minutes=28), tick=False):
        assert client.get(reverse("batch-list")).status_code == 200


def test_pages_carry_the_warning_timings(client, technician):
    client.force_login(technician)
    html = client.get(reverse("batch-list")).content.decode()
    assert 'data-idle-timeout="900"' in html and 'data-idle-warn="780"' in html
    assert 'id="idle-warning"' in html and "carnk_mfg/idle.js" in html
