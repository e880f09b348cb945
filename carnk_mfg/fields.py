"""Numeric bounds of fields, and the form of identifiers, written once. A model declares a
field's `Range`, which gives the field its validators and the table its CheckConstraint (the
guarantee) from the same numbers; forms, serializers and services read the bounds back from
the model field with `bounds` and `validators_of` (services with `field_errors`), so no limit
is typed twice. An identifier is an `IdentifierField`: its validator and its column's CHECK
come from the one pattern."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.core.validators import (
    BaseValidator,
    MaxValueValidator,
    MinValueValidator,
    RegexValidator,
)
from django.db import models
from django.db.models import Field, Model, Q
from django.utils.deconstruct import deconstructible

Number = int | float | Decimal


@deconstructible
class AboveValidator(BaseValidator):
    """An exclusive lower bound: a volume or a concentration is above zero, not at it."""

    message = "Ensure this value is greater than %(limit_value)s."
    code = "above_value"

    def compare(self, a: Any, b: Any) -> bool:
        return bool(a <= b)


BOUND_VALIDATORS = (MinValueValidator, MaxValueValidator, AboveValidator)


@dataclass(frozen=True)
class Range:
    """`low` to `high` inclusive (either may be None); `above` instead of `low` for an
    exclusive lower bound."""

    low: Number | None = None
    high: Number | None = None
    above: Number | None = None

    def validators(self) -> list[BaseValidator]:
        found: list[BaseValidator] = []
        if self.above is not None:
            found.append(AboveValidator(self.above))
        if self.low is not None:
            found.append(MinValueValidator(self.low))
        if self.high is not None:
            found.append(MaxValueValidator(self.high))
        return found

    def q(self, field: str, *, nullable: bool = False) -> Q:
        """The same bounds as a CheckConstraint condition on `field`."""
        lookups: dict[str, Number] = {}
        if self.above is not None:
            lookups[f"{field}__gt"] = self.above
        if self.low is not None:
            lookups[f"{field}__gte"] = self.low
        if self.high is not None:
            lookups[f"{field}__lte"] = self.high
        condition = Q(**lookups)
        return Q(**{f"{field}__isnull": True}) | condition if nullable else condition


# Bounds shared by many fields.
PERCENT = Range(low=0, high=100)
ABOVE_ZERO = Range(above=0)
NOT_NEGATIVE = Range(low=0)


def _own_field(model: type[Model], name: str) -> Field[Any, Any]:
    """The model's field `name`; a reverse relation holds no value of its own to check."""
    found = model._meta.get_field(name)
    if not isinstance(found, Field):
        raise TypeError(f"{model.__name__}.{name} is a reverse relation, not a field.")
    return found


def validators_of(model: type[Model], field: str) -> list[BaseValidator]:
    """The bound validators of a model field, for a form or serializer field to reuse (the
    same checks and messages as the model)."""
    try:
        model_field = _own_field(model, field)
    except FieldDoesNotExist:
        raise ValueError(f"{model.__name__} has no field {field!r}.") from None
    return [v for v in model_field.validators if isinstance(v, BOUND_VALIDATORS)]


def bounds(model: type[Model], field: str) -> tuple[Number | None, Number | None]:
    """(lowest, highest) a model field allows, None where open; an exclusive lower bound is
    given as its limit (the value itself is refused)."""
    low: Number | None = None
    high: Number | None = None
    for validator in validators_of(model, field):
        if isinstance(validator, MaxValueValidator):
            high = validator.limit_value
        else:
            low = validator.limit_value
    return low, high


def field_errors(model: type[Model], values: dict[str, Any]) -> dict[str, list[str]]:
    """For a service: what the model fields themselves say of these values (type, digits,
    bounds, null), by field, as a form or serializer field says it; no instance, no query,
    so it is cheap enough for every reading of a bulk request."""
    errors: dict[str, list[str]] = {}
    for field, value in values.items():
        try:
            _own_field(model, field).clean(value, None)
        except ValidationError as exc:
            errors[field] = exc.messages
    return errors


# --- identifiers ---

# What an identifier a person types, scans or reads off a label may hold (lot numbers, serial
# numbers, subject and sample IDs): printable ASCII letters and digits, with . _ - / + inside,
# no spaces. Nothing that could hide or reorder text on a label or a screen (control and
# bidirectional characters), nothing that reads as markup.
IDENTIFIER_PATTERN = r"^[A-Za-z0-9]([A-Za-z0-9._/+-]*[A-Za-z0-9])?$"
IDENTIFIER_MESSAGE = (
    "Use letters A-Z, digits and . _ - / + only, no spaces, starting and ending with a letter "
    "or a digit."
)


class IdentifierField(models.CharField[str, str]):
    """A CharField that holds an identifier (IDENTIFIER_PATTERN), checked by its validator
    on every form, serializer and service; its model adds `identifier_check` for the table."""

    default_validators = [
        RegexValidator(IDENTIFIER_PATTERN, IDENTIFIER_MESSAGE, code="identifier"),
    ]


def identifier_check(field: str, *, name: str) -> models.CheckConstraint:
    """The same pattern as the table's CheckConstraint on `field` (whatever path writes)."""
    return models.CheckConstraint(condition=Q(**{f"{field}__regex": IDENTIFIER_PATTERN}), name=name)
