"""Who may call each API operation, declared as data: every operation of the OpenAPI schema
(method and path template as the schema writes them) maps to the callers that may use it.

Checked by tests/api/test_permission_matrix.py against the schema (an operation missing here,
or named here but gone from the schema, fails) and against real requests for every caller.
The roles and what each may do are DESIGN.md section 8: QA decides, clinical staff treat,
technicians manufacture, QC analysts test, the administrator reads everything and decides
nothing, an instrument's key submits its own data and reads it back.
"""

from __future__ import annotations

ANONYMOUS = "anonymous"
TECHNICIAN = "technician"
QC_ANALYST = "qc_analyst"
QA = "qa"
CLINICAL = "clinical"
ADMIN = "admin"
INSTRUMENT = "instrument"
COURIER = "courier"

CALLERS = (ANONYMOUS, TECHNICIAN, QC_ANALYST, QA, CLINICAL, ADMIN, INSTRUMENT, COURIER)

EVERYONE = frozenset(CALLERS)
# Every person with a role reads the records (the administrator reads everything).
STAFF = frozenset({TECHNICIAN, QC_ANALYST, QA, CLINICAL, ADMIN})
# Instrument imports: those who upload them, the administrator, and the instrument itself.
IMPORT_READERS = frozenset({TECHNICIAN, QC_ANALYST, ADMIN, INSTRUMENT})
# Raw readings: QC, the administrator, and the instrument that sent them.
READING_READERS = frozenset({QC_ANALYST, ADMIN, INSTRUMENT})
# A courier sees the bags it carries, nothing else.
BAG_READERS = STAFF | {COURIER}
# Who signs for a bag in a hand-off and may record a ship or a receive: the lab hands it
# out (technician, QA), clinical staff take it, a courier carries it.
HAND_OFF = frozenset({TECHNICIAN, QA, CLINICAL, COURIER})
# Instrument files come from the instrument, or from QC and the floor on its behalf.
INSTRUMENT_FILES = frozenset({TECHNICIAN, QC_ANALYST, INSTRUMENT})


def only(*callers: str) -> frozenset[str]:
    return frozenset(callers)


def _record(path: str, readers: frozenset[str] = STAFF) -> dict[str, frozenset[str]]:
    """A record's detail, audit trail and signatures: read by `readers`."""
    return {
        f"GET {path}": readers,
        f"GET {path}history/": readers,
        f"GET {path}signatures/": readers,
    }


def _collection(path: str, create: frozenset[str] | None, readers: frozenset[str] = STAFF):
    ops = {f"GET {path}": readers}
    if create is not None:
        ops[f"POST {path}"] = create
    return ops


B = "/api/v1/batches/{lot_number}/"

