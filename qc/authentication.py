"""`Authorization: Token ik_...`: an instrument key. The request then acts as the
instrument's service account, marked so the audit trail names the instrument."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from qc.services.instruments import KEY_PREFIX, instrument_for_key

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User

    from qc.models import Instrument


def acting_instrument(user: User | AnonymousUser) -> Instrument | None:
    """The instrument a request acts as when an instrument key signed it in, else None."""
    if not getattr(user, "is_instrument", False):
        return None
    # Only `InstrumentKeyAuthentication` marks a user so, and only an instrument's account.
    return cast("User", user).instrument


class InstrumentKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Token"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if len(header) != 2 or header[0].lower() != b"token":
            return None
        try:
            raw = header[1].decode()
        except UnicodeError:
            return None
        if not raw.startswith(KEY_PREFIX):
            return None  # a user token: the next authentication class takes it
        found = instrument_for_key(raw)
        if found is None:
            raise exceptions.AuthenticationFailed("Unknown or revoked instrument key.")
        instrument, key = found
        user = instrument.user
        user.is_instrument = True  # type: ignore[attr-defined]  # this request's mark only
        user.instrument = instrument
        return user, key

    def authenticate_header(self, request):
        return self.keyword


class InstrumentKeyScheme(OpenApiAuthenticationExtension):
    """How the OpenAPI schema describes instrument keys."""

    target_class = InstrumentKeyAuthentication
    name = "instrumentKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Token ik_<prefix>_<secret>`: an instrument's key (readings, imports).",
        }
