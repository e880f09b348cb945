"""One page of any list the API answers, lists and sub-lists alike: `limit` and `offset`,
checked. A bad value is refused with a message naming it rather than silently replaced by the
default, so a client never mistakes a default page for the one it asked for.

The count is exact up to API_COUNT_AHEAD rows past the page; a longer list says
`count_exact: false` and gives that bound, so that counting half a million readings does not
cost more than the page itself (the `next` link is there as long as rows follow)."""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

_WHOLE_NUMBER = re.compile(r"[0-9]+")
# The largest offset accepted: past the end of any list, and far below PostgreSQL's bigint.
OFFSET_MAX = 10**15


class CheckedLimitOffsetPagination(LimitOffsetPagination):
    """LimitOffsetPagination whose `limit` (1 to API_PAGE_SIZE_MAX) and `offset` (0 or more)
    must be whole numbers given at most once; otherwise 400 with a message per parameter."""

    @property
    def max_limit(self) -> int:  # type: ignore[override]  # read from settings when used
        return int(settings.API_PAGE_SIZE_MAX)

    def paginate_queryset(
        self, queryset: Any, request: Request, view: APIView | None = None
    ) -> list[Any] | None:
        errors: dict[str, list[str]] = {}
        for name, low in ((self.limit_query_param, 1), (self.offset_query_param, 0)):
            message = self._refusal(request, name, low)
            if message:
                errors[name] = [message]
        if errors:
            raise ValidationError(errors)
        self.count_bound = (
            self.get_offset(request) + self.get_limit(request) + int(settings.API_COUNT_AHEAD)
        )
        return super().paginate_queryset(queryset, request, view)

    def _refusal(self, request: Request, name: str, low: int) -> str:
        given = request.query_params.getlist(name)
        if not given:
            return ""
        if len(given) > 1:
            return f"Give {name} once."
        if not _WHOLE_NUMBER.fullmatch(given[0]):
            return f"{name} must be a whole number of at least {low}."
        high = self.max_limit if name == self.limit_query_param else OFFSET_MAX
        # Compared as digits first: int() of a very long string is itself refused by Python.
        if len(given[0].lstrip("0")) > len(str(high)) or int(given[0]) > high:
            return f"{name} may be at most {high}."
        if int(given[0]) < low:
            return f"{name} must be at least {low}."
        return ""

    def get_count(self, queryset: Any) -> int:
        bound = self.count_bound
        # COUNT(*) over a LIMIT subquery: it stops reading at the bound.
        counted = len(queryset) if isinstance(queryset, list) else queryset[: bound + 1].count()
        self.count_exact = counted <= bound
        return min(counted, bound)

    def get_paginated_response(self, data: Any) -> Response:
        envelope = super().get_paginated_response(data).data
        return Response({"count": self.count, "count_exact": self.count_exact, **envelope})

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        envelope = super().get_paginated_response_schema(schema)
        envelope["required"] = [*envelope["required"], "count_exact"]
        envelope["properties"]["count_exact"] = {
            "type": "boolean",
            "description": "False when the list is longer than `count`, a lower bound then.",
        }
        return envelope

    def get_limit(self, request: Request) -> int:
        given = request.query_params.get(self.limit_query_param)
        return int(given) if given else int(self.default_limit or self.max_limit)

    def get_offset(self, request: Request) -> int:
        given = request.query_params.get(self.offset_query_param)
        return int(given) if given else 0

    def get_schema_operation_parameters(self, view: APIView) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        bounds = {
            self.limit_query_param: {"minimum": 1, "maximum": self.max_limit},
            self.offset_query_param: {"minimum": 0, "maximum": OFFSET_MAX},
        }
        for parameter in parameters:
            parameter["schema"].update(bounds.get(parameter["name"], {}))
        return parameters