MATRIX: dict[str, frozenset[str]] = {
    # Signing in is open to anyone; the credentials decide.
    "POST /api/v1/auth/token/": EVERYONE,
    # Donor units: the floor receives and stores them; QA determines eligibility, allocates
    # and discards; clinical staff allocate a unit to their recipient.
    **_collection("/api/v1/donor-units/", only(TECHNICIAN)),
    **_record("/api/v1/donor-units/{din}/"),
    "POST /api/v1/donor-units/{din}/eligibility/": only(QA),
    "POST /api/v1/donor-units/{din}/allocate/": only(QA, CLINICAL),
    "POST /api/v1/donor-units/{din}/discard/": only(QA),
    "POST /api/v1/donor-units/{din}/move/": only(TECHNICIAN),
    # Unit selection: the match is read by all staff; the recipient's antibodies are clinical.
    "GET /api/v1/donor-units/{din}/match/": STAFF,
    "POST /api/v1/donor-units/{din}/dsa/": only(CLINICAL),
    # The donor's test panel: read by all staff, recorded by the floor from the lab's report.
    "GET /api/v1/donor-units/{din}/donor-tests/": STAFF,
    "POST /api/v1/donor-units/{din}/donor-tests/": only(TECHNICIAN),
    # Recipients are clinical staff's.
    **_collection("/api/v1/recipients/", only(CLINICAL)),
    **_record("/api/v1/recipients/{subject_id}/"),
    "PATCH /api/v1/recipients/{subject_id}/": only(CLINICAL),
    "POST /api/v1/recipients/{subject_id}/weights/": only(CLINICAL),
    "POST /api/v1/recipients/{subject_id}/lymphodepletion/": only(CLINICAL),
    "POST /api/v1/recipients/{subject_id}/clinician/": only(CLINICAL),
    "POST /api/v1/recipients/{subject_id}/follow-up-end/": only(CLINICAL),
    # Training: everyone on staff reads the procedures and training records; QA issues
    # procedures, their versions and the steps that ask for them, records training
    # (signed) and names each person's supervisor.
    **_collection("/api/v1/procedures/", only(QA)),
    **_record("/api/v1/procedures/{code}/"),
    "POST /api/v1/procedures/{code}/versions/": only(QA),
    "GET /api/v1/procedures/{code}/qualifications/": STAFF,
    "POST /api/v1/procedures/{code}/qualifications/": only(QA),
    **_collection("/api/v1/training-records/", only(QA)),
    "POST /api/v1/training-records/supervisor/": only(QA),
    # Investigations: the analyst completes a phase I OOS investigation, QA approves it.
    **_collection("/api/v1/oos-investigations/", None),
    **_record("/api/v1/oos-investigations/{id}/"),
    "POST /api/v1/oos-investigations/{id}/complete/": only(QC_ANALYST),
    "POST /api/v1/oos-investigations/{id}/approve/": only(QA),
    # CAPAs: QA raises and verifies them; their owner (on the floor, in QC or QA) does them.
    **_collection("/api/v1/capas/", only(QA)),
    **_record("/api/v1/capas/{id}/"),
    "POST /api/v1/capas/{id}/complete/": only(TECHNICIAN, QC_ANALYST, QA),
    "POST /api/v1/capas/{id}/verify/": only(QA),
    **_record("/api/v1/training-records/{id}/"),
    # Equipment: everyone on staff reads it; QA registers it and decides its status; the
    # floor and QA record calibrations and maintenance; anyone at the bench (QC included)
    # records a failure; the floor records the feeder cells' irradiation.
    **_collection("/api/v1/equipment/", only(QA)),
    **_record("/api/v1/equipment/{identifier}/"),
    "POST /api/v1/equipment/{identifier}/status/": only(QA),
    "GET /api/v1/equipment/{identifier}/calibrations/": STAFF,
    "POST /api/v1/equipment/{identifier}/calibrations/": only(TECHNICIAN, QA),
    "GET /api/v1/equipment/{identifier}/maintenance/": STAFF,
    "POST /api/v1/equipment/{identifier}/maintenance/": only(TECHNICIAN, QA),
    "GET /api/v1/equipment/{identifier}/failures/": STAFF,
    "POST /api/v1/equipment/{identifier}/failures/": only(TECHNICIAN, QC_ANALYST, QA),
    **_collection("/api/v1/feeder-irradiations/", only(TECHNICIAN)),
    **_record("/api/v1/feeder-irradiations/{id}/"),
    # Environmental monitoring: QA registers the rooms; QC microbiology sets up the points
    # and reads the plates; the floor and QC take plates (settle plates, glove prints).
    **_collection("/api/v1/rooms/", only(QA)),
    **_record("/api/v1/rooms/{identifier}/"),
    **_collection("/api/v1/sampling-points/", only(QC_ANALYST)),
    **_record("/api/v1/sampling-points/{id}/"),
    **_collection("/api/v1/em-samples/", only(TECHNICIAN, QC_ANALYST)),
    **_record("/api/v1/em-samples/{id}/"),
    "POST /api/v1/em-samples/{id}/result/": only(QC_ANALYST),
    # Material lots: received, counted and their CoAs kept on the floor; dispositioned and
    # recalled by QA.
    **{
        op: callers
        for kind in ("vector", "feeder", "reagent")
        for op, callers in {
            **_collection(f"/api/v1/{kind}-lots/", only(TECHNICIAN)),
            **_record(f"/api/v1/{kind}-lots/{{lot_number}}/"),
            f"POST /api/v1/{kind}-lots/{{lot_number}}/disposition/": only(QA),
            f"POST /api/v1/{kind}-lots/{{lot_number}}/recall/": only(QA),
            f"GET /api/v1/{kind}-lots/{{lot_number}}/batches/": STAFF,
            **_collection(f"/api/v1/{kind}-lots/{{lot_number}}/certificates/", only(TECHNICIAN)),
            f"GET /api/v1/{kind}-lots/{{lot_number}}/certificates/{{certificate_id}}/": STAFF,
            **_collection(f"/api/v1/{kind}-lots/{{lot_number}}/adjustments/", only(TECHNICIAN)),
        }.items()
    },
    # Templates and spec sets: QA approves (drafts are made in the admin console).
    **_collection("/api/v1/process-templates/", None),
    **_record("/api/v1/process-templates/{id}/"),
    "POST /api/v1/process-templates/{id}/approve/": only(QA),
    **_collection("/api/v1/qc-spec-sets/", None),
    **_record("/api/v1/qc-spec-sets/{id}/"),
    "POST /api/v1/qc-spec-sets/{id}/approve/": only(QA),
    # Process trending: everyone reads the charts; QA fixes the limits and assesses signals.
    **_collection("/api/v1/trends/", None),
    **_record("/api/v1/trends/{id}/"),
    "GET /api/v1/trends/{id}/points/": STAFF,
    "POST /api/v1/trends/{id}/baseline/": only(QA),
    **_collection("/api/v1/trend-signals/", None),
    **_record("/api/v1/trend-signals/{id}/"),
    "POST /api/v1/trend-signals/{id}/assess/": only(QA),
    # Batches: manufactured by technicians; QA reviews, releases, recalls and dispositions
    # deviations; anyone at the bench or in QC may open a deviation.
    **_collection("/api/v1/batches/", only(TECHNICIAN)),
    **_record(B),
    f"GET {B}coa/": STAFF,
    f"GET {B}steps/": STAFF,
    f"POST {B}steps/": only(TECHNICIAN),
    f"POST {B}room/": only(TECHNICIAN),
    f"GET {B}counts/": STAFF,
    f"POST {B}counts/": only(TECHNICIAN, QC_ANALYST),
    f"GET {B}custody/": STAFF,
    f"POST {B}custody/": only(TECHNICIAN),
    f"GET {B}deviations/": STAFF,
    f"POST {B}deviations/": only(TECHNICIAN, QC_ANALYST, QA),
    f"POST {B}deviations/{{deviation_id}}/disposition/": only(QA),
    # QA classifies a deviation and records its root cause (also at its disposition).
    f"POST {B}deviations/{{deviation_id}}/classify/": only(QA),
    f"GET {B}transitions/": STAFF,
    # The floor moves a batch along; QA terminates one.
    f"POST {B}transitions/": only(TECHNICIAN, QA),
    f"POST {B}formulate/": only(TECHNICIAN),
    f"GET {B}record-review/": STAFF,
    f"POST {B}record-review/": only(QA),
    f"POST {B}release/": only(QA),
    f"GET {B}recall/": STAFF,
    f"POST {B}recall/": only(QA),
    # QC tests: the floor draws samples; QC analysts result them; review by QC or QA.
    **_collection("/api/v1/qc-tests/", None),
    **_record("/api/v1/qc-tests/{id}/"),
    "POST /api/v1/qc-tests/{id}/sample/": only(TECHNICIAN, QC_ANALYST),
    "POST /api/v1/qc-tests/{id}/result/": only(QC_ANALYST),
    "POST /api/v1/qc-tests/{id}/retest/": only(QC_ANALYST),
    "POST /api/v1/qc-tests/{id}/review/": only(QC_ANALYST, QA),
    "POST /api/v1/qc-tests/reviews/": only(QC_ANALYST, QA),
    # Instrument data.
    # Readings come only with an instrument's key (people record counts on the batch).
    **_collection("/api/v1/readings/", only(INSTRUMENT), READING_READERS),
    **_record("/api/v1/readings/{reading_id}/", READING_READERS),
    **_collection("/api/v1/imports/", INSTRUMENT_FILES, IMPORT_READERS),
    **_record("/api/v1/imports/{id}/", IMPORT_READERS),
    "POST /api/v1/imports/{id}/accept/": INSTRUMENT_FILES,
    # Doses, bedside and after: clinical staff's.
    **_collection("/api/v1/doses/", None, BAG_READERS),
    **_record("/api/v1/doses/{id}/", BAG_READERS),
    "GET /api/v1/doses/{id}/calculation/": STAFF,
    "GET /api/v1/doses/{id}/label/": BAG_READERS,
    "GET /api/v1/doses/{id}/label.zpl": BAG_READERS,
    # The lab labels its bags: the technician who fills them, QA who releases them.
    "POST /api/v1/doses/{id}/label/print/": only(TECHNICIAN, QA),
    "POST /api/v1/doses/{id}/assign/": only(CLINICAL),
    # Issuing is clinical staff's (the service refuses anyone else an issue).
    "POST /api/v1/doses/{id}/custody/": HAND_OFF,
    **_collection("/api/v1/bedside-checks/", only(CLINICAL)),
    **_record("/api/v1/bedside-checks/{id}/"),
    **_collection("/api/v1/infusions/", only(CLINICAL)),
    **_record("/api/v1/infusions/{id}/"),
    "POST /api/v1/infusions/{id}/complete/": only(CLINICAL),
    "POST /api/v1/infusions/{id}/safety-switch/": only(CLINICAL),
    **_collection("/api/v1/adverse-events/", only(CLINICAL)),
    **_record("/api/v1/adverse-events/{id}/"),
    **_collection("/api/v1/follow-ups/", None),
    **_record("/api/v1/follow-ups/{id}/"),
    "POST /api/v1/follow-ups/{id}/record/": only(CLINICAL),
}
