"""Instrument export files: upload, the parse a worker runs (called here directly), then an
atomic accept (qc/services/imports.py)."""

import hashlib
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from batches.models import CellCount
from batches.services.batch_record import cell_count_record
from qc.instrument_files import ParsedRow
from qc.models import Instrument, InstrumentImport, InstrumentReading
from qc.services import imports
from tests.services.trail import assert_trailed, unchanged

pytestmark = pytest.mark.django_db
FILES = Path(__file__).parent.parent / "instrument_files"
VICELL = "vicell_blu_summary_utf8.csv"


def row(sample_id, gate_name=""):
    return ParsedRow(
        row=1,
        sample_id=sample_id,
        measured_at=None,
        total_cells_per_ml=None,
        viable_cells_per_ml=None,
        viability_pct=None,
        gate_name=gate_name,
    )


@pytest.mark.parametrize(
    "parsed, sample",
    [
        (row("CNK-260001-D07"), "CNK-260001-D07"),
        (row("CNK-260001-QC42_CAR.fcs", "CAR+"), "CNK-260001-QC42"),
        (row("CNK-260001-QC42.fcs", "CAR+"), "CNK-260001-QC42"),
    ],
)
def test_sample_of(parsed, sample):
    assert imports.sample_of(parsed) == sample


def upload(actor, instrument, name=VICELL, data=None):
    data = data if data is not None else (FILES / name).read_bytes()
    return imports.import_stage(actor=actor, instrument=instrument, filename=name, data=data)


def stage(actor, instrument, name=VICELL, data=None):
    """Upload, then the parse the worker would run."""
    staged, again = upload(actor, instrument, name, data)
    if not again:
        imports.import_parse(staged.pk)
        staged.refresh_from_db()
    return staged, again


def test_upload_keeps_the_file_and_leaves_it_to_parse(technician, instrument, batch_260001):
    staged, again = upload(technician, instrument)
    assert again is False
    staged = InstrumentImport.objects.get(pk=staged.pk)
    data = (FILES / VICELL).read_bytes()
    assert (bytes(staged.raw_file), staged.sha256) == (data, hashlib.sha256(data).hexdigest())
    assert (staged.status, staged.file_format, staged.uploaded_by, staged.preview) == (
        "parsing",
        "vicell_blu_summary",
        technician,
        {},
    )
    assert staged.parse_attempts == 1 and staged.queued_at == staged.uploaded_at
    assert_trailed(staged, actor=technician, reason=f"Import uploaded: {VICELL}", label="insert")


def test_parse_previews_the_file(technician, instrument, batch_260001):
    staged, _ = stage(technician, instrument)
    assert (staged.status, staged.failure) == ("ready", "")
    rows = {r["sample_id"]: r for r in staged.preview["rows"]}
    assert rows["CNK-260001-D07"]["status"] == "matched"
    assert staged.preview["unmatched"] == ["CNK-260002-D07"]
    assert not CellCount.objects.exists()
    assert_trailed(staged, actor=None, reason=f"Import parsed: {VICELL}", label="update")


def test_stage_the_same_file_again_returns_the_first(technician, instrument, batch_260001):
    first, _ = stage(technician, instrument)
    with unchanged(first):
        again, seen = stage(
            technician, instrument, name="renamed.csv", data=(FILES / VICELL).read_bytes()
        )
    assert (again.pk, seen) == (first.pk, True)


def test_stage_shows_a_count_that_disagrees_with_one_recorded(technician, instrument, batch_260001):
    cell_count_record(
        actor=technician,
        batch=batch_260001,
        day=7,
        measured_at=timezone.now(),
        total_cells_per_ml=5e6,
        viable_cells_per_ml=4e6,
        volume_ml=Decimal("100"),
    )
    staged, _ = stage(technician, instrument)
    assert [c["sample_id"] for c in staged.preview["conflicts"]] == ["CNK-260001-D07"]


@pytest.mark.parametrize(
    "name, data, says",
    [
        ("empty.csv", b"", "empty"),
        ("broken_unknown_header.csv", None, "format"),
        ("broken_header_only.csv", None, "no measurements"),
        ("book.xlsx", b"PK\x03\x04rest of a workbook", "export it as csv"),
    ],
)
def test_upload_refuses_a_file_it_cannot_read(technician, instrument, name, data, says):
    with unchanged(instrument), pytest.raises(ValidationError) as exc:
        upload(technician, instrument, name, data)
    assert says in exc.value.message_dict["file"][0].lower()


def test_a_file_the_parser_refuses_fails_with_the_reason(technician, instrument):
    staged, _ = stage(technician, instrument, "broken_text_in_number.csv")
    assert staged.status == "failed" and staged.preview == {}
    assert "row 2 (line 3): value 'abc' in 'Viability (%)' is not a number" in staged.failure
    assert_trailed(staged, actor=None, reason="Import could not be parsed")


