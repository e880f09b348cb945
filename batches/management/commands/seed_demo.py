"""Load the demo lab once: a user per role (two QC analysts, so results can be reviewed by a
second person), instruments with API keys, cord blood units, lots, recipients, and a batch
in each state of the lifecycle with the work each role has in front of them today.

Everything is written through the services, so the demo trail and signatures look exactly
like real use (`batches/management/demo/`). Running it again changes nothing: it adds only
a demo user or instrument that is missing, and prints the credentials.
"""

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.contrib.auth.models import Group, User
from django.core.management.base import BaseCommand
from django.db import transaction
from django.test.utils import override_settings
from django.utils import timezone

from batches.management.demo import DEMO_PASSWORD, at, lab
from batches.management.demo.environment import load_monitoring, set_up_rooms
from batches.management.demo.equipment import CELL_COUNTER
from batches.management.demo.lifecycle import Lab, People, load_batches
from batches.management.demo.training import set_up_training
from batches.management.demo.trending import load_trend_history
from batches.models import Equipment, ProcessTemplate
from batches.services import templates
from carnk_mfg.roles import Role

# The demo is of the whole product, QC included: the command and the demo's batches are the
# modules under batches/ that import qc (nothing imports them).
from qc.models import Instrument, QcSpecSet
from qc.services.instruments import instrument_key_create, instrument_register
from qc.services.specs import qc_spec_set_approve

__all__ = ["DEMO_PASSWORD", "DEMO_USERS", "Command"]

DEMO_USERS = {
    # username: (role, first name, last name)
    "tech": (Role.TECHNICIAN, "Tara", "Nguyen"),
    # A new technician, not yet trained: every step of the default template refuses them.
    "tech2": (Role.TECHNICIAN, "Sam", "Ito"),
    "qc": (Role.QC_ANALYST, "Quentin", "Clarke"),
    "qc2": (Role.QC_ANALYST, "Priya", "Raman"),
    "qa": (Role.QA, "Amara", "Okafor"),
    # QA's training coordinator: records the training of QA itself (nobody records their own).
    "qalead": (Role.QA, "Grace", "Adeyemi"),
    "clinic": (Role.CLINICAL, "Luis", "Ortega"),
    "clinic2": (Role.CLINICAL, "Mei", "Tanaka"),
    "courier": (Role.COURIER, "Kofi", "Boateng"),
    "admin": (Role.ADMIN, "Ada", "Mensah"),
}
# serial: (name, model, kind, location, calibration due in days from today; negative: lapsed)
DEMO_INSTRUMENTS = {
    "VCB-0042": ("Vi-CELL BLU 1", "Beckman Coulter Vi-CELL BLU", "cell_counter", "QC lab 2", 90),
    "CYTO-0117": ("CytoFLEX 1", "Beckman Coulter CytoFLEX LX", "flow_cytometer", "QC lab 1", 150),
    "NC200-0309": ("NucleoCounter 1", "ChemoMetec NC-200", "cell_counter", "Cleanroom B", -3),
}
# serial: the identifier of the instrument's record at the bench (equipment), whose usability
# also decides whether its data is accepted.
DEMO_INSTRUMENT_EQUIPMENT = {"VCB-0042": CELL_COUNTER}
# The lab was set up this long before today: units, lots and recipients registered, the
# template and release panel approved, before the oldest demo batch was planned.
SET_UP_DAYS_AGO = 60


class LoadHasher(PBKDF2PasswordHasher):
    """The demo signs over a hundred times; at full PBKDF2 strength each re-entered
    password costs about a second here. While loading, the demo accounts hold a one-round
    hash; they get the configured hasher's full-strength hash before the load commits."""

    algorithm = "demo_load"
    iterations = 1


@contextmanager
def quick_signing() -> Iterator[None]:
    hashers = [f"{LoadHasher.__module__}.{LoadHasher.__name__}", *settings.PASSWORD_HASHERS]
    with override_settings(PASSWORD_HASHERS=hashers):
        yield


