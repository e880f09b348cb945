"""Scan anywhere: the records a scanned or typed identifier names, of the kinds the person
may view.

One text is tried as every kind of identifier the lab handles: a DIN (with or without its
check character, eye-readable spacing, or the ISBT 128 DIN barcode data `=` + DIN + flags),
which names a cord blood unit or a batch; a bag (its DIN
and division, `Bag <DIN> <division>` as its page calls it, both barcodes read together
`=<DIN><flags>=<product code>`, or its number); a batch lot number, a material lot number, a
recipient's subject ID and a QC sample ID. Text that could be no identifier at all (too long,
control characters, spaces inside a lot number) asks the database nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.urls import reverse

from batches import documents, ports
from batches.models import (
    Batch,
    CordBloodUnit,
    DoseUnit,
    FeederLot,
    ReagentLot,
    Recipient,
    VectorLot,
)
from carnk_mfg import isbt128
from carnk_mfg.fields import IDENTIFIER_PATTERN
from carnk_mfg.roles import actor_may

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User

# Longer than any identifier or pair of barcodes the lab prints: nothing to look up.
MAX_FIND_LENGTH = 100
# A bag's number as its page's address gives it; more digits than any row id is not one.
BAG_NUMBER = re.compile(r"^(?:bag\s*)?#?\s*(?P<pk>[0-9]{1,12})$", re.IGNORECASE)
# "Bag W042026000001 A0", "W0420 26 000001 6 A0": a DIN, then the two division characters.
BAG_NAME = re.compile(
    r"^(?:bag\s+)?(?P<din>[0-9A-Za-z ]{13,18}?)\s+(?P<division>[0-9A-Za-z]{2})$", re.IGNORECASE
)
PRODUCT_CODE_PREFIX = "=<"
IDENTIFIER = re.compile(IDENTIFIER_PATTERN)
MATERIAL_LOTS = (VectorLot, FeederLot, ReagentLot)


@dataclass(frozen=True)
class Match:
    what: str  # the kind of record, in the lab's words
    name: str  # the identifier as the record's page shows it
    url: str


@dataclass
class Found:
    """What a text names: its records the person may view, and why a near miss missed."""

    text: str
    matches: list[Match] = field(default_factory=list)
    hints: list[str] = field(default_factory=list)


def find_records(text: str, *, actor: User | AnonymousUser) -> Found:
    """Every record `text` names that `actor` may view, in a fixed order of kinds."""
    text = text.strip()
    found = Found(text=text)
    if not text:
        return found
    if len(text) > MAX_FIND_LENGTH or not text.isprintable():
        found.hints.append(
            f"That is not an identifier this system prints: at most {MAX_FIND_LENGTH} "
            "characters, without control characters."
        )
        return found
    may = {
        what: actor_may(actor, permission)
        for what, permission in (
            ("unit", "batches.view_cordbloodunit"),
            ("batch", "batches.view_batch"),
            ("bag", "batches.view_doseunit"),
            ("recipient", "batches.view_recipient"),
            ("qc", "qc.view_qctest"),
        )
    }
    if may["unit"] or may["batch"]:
        _by_din(found, may)
    if may["bag"]:
        _bags(found)
    if IDENTIFIER.fullmatch(text):
        _by_identifier(found, actor, may)
    # Each record once: a lot number and a number may both name one batch or bag.
    found.matches = list({match.url: match for match in found.matches}.values())
    return found


def _din_of(text: str) -> isbt128.DIN:
    """A DIN as scanned (barcode data) or typed (13 characters, or 14 with the check
    character; spaces of the eye-readable form allowed). Raises DINError saying why not."""
    if text.startswith("=") and not text.startswith(PRODUCT_CODE_PREFIX):
        return isbt128.parse_barcode(text)[0]
    return isbt128.parse_din(text.replace(" ", ""))


def _looks_like_a_din(text: str) -> bool:
    compact = text.replace(" ", "")
    return compact.startswith("=") or len(compact) in (
        isbt128.DIN_LENGTH,
        isbt128.DIN_LENGTH + 1,
    )


def _by_din(found: Found, may: dict[str, bool]) -> None:
    try:
        din = _din_of(found.text)
    except isbt128.DINError as exc:
        # Text holding a product code is a bag's barcodes: _bags says what is wrong with it.
        if _looks_like_a_din(found.text) and PRODUCT_CODE_PREFIX not in found.text:
            found.hints.append(f"Read as a DIN: {exc.message}.")
        return
    if may["unit"]:
        for unit in CordBloodUnit.objects.filter(din=din.text):
            found.matches.append(
                Match("Cord blood unit", unit.din, reverse("cbu-detail", args=[unit.din]))
            )
    if may["batch"]:
        for batch in Batch.objects.filter(din=din.text):
            found.matches.append(
                Match(
                    f"Batch {batch.lot_number} (DIN)",
                    batch.din,
                    _batch_url(batch),
                )
            )


def _bag_division(text: str) -> tuple[str, str] | None:
    """(DIN text, division) of a bag's name or of its two barcodes read together; None when
    `text` names no bag this way."""
    barcodes = text.split(PRODUCT_CODE_PREFIX)
    if len(barcodes) == 2 and barcodes[0].strip():
        din_part, product_code = barcodes[0].strip(), barcodes[1].strip()
        try:
            data = documents.product_code_data_structure(product_code)
        except ValueError:
            return None
        return din_part, data[-2:]
    named = BAG_NAME.match(text)
    return (named["din"], named["division"]) if named else None


def _bags(found: Found) -> None:
    number = BAG_NUMBER.match(found.text)
    if number:
        for bag in DoseUnit.objects.select_related("batch").filter(pk=int(number["pk"])):
            found.matches.append(_bag_match(bag))
    pair = _bag_division(found.text)
    if pair is None:
        if found.text.startswith(PRODUCT_CODE_PREFIX):
            found.hints.append(
                "A product code names a kind of product, not one bag: scan the bag's DIN "
                "barcode too (both together name the bag)."
            )
        return
    try:
        din = _din_of(pair[0])
    except isbt128.DINError as exc:
        found.hints.append(f"Read as a bag's DIN: {exc.message}.")
        return
    bags = DoseUnit.objects.select_related("batch").filter(
        batch__din=din.text, division=pair[1].upper()
    )
    found.matches.extend(_bag_match(bag) for bag in bags)


def _batch_url(batch: Batch) -> str:
    return reverse("batch-detail", args=[batch.lot_number])


def _bag_match(bag: DoseUnit) -> Match:
    return Match("Bag", f"{bag.batch.din} {bag.division}", reverse("bag-detail", args=[bag.pk]))


def _by_identifier(found: Found, actor: User | AnonymousUser, may: dict[str, bool]) -> None:
    """Lot numbers, subject IDs and sample IDs: as typed, or in another case (one of each
    spelling when the lab registered two)."""
    text = found.text
    if may["batch"]:
        for batch in Batch.objects.filter(lot_number__iexact=text):
            found.matches.append(Match("Batch", batch.lot_number, _batch_url(batch)))
    for model in MATERIAL_LOTS:
        if actor_may(actor, f"batches.view_{model._meta.model_name}"):
            for lot in model.objects.filter(lot_number__iexact=text):
                url = reverse("lot-detail", args=[lot.kind, lot.lot_number])
                found.matches.append(Match(f"{lot.kind.capitalize()} lot", lot.lot_number, url))
    if may["recipient"]:
        for recipient in Recipient.objects.filter(subject_id__iexact=text):
            found.matches.append(
                Match(
                    "Recipient",
                    recipient.subject_id,
                    reverse("recipient-detail", args=[recipient.subject_id]),
                )
            )
    if may["qc"]:
        test = ports.qc_test_of_sample(sample_id=text)
        if test is not None:
            found.matches.append(
                Match(
                    f"QC sample: {test.definition.name}", text, reverse("qc-test", args=[test.pk])
                )
            )
