"""Web sessions on shared lab terminals end after a spell without activity.

A terminal left signed in lets the next person act, and sign, in someone else's name
(21 CFR 11.300). Each request of a signed-in browser session moves the session's last
activity; a request that comes later than the idle timeout finds the session ended. Pages
warn a little before (carnk_mfg/static/carnk_mfg/idle.js) and offer to stay signed in.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

LAST_ACTIVITY = "last_activity"
# Before the session ends, pages show the warning for this long.
WARN_BEFORE_SECONDS = 120
# The activity is written when it has moved by this much, not on every request: a page's
# requests would otherwise each rewrite the session row.
ACTIVITY_STEP_SECONDS = 30


def idle_timeout_seconds() -> int:
    return int(settings.SESSION_IDLE_TIMEOUT_MINUTES * 60)


class IdleSessionMiddleware:
    """End a browser session idle for longer than SESSION_IDLE_TIMEOUT_MINUTES."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        session = getattr(request, "session", None)
        if session is None or not request.user.is_authenticated or session.is_empty():
            return self.get_response(request)
        now = time.time()
        last = session.get(LAST_ACTIVITY)
        if isinstance(last, (int, float)) and now - last > idle_timeout_seconds():
            logout(request)
            if request.path.startswith("/api/"):
                # The API answers as to anyone signed out (401/403 in JSON).
                return self.get_response(request)
            minutes = settings.SESSION_IDLE_TIMEOUT_MINUTES
            messages.info(
                request, f"You were signed out after {minutes:g} minutes without activity."
            )
            query = urlencode({"next": request.get_full_path()})
            return HttpResponseRedirect(f"{reverse('login')}?{query}")
        if not isinstance(last, (int, float)) or now - last >= ACTIVITY_STEP_SECONDS:
            session[LAST_ACTIVITY] = now
        return self.get_response(request)


def start_activity(sender: Any, request: HttpRequest | None, **kwargs: Any) -> None:
    """Signing in is activity: the session's clock starts with it (connected in apps.py)."""
    if request is not None and hasattr(request, "session"):
        request.session[LAST_ACTIVITY] = time.time()


@never_cache
@require_POST
def stay_signed_in(request: HttpRequest) -> JsonResponse:
    """The warning's "stay signed in": a request like any other, which moves the activity."""
    if not request.user.is_authenticated:
        return JsonResponse({"detail": "Signed out."}, status=401)
    return JsonResponse({"idle_timeout_seconds": idle_timeout_seconds()})


def idle_timeout(request: HttpRequest) -> dict[str, Any]:
    """Template context: when pages warn and when they reload to the sign-in page."""
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {}
    return {
        "idle_timeout_seconds": idle_timeout_seconds(),
        "idle_warn_seconds": max(idle_timeout_seconds() - WARN_BEFORE_SECONDS, 0),
    }
