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
from typing import Any

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import ResolvedComponent
from rest_framework.permissions import AllowAny

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
            if status in responses:
                continue
            description, body, headers = ANSWERS[status]
            responses[status] = {
                "description": description,
                "content": {"application/json": {"schema": self._component(body)}},
                **({"headers": headers} if headers else {}),
            }
        operation["responses"] = dict(sorted(responses.items()))
        return operation

    def _error_statuses(self, operation: dict[str, Any]) -> list[str]:
        statuses = ["503"]
        has_body = "requestBody" in operation
        if has_body or operation.get("parameters"):
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
