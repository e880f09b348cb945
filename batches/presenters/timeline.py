"""The batch timeline: executed steps, counts, deviations (opened and dispositioned), custody
hand-offs of the batch and its source unit, and state changes, in the order they happened."""

from __future__ import annotations

from batches.models import BatchState, ExecutedStep
from batches.selectors import sublists
from carnk_mfg.signatures import signatures_for

S = BatchState


def step_values(executed: ExecutedStep, params: list) -> list[dict]:
    """The recorded value of each template parameter, with its range and whether the value
    fell outside it."""
    values = executed.values or {}
    shown = []
    for param in params:
        value = values.get(param.code)
        low, high = param.min_value, param.max_value
        number = None
        outside = False
        if isinstance(value, int | float) and not isinstance(value, bool):
            number = value  # the page writes it in lab notation (lab_number)
            outside = (low is not None and value < low) or (high is not None and value > high)
        shown.append(
            {
                "name": param.name,
                "number": number,
                "value": "—" if value in (None, "") else value,
                "unit": param.unit,
                "low": low,
                "high": high,
                "outside": outside,
            }
        )
    return shown


def batch_timeline(batch, *, params_by_step, series, latest, newest=None):
    """The timeline of the batch page, oldest first: the current counts (one per culture
    day) and the latest `latest` steps, deviations, custody hand-offs of the batch and of its
    unit, and state changes; each full list has its own page. `newest`: those latest steps,
    custody hand-offs and deviations (keys of `RECORD_LISTS`) when the page has read them
    already."""
    if newest is None:
        newest = {
            "steps": list(sublists.steps_newest_first(batch)[:latest]),
            "custody": list(sublists.custody_newest_first(batch)[:latest]),
            "deviations": list(sublists.deviations_newest_first(batch)[:latest]),
        }
    steps, custody = newest["steps"], newest["custody"]
    entries = [
        *_step_entries(steps, params_by_step, _step_signatures(steps)),
        *({"kind": "count", "at": p["count"].measured_at, "point": p} for p in series),
        *_deviation_entries(newest["deviations"]),
        *(
            {
                "kind": "custody",
                "at": event.occurred_at,
                "event": event,
                "of": "batch" if event.batch_id else "unit",
            }
            for event in custody
        ),
        *_state_entries(sublists.state_events_newest_first(batch)[:latest]),
    ]
    entries.sort(key=lambda entry: entry["at"])
    return entries


def _step_signatures(steps: list[ExecutedStep]) -> dict[int, list[dict]]:
    """Each step's signatures, with whether the step still holds what they attest."""
    by_step: dict[int, list[dict]] = {}
    for row in sublists.signature_rows(list(signatures_for(*steps).order_by("signed_at", "id"))):
        by_step.setdefault(int(row["signature"].object_id), []).append(row)
    return by_step


def _step_entries(steps, params_by_step, step_signatures) -> list[dict]:
    return [
        {
            "kind": "step",
            "at": executed.performed_at,
            "step": executed,
            "values": step_values(executed, params_by_step.get(executed.template_step_id, [])),
            "materials": list(executed.materials.all()),
            "signatures": step_signatures.get(executed.pk, []),
        }
        for executed in steps
    ]


def _deviation_entries(deviations) -> list[dict]:
    entries = []
    for deviation in deviations:
        entries.append({"kind": "deviation", "at": deviation.opened_at, "deviation": deviation})
        if deviation.dispositioned_at:
            entries.append(
                {"kind": "disposition", "at": deviation.dispositioned_at, "deviation": deviation}
            )
    return entries


def _state_entries(trail) -> list[dict]:
    """The batch's state changes, read from its audit trail (creation included)."""
    entries = []
    for event in trail:
        if getattr(event, "pgh_obj_model", "") != "batches.Batch":
            continue
        change = _state_change(event)
        if change is None:
            continue
        old, new = change
        context = event.pgh_context if isinstance(event.pgh_context, dict) else {}
        entries.append(
            {
                "kind": "state",
                "at": event.pgh_created_at,
                "old": _state_label(old),
                "new": _state_label(new),
                "new_value": new,
                "who": context.get("actor_name") or "—",
                "why": context.get("reason") or "",
            }
        )
    return entries


def _state_change(event) -> tuple[str, str] | None:
    """(old, new) state of one trail event of a batch, or None when the state did not change."""
    if event.pgh_label == "insert":
        return "", (event.pgh_data or {}).get("state", S.PLANNED)
    change = (event.pgh_diff or {}).get("state")
    if isinstance(change, list | tuple) and len(change) == 2:
        return change[0], change[1]
    return None


def _state_label(value: str) -> str:
    return S(value).label if value in S.values else value
