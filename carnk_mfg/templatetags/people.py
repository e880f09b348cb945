"""`{% load people %}{{ user|printed_name }}`: a person as the system prints them
(carnk_mfg.people.printed_name), so a page never words a name its own way."""

from django import template

from carnk_mfg import people

register = template.Library()


@register.filter
def printed_name(user) -> str:
    return people.printed_name(user)
