"""How passwords are protected from guessing (21 CFR 11.300(d)), in one place.

- Signing in (the login page and the API token endpoint) is throttled per client address and
  per username, and locked after AXES_FAILURE_LIMIT wrong passwords for that username *from
  that address*: a guesser elsewhere cannot lock a person out of their own terminal.
- Re-entering the password to sign (e-signatures) is counted apart, per person, under its own
  key: only the signed-in person can fail it, so nobody else can lock their signature, and a
  lock on signing does not touch signing in (nor the other way round).

django-axes keeps the counts; `lockout_parameters` tells it which key each kind uses.
"""

from __future__ import annotations

import functools
import hashlib
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.shortcuts import render
from knox.models import AuthToken
from redis.exceptions import RedisError
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView

if TYPE_CHECKING:
    from django.contrib.auth.models import User

LOGIN_LOCKED = (
    "Signing in as this user from this computer is locked after repeated wrong passwords. "
    "Try again in an hour, or ask an administrator to unlock it."
)
SIGNING_LOCKED = (
    "Your e-signature is locked after repeated wrong passwords. Ask an administrator to unlock it."
)
TOO_MANY_ATTEMPTS = "Too many sign-in attempts. Wait a minute and try again."

logger = logging.getLogger(__name__)

# Failed signing passwords are counted under this prefix and the signer's username.
SIGNING_KEY_PREFIX = "e-signature:"


def signing_credentials(signer: User) -> dict[str, str]:
    """The key django-axes counts a person's failed signing passwords under."""
    return {"username": f"{SIGNING_KEY_PREFIX}{signer.get_username()}"}


def is_signing_key(username: object) -> bool:
    return isinstance(username, str) and username.startswith(SIGNING_KEY_PREFIX)


def lockout_parameters(
    request_or_attempt: Any, credentials: dict[str, Any] | None = None
) -> list[str | list[str]]:
    """django-axes: signing failures lock the person; sign-in failures lock the username
    from one client address."""
    username = (credentials or {}).get("username", getattr(request_or_attempt, "username", ""))
    if is_signing_key(username):
        return ["username"]
    return [["username", "ip_address"]]


class SignInThrottle(SimpleRateThrottle):
    """Counts sign-in attempts at the rate SIGN_IN_RATES gives its scope (read when asked,
    not when the class is defined, so a site's setting applies)."""

    scope: str

    def get_rate(self) -> str | None:
        rate: str = settings.SIGN_IN_RATES[self.scope]
        return rate


class SignInAddressThrottle(SignInThrottle):
    """Sign-in attempts from one client address."""

    scope = "sign_in_address"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class SignInUsernameThrottle(SignInThrottle):
    """Sign-in attempts for one username, from anywhere."""

    scope = "sign_in_username"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        data = getattr(request, "data", None) or request.POST
        username = str(data.get("username", "")).strip().lower()[:150]
        if not username:
            return None
        # Hashed: a username may hold any character, a cache key may not.
        ident = hashlib.sha256(username.encode()).hexdigest()
        return self.cache_format % {"scope": self.scope, "ident": ident}


SIGN_IN_THROTTLES = (SignInAddressThrottle, SignInUsernameThrottle)
# DRF's throttles take the view they guard; these key on the request alone.
SIGN_IN_VIEW = APIView()


def sign_in_wait(request: Any) -> float | None:
    """Seconds to wait if this sign-in attempt is over a throttle, else None (it is counted).
    `request` is Django's or DRF's: the throttles read only its META and posted data."""
    waits = []
    for throttle_class in SIGN_IN_THROTTLES:
        throttle = throttle_class()
        try:
            allowed = throttle.allow_request(request, SIGN_IN_VIEW)
        except (RedisError, OSError):
            # The counters live in Redis; without it, sign-in goes on and the lockout (in the
            # database) still stops guessing.
            logger.warning("Sign-in throttle skipped: the cache is not available.")
            return None
        if not allowed:
            waits.append(throttle.wait() or 60.0)
    return max(waits) if waits else None


def throttle_sign_in(
    view: Callable[..., HttpResponseBase],
) -> Callable[..., HttpResponseBase]:
    """Wrap a login page (ours and the admin's) so that a posted attempt over a throttle
    gets a 429 with Retry-After instead of reaching the password check."""

    @functools.wraps(view)
    def throttled(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if request.method == "POST":
            wait = sign_in_wait(request)
            if wait is not None:
                answer = render(
                    request,
                    "registration/locked_out.html",
                    {"message": TOO_MANY_ATTEMPTS},
                    status=429,
                )
                answer["Retry-After"] = str(int(wait) + 1)
                return answer
        return view(request, *args, **kwargs)

    return throttled


def locked_out(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: dict[str, Any] | None = None,
) -> HttpResponse:
    """django-axes' answer when an attempt is refused for a lock (AXES_LOCKOUT_CALLABLE,
    called with the response the view gave and the credentials tried)."""
    username = (credentials or {}).get("username")
    message = SIGNING_LOCKED if is_signing_key(username) else LOGIN_LOCKED
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": message}, status=403)
    return render(request, "registration/locked_out.html", {"message": message}, status=403)


# --- user API tokens end with the trust they rest on ---


def revoke_api_tokens(user: User) -> int:
    """End every API token of `user` (instrument keys are separate and untouched)."""
    deleted: int = AuthToken.objects.filter(user=user).delete()[0]
    return deleted


def revoke_tokens_on_password_change(sender: Any, instance: User, **kwargs: Any) -> None:
    """pre_save of a user: a new password ends the tokens issued under the old one."""
    if instance.pk is None:
        return
    stored = type(instance)._default_manager.filter(pk=instance.pk).values("password").first()
    if stored is not None and stored["password"] != instance.password:
        revoke_api_tokens(instance)


def revoke_tokens_on_signing_lockout(sender: Any, username: str = "", **kwargs: Any) -> None:
    """django-axes user_locked_out: a signing lock ends the person's API tokens (whoever
    holds their session or token is failing their password). A sign-in lock is per client
    address and set off by anyone, so it revokes nothing."""
    if not is_signing_key(username):
        return
    person = (
        get_user_model()
        ._default_manager.filter(username=username.removeprefix(SIGNING_KEY_PREFIX))
        .first()
    )
    if person is not None:
        revoke_api_tokens(person)
