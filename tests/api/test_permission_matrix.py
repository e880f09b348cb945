"""The declared permission matrix (tests/api/permission_matrix.py) against the schema and
against real requests: every operation of the schema, for every caller (anonymous, each role,
an instrument's key). Allowed means anything but 401/403 (an empty body's 400 included);
refused means exactly 401 for an anonymous caller and 403 for anyone signed in."""

from __future__ import annotations

import re
import uuid
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from tests.api import permission_matrix as pm
from tests.conftest import TokenClient
from tests.factories import PASSWORD, EquipmentFactory, certificate_for

METHODS = ("get", "post", "put", "patch", "delete")
# Operations whose 404 names an absent state, not a missing object: the batch exists but
# has no recall to show.
NOT_FOUND_BY_DESIGN = {"GET /api/v1/batches/{lot_number}/recall/": b"has not been recalled"}


def schema_operations() -> set[str]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return {
        f"{method.upper()} {path}"
        for path, item in schema["paths"].items()
        for method in item
        if method in METHODS
    }


@pytest.mark.clause("21 CFR 11.10(g)")
def test_the_matrix_names_every_operation_of_the_schema_and_no_other():
    operations = schema_operations()
    assert sorted(operations - pm.MATRIX.keys()) == [], "operations missing from the matrix"
    assert sorted(pm.MATRIX.keys() - operations) == [], "the matrix names gone operations"
    assert all(callers <= pm.EVERYONE for callers in pm.MATRIX.values())


def instrument_records(instrument, batch, now):
    """A staged import and a reading of the instrument whose key the tests use (a key sees
    only its own instrument's)."""
    from qc.models import InstrumentImport, InstrumentReading

    staged = InstrumentImport.objects.create(
        instrument=instrument,
        filename="counts.csv",
        sha256="0" * 64,
        raw_file=b"",
        file_format="vicell_blu",
        uploaded_by=instrument.user,
        uploaded_at=now,
    )
    reading = InstrumentReading.objects.create(
        reading_id=uuid.uuid4(),
        instrument=instrument,
        sample_id=f"{batch.lot_number}-D07",
        batch=batch,
        measured_at=now - timedelta(hours=1),
        values={},
        received_at=now,
    )
    return staged, reading


def trend_signal_of(batch, person, now):
    """A trend signal on one of the batch's trend points (written directly: a real one needs
    a signed baseline of ten batches)."""
    from qc.models import TrendBaseline, TrendPoint, TrendSignal
    from qc.services.trends import scan_trends

    scan_trends()
    point = TrendPoint.objects.filter(batch=batch).earliest("id")
    baseline = TrendBaseline.objects.create(
        attribute=point.attribute,
        chosen_as="Lots",
        centre=point.value,
        sigma=1.0,
        mean_moving_range=1.128,
        point_count=2,
        covers_until=point.observed_at,
        reason="r",
        fixed_by=person,
        fixed_at=now,
    )
    return TrendSignal.objects.create(
        point=point, baseline=baseline, rule="r", value=point.value, raised_at=now
    )


def training_record(qa, trainee, trainer):
    """A procedure with a version, and a person's signed training on it."""
    from batches.services import training

    procedure = training.procedure_create(actor=qa, code="SOP-MFG-012", title="Thaw")
    version = training.procedure_version_issue(
        actor=qa, procedure=procedure, effective_on=date(2020, 1, 1), document_reference="DMS-12"
    )
    return training.training_record_create(
        actor=qa,
        password=PASSWORD,
        procedure_version=version,
        trainee=trainee,
        trained_by=trainer,
        trained_on=timezone.localdate() - timedelta(days=1),
        assessment="passed",
    )


def em_records(qa, qc_analyst, now):
    """A room, a sampling point in it and an unread contact plate taken there."""
    from batches.services import facility
    from qc.services import environment

    room = facility.room_create(actor=qa, identifier="CR-1", name="Suite 1", grade="B")
    point = environment.sampling_point_create(
        actor=qc_analyst, room=room, code="BSC-1", description="Cabinet 1"
    )
    sample = environment.em_sample_record(
        actor=qc_analyst,
        sampling_point=point,
        sample_type="contact",
        sampling_started_at=now - timedelta(hours=1),
        sampling_ended_at=now - timedelta(hours=1),
    )
    return room, point, sample


