"""Guessing passwords: throttled per client address and per username, locked per username
and address for signing in, and never able to lock a signed-in person's e-signature."""

from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from knox.models import AuthToken

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


def test_a_forged_forwarded_for_header_neither_escapes_nor_aims_the_throttle(client, settings):
    settings.SIGN_IN_RATES = {"sign_in_address": "3/minute", "sign_in_username": "99/minute"}
    codes = [
        client.post(
            TOKEN,
            {"username": f"user{n}", "password": "guess"},
            REMOTE_ADDR=GUESSER,
            HTTP_X_FORWARDED_FOR=f"198.51.100.{n}",
        ).status_code
        for n in range(5)
    ]
    assert codes == [400, 400, 400, 429, 429]
    # The address named in the forged header is not held back.
    answer = client.post(
        TOKEN, {"username": "user9", "password": "guess"}, REMOTE_ADDR="198.51.100.1"
    )
    assert answer.status_code == 400


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


def test_the_admin_login_page_is_throttled_too(client, settings):
    settings.SIGN_IN_RATES = {"sign_in_address": "2/minute", "sign_in_username": "99/minute"}
    codes = [
        client.post(
            "/admin/login/", {"username": f"u{n}", "password": "x"}, REMOTE_ADDR=GUESSER
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


# --- API tokens ---


def issue(client, user, address=QA_TERMINAL):
    answer = token_attempt(client, user.username, PASSWORD, address)
    assert answer.status_code == 200
    return answer.json()["token"]


def works(client, token):
    return client.get("/api/v1/batches/", HTTP_AUTHORIZATION=f"Token {token}").status_code == 200


def test_each_sign_in_issues_a_new_token_kept_only_as_a_hash(client, qa):
    first, second = issue(client, qa), issue(client, qa)
    assert first != second and works(client, first) and works(client, second)
    stored = AuthToken.objects.filter(user=qa)
    assert stored.count() == 2
    assert not stored.filter(digest__in=[first, second]).exists()


def test_a_token_lapses_after_its_lifetime(client, qa, settings):
    token = issue(client, qa)
    lifetime = settings.REST_KNOX["TOKEN_TTL"]
    with time_machine.travel(timezone.now() + lifetime - timedelta(minutes=1), tick=False):
        assert works(client, token)
    with time_machine.travel(timezone.now() + lifetime + timedelta(minutes=1), tick=False):
        answer = client.get("/api/v1/batches/", HTTP_AUTHORIZATION=f"Token {token}")
        assert answer.status_code == 401


def test_a_password_change_ends_the_tokens(client, qa, technician):
    mine, theirs = issue(client, qa), issue(client, technician)
    qa.set_password("a-new-and-long-password-2026")
    qa.save()
    assert not works(client, mine) and works(client, theirs)


def test_saving_a_user_without_a_new_password_keeps_the_tokens(client, qa):
    token = issue(client, qa)
    qa.first_name = "Quinn"
    qa.save()
    assert works(client, token)


def test_deactivation_ends_the_tokens(client, qa):
    token = issue(client, qa)
    type(qa).objects.filter(pk=qa.pk).update(is_active=False)
    assert not works(client, token)


def test_a_signing_lockout_ends_the_persons_tokens_a_sign_in_lockout_does_not(client, qa, settings):
    settings.AXES_FAILURE_LIMIT = 2
    token = issue(client, qa)
    for _ in range(2):
        token_attempt(client, qa.username, "guess", GUESSER)
    assert works(client, token)  # anyone can set off a sign-in lock: it revokes nothing
    unit = CordBloodUnitFactory.create(eligibility="pending", status="received")
    for _ in range(2):
        with pytest.raises(ValidationError):
            donor.cord_blood_unit_determine_eligibility(
                actor=qa, password="wrong", unit=unit, eligibility="eligible", notes=""
            )
    assert not works(client, token)
