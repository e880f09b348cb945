"""ISBT 128 Donation Identification Numbers (DIN) and product codes.

A DIN is 13 characters:

* facility identification number (FIN): one character from A–N, P–Z or 1–9
  (letter O and digit 0 are excluded so they cannot be confused), then 4 digits;
* year: 2 digits;
* sequence number: 6 digits.

The keyboard check character is ISO/IEC 7064 Mod 37-2 over those 13 characters.
In a barcode the DIN appears as ``=`` + DIN + two flag characters; flags "60".."96"
carry the same check value (60 + value) so a scanner can verify the read.

Pure Python on purpose: no Django imports, so it is usable from anywhere.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass

__all__ = [
    "CHECK_ALPHABET",
    "DIN",
    "DIN_LENGTH",
    "FACILITY_FIRST_CHARACTERS",
    "COLLECTION_TYPES",
    "COI_LENGTH",
    "DINError",
    "ProductCodeError",
    "check_character",
    "check_value",
    "coi_check_character",
    "coi_eye_readable",
    "coi_from_scan",
    "coi_identifier",
    "computed_check_flags",
    "parse_barcode",
    "parse_din",
    "product_code",
    "validate_coi",
    "validate_din",
    "verify_check_character",
]

DIN_LENGTH = 13
BARCODE_PREFIX = "="
BARCODE_LENGTH = len(BARCODE_PREFIX) + DIN_LENGTH + 2

# Mod 37-2 values: "0".."9" -> 0..9, "A".."Z" -> 10..35, "*" -> 36 (check only).
CHECK_ALPHABET = string.digits + string.ascii_uppercase + "*"
_VALUE = {char: value for value, char in enumerate(CHECK_ALPHABET)}

# O and 0 are excluded from the first FIN character to avoid O/0 confusion.
FACILITY_FIRST_CHARACTERS = string.ascii_uppercase.replace("O", "") + string.digits.replace("0", "")

# Computed-check flags are 60 + check value, i.e. "60".."96".
_COMPUTED_FLAG_OFFSET = 60
_COMPUTED_FLAG_RANGE = range(_COMPUTED_FLAG_OFFSET, _COMPUTED_FLAG_OFFSET + len(CHECK_ALPHABET))

_DIGITS = frozenset(string.digits)  # explicit ASCII: str.isdigit() also accepts e.g. "²"
_FLAG_CHARACTERS = frozenset(string.digits + string.ascii_uppercase)
# Only ASCII is upper-cased: str.upper() can change length (e.g. "ß" -> "SS").
_ASCII_UPPER = str.maketrans(string.ascii_lowercase, string.ascii_uppercase)


class DINError(ValueError):
    """A DIN, check character, flag pair or barcode is malformed.

    ``message`` says exactly what is wrong, suitable for showing to a user.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _normalize(text: object, what: str) -> str:
    """Strip surrounding whitespace and upper-case ASCII letters."""
    if not isinstance(text, str):
        raise DINError(f"{what} must be a string, got {type(text).__name__}")
    return text.strip().translate(_ASCII_UPPER)


def _all_digits(text: str) -> bool:
    return bool(text) and all(char in _DIGITS for char in text)


def _check_facility(facility: str) -> None:
    if len(facility) != 5:
        raise DINError(f"facility code must be 5 characters, got {len(facility)}")
    if facility[0] not in FACILITY_FIRST_CHARACTERS:
        raise DINError(f"facility code must start with A–N, P–Z or 1–9, not {facility[0]!r}")
    if not _all_digits(facility[1:]):
        raise DINError(f"facility code must end with four digits, got {facility!r}")


def _check_year(year: str) -> None:
    if len(year) != 2 or not _all_digits(year):
        raise DINError(f"year must be two digits, got {year!r}")


def _check_sequence(sequence: str) -> None:
    if len(sequence) != 6 or not _all_digits(sequence):
        raise DINError(f"sequence number must be six digits, got {sequence!r}")


def validate_din(din: str) -> str:
    """Return ``din`` stripped and upper-cased, or raise DINError saying what is wrong.

    Rules: 13 characters = FIN (A–N/P–Z/1–9 + 4 digits) + 2-digit year + 6-digit sequence.
    """
    text = _normalize(din, "DIN")
    if len(text) != DIN_LENGTH:
        raise DINError(f"DIN must be {DIN_LENGTH} characters, got {len(text)}")
    _check_facility(text[:5])
    _check_year(text[5:7])
    _check_sequence(text[7:])
    return text


