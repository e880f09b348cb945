"""`POST /api/v1/auth/token/`: a user's API token for a username and password.

Throttled and locked like the login page (carnk_mfg/sign_in.py): too many attempts get a 429
with Retry-After, a username locked from this address a 403 with the lockout message. Tokens
are django-rest-knox's: a new one per sign-in, kept as a hash, expiring (REST_KNOX).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import authenticate
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from knox.models import AuthToken
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from carnk_mfg.sign_in import LOGIN_LOCKED, TOO_MANY_ATTEMPTS, sign_in_wait

WRONG_CREDENTIALS = "The username or password is not correct."
SEND_AN_OBJECT = "Send an object with a username and a password."


class CredentialsSerializer(serializers.Serializer[dict[str, str]]):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=128, trim_whitespace=False)


DETAIL = inline_serializer("Detail", {"detail": serializers.CharField()})


class TokenView(APIView):
    """A user's API token for their username and password."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    # Credentials are two flat strings: a login form's encoding carries them as well as JSON.
    parser_classes = [JSONParser, FormParser, MultiPartParser]

    @extend_schema(
        request=CredentialsSerializer,
        responses={
            200: inline_serializer(
                "TokenOut",
                {"token": serializers.CharField(), "expiry": serializers.DateTimeField()},
            ),
            400: OpenApiResponse(description="Missing fields, or wrong username or password"),
            403: OpenApiResponse(DETAIL, description="Locked after repeated wrong passwords"),
            429: OpenApiResponse(DETAIL, description="Too many attempts; see Retry-After"),
        },
    )
    def post(self, request: Request) -> Response:
        if not isinstance(request.data, dict):
            # A list or a bare value names no username: nothing to count or check.
            return Response(
                {"non_field_errors": [SEND_AN_OBJECT]}, status=status.HTTP_400_BAD_REQUEST
            )
        wait = sign_in_wait(request)
        if wait is not None:
            return Response(
                {"detail": TOO_MANY_ATTEMPTS},
                status=status.HTTP_429_TOO_MANY_REQUESTS,
                headers={"Retry-After": str(int(wait) + 1)},
            )
        credentials = CredentialsSerializer(data=request.data)
        credentials.is_valid(raise_exception=True)
        # django-axes marks the Django request it was given when the username is locked.
        django_request = request._request
        user = authenticate(django_request, **credentials.validated_data)
        if getattr(django_request, "axes_locked_out", False):
            return Response({"detail": LOGIN_LOCKED}, status=status.HTTP_403_FORBIDDEN)
        if user is None:
            return Response(
                {"non_field_errors": [WRONG_CREDENTIALS]}, status=status.HTTP_400_BAD_REQUEST
            )
        # A new token each time, stored only as its hash; it lapses after API_TOKEN_HOURS.
        stored, token = AuthToken.objects.create(user=user)
        return Response({"token": token, "expiry": stored.expiry})
