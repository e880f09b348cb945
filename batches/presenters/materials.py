"""Material lots (vector, feeder cells, reagents) on the pages: which kinds a user may see or
register, each kind's lots with whether they are usable today, and a lot's own fields."""

from __future__ import annotations

from datetime import timedelta

from django.utils.text import capfirst

from batches.models import LotStatus
from batches.services.materials import LOT_MODELS, lot_usability
from carnk_mfg.roles import actor_may

LOT_KIND_TITLES = {"vector": "Vector lots", "feeder": "Feeder cell lots", "reagent": "Reagent lots"}
# Fields every kind of lot has: the page shows them in its header, not with the details.
SHARED_LOT_FIELDS = {
    "id",
    "lot_number",
    "manufacturer",
    "received_on",
    "expiry_date",
    "status",
    "status_reason",
    "dispositioned_by",
    "dispositioned_at",
    "registered_by",
    "registered_at",
    # Shown in the lot page's stock card.
    "quantity_received",
    "quantity_on_hand",
    "unit",
}


def lot_permission(kind: str, action: str) -> str:
    return f"batches.{action}_{LOT_MODELS[kind]._meta.model_name}"


def lot_kinds_allowed(user, action: str) -> list[str]:
    """The kinds of lot on which the user may take `action` ("view", "add", ...)."""
    return [kind for kind in LOT_MODELS if actor_may(user, lot_permission(kind, action))]


def lot_sections(kinds: list[str], *, may_add: set[str], today) -> list[dict]:
    """One section per kind: its lots, each with whether it is usable today."""
    return [
        {
            "kind": kind,
            "title": LOT_KIND_TITLES[kind],
            "can_register": kind in may_add,
            "rows": [
                {"lot": lot, "usability": lot_usability(lot, on=today)}
                for lot in LOT_MODELS[kind]._default_manager.all()
            ],
        }
        for kind in kinds
    ]


def lots_for_page(kind: str):
    return LOT_MODELS[kind]._default_manager.select_related("registered_by", "dispositioned_by")


def lot_details(lot) -> list[tuple[str, object]]:
    """The kind-specific fields of a lot, as label/value pairs."""
    rows = []
    for field in lot._meta.concrete_fields:
        if field.name in SHARED_LOT_FIELDS:
            continue
        if field.choices:
            value = getattr(lot, f"get_{field.name}_display")()
        else:
            value = getattr(lot, field.name)
        rows.append((capfirst(str(field.verbose_name)), value))
    return rows


def expiring_lots(kinds: list[str], *, today, within_days: int) -> list[dict]:
    """Lots of these kinds that run out between today and `within_days` from now (rejected
    lots left out), soonest first."""
    horizon = today + timedelta(days=within_days)
    expiring = [
        {"kind": kind, "lot": lot}
        for kind in kinds
        for lot in LOT_MODELS[kind]
        ._default_manager.filter(expiry_date__range=(today, horizon))
        .exclude(status=LotStatus.REJECTED)
    ]
    return sorted(expiring, key=lambda row: row["lot"].expiry_date)
