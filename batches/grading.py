"""ASTCT consensus grading of CRS and ICANS (Lee et al., Biol Blood Marrow Transplant 2019):
the findings a clinician records and the grade they give, as pure functions.

The adverse-event service stores the grade these functions derive beside the grade entered,
and asks for a reason when the two differ; nothing else grades CRS or ICANS.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import models

# ASTCT: fever is a temperature of 38.0 °C or more.
FEVER_FROM_C = Decimal("38.0")


# --- CRS ---


class Hypotension(models.TextChoices):
    NONE = "none", "None"
    NO_VASOPRESSOR = "no_vasopressor", "Not requiring vasopressors"
    ONE_VASOPRESSOR = "one_vasopressor", "One vasopressor (with or without vasopressin)"
    MULTIPLE_VASOPRESSORS = "multiple", "Multiple vasopressors (excluding vasopressin)"


class Hypoxia(models.TextChoices):
    NONE = "none", "None"
    LOW_FLOW = "low_flow", "Low-flow nasal cannula (≤ 6 L/min) or blow-by"
    HIGH_FLOW = (
        "high_flow",
        ("High-flow nasal cannula (> 6 L/min), facemask, nonrebreather or Venturi mask"),
    )
    POSITIVE_PRESSURE = (
        "positive_pressure",
        ("Positive pressure: CPAP, BiPAP, intubation and mechanical ventilation"),
    )


CRS_HYPOTENSION_GRADE = {
    Hypotension.NONE: 1,
    Hypotension.NO_VASOPRESSOR: 2,
    Hypotension.ONE_VASOPRESSOR: 3,
    Hypotension.MULTIPLE_VASOPRESSORS: 4,
}
CRS_HYPOXIA_GRADE = {
    Hypoxia.NONE: 1,
    Hypoxia.LOW_FLOW: 2,
    Hypoxia.HIGH_FLOW: 3,
    Hypoxia.POSITIVE_PRESSURE: 4,
}


def has_fever(temperature_c: Decimal | None, *, fever_masked: bool) -> bool:
    """Fever for CRS grading: 38.0 °C or more, or recorded as present though antipyretics or
    anticytokine therapy (tocilizumab, steroids) have brought the temperature down (ASTCT
    then grades by hypotension and hypoxia alone)."""
    return fever_masked or (temperature_c is not None and temperature_c >= FEVER_FROM_C)


def crs_grade(*, fever: bool, hypotension: str, hypoxia: str) -> int:
    """ASTCT CRS grade 0-4: no fever, no CRS; otherwise the worse of hypotension and
    hypoxia, fever alone being grade 1."""
    if not fever:
        return 0
    return max(CRS_HYPOTENSION_GRADE[Hypotension(hypotension)], CRS_HYPOXIA_GRADE[Hypoxia(hypoxia)])


# --- ICANS ---


class Consciousness(models.TextChoices):
    NONE = "none", "Not depressed"
    SPONTANEOUS = "spontaneous", "Awakens spontaneously"
    VOICE = "voice", "Awakens to voice"
    TACTILE = "tactile", "Awakens only to tactile stimulus"
    UNAROUSABLE = (
        "unarousable",
        ("Unarousable or needs vigorous or repetitive tactile stimuli; stupor or coma"),
    )


class Seizure(models.TextChoices):
    NONE = "none", "None"
    RAPIDLY_RESOLVING = (
        "rapid",
        (
            "Clinical seizure (focal or generalized) resolving rapidly, or nonconvulsive seizures "
            "on EEG resolving with intervention"
        ),
    )
    LIFE_THREATENING = (
        "life_threatening",
        (
            "Life-threatening prolonged seizure (> 5 min) or repetitive seizures without return "
            "to baseline"
        ),
    )


class MotorFinding(models.TextChoices):
    NONE = "none", "None"
    DEEP_FOCAL_WEAKNESS = "weakness", "Deep focal motor weakness (hemiparesis, paraparesis)"


class RaisedIcp(models.TextChoices):
    NONE = "none", "None"
    FOCAL_EDEMA = "focal", "Focal or local edema on neuroimaging"
    DIFFUSE_EDEMA = (
        "diffuse",
        (
            "Diffuse cerebral edema on neuroimaging; decerebrate or decorticate posturing; "
            "cranial nerve VI palsy; papilledema; or Cushing's triad"
        ),
    )


ICANS_CONSCIOUSNESS_GRADE = {
    Consciousness.NONE: 0,
    Consciousness.SPONTANEOUS: 1,
    Consciousness.VOICE: 2,
    Consciousness.TACTILE: 3,
    Consciousness.UNAROUSABLE: 4,
}
ICANS_SEIZURE_GRADE = {Seizure.NONE: 0, Seizure.RAPIDLY_RESOLVING: 3, Seizure.LIFE_THREATENING: 4}
ICANS_MOTOR_GRADE = {MotorFinding.NONE: 0, MotorFinding.DEEP_FOCAL_WEAKNESS: 4}
ICANS_RAISED_ICP_GRADE = {RaisedIcp.NONE: 0, RaisedIcp.FOCAL_EDEMA: 3, RaisedIcp.DIFFUSE_EDEMA: 4}


def ice_grade(ice_score: int | None, *, unarousable: bool = False) -> int:
    """The ICANS grade of the ICE score alone: 10 none, 7-9 grade 1, 3-6 grade 2, 0-2 grade 3
    (awake, e.g. global aphasia), grade 4 when unarousable and unable to perform ICE."""
    if unarousable:
        return 4
    if ice_score is None:
        raise ValueError("An ICE score, or unarousable.")
    if ice_score >= 10:
        return 0
    if ice_score >= 7:
        return 1
    if ice_score >= 3:
        return 2
    return 3


def icans_grade(
    *,
    ice_score: int | None,
    ice_unarousable: bool,
    consciousness: str,
    seizure: str,
    motor: str,
    raised_icp: str,
) -> int:
    """ASTCT ICANS grade 0-4: the most severe of the ICE score, depressed level of
    consciousness, seizure, motor findings and raised intracranial pressure."""
    return max(
        ice_grade(ice_score, unarousable=ice_unarousable),
        ICANS_CONSCIOUSNESS_GRADE[Consciousness(consciousness)],
        ICANS_SEIZURE_GRADE[Seizure(seizure)],
        ICANS_MOTOR_GRADE[MotorFinding(motor)],
        ICANS_RAISED_ICP_GRADE[RaisedIcp(raised_icp)],
    )
