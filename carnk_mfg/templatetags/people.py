"""`{% load people %}{{ user|printed_name }}`: a person as the system prints them
(carnk_mfg.people.printed_name), so a page never words a name its own way."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django import template

from carnk_mfg import people

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractUser

register = template.Library()


@register.filter
def printed_name(user: AbstractUser | None) -> str:
    return people.printed_name(user)
