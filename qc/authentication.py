"""`Authorization: Token ik_...`: an instrument key. The request then acts as the
instrument's service account, marked so the audit trail names the instrument."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from qc.services.instruments import KEY_PREFIX, instrument_for_key


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
        user.is_instrument = True
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