def test_more_rows_than_the_cap_are_refused_at_upload(technician, instrument, settings):
    settings.IMPORT_MAX_ROWS = 2
    with unchanged(instrument), pytest.raises(ValidationError) as exc:
        upload(technician, instrument)
    assert exc.value.message_dict["file"] == [
        "The file has 3 rows; at most 2 can be imported at once: split the export."
    ]
    assert not InstrumentImport.objects.exists()


@pytest.mark.parametrize(
    "limit, value, says",
    [
        ("IMPORT_PARSE_MEMORY_MB", 200, "Parsing needed more than 200 MB and was stopped."),
        ("IMPORT_PARSE_SECONDS", 1, "Parsing took longer than 1 s and was stopped."),
    ],
)
def test_a_parse_past_its_limit_fails_with_the_reason(
    technician, instrument, settings, limit, value, says
):
    setattr(settings, limit, value)
    # A format allotropy reads: loading it alone takes seconds and more than 200 MB of address
    # space (the Vi-CELL BLU summary's lean reader stays well within both).
    staged, _ = stage(technician, instrument, "nc_view_multi.csv")
    assert staged.status == "failed" and staged.failure.startswith(says), staged.failure
    assert "Split the export" in staged.failure


def test_a_repeated_parse_changes_nothing(technician, instrument, batch_260001):
    """A redelivered task, or one queued twice: the import is no longer `parsing`."""
    staged, _ = stage(technician, instrument)
    with unchanged(staged):
        assert imports.import_parse(staged.pk) == "ready"
    imports.import_accept(actor=technician, staged=staged)
    with unchanged(staged):
        assert imports.import_parse(staged.pk) == "accepted"


def test_an_import_left_parsing_is_queued_again(
    technician, instrument, settings, django_capture_on_commit_callbacks
):
    settings.IMPORT_PARSE_ATTEMPTS = 2
    staged, _ = upload(technician, instrument)
    fresh, _ = upload(technician, instrument, "nc_view_multi.csv")
    later = staged.queued_at + timedelta(minutes=6)
    with django_capture_on_commit_callbacks() as queued:
        assert imports.imports_requeue_stuck(now=later - timedelta(minutes=2)) == {
            "requeued": 0,
            "failed": 0,
        }
        InstrumentImport.objects.filter(pk=fresh.pk).update(queued_at=later)
        assert imports.imports_requeue_stuck(now=later) == {"requeued": 1, "failed": 0}
    assert len(queued) == 1  # the parse is handed to the broker once this commits
    staged.refresh_from_db()
    assert (staged.status, staged.parse_attempts, staged.queued_at) == ("parsing", 2, later)
    assert_trailed(staged, actor=None, reason="Import parse queued again")
    # Still not parsed: after IMPORT_PARSE_ATTEMPTS hand-overs it fails, saying why; the
    # other, queued once, is now stuck too and handed over again.
    assert imports.imports_requeue_stuck(now=later + timedelta(minutes=6)) == {
        "requeued": 1,
        "failed": 1,
    }
    staged.refresh_from_db()
    assert staged.status == "failed" and "after 2 attempts" in staged.failure
    fresh.refresh_from_db()
    assert fresh.status == "parsing" and fresh.parse_attempts == 2


def test_stage_refuses_a_file_too_large(technician, instrument, monkeypatch):
    monkeypatch.setattr(imports, "MAX_FILE_BYTES", 100)
    with unchanged(instrument), pytest.raises(ValidationError, match="larger than"):
        upload(technician, instrument)


def test_stage_needs_the_permission(qa, instrument):
    with unchanged(instrument), pytest.raises(PermissionDenied):
        upload(qa, instrument)


# --- accept ---


def test_accept_commits_every_matched_row(technician, instrument, batch_260001):
    staged, _ = stage(technician, instrument)
    imports.import_accept(actor=technician, staged=staged)
    staged.refresh_from_db()
    assert (staged.status, staged.accepted_by) == ("accepted", technician)
    days = CellCount.objects.filter(batch=batch_260001).values_list("day", flat=True)
    assert sorted(days) == [7, 10]
    assert InstrumentReading.objects.filter(source_import=staged).count() == 2
    # Its own reason, not that of the readings submitted inside the accept.
    assert_trailed(
        staged, actor=technician, reason=f"Import accepted: {staged.filename}", label="update"
    )


def test_accept_leaves_out_a_conflicting_row(technician, instrument, batch_260001):
    cell_count_record(
        actor=technician,
        batch=batch_260001,
        day=7,
        measured_at=timezone.now(),
        total_cells_per_ml=5e6,
        viable_cells_per_ml=4e6,
        volume_ml=Decimal("100"),
    )
    staged, _ = stage(technician, instrument)
    imports.import_accept(actor=technician, staged=staged)
    counts = CellCount.objects.filter(batch=batch_260001)
    assert sorted(counts.values_list("day", "source")) == [(7, "manual"), (10, "instrument")]


def test_accept_once(technician, instrument, batch_260001):
    staged, _ = stage(technician, instrument)
    imports.import_accept(actor=technician, staged=staged)
    with unchanged(staged), pytest.raises(ValidationError, match="already accepted"):
        imports.import_accept(actor=technician, staged=staged)


