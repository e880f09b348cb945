"""HLA typing, the cord blood match grade and the KIR ligands (batches/hla.py), over tables.
Pure functions: no database."""

import pytest

from batches import hla


def typing(a="", b="", c="", drb1=""):
    return hla.Typing(
        loci={
            "A": hla.parse_locus("A", a),
            "B": hla.parse_locus("B", b),
            "C": hla.parse_locus("C", c),
            "DRB1": hla.parse_locus("DRB1", drb1),
        }
    )


@pytest.mark.parametrize(
    "locus, text, canonical",
    [
        ("A", "A*02:01, A*03:01", "A*02:01, A*03:01"),
        ("A", "a*02:01;A*03:01", "A*02:01, A*03:01"),
        ("A", "HLA-A*02:01:01:01 A*24:02:01", "A*02:01, A*24:02"),
        ("A", "A*02:01", "A*02:01, A*02:01"),  # one allele: homozygous
        ("B", "B*07, B*44", "B*07, B*44"),  # antigen level
        ("B", "07:02, 44:02", "B*07:02, B*44:02"),  # locus implied by the field
        ("C", "C*04:09N, C*07:01", "C*04:09N, C*07:01"),
        ("DRB1", "DRB1*15:01, DRB1*04:01", "DRB1*15:01, DRB1*04:01"),
        ("DRB1", "", ""),
    ],
)
def test_typing_is_read_and_written_canonically(locus, text, canonical):
    assert hla.format_locus(hla.parse_locus(locus, text)) == canonical


@pytest.mark.parametrize(
    "locus, text, says",
    [
        ("A", "A2, A3", "not an HLA-A allele"),
        ("B", "B*07:02, DRB1*04:01", "not an HLA-B allele"),
        ("A", "A*02:01, A*03:01, A*11:01", "two HLA-A alleles"),
        ("DRB1", "DR4", "not an HLA-DRB1 allele"),
        ("C", "C*7:01", "not an HLA-C allele"),
    ],
)
def test_unreadable_typing_says_what_is_wrong(locus, text, says):
    with pytest.raises(hla.TypingError, match=says):
        hla.parse_locus(locus, text)


def test_normalized_typing_gives_one_message_per_field():
    with pytest.raises(hla.TypingErrors) as exc:
        hla.normalized_typing({"hla_a": "A*02:01", "hla_b": "nonsense", "hla_drb1": "DR4"})
    assert set(exc.value.errors) == {"hla_b", "hla_drb1"}


R = dict(a="A*02:01, A*03:01", b="B*07:02, B*08:01", drb1="DRB1*15:01, DRB1*03:01")


@pytest.mark.parametrize(
    "unit, grade",
    [
        (R, "6/6"),
        # A*02:06 is the same antigen (A2) as A*02:01: antigen level at A and B.
        ({**R, "a": "A*02:06, A*03:01"}, "6/6"),
        ({**R, "a": "A*02:01, A*11:01"}, "5/6"),
        # DRB1 at allele level: DRB1*15:02 is a mismatch for DRB1*15:01.
        ({**R, "drb1": "DRB1*15:02, DRB1*03:01"}, "5/6"),
        # A homozygous unit for a heterozygous recipient: one mismatch (GvH direction).
        ({**R, "a": "A*02:01, A*02:01"}, "5/6"),
        ({**R, "a": "A*01:01, A*11:01", "b": "B*07:02, B*44:02"}, "3/6"),
        ({**R, "drb1": ""}, "Not computable (typing missing or too coarse at HLA-DRB1)"),
        (
            {**R, "drb1": "DRB1*15, DRB1*03"},
            "Not computable (typing missing or too coarse at HLA-DRB1)",
        ),
    ],
)
def test_match_grade(unit, grade):
    assert str(hla.match_grade(typing(**unit), typing(**R))) == grade


def test_a_homozygous_recipient_counts_one_mismatch_in_host_versus_graft_direction():
    recipient = typing(**{**R, "a": "A*02:01, A*02:01"})
    unit = typing(**R)  # A*02:01, A*03:01: A*03 is foreign to the recipient
    assert hla.match_grade(unit, recipient).matches == 5