class Command(BaseCommand):
    help = "Load demo data (once) and print the demo credentials."

    def handle(self, *args, **options):
        started = time.monotonic()
        now = timezone.now()
        fresh = not get_user_model().objects.filter(username="qa").exists()
        with transaction.atomic():
            with quick_signing():
                users = self._users(now)
                made = self._load(users, now) if fresh else {}
                # After the load, which registers the bench equipment a counter is linked to.
                keys = self._instruments(users["admin"])
            self._full_strength_passwords(users)
        if fresh:
            self.stdout.write(
                self.style.SUCCESS(f"Demo data loaded in {time.monotonic() - started:.1f} s.")
            )
            for what, batch in made.items():
                self.stdout.write(f"  {batch.lot_number:<14} {what}")
        else:
            self.stdout.write("Demo data already loaded.")
        self._print_credentials(keys)

    def _users(self, now) -> dict[str, User]:
        """Each demo user, created (in its role's group) if missing."""
        model = get_user_model()
        users = {}
        with at(now - timedelta(days=SET_UP_DAYS_AGO + 1)):
            for username, (role, first, last) in DEMO_USERS.items():
                user = model.objects.filter(username=username).first()
                if user is None:
                    user = model.objects.create_user(
                        username,
                        f"{username}@lab.example",
                        DEMO_PASSWORD,
                        first_name=first,
                        last_name=last,
                        is_staff=role == Role.ADMIN,
                    )
                    user.groups.add(Group.objects.get(name=role))
                users[username] = user
        return users

    def _instruments(self, admin: User) -> dict[str, str]:
        """Each demo instrument, registered with a key if missing (a counter with its bench
        equipment); the new keys' plaintext by serial number (it is never stored)."""
        today = timezone.localdate()
        keys = {}
        for serial, (name, model, kind, location, due_in) in DEMO_INSTRUMENTS.items():
            if Instrument.objects.filter(serial_number=serial).exists():
                continue
            instrument = instrument_register(
                actor=admin,
                name=name,
                model=model,
                serial_number=serial,
                location=location,
                kind=kind,
                calibration_due=today + timedelta(days=due_in),
                equipment=Equipment.objects.filter(
                    identifier=DEMO_INSTRUMENT_EQUIPMENT.get(serial, "")
                ).first(),
            )
            if due_in > 0:
                keys[serial] = instrument_key_create(
                    actor=admin, instrument=instrument, label="demo middleware"
                )[1]
        return keys

    def _load(self, users: dict[str, User], now) -> dict:
        """The lab's stock and approvals at set-up, then the batches, then today's QA work."""
        tech, qa, clinic = users["tech"], users["qa"], users["clinic"]
        with at(now - timedelta(days=SET_UP_DAYS_AGO)):
            units = lab.register_units(tech, qa)
            lab.register_lots(tech, qa, today=timezone.localdate(now))
            lab.register_recipients(clinic, users["clinic2"])
            template = templates.template_approve(
                actor=qa,
                password=DEMO_PASSWORD,
                template=ProcessTemplate.objects.get(code="CB-CAR-NK", version=1),
            )
            qc_spec_set_approve(
                actor=qa,
                password=DEMO_PASSWORD,
                spec_set=QcSpecSet.objects.get(template=template, version=1),
            )
            set_up_training(
                qa=qa,
                qa_lead=users["qalead"],
                tech=tech,
                tech2=users["tech2"],
                template=template,
            )
            set_up_rooms(qa=qa, qc=users["qc"])
        people = People(
            tech=tech,
            qc=users["qc"],
            qc2=users["qc2"],
            qa=qa,
            clinic=clinic,
            courier=users["courier"],
        )
        demo_lab = Lab(people, template, units[: lab.ELIGIBLE_UNITS], now)
        made = load_batches(demo_lab)
        load_monitoring(qc=users["qc"], held=made["on hold"], now=now)
        with at(now - timedelta(days=1)):
            lab.qa_work_today(tech, users["admin"])
        made |= load_trend_history(demo_lab)
        return made

    def _full_strength_passwords(self, users: dict[str, User]) -> None:
        for user in users.values():
            if user.password.startswith(f"{LoadHasher.algorithm}$"):
                user.set_password(DEMO_PASSWORD)
                user.save(update_fields=["password"])

    def _print_credentials(self, keys: dict[str, str]) -> None:
        self.stdout.write(f"Demo users (password for all: {DEMO_PASSWORD}):")
        for username, (role, first, last) in DEMO_USERS.items():
            self.stdout.write(f"  {username:<8} {Role.LABELS[role]} ({first} {last})")
        if keys:
            self.stdout.write("Instrument API keys (shown this once; the lab stores only a hash):")
            for serial, raw in keys.items():
                self.stdout.write(f"  {DEMO_INSTRUMENTS[serial][0]} ({serial}): {raw}")
        else:
            self.stdout.write(
                "Instrument keys were shown when the demo was loaded; issue a new one with "
                "`manage.py create_instrument_key VCB-0042` or in the admin (Instruments)."
            )
