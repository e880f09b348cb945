"""What a bedside scan names and whether it matches: the bag from its two barcodes, its Chain of
Identity identifier, and the patient's second identifier. `bedside.bedside_verify` reads each;
every reason is worded for the nurse at the bedside."""

from __future__ import annotations

from datetime import date

from batches.models import DoseUnit, Recipient
from batches.selectors import chain_of_identity
from carnk_mfg import isbt128


def bag_from_scan(bag: str, product_code: str) -> tuple[DoseUnit | None, str]:
    """The bag a scan names: the DIN barcode (`=DIN` + flags, or the DIN typed with its check
    character) and the product code barcode (`=<` + code; its last two characters are the
    division)."""
    try:
        din = isbt128.din_from_scan(bag[:40])
    except isbt128.DINError as exc:
        return None, f"The bag barcode is not a valid DIN: {exc}"
    code = product_code.strip().removeprefix("=<")
    if len(code) != 8:
        return None, "Scan the bag's product code barcode too."
    unit = (
        DoseUnit.objects.select_related("batch__recall", "recipient")
        .filter(batch__din=din.text, division=code[-2:])
        .first()
    )
    if unit is None:
        return None, f"No bag {din.text} division {code[-2:]} is known."
    if code != unit.product_code:
        return unit, (
            f"WRONG PRODUCT: the product code scanned is {code}, this bag's is {unit.product_code}."
        )
    return unit, ""


def chain_of_identity_reasons(unit: DoseUnit, scanned_coi: str) -> list[str]:
    """The bag's Chain of Identity identifier (its batch and the recipient it was assigned to)
    must be the one scanned off it; a bag with no chain must not carry one."""
    chain = chain_of_identity(unit.batch, unit.recipient_id)
    if not scanned_coi.strip():
        return [f"Scan the bag's Chain of Identity barcode ({chain})."] if chain else []
    try:
        scanned = isbt128.coi_from_scan(scanned_coi[:40])
    except isbt128.DINError as exc:
        return [f"The Chain of Identity barcode is not valid: {exc}"]
    if chain is None:
        return [f"This bag has no Chain of Identity identifier, yet {scanned} was scanned."]
    if scanned != chain:
        return [
            f"WRONG CHAIN OF IDENTITY: the identifier scanned is {scanned}, this bag's is {chain}."
        ]
    return []


def second_identifier_reasons(
    recipient: Recipient, date_of_birth: date | None, medical_record_number: str
) -> list[str]:
    """A second patient identifier besides the wristband's subject ID: the date of birth or
    the medical record number, each compared with the one on file. What is on file is never
    shown here: a mismatch says only that it does not match."""
    who = recipient.subject_id
    on_file_mrn = recipient.medical_record_number.strip().upper()
    given_mrn = medical_record_number.strip().upper()
    if recipient.date_of_birth is None and not on_file_mrn:
        return [
            f"No date of birth or medical record number is on file for {who}: a second patient "
            "identifier is needed before any infusion; record one on the recipient first."
        ]
    if date_of_birth is None and not given_mrn:
        return [
            "Give the patient's date of birth or medical record number (a second patient "
            "identifier besides the wristband ID)."
        ]
    reasons = []
    if date_of_birth is not None:
        if recipient.date_of_birth is None:
            reasons.append(
                f"No date of birth is on file for {who}: give the medical record number."
            )
        elif date_of_birth != recipient.date_of_birth:
            reasons.append(f"WRONG PATIENT: the date of birth given is not {who}'s.")
    if given_mrn:
        if not on_file_mrn:
            reasons.append(
                f"No medical record number is on file for {who}: give the date of birth."
            )
        elif given_mrn != on_file_mrn:
            reasons.append(f"WRONG PATIENT: the medical record number given is not {who}'s.")
    return reasons