def _mod37_2(text: str) -> int:
    # ISO/IEC 7064 Mod 37-2, recursive form: double the running sum after each
    # character; the check value makes the weighted total congruent to 1 mod 37.
    p = 0
    for char in text:
        p = ((p + _VALUE[char]) * 2) % 37
    return (38 - p) % 37


def check_value(din: str) -> int:
    """Return the ISO/IEC 7064 Mod 37-2 check value (0..36) of a valid DIN."""
    return _mod37_2(validate_din(din))


def check_character(din: str) -> str:
    """Return the keyboard check character of a DIN: 0–9, A–Z, or ``*`` for 36."""
    return CHECK_ALPHABET[check_value(din)]


def computed_check_flags(din: str) -> str:
    """Return the "computed check" flag characters for a DIN: 60 + check value, "60".."96"."""
    return f"{_COMPUTED_FLAG_OFFSET + check_value(din):02d}"


def verify_check_character(din: str, check: str) -> str:
    """Return the normalized DIN if ``check`` (case-insensitive) is its check character.

    Raises DINError naming the expected and the given character otherwise.
    """
    text = validate_din(din)
    given = _normalize(check, "check character")
    if len(given) != 1 or given not in CHECK_ALPHABET:
        raise DINError(f"check character must be one of 0–9, A–Z or *, got {given!r}")
    expected = CHECK_ALPHABET[_mod37_2(text)]
    if given != expected:
        raise DINError(f"check character for {text} is {expected}, not {given}")
    return text


def _validate_flags(flags: object, din_text: str) -> str:
    """Normalize a flag pair; computed-check flags must match the DIN."""
    text = _normalize(flags, "flags")
    if len(text) != 2 or any(char not in _FLAG_CHARACTERS for char in text):
        raise DINError(f"flags must be two letters or digits, got {text!r}")
    if _all_digits(text) and int(text) in _COMPUTED_FLAG_RANGE:
        expected = computed_check_flags(din_text)
        if text != expected:
            raise DINError(f"computed check flags for {din_text} are {expected}, not {text}")
    return text


@dataclass(frozen=True)
class DIN:
    """A validated Donation Identification Number.

    Fields are normalized (stripped, upper-cased) and checked on construction.
    """

    facility_code: str
    year: str
    sequence: str

    def __post_init__(self) -> None:
        facility = _normalize(self.facility_code, "facility code")
        year = _normalize(self.year, "year")
        sequence = _normalize(self.sequence, "sequence number")
        _check_facility(facility)
        _check_year(year)
        _check_sequence(sequence)
        # Frozen dataclass: object.__setattr__ is the supported way to store normalized values.
        object.__setattr__(self, "facility_code", facility)
        object.__setattr__(self, "year", year)
        object.__setattr__(self, "sequence", sequence)

    @classmethod
    def from_text(cls, din: str) -> DIN:
        """Build from a plain 13-character DIN."""
        text = validate_din(din)
        return cls(facility_code=text[:5], year=text[5:7], sequence=text[7:])

    def __str__(self) -> str:
        return self.text

    @property
    def text(self) -> str:
        """The 13-character DIN."""
        return self.facility_code + self.year + self.sequence

    @property
    def check_value(self) -> int:
        """Mod 37-2 check value, 0..36."""
        return _mod37_2(self.text)

    @property
    def check_character(self) -> str:
        """Keyboard check character: 0–9, A–Z or ``*``."""
        return CHECK_ALPHABET[self.check_value]

    @property
    def eye_readable(self) -> str:
        """Facility, year, sequence and check character separated by spaces."""
        return f"{self.facility_code} {self.year} {self.sequence} {self.check_character}"

    @property
    def computed_check_flags(self) -> str:
        """Flag characters carrying the check value: 60 + value, "60".."96"."""
        return f"{_COMPUTED_FLAG_OFFSET + self.check_value:02d}"

    def barcode(self, flags: str = "00") -> str:
        """Barcode data content: ``=`` + DIN + two flag characters.

        Computed-check flags (60..96) that do not match this DIN are refused,
        so a barcode built here always scans back through parse_barcode.
        """
        return BARCODE_PREFIX + self.text + _validate_flags(flags, self.text)


