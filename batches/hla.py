"""HLA typing, the cord blood match grade and the KIR ligands: pure functions, no database.

Typing is entered per locus as two alleles separated by a comma, at two-field (allele) level
("A*02:01, A*03:01") or first-field (antigen) level ("A*02, A*03"); longer names are cut to two
fields, and a homozygous locus repeats its allele ("A*02:01, A*02:01"; one allele alone is read
as homozygous). The stored form is the canonical text `format_locus` gives, so the record stays
readable and every reader parses it here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

LOCI = ("A", "B", "C", "DRB1")
FIELD_OF_LOCUS = {"A": "hla_a", "B": "hla_b", "C": "hla_c", "DRB1": "hla_drb1"}

_ALLELE = re.compile(
    r"^(?:HLA-)?(?:(?P<locus>A|B|C|DRB1)\*)?(?P<f1>\d{2,3})(?::(?P<f2>\d{2,4}))?"
    r"(?::\d{2,4}){0,2}(?P<suffix>[NLSCAQ])?$"
)


class TypingError(ValueError):
    """A typing that cannot be read; the message says what is wrong in the lab's words."""


@dataclass(frozen=True)
class Allele:
    locus: str
    first: str  # the antigen (allele group) field, e.g. "02"
    second: str = ""  # the protein field; empty at antigen level
    null: bool = False  # an "N" allele: not expressed, so it carries no KIR ligand

    @property
    def antigen(self) -> str:
        return f"{self.locus}*{self.first}"

    @property
    def two_field(self) -> str:
        return f"{self.antigen}:{self.second}" if self.second else ""

    def __str__(self) -> str:
        return (self.two_field or self.antigen) + ("N" if self.null else "")


def parse_allele(locus: str, text: str) -> Allele:
    match = _ALLELE.match(text.strip().upper())
    if not match:
        raise TypingError(
            f"“{text.strip()}” is not an HLA-{locus} allele; write e.g. {locus}*02:01 "
            f"(allele level) or {locus}*02 (antigen level)."
        )
    if match["locus"] and match["locus"] != locus:
        raise TypingError(f"{text.strip()} is not an HLA-{locus} allele.")
    return Allele(locus, match["f1"], match["f2"] or "", match["suffix"] == "N")


def parse_locus(locus: str, text: str) -> tuple[Allele, Allele] | None:
    """The two alleles of a locus, or None when nothing is typed; TypingError when unreadable."""
    text = (text or "").strip()
    if not text:
        return None
    parts = [p for p in re.split(r"[,;]|\s+", text) if p]
    if len(parts) not in (1, 2):
        raise TypingError(
            f"Give two HLA-{locus} alleles separated by a comma, e.g. {locus}*02:01, "
            f"{locus}*03:01 (one allele alone reads as homozygous)."
        )
    # One allele reported at a locus is read as homozygous, as registries read it; the
    # canonical form then writes it twice, so the record says what was assumed.
    alleles = [parse_allele(locus, p) for p in parts]
    return alleles[0], alleles[-1]


def hla_help(locus: str) -> str:
    return f"Two alleles, e.g. {locus}*02:01, {locus}*03:01 (or {locus}*02, {locus}*03)."


def format_locus(pair: tuple[Allele, Allele] | None) -> str:
    return "" if pair is None else f"{pair[0]}, {pair[1]}"


def normalized_typing(values: dict[str, str]) -> dict[str, str]:
    """The typing fields (hla_a, hla_b, hla_c, hla_drb1) in canonical form; ValidationError-ready
    per-field messages are raised as a dict in TypingErrors.errors."""
    out: dict[str, str] = {}
    errors: dict[str, str] = {}
    for locus, name in FIELD_OF_LOCUS.items():
        if name not in values:
            continue
        try:
            out[name] = format_locus(parse_locus(locus, values[name]))
        except TypingError as exc:
            errors[name] = str(exc)
    if errors:
        raise TypingErrors(errors)
    return out


class TypingErrors(ValueError):
    def __init__(self, errors: dict[str, str]):
        super().__init__(errors)
        self.errors = errors


@dataclass
class Typing:
    """One person's (or unit's) typing, each locus None when not typed."""

    loci: dict[str, tuple[Allele, Allele] | None] = field(default_factory=dict)
    unreadable: list[str] = field(default_factory=list)  # loci kept as free text, not parsed

    @classmethod
    def of(cls, record) -> Typing:
        """The typing of a unit or recipient; a locus whose old free text cannot be read
        counts as not typed, and is named in `unreadable`."""
        typing = cls()
        for locus, name in FIELD_OF_LOCUS.items():
            try:
                typing.loci[locus] = parse_locus(locus, getattr(record, name, ""))
            except TypingError:
                typing.loci[locus] = None
                typing.unreadable.append(locus)
        return typing

    def get(self, locus: str) -> tuple[Allele, Allele] | None:
        return self.loci.get(locus)