@pytest.mark.parametrize(
    "allele, group",
    [
        ("C*07:01", "C1"),
        ("C*03:04", "C1"),
        ("C*03:07", "C2"),  # the C*03 exception with lysine 80
        ("C*07:07", "C2"),
        ("C*04:01", "C2"),
        ("C*06:02", "C2"),
        ("C*16:02", "C2"),
        ("C*16:01", "C1"),
        ("C*07", None),  # antigen level cannot tell
        ("C*19:01", None),  # not in the table
    ],
)
def test_c_group_table(allele, group):
    assert hla.c_group(hla.parse_allele("C", allele)) == group


@pytest.mark.parametrize(
    "locus, allele, bw4",
    [
        ("B", "B*44:02", True),
        ("B", "B*57:01", True),
        ("B", "B*07:02", False),
        ("B", "B*15:01", False),
        ("B", "B*15:17", True),  # B*15 is mostly Bw6; B*15:17 (B63) carries Bw4
        ("B", "B*27:05", True),
        ("B", "B*27:08", False),
        ("B", "B*83:01", None),
        ("A", "A*24:02", True),
        ("A", "A*23:01", True),
        ("A", "A*32:01", True),
        ("A", "A*02:01", False),
    ],
)
def test_bw4_table(locus, allele, bw4):
    assert hla.has_bw4(hla.parse_allele(locus, allele)) is bw4


@pytest.mark.parametrize(
    "person, stated, expected",
    [
        (
            dict(a="A*02:01, A*03:01", b="B*07:02, B*08:01", c="C*07:01, C*07:02"),
            "",
            "C1/C1, no Bw4",
        ),
        (dict(a="A*24:02, A*03:01", b="B*07:02, B*08:01", c="C*04:01, C*07:02"), "", "C1/C2, Bw4"),
        (dict(a="A*02:01, A*03:01", b="B*44:02, B*08:01", c="C*05:01, C*06:02"), "", "C2/C2, Bw4"),
        # Not in the table: the group as stated on the record, else unknown.
        (dict(a="A*02:01", b="B*07:02", c="C*19:01, C*07:01"), "C1/C1", "C1/C1, no Bw4"),
        (dict(a="A*02:01", b="B*07:02", c="C*19:01, C*07:01"), "", "C group unknown, no Bw4"),
        (dict(a="A*02:01", b="", c="C*07:01"), "", "C1/C1, Bw4 unknown"),
    ],
)
def test_kir_ligands(person, stated, expected):
    assert str(hla.kir_ligands(typing(**person), stated)) == expected


def test_a_stated_group_that_contradicts_the_typing_is_noted():
    ligands = hla.kir_ligands(typing(a="A*02:01", b="B*07:02", c="C*07:01"), "C2/C2")
    assert ligands.c_group == "C1/C1"
    assert any("differs" in note for note in ligands.notes)


@pytest.mark.parametrize(
    "unit_c, unit_b, recipient_c, recipient_b, lacks, mismatched",
    [
        # The unit carries C2 and Bw4; the recipient neither: donor NK cells unchecked.
        ("C*04:01, C*07:01", "B*44:02", "C*07:01", "B*07:02", ["C2", "Bw4"], True),
        ("C*07:01", "B*07:02", "C*07:01", "B*07:02", [], False),
        # The recipient has more ligands than the unit: no mismatch in the GvH direction.
        ("C*07:01", "B*07:02", "C*04:01, C*07:01", "B*44:02", [], False),
        ("C*19:01, C*07:01", "B*07:02", "C*07:01", "B*07:02", [], None),
    ],
)
def test_kir_ligand_mismatch_in_graft_versus_host_direction(
    unit_c, unit_b, recipient_c, recipient_b, lacks, mismatched
):
    unit = hla.kir_ligands(typing(a="A*02:01", b=unit_b, c=unit_c))
    recipient = hla.kir_ligands(typing(a="A*02:01", b=recipient_b, c=recipient_c))
    found = hla.kir_mismatch(unit, recipient)
    assert (found.missing_in_recipient, found.mismatched) == (lacks, mismatched)