def parse_din(text: str) -> DIN:
    """Parse a 13-character DIN, or 14 characters with the check character appended.

    The appended check character is verified (case-insensitive).
    """
    raw = _normalize(text, "DIN")
    if len(raw) == DIN_LENGTH:
        return DIN.from_text(raw)
    if len(raw) == DIN_LENGTH + 1:
        return DIN.from_text(verify_check_character(raw[:-1], raw[-1]))
    raise DINError(
        f"DIN must be {DIN_LENGTH} characters, or {DIN_LENGTH + 1} with the check "
        f"character, got {len(raw)}"
    )


def parse_barcode(data: str) -> tuple[DIN, str]:
    """Parse DIN barcode data ``=`` + 13-character DIN + 2 flag characters.

    Returns the DIN and the flags. Flags 60..96 are a computed check and must
    equal the DIN's computed check flags; other flags are returned as-is.
    """
    raw = _normalize(data, "barcode data")
    if not raw.startswith(BARCODE_PREFIX):
        found = repr(raw[0]) if raw else "nothing"
        raise DINError(f"DIN barcode data must start with {BARCODE_PREFIX!r}, got {found}")
    if len(raw) != BARCODE_LENGTH:
        raise DINError(
            f"DIN barcode data must be {BARCODE_LENGTH} characters ('=' + 13-character DIN "
            f"+ 2 flag characters), got {len(raw)}"
        )
    din = DIN.from_text(raw[1 : 1 + DIN_LENGTH])
    flags = _validate_flags(raw[1 + DIN_LENGTH :], din.text)
    return din, flags


def din_from_scan(text: str) -> DIN:
    """The DIN a barcode scanner or a person gave: DIN barcode data (``=`` + DIN + flags), or
    the DIN typed with its check character (the eye-readable spacing may stay). A typed DIN
    without its check character is refused: manual entry requires it."""
    raw = _normalize(text, "scan")
    if raw.startswith(BARCODE_PREFIX):
        return parse_barcode(raw)[0]
    compact = raw.replace(" ", "")
    if len(compact) == DIN_LENGTH:
        raise DINError(
            "a typed DIN needs its check character (the boxed character after it on the label)"
        )
    if len(compact) != DIN_LENGTH + 1:
        raise DINError(
            f"scan the DIN barcode, or type the {DIN_LENGTH}-character DIN and its check "
            f"character; got {len(compact)} characters"
        )
    return parse_din(compact)


# ------------------------------------------------------- Chain of Identity identifiers
#
# The CoI Identifier of ISBT 128 ST-028 names one patient-product chain and is carried in
# addition to the DIN. ST-028 itself could not be consulted where this was written, so its
# layout here is modelled on the DIN, widened: the facility identification number (5
# characters, as in the DIN), a 2-digit year and an 8-digit sequence number, 15 characters,
# with the DIN's ISO/IEC 7064 Mod 37-2 keyboard check character. The barcode carries the
# identifier and its check character; no data identifier is put in front.

COI_LENGTH = 15


def validate_coi(identifier: str) -> str:
    """Return a Chain of Identity identifier stripped and upper-cased, or raise DINError
    saying what is wrong: FIN (5) + year (2) + sequence number (8 digits)."""
    text = _normalize(identifier, "Chain of Identity identifier")
    if len(text) != COI_LENGTH:
        raise DINError(
            f"a Chain of Identity identifier is {COI_LENGTH} characters, got {len(text)}"
        )
    _check_facility(text[:5])
    _check_year(text[5:7])
    if not _all_digits(text[7:]):
        raise DINError(f"sequence number must be eight digits, got {text[7:]!r}")
    return text


def coi_identifier(facility_code: str, year: int, number: int) -> str:
    """A new Chain of Identity identifier from the facility's FIN, the year and a sequence
    number (1 to 99 999 999)."""
    if not 0 < number < 10**8:
        raise DINError(f"a Chain of Identity sequence number is 1 to 99999999, not {number}")
    return validate_coi(f"{facility_code}{year % 100:02d}{number:08d}")


