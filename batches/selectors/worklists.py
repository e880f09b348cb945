"""The worklists of QA, clinical staff and couriers, one query each: the home page counts and
shows the first rows of the same query its full worklist lists, so the two always agree. The
technicians' lists are in `batches.selectors.due_steps`; QC's in `qc.selectors.worklist`.

A clinical list is of one clinician's recipients (those they treat) or, with `clinician=None`,
of every recipient."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from itertools import chain
from typing import TYPE_CHECKING, Any

from django.contrib.contenttypes.models import ContentType
from django.db.models import Exists, OuterRef, QuerySet, Subquery
from django.db.models.fields import CharField
from django.db.models.functions import Cast
from django.utils import timezone

from batches.models import (
    AdverseEvent,
    Batch,
    BatchState,
    CordBloodUnit,
    CustodyEvent,
    Deviation,
    DeviationState,
    DoseUnit,
    DoseUnitStatus,
    Eligibility,
    FeederLot,
    FollowUpVisit,
    Infusion,
    LotStatus,
    ProcessTemplate,
    ReagentLot,
    TemplateStatus,
    UnitStatus,
    VectorLot,
)
from batches.selectors.clinical import visit_open_q, visit_overdue_q
from batches.selectors.release import RECORD_REVIEW
from carnk_mfg.models import ElectronicSignature

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User

# --- QA ---


def deviations_to_disposition() -> QuerySet[Deviation]:
    """Open deviations, oldest first: each holds its batch until QA dispositions it."""
    return (
        Deviation.objects.filter(state=DeviationState.OPEN)
        .select_related("batch", "opened_by")
        .order_by("opened_at", "id")
    )


def records_to_review() -> QuerySet[Batch]:
    """Batches in QC whose record QA has not yet reviewed (signed), oldest first."""
    reviewed = ElectronicSignature.objects.filter(
        RECORD_REVIEW,
        content_type=ContentType.objects.get_for_model(Batch),
        object_id=Cast(OuterRef("pk"), output_field=CharField()),
    )
    return (
        Batch.objects.filter(state=BatchState.IN_QC)
        .exclude(Exists(reviewed))
        .select_related("source_unit", "intended_recipient")
        .order_by("created_at", "id")
    )


def units_awaiting_eligibility() -> QuerySet[CordBloodUnit]:
    """Cord blood units, not discarded, whose donor eligibility QA has yet to determine,
    oldest registered first."""
    return (
        CordBloodUnit.objects.filter(eligibility=Eligibility.PENDING)
        .exclude(status=UnitStatus.DISCARDED)
        .order_by("id")
    )


LOT_MODELS = (("vector", VectorLot), ("feeder", FeederLot), ("reagent", ReagentLot))


def lots_awaiting_disposition() -> list[tuple[str, Any]]:
    """(kind, lot) of every material lot still in quarantine, oldest received first."""
    lots = chain.from_iterable(
        ((kind, lot) for lot in model.objects.filter(status=LotStatus.QUARANTINED))
        for kind, model in LOT_MODELS
    )
    return sorted(lots, key=lambda pair: (pair[1].received_on, pair[0], pair[1].pk))


def templates_awaiting_approval() -> QuerySet[ProcessTemplate]:
    """Draft process templates, oldest first: QA approves (or leaves) each."""
    return ProcessTemplate.objects.filter(status=TemplateStatus.DRAFT).order_by("id")


# --- clinical ---


def treated_by(
    items: QuerySet[Any], clinician: User | AnonymousUser | None, *, recipient: str = "recipient"
) -> QuerySet[Any]:
    """The items of recipients `clinician` treats; all of them when `clinician` is None."""
    if clinician is None:
        return items
    return items.filter(**{f"{recipient}__treating_clinician": clinician.pk})


def bags_to_issue(*, clinician: User | AnonymousUser | None) -> QuerySet[DoseUnit]:
    """Bags released for, and assigned to, the clinician's recipients and not yet issued:
    soonest to expire first."""
    return (
        treated_by(
            DoseUnit.objects.filter(
                status__in=[DoseUnitStatus.RELEASED, DoseUnitStatus.ASSIGNED],
                recipient__isnull=False,
            ),
            clinician,
        )
        .select_related("batch", "recipient")
        .order_by("expires_at", "id")
    )


def bags_in_stock() -> QuerySet[DoseUnit]:
    """Released bags assigned to no recipient yet (off-the-shelf stock), soonest to expire
    first: clinical staff assign them."""
    return (
        DoseUnit.objects.filter(status=DoseUnitStatus.RELEASED, recipient__isnull=True)
        .select_related("batch")
        .order_by("expires_at", "id")
    )


def bags_in_transit(*, clinician: User | AnonymousUser | None) -> QuerySet[DoseUnit]:
    """Bags issued from the lab for the clinician's recipients and not yet infused, soonest
    to expire first."""
    return (
        treated_by(DoseUnit.objects.filter(status=DoseUnitStatus.ISSUED), clinician)
        .select_related("batch", "recipient")
        .order_by("expires_at", "id")
    )


def infusions_today(*, now: datetime, clinician: User | AnonymousUser | None) -> QuerySet[Infusion]:
    """Infusions of the clinician's recipients started today (local day of `now`), in
    order."""
    day = timezone.localdate(now)
    start = timezone.make_aware(datetime.combine(day, time.min))
    return (
        treated_by(
            Infusion.objects.filter(
                started_at__gte=start, started_at__lt=start + timedelta(days=1)
            ),
            clinician,
        )
        .select_related("recipient", "dose_unit__batch")
        .order_by("started_at", "id")
    )


def open_visits(*, clinician: User | AnonymousUser | None = None) -> QuerySet[FollowUpVisit]:
    return treated_by(FollowUpVisit.objects.filter(visit_open_q()), clinician).select_related(
        "recipient"
    )


def visits_overdue(
    *, now: datetime, clinician: User | AnonymousUser | None = None
) -> QuerySet[FollowUpVisit]:
    """Follow-up visits past due (the one rule, `visit_overdue_q`), soonest due first."""
    return (
        open_visits(clinician=clinician).filter(visit_overdue_q(now=now)).order_by("due_at", "id")
    )


def visits_due_soon(
    *, now: datetime, within: timedelta, clinician: User | AnonymousUser | None = None
) -> QuerySet[FollowUpVisit]:
    """Open follow-up visits due from `now` to `within` later, soonest first."""
    return (
        open_visits(clinician=clinician)
        .filter(due_at__gte=now, due_at__lte=now + within)
        .order_by("due_at", "id")
    )


def open_adverse_events(*, clinician: User | AnonymousUser | None) -> QuerySet[AdverseEvent]:
    """Adverse events of the clinician's recipients not yet resolved, highest grade first,
    then oldest onset."""
    return (
        treated_by(AdverseEvent.objects.filter(resolved_at__isnull=True), clinician)
        .select_related("recipient", "infusion")
        .order_by("-grade", "onset_at", "id")
    )


# --- couriers ---


def _last_taker() -> Subquery:
    """Who took the bag in its latest hand-off."""
    return Subquery(
        CustodyEvent.objects.filter(dose_unit=OuterRef("pk"))
        .order_by("-occurred_at", "-id")
        .values("received_by")[:1]
    )


def bags_held_by(courier: User | AnonymousUser) -> QuerySet[DoseUnit]:
    """Issued bags whose latest hand-off gave them to `courier`: they carry them now,
    soonest to expire first."""
    return (
        DoseUnit.objects.filter(status=DoseUnitStatus.ISSUED)
        .alias(taker=_last_taker())
        .filter(taker=courier.pk)
        .select_related("batch", "recipient")
        .order_by("expires_at", "id")
    )


def bags_to_pick_up() -> QuerySet[DoseUnit]:
    """Bags assigned to a recipient and issued to no one, soonest to expire first: the
    lab's issue hand-off (which needs an assigned bag) may give them to a courier."""
    return (
        DoseUnit.objects.filter(status=DoseUnitStatus.ASSIGNED)
        .select_related("batch", "recipient")
        .order_by("expires_at", "id")
    )
