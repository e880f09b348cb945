"""What the Certificate of Analysis and the bag labels both take in: the product's name, the
source unit's donor eligibility, and the checks every input value goes through."""

from __future__ import annotations

import enum
from datetime import datetime

from carnk_mfg.isbt128 import DIN

PRODUCT_DESCRIPTION = "CAR-NK cells (anti-CD19 CAR, IL-15, iC9), allogeneic"
CONSTRUCT = "iC9/CAR.19/IL15"


class DonorEligibility(enum.StrEnum):
    """Donor eligibility of the source unit (21 CFR 1271.50/.60/.65); values match the model."""

    PENDING = "pending"
    ELIGIBLE = "eligible"
    INELIGIBLE = "ineligible"
    INCOMPLETE = "incomplete"

    @property
    def label(self) -> str:
        return {
            "pending": "Not yet determined",
            "eligible": "Eligible",
            "ineligible": "Ineligible",
            "incomplete": "Incomplete (determination not complete)",
        }[self.value]


def require_aware(value: datetime | None, what: str) -> None:
    """Refuse a date-time without a zone: it is printed and encoded in the zone it carries."""
    if value is None:
        return
    if not isinstance(value, datetime):
        raise TypeError(f"{what} must be a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware, got {value.isoformat()}")


def as_din(value: DIN | str, what: str) -> DIN:
    """A DIN, given as one or as its 13-character text."""
    if isinstance(value, DIN):
        return value
    if isinstance(value, str):
        return DIN.from_text(value)
    raise TypeError(f"{what} must be a DIN or a 13-character string, got {type(value).__name__}")


def require_text(value: str, what: str) -> None:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{what} must not be empty")