def coi_check_character(identifier: str) -> str:
    """The keyboard check character (Mod 37-2) of a Chain of Identity identifier."""
    return CHECK_ALPHABET[_mod37_2(validate_coi(identifier))]


def coi_eye_readable(identifier: str) -> str:
    """Facility, year and sequence separated by spaces, as printed."""
    text = validate_coi(identifier)
    return f"{text[:5]} {text[5:7]} {text[7:]}"


def coi_from_scan(text: str) -> str:
    """The Chain of Identity identifier a barcode scanner or a person gave: the identifier and
    its check character (the eye-readable spacing may stay); the check character is verified,
    and manual entry without it is refused."""
    compact = _normalize(text, "scan").replace(" ", "")
    if len(compact) == COI_LENGTH:
        raise DINError(
            "a typed Chain of Identity identifier needs its check character (the boxed "
            "character after it on the label)"
        )
    if len(compact) != COI_LENGTH + 1:
        raise DINError(
            f"scan the Chain of Identity barcode, or type the {COI_LENGTH}-character "
            f"identifier and its check character; got {len(compact)} characters"
        )
    identifier, given = validate_coi(compact[:-1]), compact[-1]
    expected = coi_check_character(identifier)
    if given != expected:
        raise DINError(f"check character for {identifier} is {expected}, not {given}")
    return identifier


# ------------------------------------------------------------------ product codes
#
# A product code (data structure 003) is 8 characters: the product description code (one
# upper-case letter, then four digits, e.g. S1145), the collection type character, and the
# two-character division code.

PRODUCT_DESCRIPTION_CODE_PATTERN = r"^[A-Z][0-9]{4}$"
# Division codes: an upper-case letter, then a lower-case letter or 0 ("A0", "Ab"; "00" on a
# product that was never divided is not one of ours: every bag has its division).
DIVISION_PATTERN = r"^[A-Z][a-z0]$"

# The collection (donation) type character, ST-001 Table 7 (data structure 003, 6th
# character). The letters are case-sensitive: "r", "s" and "d" are the paid counterparts.
COLLECTION_TYPES: dict[str, str] = {
    "0": "Not specified",
    "V": "Volunteer allogeneic",
    "R": "Volunteer research (not for human application)",
    "S": "Volunteer source",
    "T": "Volunteer therapeutic",
    "P": "Paid allogeneic",
    "r": "Paid research (not for human application)",
    "s": "Paid source",
    "A": "Autologous, eligible for crossover",
    "1": "For autologous use only",
    "X": "For autologous use only, biohazard",
    "D": "Volunteer directed, eligible for crossover",
    "d": "Paid directed, eligible for crossover",
    "2": "For directed recipient use only",
    "L": "For directed recipient use only, limited exposure",
    "E": "Medical exception, for a specified recipient only (allogeneic)",
    "Q": "See the special testing barcode",
    "3": "For directed recipient use only, biohazard",
    "4": "Designated",
    "5": "Dedicated",
    "6": "Designated, biohazard",
    "F": "Family reserved",
    "C": "Replacement",
    "7": "For allogeneic use",
    "8": "For autologous use, contains allogeneic material",
}


class ProductCodeError(ValueError):
    """A product description code, collection type or division code is malformed;
    ``field`` names which, ``message`` says what is wrong."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def product_code(description_code: str, collection_type: str, division: str) -> str:
    """The 8-character ISBT 128 product code of a bag: the product description code, the
    collection type character and the division (case kept: each character's case means
    something). Raises ProductCodeError naming the part that is wrong."""
    if not isinstance(description_code, str) or not re.fullmatch(
        PRODUCT_DESCRIPTION_CODE_PATTERN, description_code
    ):
        raise ProductCodeError(
            "product_description_code",
            f"a product description code is a capital letter and four digits (S1145), "
            f"not {description_code!r}",
        )
    if collection_type not in COLLECTION_TYPES:
        raise ProductCodeError(
            "collection_type", f"{collection_type!r} is not an ISBT 128 collection type"
        )
    if not isinstance(division, str) or not re.fullmatch(DIVISION_PATTERN, division):
        raise ProductCodeError(
            "division",
            f"a division code is a capital letter, then a small letter or 0 (A0, Ab), "
            f"not {division!r}",
        )
    return description_code + collection_type + division
