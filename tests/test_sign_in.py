"""Guessing passwords: throttled per client address and per username, locked per username
and address for signing in, and never able to lock a signed-in person's e-signature."""

import pytest
from django.urls import reverse

from batches.services import donor
from carnk_mfg.sign_in import LOGIN_LOCKED, TOO_MANY_ATTEMPTS
from tests.factories import PASSWORD, CordBloodUnitFactory

pytestmark = pytest.mark.django_db
GUESSER = "203.0.113.9"
QA_TERMINAL = "198.51.100.20"
TOKEN = "/api/v1/auth/token/"


def token_attempt(client, username, password, address):
    return client.post(TOKEN, {"username": username, "password": password}, REMOTE_ADDR=address)


def test_an_anonymous_guesser_cannot_lock_a_signed_in_persons_signature(client, qa, settings):
    settings.AXES_FAILURE_LIMIT = 5
    codes = [token_attempt(client, qa.username, "guess", GUESSER).status_code for _ in range(5)]
    # The fifth wrong password locks qa at the guesser's address, in the lockout's words ...
    assert codes == [400, 400, 400, 400, 403]
    locked = token_attempt(client, qa.username, PASSWORD, GUESSER)
    assert locked.status_code == 403 and locked.json() == {"detail": LOGIN_LOCKED}
    page = client.post(
        reverse("login"), {"username": qa.username, "password": PASSWORD}, REMOTE_ADDR=GUESSER
    )
    assert page.status_code == 403
    # ... QA at their own terminal signs in and signs.
    answer = token_attempt(client, qa.username, PASSWORD, QA_TERMINAL)
    assert answer.status_code == 200 and answer.json()["token"]
    unit = CordBloodUnitFactory.create(eligibility="pending", status="received")
    signed = donor.cord_blood_unit_determine_eligibility(
        actor=qa, password=PASSWORD, unit=unit, eligibility="eligible", notes=""
    )
    assert signed.eligibility == "eligible"


def test_the_token_endpoint_is_throttled_per_address(client, qa, settings):
    settings.SIGN_IN_RATES = {"sign_in_address": "5/minute", "sign_in_username": "99/minute"}
    answers = [token_attempt(client, f"user{n}", "guess", GUESSER) for n in range(8)]
    assert [a.status_code for a in answers] == [400] * 5 + [429] * 3
    assert answers[-1].json() == {"detail": TOO_MANY_ATTEMPTS}
    assert 0 < int(answers[-1]["Retry-After"]) <= 61
    # Another address is not held back.
    assert token_attempt(client, qa.username, PASSWORD, QA_TERMINAL).status_code == 200


def test_the_token_endpoint_is_throttled_per_username(client, qa, settings):
    settings.SIGN_IN_RATES = {"sign_in_address": "99/minute", "sign_in_username": "3/minute"}
    codes = [
        token_attempt(client, "spray", "guess", f"192.0.2.{n}").status_code for n in range(1, 6)
    ]
    assert codes == [400, 400, 400, 429, 429]


def test_the_login_page_is_throttled_too(client, settings):
    settings.SIGN_IN_RATES = {"sign_in_address": "2/minute", "sign_in_username": "99/minute"}
    codes = [
        client.post(
            reverse("login"), {"username": f"u{n}", "password": "x"}, REMOTE_ADDR=GUESSER
        ).status_code
        for n in range(3)
    ]
    assert codes == [200, 200, 429]


def test_signing_in_goes_on_when_the_throttles_cache_is_down(client, qa, settings):
    # Nothing listens on port 1: every cache call fails, as with Redis stopped.
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    assert token_attempt(client, qa.username, PASSWORD, QA_TERMINAL).status_code == 200


def test_the_token_endpoint_answers_missing_fields_per_field(client):
    answer = client.post(TOKEN, {}, REMOTE_ADDR=GUESSER)
    assert answer.status_code == 400 and set(answer.json()) == {"username", "password"}
