import uuid

import pytest
from django.contrib.auth.models import User
from knox.models import AuthToken
from rest_framework.test import APIClient

from carnk_mfg.roles import Role
from tests.batch_steps import planned_days_ago
from tests.factories import PASSWORD, UserFactory

# Clause markers and the results the traceability matrix is built from.
pytest_plugins = ["tests.traceability", "tests.trend_batches"]


@pytest.fixture(autouse=True)
def _media_and_mail(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    # Full-strength PBKDF2 costs ~0.3 s per user and per signature; tests need neither.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    # Static files are served by whitenoise in production; tests render templates only.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    # Tests travel in time between the requests of one session; the idle sign-out has its own
    # tests (tests/web/test_headers_and_sessions.py), which set the timeout they check.
    settings.SESSION_IDLE_TIMEOUT_MINUTES = 100 * 365 * 24 * 60
    # Each test counts its sign-in attempts afresh (the throttles' counters, in Redis).
    settings.CACHES = {
        "default": {**settings.CACHES["default"], "KEY_PREFIX": f"test-{uuid.uuid4().hex}"}
    }


@pytest.fixture(autouse=True)
def _migration_data(request):
    """A transactional test ends by emptying every table, data migrations' rows included
    (roles, the default template and release panel). Put them back before the next one."""
    marker = request.node.get_closest_marker("django_db")
    if not marker or not marker.kwargs.get("transaction"):
        return
    request.getfixturevalue("transactional_db")
    load_migration_data()


def load_migration_data():
    """The rows the data migrations load (roles, the default template and release panel, the
    dose levels, the default product), loaded again into an emptied database."""
    from importlib import import_module

    from django.apps import apps

    # Each loader is idempotent; flush may already have re-created the role groups.
    for module, function in [
        ("carnk_mfg.migrations.0002_roles", "create_roles"),
        ("batches.migrations.0013_thaw_scan_and_recall_roles", "load_template"),
        ("qc.migrations.0007_release_panel_cd3_percent", "load_panel"),
        ("batches.migrations.0006_default_dose_levels", "load_levels"),
        ("batches.migrations.0029_default_product_definition", "load_default_product"),
        ("qc.migrations.0014_environmental_monitoring", "seed_limits"),
    ]:
        getattr(import_module(module), function)(apps, None)


@pytest.fixture
def password():
    return PASSWORD


def _user(role):
    return UserFactory.create(username=f"{role}1", role=role)


@pytest.fixture
def technician(db):
    return _user(Role.TECHNICIAN)


@pytest.fixture
def qc_analyst(db):
    return _user(Role.QC_ANALYST)


@pytest.fixture
def qa(db):
    return _user(Role.QA)


@pytest.fixture
def clinical(db):
    return _user(Role.CLINICAL)


@pytest.fixture
def admin_user(db):
    return _user(Role.ADMIN)


@pytest.fixture
def courier(db):
    return _user(Role.COURIER)


@pytest.fixture
def every_gmp_role(db):
    """One account in every role that writes GMP records, for tests that try every form."""
    from django.contrib.auth.models import Group

    user = UserFactory.create(username="all-hands", role=Role.TECHNICIAN)
    for role in (Role.QC_ANALYST, Role.QA, Role.CLINICAL):
        user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def users_by_role(technician, qc_analyst, qa, clinical, admin_user, courier):
    return {
        Role.TECHNICIAN: technician,
        Role.QC_ANALYST: qc_analyst,
        Role.QA: qa,
        Role.CLINICAL: clinical,
        Role.ADMIN: admin_user,
        Role.COURIER: courier,
    }


class TokenClient(APIClient):
    """An API client that `as_user(u)` authenticates with u's API token."""

    def as_user(self, user: User) -> "TokenClient":
        _stored, token = AuthToken.objects.create(user=user)
        self.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        return self


@pytest.fixture
def api():
    """An API client; `api.as_user(u)` authenticates with u's API token."""
    return TokenClient()


@pytest.fixture
def approved_template(db, qa):
    """The default CB-CAR-NK template from the data migration, approved by QA (signed)."""
    from batches.models import ProcessTemplate
    from batches.services.templates import template_approve

    template = ProcessTemplate.objects.get(code="CB-CAR-NK", version=1)
    if template.status == "draft":
        template = template_approve(actor=qa, password=PASSWORD, template=template)
    return template


@pytest.fixture
def lots(db):
    """Released, in-date lots of every material the default template uses."""
    from tests.factories import FeederLotFactory, ReagentLotFactory, VectorLotFactory

    return {
        "vector": VectorLotFactory.create(lot_number="RV-1"),
        "feeder": FeederLotFactory.create(lot_number="FD-1"),
        "il2": ReagentLotFactory.create(lot_number="IL2-1", reagent="il2"),
        "retronectin": ReagentLotFactory.create(lot_number="RN-1", reagent="retronectin"),
        "isolation": ReagentLotFactory.create(lot_number="ISO-1", reagent="isolation"),
    }


@pytest.fixture
def approved_spec_set(db, qa, approved_template):
    """The default release panel from the data migration, approved by QA (signed)."""
    from qc.models import QcSpecSet
    from qc.services.specs import qc_spec_set_approve

    spec = QcSpecSet.objects.get(template=approved_template, version=1)
    if spec.status == "draft":
        spec = qc_spec_set_approve(actor=qa, password=PASSWORD, spec_set=spec)
    return spec


@pytest.fixture
def planned_batch(db, technician, approved_template, lots):
    """A batch for recipient CARNK-QC (72.5 kg) on a fresh eligible unit, planned 30 days
    ago so its steps can be recorded on their days since."""
    from decimal import Decimal

    from batches.services.batch_record import batch_create
    from tests.factories import CordBloodUnitFactory, RecipientFactory

    unit, recipient = CordBloodUnitFactory.create(), RecipientFactory.create(subject_id="CARNK-QC")
    with planned_days_ago(30):
        return batch_create(
            actor=technician,
            source_unit=unit,
            template=approved_template,
            unit_fraction_used_pct=Decimal("100"),
            intended_recipient=recipient,
        )


@pytest.fixture
def batch_260001(technician, approved_template, lots):
    """Batch CNK-260001 in process, the lot the sample instrument files name; planned before
    their measurements (January 2026), since a count may not predate its batch."""
    from datetime import UTC, datetime
    from decimal import Decimal

    from django.utils import timezone

    from batches.services.batch_record import batch_create
    from batches.services.lifecycle import batch_transition
    from tests.factories import CordBloodUnitFactory

    since = timezone.now() - datetime(2025, 12, 1, tzinfo=UTC)
    with planned_days_ago(since.total_seconds() / 86400):
        batch = batch_create(
            actor=technician,
            source_unit=CordBloodUnitFactory.create(),
            template=approved_template,
            unit_fraction_used_pct=Decimal("100"),
            lot_number="CNK-260001",
        )
    return batch_transition(actor=technician, batch=batch, to_state="in_process", reason="go")


@pytest.fixture
def instrument(db, admin_user):
    """A calibrated Vi-CELL BLU, registered through the service."""
    from datetime import timedelta

    from django.utils import timezone

    from qc.services.instruments import instrument_register

    return instrument_register(
        actor=admin_user,
        name="Vi-CELL BLU 1",
        model="Vi-CELL BLU",
        serial_number="VCB-0042",
        location="QC lab 2",
        kind="cell_counter",
        calibration_due=timezone.localdate() + timedelta(days=90),
    )


@pytest.fixture
def cytometer(db, admin_user):
    """A calibrated flow cytometer (it imports gate statistics, not counts)."""
    from datetime import timedelta

    from django.utils import timezone

    from qc.services.instruments import instrument_register

    return instrument_register(
        actor=admin_user,
        name="Cytometer 1",
        model="CytoFLEX",
        serial_number="CYTO-001",
        location="QC lab",
        kind="flow_cytometer",
        calibration_due=timezone.localdate() + timedelta(days=90),
    )


@pytest.fixture
def cytometer_key(cytometer, admin_user):
    from qc.services.instruments import instrument_key_create

    return instrument_key_create(actor=admin_user, instrument=cytometer, label="gates")[1]


@pytest.fixture
def instrument_key(instrument, admin_user):
    from qc.services.instruments import instrument_key_create

    _key, raw = instrument_key_create(actor=admin_user, instrument=instrument, label="middleware")
    return raw


@pytest.fixture
def running_batch(planned_batch, technician):
    from batches.services.lifecycle import batch_transition

    return batch_transition(
        actor=technician, batch=planned_batch, to_state="in_process", reason="go"
    )


@pytest.fixture
def in_qc_batch(technician, approved_spec_set, planned_batch):
    """The planned batch taken through every step and harvest into QC (release panel open)."""
    from datetime import timedelta

    from django.utils import timezone

    from batches.services import lifecycle
    from tests import batch_steps

    batch = lifecycle.batch_transition(
        actor=technician, batch=planned_batch, to_state="in_process", reason="go"
    )
    day0 = timezone.now() - timedelta(days=20)
    batch_steps.record_steps(batch, technician, day0=day0)
    batch = lifecycle.batch_transition(
        actor=technician, batch=batch, to_state="harvested", reason="h", password=PASSWORD
    )
    return lifecycle.batch_transition(
        actor=technician, batch=batch, to_state="in_qc", reason="to QC"
    )


@pytest.fixture
def issued_bag(in_qc_batch, technician, qc_analyst, qa, clinical):
    """Bag A0 of a released batch, assigned to the batch's recipient at DL2 and issued, all
    within the last hour (so a bedside check and an infusion can follow in order); the
    recipient lymphodepleted on days -5 to -3, so the infusion may be today."""

    from batches.models import DoseUnit
    from batches.services import release
    from tests.batch_steps import (
        INFUSE_NOW_CHECKED,
        bedside_day,
        formulate,
        issue_to_ward,
        lymphodeplete,
        result_all,
    )

    with planned_days_ago(1 / 24):
        result_all(in_qc_batch, qc_analyst, UserFactory.create(username="qc-b", role="qc_analyst"))
        formulate(in_qc_batch, technician, ("A0", "B0"))
        release.batch_record_review(actor=qa, password=PASSWORD, batch=in_qc_batch)
        release.batch_release_decide(
            actor=qa, password=PASSWORD, batch=in_qc_batch, decision="release", reason="ok"
        )
        bag = DoseUnit.objects.get(division="A0")
        release.dose_assign(
            actor=clinical,
            dose_unit=bag,
            recipient=in_qc_batch.intended_recipient,
            level_code="DL2",
        )
        # Fludarabine and cyclophosphamide on days -5 to -3: the recipient may be infused today.
        lymphodeplete(
            in_qc_batch.intended_recipient,
            clinical,
            infusion_on=bedside_day(INFUSE_NOW_CHECKED),
        )
        issue_to_ward(bag, released_by=qa, received_by=clinical)
    bag.refresh_from_db()
    return bag


@pytest.fixture
def infusion(issued_bag, clinical):
    """A recorded infusion of the issued bag: checked at the bedside 35 minutes ago, started
    5 minutes later, ended now."""
    from decimal import Decimal

    from tests.batch_steps import infuse_now

    return infuse_now(issued_bag, clinical, Decimal("4.4"))


class _LabelPrinter:
    """A label printer on 127.0.0.1: a socketserver on a free port, keeping what it is sent
    (one bytes object per connection) for the test to read back."""

    def __init__(self) -> None:
        import queue
        import socketserver
        import threading

        received: queue.Queue[bytes] = queue.Queue()

        class Catch(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                chunks = []
                while data := self.request.recv(65536):
                    chunks.append(data)
                received.put(b"".join(chunks))

        self.received = received
        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Catch)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def next_label(self) -> str:
        return self.received.get(timeout=5).decode("utf-8")

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def label_printer(settings):
    """The configured label printer, listening on 127.0.0.1."""
    printer = _LabelPrinter()
    settings.LABEL_PRINTER_HOST = "127.0.0.1"
    settings.LABEL_PRINTER_PORT = printer.port
    settings.LABEL_PRINTER_TIMEOUT = 2.0
    yield printer
    printer.stop()


@pytest.fixture
def label_printer_down(settings):
    """A configured label printer that is off: nothing listens on its port."""
    import socket

    with socket.socket() as probe:  # a free port, closed again: connections are refused
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.LABEL_PRINTER_HOST = "127.0.0.1"
    settings.LABEL_PRINTER_PORT = port
    settings.LABEL_PRINTER_TIMEOUT = 2.0
    return f"127.0.0.1:{port}"
