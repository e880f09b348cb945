"""The OpenAPI schema says what every operation can answer, not only its success.

`DocumentedErrorsSchema` adds to each operation the error answers it can give, each with a
typed body: 400 (bad input, a message per field), 401 and 403 (not signed in, not allowed),
404 (a path naming nothing), 409 (a write that lost a race or a rule), 413 (too large a
body), 415 (a body in a format not read), 429 (throttled, with Retry-After) and 503 (the
database unavailable, with Retry-After). A view that declares one of these itself keeps its own.

`link_created_records` (a postprocessing hook) links each create operation to the reads of
what it created (OpenAPI links), so a client, and schemathesis's stateful phase, can follow
a new record from its creation.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from django.core.validators import MaxValueValidator, MinValueValidator
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import ResolvedComponent
from rest_framework import serializers
from rest_framework.permissions import AllowAny

from carnk_mfg.fields import AboveValidator

ERROR = {
    "type": "object",
    "description": "Why the request was refused.",
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
}
FIELD_ERRORS = {
    "type": "object",
    "description": (
        "Why the input was refused: messages under each refused field's name (nested as the "
        "input is: an object for a nested object, a list for a list), `non_field_errors` for "
        "the request as a whole, or `detail` alone when the body could not be read."
    ),
    "properties": {
        "detail": {"type": "string"},
        "non_field_errors": {"type": "array", "items": {"type": "string"}},
    },
    "additionalProperties": {
        "anyOf": [
            {"type": "array", "items": {}},
            {"type": "object", "additionalProperties": {}},
            {"type": "string"},
        ]
    },
}
RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before trying again",
        "schema": {"type": "integer"},
    }
}
WRITES = {"POST", "PUT", "PATCH", "DELETE"}
# status: (description, body component, headers)
ANSWERS: dict[str, tuple[str, str, dict[str, Any]]] = {
    "400": ("Bad input: a message per refused field or parameter", "FieldErrors", {}),
    "401": ("Not signed in: no valid token, key or session", "Error", {}),
    "403": ("Signed in, but not allowed to do this", "Error", {}),
    "404": ("Nothing found at this path", "Error", {}),
    "409": ("Refused by the record's current state, or changed by someone else first", "Error", {}),
    "413": ("The body is larger than REQUEST_MAX_BYTES; nothing was read", "Error", {}),
    "415": ("The body is in a media type this operation does not read", "Error", {}),
    "429": ("Too many requests; try again after Retry-After seconds", "Error", RETRY_AFTER),
    "503": (
        "The database is unavailable; nothing was saved. Try again after Retry-After seconds",
        "Error",
        RETRY_AFTER,
    ),
}


class DocumentedErrorsSchema(AutoSchema):
    def get_operation(self, *args: Any, **kwargs: Any) -> dict[str, Any] | None:
        operation: dict[str, Any] | None = super().get_operation(*args, **kwargs)
        if operation is None:
            return None
        responses = operation["responses"]
        for status in self._error_statuses(operation):
            description, body, headers = ANSWERS[status]
            # A view's own description of an error stays; its body and headers are these.
            answer = responses.setdefault(status, {"description": description})
            answer.setdefault("content", {"application/json": {"schema": self._component(body)}})
            if headers:
                answer.setdefault("headers", headers)
        operation["responses"] = dict(sorted(responses.items()))
        return operation

    def _insert_field_validators(self, field: Any, schema: dict[str, Any]) -> None:
        """drf-spectacular's mapping of validators, plus the bounds it leaves out: an exclusive
        lower bound (AboveValidator) on a number, and the bounds of a decimal sent and answered
        as a string, as the string's pattern."""
        super()._insert_field_validators(field, schema)  # type: ignore[no-untyped-call]
        bounds = field_bounds(field)
        if schema.get("type") in ("number", "integer") and bounds["above"] is not None:
            schema["minimum"], schema["exclusiveMinimum"] = bounds["above"], True
        elif isinstance(field, serializers.DecimalField) and "pattern" in schema:
            whole = (field.max_digits or 18) - (field.decimal_places or 0)
            pattern = decimal_pattern(whole, field.decimal_places or 0, **bounds)
            if pattern:
                schema["pattern"] = pattern

    def _error_statuses(self, operation: dict[str, Any]) -> list[str]:
        statuses = ["503"]
        has_body = "requestBody" in operation
        in_query = [p for p in operation.get("parameters", []) if p.get("in") == "query"]
        if has_body or in_query:
            statuses.append("400")
        if not all(isinstance(p, AllowAny) for p in self.view.get_permissions()):
            statuses += ["401", "403"]
        if "{" in self.path:
            statuses.append("404")
        if self.method in WRITES:
            statuses.append("409")
        if has_body:
            statuses += ["413", "415"]
        if self.view.get_throttles():
            statuses.append("429")
        return statuses

    def _component(self, name: str) -> dict[str, str]:
        component = ResolvedComponent(  # type: ignore[no-untyped-call]  # drf-spectacular's own
            name=name,
            type=ResolvedComponent.SCHEMA,
            object=name,
            schema=FIELD_ERRORS if name == "FieldErrors" else ERROR,
        )
        self.registry.register_on_missing(component)
        ref: dict[str, str] = component.ref
        return ref