# --- match grade ---------------------------------------------------------------------------
#
# Convention: the cord blood "x/6" grade, HLA-A and -B at antigen level and HLA-DRB1 at allele
# level (US cord blood selection guidelines, minimum 4/6; WMDA Search & Match, "How to perform
# A, B Antigen, DRB1 ARD level CBU searches": the match class "is based on Antigen level
# matching at the A* and B* locus whereas ... ARD level is used for DRB1"). The antigen is
# taken as the allele's first field, which is the serological antigen for almost all common
# alleles (splits such as B*15 -> B62/B75 are not told apart). A mismatch counts in either
# direction: per locus the larger of the graft-versus-host count (recipient alleles the unit
# lacks) and the host-versus-graft count (unit alleles the recipient lacks), so a unit
# homozygous A*02 for a recipient A*02, A*03 is one mismatch.

GRADED = (("A", "antigen"), ("B", "antigen"), ("DRB1", "allele"))


@dataclass
class LocusMatch:
    locus: str
    level: str
    matches: int | None  # None: a side is not typed (or DRB1 is not at allele level)
    note: str = ""


@dataclass
class MatchGrade:
    loci: list[LocusMatch]

    @property
    def matches(self) -> int | None:
        if any(m.matches is None for m in self.loci):
            return None
        return sum(m.matches for m in self.loci)  # type: ignore[misc]

    @property
    def complete(self) -> bool:
        return self.matches is not None

    def __str__(self) -> str:
        if self.matches is None:
            missing = ", ".join(f"HLA-{m.locus}" for m in self.loci if m.matches is None)
            return f"Not computable (typing missing or too coarse at {missing})"
        return f"{self.matches}/6"


def _keys(pair: tuple[Allele, Allele], level: str) -> list[str] | None:
    if level == "antigen":
        return [a.antigen for a in pair]
    if not all(a.second for a in pair):
        return None
    return [a.two_field for a in pair]


def _locus_mismatches(unit: list[str], recipient: list[str]) -> int:
    gvh = sum(1 for r in recipient if r not in unit)
    hvg = sum(1 for u in unit if u not in recipient)
    # A homozygous side counts its one allele once, not twice.
    if unit[0] == unit[1]:
        hvg = min(hvg, 1)
    if recipient[0] == recipient[1]:
        gvh = min(gvh, 1)
    return max(gvh, hvg)


def match_grade(unit: Typing, recipient: Typing) -> MatchGrade:
    loci = []
    for locus, level in GRADED:
        u, r = unit.get(locus), recipient.get(locus)
        if u is None or r is None:
            who = "unit" if u is None else "recipient"
            loci.append(LocusMatch(locus, level, None, f"The {who} is not typed at HLA-{locus}."))
            continue
        uk, rk = _keys(u, level), _keys(r, level)
        if uk is None or rk is None:
            who = "unit" if uk is None else "recipient"
            note = f"The {who}'s HLA-{locus} is not typed at allele (two-field) level."
            loci.append(LocusMatch(locus, level, None, note))
            continue
        loci.append(LocusMatch(locus, level, 2 - _locus_mismatches(uk, rk)))
    return MatchGrade(loci)


# --- KIR ligands ---------------------------------------------------------------------------
#
# HLA-C group by the residue at position 80: asparagine = C1 (ligand of KIR2DL2/3), lysine = C2
# (ligand of KIR2DL1). Common alleles only, by two fields; an allele not in the table is
# "unknown" and the group must then be stated on the record (the IPD-KIR ligand calculator
# gives it for any allele). Sources: IPD-KIR "KIR ligand calculator" groupings; Moesta & Parham
# 2008, J Immunol 180:3969.

C1_ALLELES = frozenset(
    [
        "C*01:02",
        "C*01:03",
        "C*03:02",
        "C*03:03",
        "C*03:04",
        "C*03:05",
        "C*07:01",
        "C*07:02",
        "C*07:04",
        "C*07:06",
        "C*08:01",
        "C*08:02",
        "C*08:03",
        "C*08:04",
        "C*12:02",
        "C*12:03",
        "C*13:02",
        "C*14:02",
        "C*14:03",
        "C*16:01",
        "C*16:04",
    ]
)
C2_ALLELES = frozenset(
    [
        "C*02:02",
        "C*02:10",
        "C*03:07",
        "C*04:01",
        "C*04:03",
        "C*05:01",
        "C*06:02",
        "C*07:07",
        "C*15:02",
        "C*15:04",
        "C*15:05",
        "C*16:02",
        "C*17:01",
        "C*17:03",
        "C*18:01",
        "C*18:02",
    ]
)

# HLA-B Bw4 epitope (positions 77-83) by allele group, with the common two-field exceptions.
# HLA-A*23, *24 and *32 carry Bw4 too (Stern et al. 2008, J Immunol 181:3815; Foley et al.
# 2008, Blood 112:435). Any other HLA-A allele carries none.
BW4_B_GROUPS = frozenset(
    [
        "13",
        "27",
        "37",
        "38",
        "44",
        "47",
        "49",
        "51",
        "52",
        "53",
        "57",
        "58",
        "59",
        "63",
        "77",
    ]
)
BW6_B_GROUPS = frozenset(
    [
        "07",
        "08",
        "14",
        "18",
        "35",
        "39",
        "40",
        "41",
        "42",
        "45",
        "46",
        "48",
        "50",
        "54",
        "55",
        "56",
        "67",
        "73",
        "78",
        "81",
        "82",
    ]
)
BW4_B_EXCEPTIONS = {"B*15:13": True, "B*15:16": True, "B*15:17": True, "B*27:08": False}
BW6_B_MIXED = frozenset({"15"})  # mostly Bw6; the Bw4 ones are in the exceptions
BW4_A_GROUPS = frozenset({"23", "24", "32"})


