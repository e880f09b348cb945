"""ASTCT consensus grading of CRS and ICANS (batches/grading.py) over the consensus tables,
boundaries included. Pure functions: no database."""

from decimal import Decimal

import pytest

from batches.grading import (
    Consciousness,
    Hypotension,
    Hypoxia,
    MotorFinding,
    RaisedIcp,
    Seizure,
    crs_grade,
    has_fever,
    icans_grade,
    ice_grade,
)

# --- CRS ---


@pytest.mark.parametrize(
    "temperature, masked, fever",
    [
        (Decimal("38.0"), False, True),
        (Decimal("37.9"), False, False),
        (Decimal("40.1"), False, True),
        (None, False, False),
        (None, True, True),
        (Decimal("36.8"), True, True),
    ],
    ids=["38.0", "37.9", "40.1", "not-taken", "masked", "masked-afebrile"],
)
def test_fever_is_38_or_more_or_masked(temperature, masked, fever):
    assert has_fever(temperature, fever_masked=masked) is fever


H, OX = Hypotension, Hypoxia


@pytest.mark.parametrize(
    "fever, hypotension, hypoxia, grade",
    [
        # No fever, no CRS, whatever else.
        (False, H.NONE, OX.NONE, 0),
        (False, H.MULTIPLE_VASOPRESSORS, OX.POSITIVE_PRESSURE, 0),
        # Grade 1: fever only.
        (True, H.NONE, OX.NONE, 1),
        # Grade 2: hypotension without vasopressors and/or low-flow oxygen.
        (True, H.NO_VASOPRESSOR, OX.NONE, 2),
        (True, H.NONE, OX.LOW_FLOW, 2),
        (True, H.NO_VASOPRESSOR, OX.LOW_FLOW, 2),
        # Grade 3: one vasopressor and/or high-flow, facemask, nonrebreather, Venturi.
        (True, H.ONE_VASOPRESSOR, OX.NONE, 3),
        (True, H.NONE, OX.HIGH_FLOW, 3),
        (True, H.ONE_VASOPRESSOR, OX.LOW_FLOW, 3),
        (True, H.NO_VASOPRESSOR, OX.HIGH_FLOW, 3),
        # Grade 4: multiple vasopressors and/or positive pressure.
        (True, H.MULTIPLE_VASOPRESSORS, OX.NONE, 4),
        (True, H.NONE, OX.POSITIVE_PRESSURE, 4),
        (True, H.MULTIPLE_VASOPRESSORS, OX.HIGH_FLOW, 4),
        (True, H.ONE_VASOPRESSOR, OX.POSITIVE_PRESSURE, 4),
    ],
)
def test_crs_grade_is_the_worse_of_hypotension_and_hypoxia_given_fever(
    fever, hypotension, hypoxia, grade
):
    assert crs_grade(fever=fever, hypotension=hypotension, hypoxia=hypoxia) == grade


def test_crs_grade_takes_the_stored_values():
    assert crs_grade(fever=True, hypotension="one_vasopressor", hypoxia="low_flow") == 3
    with pytest.raises(ValueError):
        crs_grade(fever=True, hypotension="pressors", hypoxia="none")


# --- ICANS ---


@pytest.mark.parametrize(
    "ice, grade",
    [(10, 0), (9, 1), (7, 1), (6, 2), (3, 2), (2, 3), (0, 3)],
)
def test_ice_score_grade_boundaries(ice, grade):
    assert ice_grade(ice) == grade


def test_ice_unarousable_is_grade_4():
    assert ice_grade(None, unarousable=True) == 4
    with pytest.raises(ValueError):
        ice_grade(None)


NORMAL = {
    "ice_score": 10,
    "ice_unarousable": False,
    "consciousness": Consciousness.NONE,
    "seizure": Seizure.NONE,
    "motor": MotorFinding.NONE,
    "raised_icp": RaisedIcp.NONE,
}


@pytest.mark.parametrize(
    "finding, grade",
    [
        ({}, 0),
        ({"ice_score": 9}, 1),
        ({"ice_score": 7}, 1),
        ({"ice_score": 6}, 2),
        ({"ice_score": 3}, 2),
        ({"ice_score": 2}, 3),
        ({"ice_score": 0}, 3),
        ({"ice_score": None, "ice_unarousable": True}, 4),
        ({"consciousness": Consciousness.SPONTANEOUS}, 1),
        ({"consciousness": Consciousness.VOICE}, 2),
        ({"consciousness": Consciousness.TACTILE}, 3),
        ({"consciousness": Consciousness.UNAROUSABLE}, 4),
        ({"seizure": Seizure.RAPIDLY_RESOLVING}, 3),
        ({"seizure": Seizure.LIFE_THREATENING}, 4),
        ({"motor": MotorFinding.DEEP_FOCAL_WEAKNESS}, 4),
        ({"raised_icp": RaisedIcp.FOCAL_EDEMA}, 3),
        ({"raised_icp": RaisedIcp.DIFFUSE_EDEMA}, 4),
    ],
    ids=lambda value: (
        "-".join(f"{k}={v}" for k, v in value.items()) if isinstance(value, dict) else str(value)
    ),
)
def test_each_icans_domain_alone(finding, grade):
    assert icans_grade(**{**NORMAL, **finding}) == grade


@pytest.mark.parametrize(
    "finding, grade",
    [
        # The most severe domain wins, whichever it is.
        ({"ice_score": 8, "consciousness": Consciousness.VOICE}, 2),
        ({"ice_score": 5, "consciousness": Consciousness.SPONTANEOUS}, 2),
        ({"ice_score": 8, "seizure": Seizure.RAPIDLY_RESOLVING}, 3),
        ({"ice_score": 2, "raised_icp": RaisedIcp.DIFFUSE_EDEMA}, 4),
        ({"ice_score": 0, "consciousness": Consciousness.TACTILE}, 3),
        # ICE 0 and awake (global aphasia) is grade 3; unarousable makes it 4.
        ({"ice_score": 0, "consciousness": Consciousness.UNAROUSABLE}, 4),
        ({"ice_score": 10, "motor": MotorFinding.DEEP_FOCAL_WEAKNESS}, 4),
    ],
    ids=[
        "ice8-voice",
        "ice5-spontaneous",
        "ice8-seizure",
        "ice2-diffuse",
        "ice0-tactile",
        "ice0-unarousable",
        "ice10-weakness",
    ],  # fmt: skip
)
def test_icans_grade_is_the_most_severe_domain(finding, grade):
    assert icans_grade(**{**NORMAL, **finding}) == grade
