"""How a person is named wherever the system prints them: signatures, the CoA, labels, pages."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractUser


def printed_name(user: AbstractUser | None) -> str:
    """The person's full name, or their username when the account has none; "" for nobody."""
    if user is None:
        return ""
    return (user.get_full_name() or "").strip() or user.get_username()
