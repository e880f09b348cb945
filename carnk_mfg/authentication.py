"""API authentication classes (kept apart from views: DRF imports these while it starts)."""

from rest_framework import authentication


class TokenAuthentication(authentication.TokenAuthentication):
    """`Authorization: Token <key>` for user API tokens (DESIGN section 10)."""

    keyword = "Token"