def test_accept_only_a_ready_preview(technician, instrument, batch_260001):
    parsing, _ = upload(technician, instrument)
    with unchanged(parsing), pytest.raises(ValidationError, match="still being parsed"):
        imports.import_accept(actor=technician, staged=parsing)
    failed, _ = stage(technician, instrument, "broken_text_in_number.csv")
    with unchanged(failed), pytest.raises(ValidationError, match="could not be parsed"):
        imports.import_accept(actor=technician, staged=failed)
    assert not CellCount.objects.exists()


def test_accept_refuses_a_file_that_matched_nothing(technician, instrument):
    staged, _ = stage(technician, instrument)  # no batch CNK-260001 here
    with unchanged(staged), pytest.raises(ValidationError, match="nothing to accept"):
        imports.import_accept(actor=technician, staged=staged)


def test_accept_refuses_what_the_readings_refuse(technician, instrument, batch_260001):
    staged, _ = stage(technician, instrument)
    Instrument.objects.filter(pk=instrument.pk).update(
        calibration_due=timezone.localdate() - timedelta(days=1)
    )
    staged.instrument.refresh_from_db()
    with unchanged(staged), pytest.raises(ValidationError, match="calibration lapsed"):
        imports.import_accept(actor=technician, staged=staged)


def test_accept_needs_the_permission(technician, qa, instrument, batch_260001):
    staged, _ = stage(technician, instrument)
    with unchanged(staged), pytest.raises(PermissionDenied):
        imports.import_accept(actor=qa, staged=staged)


# --- an instrument imports only its own kind of file ---


def test_a_flow_cytometer_cannot_import_a_cell_counter_file(technician, cytometer):
    with pytest.raises(ValidationError) as refused:
        upload(technician, cytometer)
    message = refused.value.message_dict["file"][0]
    assert "Vi-CELL BLU summary" in message and "flow cytometer" in message
    assert not InstrumentImport.objects.filter(instrument=cytometer).exists()


def test_imports_staged_before_parsing_moved_to_workers_become_ready(technician, instrument):
    from importlib import import_module

    from django.apps import apps

    staged, _ = stage(technician, instrument)
    InstrumentImport.objects.filter(pk=staged.pk).update(status="staged")
    import_module("qc.migrations.0009_import_parsing").staged_is_ready(apps, None)
    staged.refresh_from_db()
    assert staged.status == "ready" and staged.preview["rows"]


# --- one count per batch and culture day ---


def test_a_row_whose_day_has_a_count_conflicts_even_with_the_same_values(
    technician, instrument, batch_260001
):
    """The rule is one count per day: agreeing within 1 % is no longer a way in."""
    from qc.instrument_files import parse_instrument_file

    parsed = parse_instrument_file((FILES / VICELL).read_bytes(), VICELL)
    d07 = next(r for r in parsed.rows if r.sample_id == "CNK-260001-D07")
    assert d07.viable_cells_per_ml is not None and d07.total_cells_per_ml is not None
    cell_count_record(
        actor=technician,
        batch=batch_260001,
        day=7,
        measured_at=timezone.now(),
        total_cells_per_ml=d07.total_cells_per_ml,
        viable_cells_per_ml=d07.viable_cells_per_ml,
        volume_ml=Decimal("100"),
    )
    staged, _ = stage(technician, instrument)
    (conflict,) = staged.preview["conflicts"]
    assert conflict["sample_id"] == "CNK-260001-D07"
    assert "already has a day 7 count" in conflict["conflict"]
    assert "record a correction with a reason" in conflict["conflict"]


def test_the_same_rows_imported_again_are_no_conflict(
    technician, admin_user, instrument, batch_260001
):
    """The same file from a second counter of the same kind: its rows are the readings
    already taken (the same reading_id), so no conflict, and accepting adds nothing."""
    from qc.services.instruments import instrument_register

    first, _ = stage(technician, instrument)
    imports.import_accept(actor=technician, staged=first)
    twin = instrument_register(
        actor=admin_user,
        name="Vi-CELL BLU 2",
        model="Vi-CELL BLU",
        serial_number="VCB-0043",
        location="QC lab 2",
        kind="cell_counter",
        calibration_due=timezone.localdate() + timedelta(days=90),
    )
    again, seen = stage(technician, twin)
    assert seen is False and again.preview["conflicts"] == []
    imports.import_accept(actor=technician, staged=again)
    assert CellCount.objects.filter(batch=batch_260001).count() == 2


def test_rows_of_one_day_in_a_file_conflict_with_each_other(technician, instrument, batch_260001):
    header, d07, *_ = (FILES / VICELL).read_bytes().splitlines(keepends=True)
    staged, _ = stage(technician, instrument, name="twice.csv", data=header + d07 + d07)
    conflicts = staged.preview["conflicts"]
    assert [c["sample_id"] for c in conflicts] == ["CNK-260001-D07", "CNK-260001-D07"]
    assert "are all day 7 counts of batch CNK-260001" in conflicts[0]["conflict"]
    with pytest.raises(ValidationError, match="nothing to accept"):
        imports.import_accept(actor=technician, staged=staged)
