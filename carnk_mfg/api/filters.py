"""The list filters every API list shares, holding to what the schema declares: a filter
given empty is refused unless it is free text, and a search or text filter holding a NUL
character (which no stored text can) finds nothing instead of failing."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema_field
from rest_framework import filters
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.views import APIView


class CheckedFilterBackend(DjangoFilterBackend):
    """django-filter's backend, but `?state=` (a choice, a date, a number given empty) is a 400
    naming the parameter, not silently the same as leaving it out: the schema's enum and
    formats do not include the empty string."""

    # DRF hands a filter backend its own Request, which django-filter's stubs call HttpRequest.
    def filter_queryset(  # type: ignore[override]
        self, request: Request, queryset: QuerySet[Any], view: APIView
    ) -> Any:
        filterset = self.get_filterset(request, queryset, view)
        if filterset is not None:
            empty = {
                name: ["Give a value, or leave the parameter out."]
                for name, declared in filterset.filters.items()
                if type(declared) is not django_filters.CharFilter
                and "" in request.query_params.getlist(name)
            }
            if empty:
                raise ValidationError(empty)
            if any(
                "\x00" in value
                for name, declared in filterset.filters.items()
                if type(declared) is django_filters.CharFilter
                for value in request.query_params.getlist(name)
            ):
                # As for a search: no stored text holds a NUL, so nothing matches.
                return queryset.none()
        return super().filter_queryset(request, queryset, view)


class SearchFilter(filters.SearchFilter):
    def filter_queryset(self, request: Request, queryset: QuerySet[Any], view: APIView) -> Any:
        if "\x00" in request.query_params.get(self.search_param, ""):
            return queryset.none()
        return super().filter_queryset(request, queryset, view)


@extend_schema_field({"type": "boolean"})
class TrueFalseFilter(django_filters.TypedChoiceFilter):
    """`true` or `false`, nothing else (a typo is a 400, not the whole list)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("choices", [("true", "true"), ("false", "false")])
        kwargs.setdefault("coerce", lambda answer: answer == "true")
        super().__init__(**kwargs)
