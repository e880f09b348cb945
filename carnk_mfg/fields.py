"""Numeric bounds of fields, and the form of identifiers, written once. A model declares a
field's `Range`, which gives the field its validators and the table its CheckConstraint (the
guarantee) from the same numbers; forms, serializers and services read the bounds back from
the model field with `bounds` and `validators_of` (services with `field_errors`), so no limit
is typed twice. An identifier is an `IdentifierField`: its validator and its column's CHECK
come from the one pattern. Free text is a `FreeCharField` or `FreeTextField`: no control
characters, refused by its validator, on every save, and by its column's CHECK."""

from __future__ import annotations

import re
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


# --- free text ---

# What free text (names, notes, reasons, descriptions) may not hold: characters that do not
# print but steer the terminal or the layout, hiding or reordering what a reader sees. Tab,
# line feed and carriage return stay (notes have lines).
REFUSED_IN_FREE_TEXT = (
    (0x00, 0x08),  # C0 controls before tab
    (0x0B, 0x0C),  # vertical tab, form feed
    (0x0E, 0x1F),  # the rest of C0
    (0x7F, 0x9F),  # DEL and the C1 controls
    (0x202A, 0x202E),  # bidirectional embeddings and overrides
    (0x2066, 0x2069),  # bidirectional isolates
)
FREE_TEXT_MESSAGE = (
    "Remove the control character %(character)s (character %(position)s): text may hold tabs "
    "and line breaks, but no control or bidirectional-override characters."
)


def _refused_class(*, first: int = 0) -> str:
    """The refused characters as a regex bracket of \\u escapes, which Python's `re` and
    PostgreSQL's regular expressions read alike."""
    ranges = [(max(low, first), high) for low, high in REFUSED_IN_FREE_TEXT]
    return "[" + "".join(f"\\u{low:04x}-\\u{high:04x}" for low, high in ranges) + "]"


_REFUSED = re.compile(_refused_class())
# PostgreSQL stores no NUL in text at all, and refuses \u0000 in a pattern.
_REFUSED_SQL = _refused_class(first=1)


@deconstructible
class FreeTextValidator:
    """Refuses the characters of REFUSED_IN_FREE_TEXT, naming the first one found."""

    code = "free_text"

    def __call__(self, value: Any) -> None:
        if not isinstance(value, str):
            return
        found = _REFUSED.search(value)
        if found is not None:
            raise ValidationError(
                FREE_TEXT_MESSAGE,
                code=self.code,
                params={"character": f"U+{ord(found.group()):04X}", "position": found.start() + 1},
            )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, FreeTextValidator)

    def __hash__(self) -> int:
        return hash(self.code)


free_text_validator = FreeTextValidator()


def _add_free_text_check(model: type[Model], name: str) -> None:
    """Give the model's table a CHECK refusing what the validator refuses in `name`.

    Django adds a field's own `db_check` only when it creates a column, not when a column
    changes class, so the check is a model constraint, declared by the field itself: every
    free-text field has one, and no model lists them by hand. Abstract models pass theirs to
    each concrete one; the audit trail's event tables copy rows already checked."""
    meta = model._meta
    if meta.abstract or any(base.__module__.startswith("pghistory") for base in model.__mro__[1:]):
        return
    check_name = f"{meta.model_name}_{name}_free_text"
    if any(constraint.name == check_name for constraint in meta.constraints):
        return  # a historical model of a migration already has it from its state
    check = models.CheckConstraint(
        condition=~Q(**{f"{name}__regex": _REFUSED_SQL}),
        name=check_name,
        violation_error_message=f"{name}: control characters are not allowed.",
    )
    meta.constraints = [*meta.constraints, check]  # a new list: Meta's own is shared
    # Migrations read a model's constraints only when its Meta declares some.
    meta.original_attrs["constraints"] = meta.constraints


def free_text_errors(record: Model) -> dict[str, list[str]]:
    """What the validator says of each free-text field of `record`, by field."""
    errors: dict[str, list[str]] = {}
    for field in record._meta.concrete_fields:
        if isinstance(field, FreeCharField | FreeTextField):
            try:
                free_text_validator(getattr(record, field.attname))
            except ValidationError as exc:
                errors[field.name] = exc.messages
    return errors


def _free_text_pre_save(record: Model, value: Any) -> Any:
    """Every save (create, save, bulk_create) checks the record's free text, so a service
    that writes without a form still answers with a message per field, not the database's
    refusal; every refused field at once, whichever field's turn it is."""
    errors = free_text_errors(record)
    if errors:
        raise ValidationError(errors)
    return value


class _FreeText(models.Field[str, str]):
    """What makes a text field free text: its validator, the check at every save and the
    CHECK on its table."""

    default_validators = [free_text_validator]

    def contribute_to_class(self, cls: type[Model], name: str, private_only: bool = False) -> None:
        super().contribute_to_class(cls, name, private_only)
        _add_free_text_check(cls, name)

    def pre_save(self, model_instance: Model, add: bool) -> Any:
        return _free_text_pre_save(model_instance, super().pre_save(model_instance, add))


class FreeCharField(_FreeText, models.CharField[str, str]):
    """A CharField of free text: no control characters (REFUSED_IN_FREE_TEXT), refused by
    forms and serializers (its validator), by every save, and by a CHECK on its table."""


class FreeTextField(_FreeText, models.TextField[str, str]):
    """A TextField of free text, refused like FreeCharField's."""
