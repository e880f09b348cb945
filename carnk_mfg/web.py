"""Web plumbing every page shares: who may open it, one service call per POST with its
refusal shown on the form, and the trail and signature rows a record's page shows.

Views stay thin: selectors read, one service writes. A view checks the permission with
`actor_may` (403 without it), hands a valid form's data to one service, and turns the
service's ValidationError back into form errors, so no input gives a server error.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from functools import wraps
from typing import Any, NoReturn, TypeVar

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError
from django.db.models import Model
from django.http import Http404, HttpRequest
from django.http.response import HttpResponseBase
from django.utils import timezone
from django.utils.text import capfirst

from carnk_mfg.roles import actor_may
from carnk_mfg.signatures import signature_intact, signatures_for

# A view function: the request, the URL's arguments, a response.
View = Callable[..., HttpResponseBase]
Result = TypeVar("Result")

CONFLICT = "The change conflicts with another change made at the same time; reload and try again."


def deny(permission: str) -> NoReturn:
    raise PermissionDenied(f"You do not have permission to do this ({permission}).")


def allowed_to(permission: str) -> Callable[[View], View]:
    """Signed-in users with `permission` only: anonymous users go to the login page, others
    get 403. The check is `actor_may`, the same question the services ask."""

    def decorate(view: View) -> View:
        @wraps(view)
        def checked(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not actor_may(request.user, permission):
                deny(permission)
            return view(request, *args, **kwargs)

        return login_required(checked)

    return decorate


def url_text(value: str) -> str:
    """A free-text identifier from the URL; PostgreSQL refuses NUL, so that is a 404."""
    if "\x00" in value:
        raise Http404("No such record.")
    return value


def now_minute() -> datetime:
    """Now, to the minute: the initial value of a datetime-local input."""
    return timezone.now().replace(second=0, microsecond=0)


def form_messages(form: forms.BaseForm) -> list[str]:
    """Every error message of a bound form, field errors and non-field errors alike."""
    return [str(message) for errors in form.errors.values() for message in errors]


def require(request: HttpRequest, permission: str) -> None:
    if not actor_may(request.user, permission):
        deny(permission)


def call_service(
    form: forms.BaseForm, call: Callable[[], Result], *, aliases: dict[str, str] | None = None
) -> Result | None:
    """Run one service call; its refusal becomes form errors and the result None."""
    try:
        return call()
    except ValidationError as exc:
        apply_service_errors(form, exc, aliases)
    except IntegrityError:
        # A race the service's own checks could not see (the database constraint won).
        form.add_error(None, CONFLICT)
    return None


EVENT_LABELS = {"insert": "Created", "update": "Changed", "delete": "Deleted"}


def _field_labels(*models: type[Model]) -> dict[str, tuple[int, str]]:
    """Column name -> (position in the model, label), to show changes in form order."""
    labels: dict[str, tuple[int, str]] = {}
    for model in models:
        for position, field in enumerate(model._meta.concrete_fields):
            label = (position, capfirst(str(field.verbose_name)))
            labels.setdefault(field.attname, label)
            labels.setdefault(field.name, label)
    return labels


def _shown(value: object) -> str:
    return "(empty)" if value is None or value == "" else str(value)


def history_rows(events: Iterable[Any], *models: type[Model]) -> list[dict[str, Any]]:
    """Audit trail events as table rows: when, what, who, why, and old -> new per field."""
    labels = _field_labels(*models)
    model_names = {m._meta.label: capfirst(str(m._meta.verbose_name)) for m in models}
    rows: list[dict[str, Any]] = []
    for event in events:
        context = event.pgh_context if isinstance(event.pgh_context, dict) else {}
        changes: list[dict[str, Any]] = []
        for name, values in (event.pgh_diff or {}).items():
            pair = isinstance(values, list | tuple) and len(values) == 2
            old, new = values if pair else ("", values)
            position, label = labels.get(name, (len(labels), name))
            changes.append({"at": position, "field": label, "old": _shown(old), "new": _shown(new)})
        changes.sort(key=lambda change: change["at"])
        rows.append(
            {
                "at": event.pgh_created_at,
                "event": EVENT_LABELS.get(event.pgh_label, capfirst(event.pgh_label)),
                "record": model_names.get(getattr(event, "pgh_obj_model", ""), ""),
                "who": context.get("actor_name") or "—",
                "why": context.get("reason") or "",
                "changes": changes,
            }
        )
    return rows


def signature_rows(record: Model) -> list[dict[str, Any]]:
    return [
        {"signature": sig, "intact": signature_intact(sig, record)}
        for sig in signatures_for(record)
    ]


def apply_service_errors(
    form: forms.BaseForm, exc: ValidationError, aliases: dict[str, str] | None = None
) -> None:
    """Put a service's ValidationError on the form: per field where the form has that field,
    otherwise as a non-field error (services name model fields, "reason", "__all__", ...)."""
    aliases = aliases or {}
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return
    for name, messages in exc.message_dict.items():
        name = aliases.get(name, name)
        if name in form.fields:
            form.add_error(name, messages)
        else:
            form.add_error(None, messages)
