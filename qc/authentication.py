"""`Authorization: Token ik_...`: an instrument key. The request then acts as the
instrument's service account, marked so the audit trail names the instrument."""

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
