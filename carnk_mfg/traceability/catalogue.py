"""The clause catalogue: every requirement the product answers to, in one list.

A clause stays here while its feature is not built yet; the matrix then reports it with no
test, so the gap shows. ``core`` marks DESIGN section 8's compliance building blocks: the
matrix fails while any of them lacks a passing test.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Clause:
    id: str
    requirement: str
    feature: str  # where it is built (module or service), or "not built yet"
    core: bool = False  # a DESIGN section 8 building block: must have a passing test


NOT_BUILT = "not built yet"

CLAUSES: tuple[Clause, ...] = (
    # --- DESIGN section 8: compliance building blocks ---
    Clause(
        "21 CFR 11.10(e)",
        "Secure, computer-generated, time-stamped audit trail of every create, change and "
        "delete of a GMP record (who, when, old and new values, why), by any path; trail "
        "rows cannot be altered or deleted.",
        "carnk_mfg.audit (gmp_write), django-pghistory triggers, carnk_mfg.dbroles",
        core=True,
    ),
    Clause(
        "21 CFR 11.10(d)",
        "System access limited to authorized individuals.",
        "carnk_mfg.roles (actor_may), API authentication (knox tokens, instrument keys)",
        core=True,
    ),
    Clause(
        "21 CFR 11.10(g)",
        "Authority checks: only authorized individuals can use the system, sign a record, "
        "or perform the operation at hand.",
        "carnk_mfg.roles (actor_may, asked on every path), tests/api/permission_matrix.py",
        core=True,
    ),
    Clause(
        "DESIGN 8 Segregation of duties",
        "The administrator makes no GMP decision (eligibility, dispositions, approvals, "
        "results, reviews, release); whoever performed a step of a batch may neither review "
        "its record nor release it.",
        "carnk_mfg.roles, batches.services.release",
        core=True,
    ),
    Clause(
        "21 CFR 11.50",
        "Signature manifestations: the signer's printed name, the date and time of signing "
        "and its meaning (performed, reviewed, approved, released...) shown with the record.",
        "carnk_mfg.signatures (signed_write)",
        core=True,
    ),
    Clause(
        "21 CFR 11.70",
        "Signature/record linking: a signature is linked to the exact record it signs and "
        "cannot be removed, copied or changed to falsify a record.",
        "carnk_mfg.signatures (@attestation, content hash), carnk_mfg.dbroles",
        core=True,
    ),
    Clause(
        "21 CFR 11.200",
        "Signature components: each signing requires the signer's password again; failed "
        "attempts are recorded and lock signing.",
        "carnk_mfg.signatures, carnk_mfg.sign_in",
        core=True,
    ),
    Clause(
        "21 CFR 1271.50",
        "Donor eligibility is determined by a responsible person, documented, and based on "
        "the donor's screening and testing.",
        "batches.services.donor (cord_blood_unit_determine_eligibility)",
        core=True,
    ),
    Clause(
        "21 CFR 1271.60",
        "A unit stays in quarantine until its donor eligibility determination is complete; "
        "an incomplete determination is recorded as such.",
        "batches.services.donor",
        core=True,
    ),
    Clause(
        "21 CFR 1271.65",
        "A unit from an ineligible donor (or with an incomplete determination) is used only "
        "under a documented urgent medical need.",
        "batches.services.donor (cord_blood_unit_allocate, allocate_locked_unit)",
        core=True,
    ),
    Clause(
        "ISBT 128 DIN",
        "Donation Identification Number of 13 characters (FIN, year, sequence) with the "
        "ISO/IEC 7064 Mod 37-2 keyboard check character (ST-001/ST-002); a typed DIN needs "
        "its check character.",
        "carnk_mfg.isbt128, the thaw and bedside scans",
        core=True,
    ),
    # --- People: training and qualification ---
    Clause(
        "21 CFR 1271.170",
        "Personnel are trained to perform their assigned functions, and the training is "
        "documented: a step is performed, a batch record reviewed and a release signed only by "
        "a person currently trained on the procedure version in effect.",
        "batches.selectors.training (training_gaps), batches.services.training",
    ),
    Clause(
        "21 CFR 11.10(i)",
        "Persons who develop, maintain or use electronic record/signature systems have the "
        "education, training and experience to perform their assigned tasks.",
        "batches.services.training (training_record_create, signed; require_current_training)",
    ),
    # --- Labels and the clinical chain ---
    Clause(
        "21 CFR 312.6(a)",
        'Investigational product label bears "Caution: New Drug--Limited by Federal (or '
        'United States) law to investigational use."',
        "batches.models.product (ProductDefinition.caution_statement, a setting per product "
        "with that default, in place of Rx only), batches.documents.labels (PDF and ZPL)",
    ),
    Clause(
        "21 CFR 1271.65(b)(2)",
        'Label of a unit from an ineligible donor: "WARNING: Advise patient of communicable '
        'disease risks" and, where tests were reactive, "WARNING: Reactive test results for '
        '..."',
        "batches.documents.labels (the Biohazard legend drawn and written, PDF and ZPL), "
        "batches.selectors.donor (reactive_markers, from the donor test panel)",
    ),
    Clause(
        "21 CFR 1271.80",
        "The donor is tested for the relevant communicable disease agents on a specimen taken "
        "within the allowed window of the collection (cord blood: the mother, within 7 days "
        "before or after); a donor who tests reactive is ineligible; the determination rests "
        "on every required test being present, in the window and non-reactive, and says why.",
        "batches.models.DonorTest, batches.selectors.donor (donor_panel_assessment), "
        "batches.services.donor (donor_test_record, cord_blood_unit_determine_eligibility), "
        "settings DONOR_TESTS_REQUIRED and DONOR_TEST_WINDOW_DAYS_*",
    ),
    Clause(
        "21 CFR 1271.60(d)(2)",
        "Label of a unit whose donor eligibility determination is not complete: "
        '"NOT EVALUATED FOR INFECTIOUS SUBSTANCES" and the communicable disease warning.',
        "batches.documents.labels",
    ),
    Clause(
        "ISBT 128 ST-001 product code",
        "The product's own ISBT 128 product description code (5 characters), the collection "
        "type character and the division code (upper-case letter, then lower-case letter or 0) "
        "on the bag label.",
        "carnk_mfg.isbt128.product_code, ProductDefinition.bag_product_code (composed once "
        "at formulation, kept on the bag), database checks on the division and product code, "
        "the bedside scan",
    ),
    Clause(
        "ISBT 128 ST-028 Chain of Identity",
        "A Chain of Identity identifier, distinct from the DIN, assigned once per "
        "patient-product chain, printed on the label and the CoA and checked at the bedside.",
        "batches.models.ChainOfIdentity (assigned once per batch and recipient, never "
        "changed: database triggers), carnk_mfg.isbt128 (format modelled on the DIN: ST-028 "
        "was not available), batches.documents.labels (PDF and ZPL) and coa, the bedside scan",
    ),
    Clause(
        "Joint Commission NPSG.01.01.01",
        "At least two patient identifiers before the product is given: the wristband's subject "
        "ID and the date of birth or medical record number, compared with the recipient's.",
        "batches.models.Recipient (date of birth, medical record number), "
        "batches.services.bedside_scan",
    ),
    Clause(
        "21 CFR 312.60",
        "The investigation is conducted according to the investigational plan: the "
        "protocol's lymphodepletion regimen (fludarabine and cyclophosphamide) is complete, "
        "its last dose within the protocol's window before the infusion, or the infusion is "
        "refused with the reason.",
        "batches.selectors.recipients (lymphodepletion_blocker), batches.services.bedside "
        "(bedside_verify, infusion_start), batches.services.recipients "
        "(lymphodepletion_record)",
    ),
    Clause(
        "21 CFR 312.62(a)",
        "Adequate records of the disposition of the drug, including the quantity used by "
        "each subject: the volume infused against the volume prescribed, a departure beyond "
        "the tolerance explained and opened as a clinical deviation.",
        "batches.services.bedside (infusion_complete, volume_off_by_pct)",
    ),
    Clause(
        "FDA LTFU guidance",
        "Long-term follow-up of recipients of products with integrating vectors for 15 "
        "years after infusion, with RCR monitoring of the recipient and lost to follow-up "
        "and death recorded.",
        "batches.services.clinical (follow_up_plan, follow_up_record, follow_up_end)",
    ),
    Clause(
        "ASTCT CRS/ICANS grading",
        "Cytokine release syndrome and ICANS graded by the ASTCT consensus (ICANS with the "
        "ICE score).",
        "batches.services.clinical (adverse_event_report)",
    ),
)

BY_ID: dict[str, Clause] = {clause.id: clause for clause in CLAUSES}


def unknown_clauses(names: Iterable[object]) -> list[str]:
    """The names that are not a clause of the catalogue, each as written (repr for a non-string)."""
    return [
        name if isinstance(name, str) else repr(name)
        for name in names
        if not isinstance(name, str) or name not in BY_ID
    ]