_PARAMETER = re.compile(r"\{(\w+)\}")


def link_created_records(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """Link each create (`POST /things/` answering 201 with the record) to every GET under
    `/things/{key}/` whose only path parameter is a field of what the create answers."""
    paths = result.get("paths", {})
    schemas = result.get("components", {}).get("schemas", {})
    for path, item in paths.items():
        created = item.get("post", {}).get("responses", {}).get("201")
        if not created or "{" in path:
            continue
        ref = created.get("content", {}).get("application/json", {}).get("schema", {}).get("$ref")
        fields = schemas.get(str(ref).rsplit("/", 1)[-1], {}).get("properties", {})
        links = {}
        for other, other_item in paths.items():
            names = _PARAMETER.findall(other)
            get = other_item.get("get")
            if not other.startswith(path) or len(names) != 1 or names[0] not in fields or not get:
                continue
            links[get["operationId"]] = {
                "operationId": get["operationId"],
                "parameters": {names[0]: f"$response.body#/{names[0]}"},
            }
        if links:
            created["links"] = links
    return result


def field_bounds(field: Any) -> dict[str, Decimal | None]:
    """A serializer field's numeric bounds, from its validators."""
    found: dict[str, Decimal | None] = {"low": None, "high": None, "above": None}
    for validator in field.validators:
        for kind, key in ((MinValueValidator, "low"), (MaxValueValidator, "high")):
            if type(validator) is kind:
                found[key] = Decimal(str(validator.limit_value))
        if isinstance(validator, AboveValidator):
            found["above"] = Decimal(str(validator.limit_value))
    return found


def whole_numbers_up_to(n: int, *, from_one: bool = False) -> str:
    """A regex matching the whole numbers 0 (or 1) to n >= 1, written without leading zeros."""
    digits = str(n)
    first = r"[1-9]" if from_one else r"\d"
    parts = [first if k == 1 else rf"[1-9]\d{{{k - 1}}}" for k in range(1, len(digits))]
    for i, digit in enumerate(digits):
        low = 1 if i == 0 and (len(digits) > 1 or from_one) else 0
        if int(digit) - 1 >= low:
            rest = len(digits) - i - 1
            parts.append(
                digits[:i] + f"[{low}-{int(digit) - 1}]" + (rf"\d{{{rest}}}" if rest else "")
            )
    parts.append(digits)
    return "(?:" + "|".join(parts) + ")"


def _magnitude(high: int, places: int, *, above_zero: bool) -> str:
    """Decimals from 0 (or above 0) to the whole number `high`, at most `places` places."""
    fraction = rf"(?:\.\d{{1,{places}}})?" if places else ""
    parts = []
    if high > 1 or (high == 1 and not above_zero):
        parts.append(whole_numbers_up_to(high - 1, from_one=above_zero) if high > 1 else "0")
        parts[-1] += fraction
    if above_zero and places:
        parts.append(rf"0?\.\d{{0,{places - 1}}}[1-9]")
    if high > 0 or not above_zero:
        parts.append(str(high) + (rf"(?:\.0{{1,{places}}})?" if places else ""))
    return "(?:" + "|".join(parts) + ")"


def decimal_pattern(
    whole: int, places: int, *, low: Decimal | None, high: Decimal | None, above: Decimal | None
) -> str:
    """The pattern of a decimal within its bounds, sent as a string, for the bounds this
    project uses (a lower bound of 0, above 0 or below 0; a whole upper bound); "" for others,
    which keep drf-spectacular's pattern (digits only)."""
    limit = 10**whole - 1
    if high is not None and high != int(high) or low is not None and low != int(low):
        return ""
    if above is not None and above != 0 or low is not None and low > 0:
        return ""
    top = int(high) if high is not None else limit
    positive = _magnitude(min(top, limit), places, above_zero=above is not None)
    if above is not None or (low is not None and low >= 0):
        return f"^{positive}$"
    bottom = -int(low) if low is not None else limit
    return f"^(?:-{_magnitude(min(bottom, limit), places, above_zero=False)}|{positive})$"