# Kept in one piece: one record per path parameter, each made from the ones before it.
@pytest.fixture
def world(
    infusion,
    issued_bag,
    technician,
    clinical,
    qa,
    qc_analyst,
    instrument,
    approved_spec_set,
    lots,
    label_printer,
):
    """One existing object for every path parameter of the schema, and a label printer (on
    127.0.0.1) for the print action to reach."""
    from batches.models import Deviation, FollowUpVisit
    from batches.services import clinical as clinical_services
    from qc.models import QcTest

    batch = issued_bag.batch
    now = timezone.now()
    # Written directly: the service opens deviations on active batches only.
    deviation = Deviation.objects.create(
        batch=batch,
        kind="other",
        what="w",
        why="y",
        impact="i",
        opened_by=technician,
        opened_at=now,
    )
    event = clinical_services.adverse_event_report(
        actor=clinical,
        infusion=infusion,
        kind="crs",
        grade=1,
        crs_temperature_c=Decimal("38.2"),
        crs_hypotension="none",
        crs_hypoxia="none",
        onset_at=now,
        description="fever",
    )
    staged, reading = instrument_records(instrument, batch, now)
    signal = trend_signal_of(batch, technician, now)
    trained = training_record(qa, technician, clinical)
    room, point, em_sample = em_records(qa, qc_analyst, now)
    cabinet = EquipmentFactory.create(identifier="BSC-01")
    from batches.services import capa as capa_services
    from qc.models import OosInvestigation

    capa = capa_services.capa_raise(
        actor=qa,
        deviations=[deviation],
        action="Retrain",
        owner=technician,
        due_on=now.date(),
        effectiveness_check_on=now.date() + timedelta(days=30),
    )
    investigation = OosInvestigation.objects.create(
        test=QcTest.objects.filter(batch=batch)[0], opened_at=now
    )
    material_lots = {"vector": lots["vector"], "feeder": lots["feeder"], "reagent": lots["il2"]}
    certificates = {
        f"{kind}-lots": certificate_for(lot, technician).pk for kind, lot in material_lots.items()
    }
    ids = {
        "capas": capa.pk,
        "oos-investigations": investigation.pk,
        "adverse-events": event.pk,
        "bedside-checks": infusion.bedside_check_id,
        "doses": issued_bag.pk,
        "follow-ups": FollowUpVisit.objects.filter(infusion=infusion)[0].pk,
        "imports": staged.pk,
        "infusions": infusion.pk,
        "process-templates": batch.template_id,
        "qc-spec-sets": approved_spec_set.pk,
        "qc-tests": QcTest.objects.filter(batch=batch)[0].pk,
        "trends": signal.point.attribute_id,
        "trend-signals": signal.pk,
        "training-records": trained.pk,
        "sampling-points": point.pk,
        "em-samples": em_sample.pk,
        "feeder-irradiations": lots["feeder"].irradiation.pk,
    }
    return {
        "lot_number": {
            "batches": batch.lot_number,
            **{f"{kind}-lots": lot.lot_number for kind, lot in material_lots.items()},
        },
        "certificate_id": certificates,
        "id": ids,
        "din": {"donor-units": batch.source_unit.din},
        "subject_id": {"recipients": batch.intended_recipient.subject_id},
        "reading_id": {"readings": reading.reading_id},
        "deviation_id": {"batches": deviation.pk},
        "code": {"procedures": trained.procedure_version.procedure.code},
        "identifier": {"rooms": room.identifier, "equipment": cabinet.identifier},
    }


def fill(path: str, world: dict[str, dict[str, object]]) -> str:
    collection = path.split("/")[3]  # /api/v1/<collection>/...
    return re.sub(r"\{(\w+)\}", lambda m: str(world[m.group(1)][collection]), path)


def client_for(caller, users_by_role, instrument_key):
    if caller == pm.ANONYMOUS:
        return APIClient()
    if caller == pm.INSTRUMENT:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {instrument_key}")
        return client
    return TokenClient().as_user(users_by_role[caller])


@pytest.mark.clause("21 CFR 11.10(d)", "21 CFR 11.10(g)")
@pytest.mark.django_db
@pytest.mark.parametrize("caller", pm.CALLERS)
def test_every_operation_answers_the_caller_as_declared(
    caller, world, users_by_role, instrument_key
):
    client = client_for(caller, users_by_role, instrument_key)
    wrong = []
    for operation, callers in sorted(pm.MATRIX.items()):
        method, path = operation.split(" ")
        # An empty body: a permitted caller gets at most a 400, a refused one nothing more.
        response = getattr(client, method.lower())(fill(path, world), {}, format="json")
        code = response.status_code
        if caller in callers:
            # 404 would mean the path's object was not found: nothing about permission shown.
            ok = code not in (401, 403, 404, 405) and code < 500
            if code == 404 and operation in NOT_FOUND_BY_DESIGN:
                ok = NOT_FOUND_BY_DESIGN[operation] in response.content
        else:
            ok = code == (401 if caller == pm.ANONYMOUS else 403)
        if not ok:
            wrong.append((operation, code, response.content[:200]))
    assert not wrong, f"{caller}, answered otherwise than declared:\n" + "\n".join(map(str, wrong))