def c_group(allele: Allele) -> str | None:
    """C1, C2, or None when the allele is not in the table (or typed at antigen level only)."""
    if allele.null:
        return "none"
    if allele.two_field in C1_ALLELES:
        return "C1"
    if allele.two_field in C2_ALLELES:
        return "C2"
    return None


def has_bw4(allele: Allele) -> bool | None:
    """Whether the allele carries the Bw4 epitope; None when the table cannot tell."""
    if allele.null:
        return False
    if allele.locus == "A":
        return allele.first in BW4_A_GROUPS
    if allele.locus != "B":
        return False
    if allele.two_field in BW4_B_EXCEPTIONS:
        return BW4_B_EXCEPTIONS[allele.two_field]
    if allele.first in BW4_B_GROUPS:
        return True
    if allele.first in BW6_B_GROUPS or allele.first in BW6_B_MIXED:
        return False
    return None


@dataclass
class KirLigands:
    c1: bool | None  # None: unknown
    c2: bool | None
    bw4: bool | None
    c_group: str  # "C1/C1", "C1/C2", "C2/C2" or "" when unknown
    notes: list[str] = field(default_factory=list)

    def present(self) -> list[str]:
        return [name for name, has in (("C1", self.c1), ("C2", self.c2), ("Bw4", self.bw4)) if has]

    def __str__(self) -> str:
        parts = [self.c_group or "C group unknown"]
        parts.append({True: "Bw4", False: "no Bw4", None: "Bw4 unknown"}[self.bw4])
        return ", ".join(parts)


def kir_ligands(typing: Typing, stated_c_group: str = "") -> KirLigands:
    """The KIR ligands carried: C1/C2 from HLA-C via the table, or the group stated on the
    record where the table cannot tell; Bw4 from HLA-B and HLA-A."""
    notes: list[str] = []
    groups: list[str | None] = []
    pair = typing.get("C")
    if pair is not None:
        groups = [c_group(a) for a in pair]
    computed = ""
    if pair is not None and None not in groups:
        names = sorted(g for g in groups if g is not None and g != "none")
        computed = "/".join(names * 2 if len(names) == 1 else names)
    if computed and stated_c_group and stated_c_group != computed:
        notes.append(f"Stated C group {stated_c_group} differs from the typing ({computed}).")
    group = computed or stated_c_group
    if not computed:
        if stated_c_group:
            notes.append("C group as stated (HLA-C alleles not in the table).")
        else:
            notes.append("C group unknown: HLA-C not typed or not in the table; state it.")
    c1 = ("C1" in group) if group else None
    c2 = ("C2" in group) if group else None
    carried: list[bool | None] = []
    for locus in ("A", "B"):
        alleles = typing.get(locus)
        carried.extend([None] if alleles is None else [has_bw4(a) for a in alleles])
    bw4 = True if True in carried else (None if None in carried else False)
    if bw4 is None:
        notes.append("Bw4 unknown: HLA-B not typed or an allele not in the table.")
    return KirLigands(c1=c1, c2=c2, bw4=bw4, c_group=group, notes=notes)


@dataclass
class KirMismatch:
    """Ligands the unit carries that the recipient lacks.

    Direction: graft-versus-host, the one that matters for NK alloreactivity (Ruggeri et al.
    2002, Science 295:2097): donor NK cells educated on a self ligand through its inhibitory KIR
    (C1 -> KIR2DL2/3, C2 -> KIR2DL1, Bw4 -> KIR3DL1) are not held back by recipient cells that
    lack that ligand, so they can kill them (graft-versus-leukaemia)."""

    missing_in_recipient: list[str]
    unknown: list[str]

    @property
    def mismatched(self) -> bool | None:
        if self.missing_in_recipient:
            return True
        return None if self.unknown else False

    def __str__(self) -> str:
        if self.missing_in_recipient:
            return "Mismatch (GvH direction): recipient lacks " + ", ".join(
                self.missing_in_recipient
            )
        if self.unknown:
            return "Not computable: " + ", ".join(self.unknown) + " unknown"
        return "No KIR-ligand mismatch (GvH direction)"


def kir_mismatch(unit: KirLigands, recipient: KirLigands) -> KirMismatch:
    missing, unknown = [], []
    for name in ("C1", "C2", "Bw4"):
        u = getattr(unit, name.lower())
        r = getattr(recipient, name.lower())
        if u is False:
            continue
        if u is None or r is None:
            unknown.append(name)
        elif not r:
            missing.append(name)
    return KirMismatch(missing, unknown)
