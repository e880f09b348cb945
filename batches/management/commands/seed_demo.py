"""Load demo data once: a user per role, cord blood units, material lots, recipients.

Everything is written through the services, so the demo trail and signatures look exactly
like real use. Running it again only prints the credentials.
"""

from datetime import date, timedelta
from decimal import Decimal

import time_machine
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, User
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from batches.models import (
    Batch,
    CordBloodUnit,
    Eligibility,
    ProcessTemplate,
    ReagentLot,
    Recipient,
)
from batches.services import batch_record, donor, lifecycle, materials, recipients, templates
from carnk_mfg import isbt128
from carnk_mfg.roles import Role

# The demo is of the whole product, QC included: the one module under batches/ that imports
# qc (a command, which nothing imports).
from qc.models import QcSpecSet
from qc.services.specs import qc_spec_set_approve

DEMO_USERS = {
    # username: (role, first name, last name)
    "tech": (Role.TECHNICIAN, "Tara", "Nguyen"),
    "qc": (Role.QC_ANALYST, "Quentin", "Clarke"),
    "qa": (Role.QA, "Amara", "Okafor"),
    "clinic": (Role.CLINICAL, "Luis", "Ortega"),
    "admin": (Role.ADMIN, "Ada", "Mensah"),
}
DEMO_PASSWORD = "carnk-demo-2026"  # printed on start; demo data only


class Command(BaseCommand):
    help = "Load demo data (once) and print the demo credentials."

    def handle(self, *args, **options):
        User = get_user_model()
        if User.objects.filter(username="qa").exists():
            self.stdout.write("Demo data already loaded.")
        else:
            # The demo lab was set up nine days ago: units, lots, approvals and the batch's
            # planning happen then; its culture since is recorded now, on its days.
            real_now = timezone.now()
            with transaction.atomic():
                with time_machine.travel(real_now - timedelta(days=9), tick=True):
                    batch = self._load(User)
                self._record_culture(batch, real_now - timedelta(days=8))
            self.stdout.write(self.style.SUCCESS("Demo data loaded."))
        self.stdout.write(f"Demo users (password for all: {DEMO_PASSWORD}):")
        for username, (role, *_names) in DEMO_USERS.items():
            self.stdout.write(f"  {username:<8} {Role.LABELS[role]}")

    def _load(self, user_model: type[User]) -> Batch:
        users = self._users(user_model)
        tech, qa, clinic = users[Role.TECHNICIAN], users[Role.QA], users[Role.CLINICAL]
        registered = self._units(tech, qa)
        today = timezone.localdate()
        self._lots(tech, qa, today)
        self._recipients(clinic, today)
        assert CordBloodUnit.objects.count() == registered
        return self._load_batch(users, today)

    def _users(self, user_model: type[User]) -> dict[str, User]:
        """One user per role, each in its role's group."""
        users: dict[str, User] = {}
        for username, (role, first, last) in DEMO_USERS.items():
            user = user_model.objects.create_user(
                username,
                f"{username}@lab.example",
                DEMO_PASSWORD,
                first_name=first,
                last_name=last,
                is_staff=role == Role.ADMIN,
            )
            user.groups.add(Group.objects.get(name=role))
            users[role] = user
        return users

    def _units(self, tech: User, qa: User) -> int:
        """Four cord blood units, all but the last with an eligibility decision; their number."""
        now = timezone.now()
        year = f"{now:%y}"
        eligibility = [Eligibility.ELIGIBLE, Eligibility.ELIGIBLE, Eligibility.INCOMPLETE, None]
        for n, decided in enumerate(eligibility, start=1):
            din = f"W0420{year}{100000 + n:06d}"
            collected = now - timedelta(days=300 + 30 * n)
            unit = donor.cord_blood_unit_register(
                actor=tech,
                password=DEMO_PASSWORD,
                din=din,
                check_character=isbt128.check_character(din),
                product_code="S1145V00",
                source_bank="Lone Star Cord Blood Bank",
                collected_at=collected,
                cryopreserved_at=collected + timedelta(hours=18 if n != 3 else 27),
                volume_ml=Decimal("24.5") + n,
                tnc_count=1.1e9 + n * 1e8,
                cd34_count=3.5e6 + n * 2e5,
                nrbc_count=9.1e7 if n == 4 else 3.0e7,
                viability_pct=Decimal("91.0"),
                hla_a="A*02:01, A*03:01",
                hla_b="B*07:02, B*08:01",
                hla_c="C*07:01, C*07:02",
                hla_drb1="DRB1*03:01, DRB1*15:01",
                kir_ligand_group="C1/C2",
                maternal_markers={"HIV-1/2": "negative", "HBsAg": "negative", "HCV": "negative"},
                freezer="LN2-01",
                rack=f"R{n}",
                box="B01",
                position=f"A{n}",
            )
            if decided:
                donor.cord_blood_unit_determine_eligibility(
                    actor=qa,
                    password=DEMO_PASSWORD,
                    unit=unit,
                    eligibility=decided,
                    notes="" if decided == Eligibility.ELIGIBLE else "Maternal CMV result missing",
                )
        return len(eligibility)

    def _lots(self, tech: User, qa: User, today: date) -> None:
        """A released vector and feeder lot, an IL-2 lot awaiting QA and an expired reagent."""
        vector = materials.material_lot_register(
            actor=tech,
            kind="vector",
            lot_number="RV-iC9-CAR19-IL15-0007",
            manufacturer="MDACC Vector Core",
            received_on=today - timedelta(days=40),
            expiry_date=today + timedelta(days=320),
            titer_iu_per_ml=2.1e7,
            rcr_result="negative",
        )
        materials.material_lot_disposition(
            actor=qa,
            password=DEMO_PASSWORD,
            lot=vector,
            status="released",
            reason="CoA reviewed; RCR negative",
        )
        feeder = materials.material_lot_register(
            actor=tech,
            kind="feeder",
            lot_number="uAPC-2211",
            manufacturer="MDACC Cell Core",
            received_on=today - timedelta(days=12),
            expiry_date=today + timedelta(days=170),
            irradiation_dose_gy=Decimal("100.0"),
            irradiated_on=today - timedelta(days=14),
        )
        materials.material_lot_disposition(
            actor=qa,
            password=DEMO_PASSWORD,
            lot=feeder,
            status="released",
            reason="Irradiation record and sterility reviewed",
        )
        materials.material_lot_register(
            actor=tech,
            kind="reagent",
            lot_number="IL2-PROLEUKIN-5521",
            reagent="il2",
            manufacturer="Clinigen",
            received_on=today - timedelta(days=60),
            expiry_date=today + timedelta(days=20),
            description="IL-2 22 MIU vial",
        )
        materials.material_lot_register(
            actor=tech,
            kind="reagent",
            lot_number="RN-T100A-889",
            reagent="retronectin",
            manufacturer="Takara",
            received_on=today - timedelta(days=400),
            expiry_date=today - timedelta(days=5),
            description="RetroNectin 2.5 mg",
        )

    def _recipients(self, clinic: User, today: date) -> None:
        for n, (diagnosis, level, kg) in enumerate(
            [("NHL", "DL1", "68.0"), ("CLL", "DL2", "81.5"), ("NHL", "DL3", "59.2")], start=1
        ):
            recipients.recipient_register(
                actor=clinic,
                subject_id=f"CARNK-{n:03d}",
                diagnosis=diagnosis,
                dose_level=level,
                weight_kg=Decimal(kg),
                weight_measured_on=today - timedelta(days=n),
            )

    def _load_batch(self, users, today):
        """Approve the default template and plan one batch, started for thaw."""
        tech, qa = users[Role.TECHNICIAN], users[Role.QA]
        for lot_number, reagent in (("ISO-CD3-0421", "isolation"), ("RN-T100A-902", "retronectin")):
            lot = materials.material_lot_register(
                actor=tech,
                kind="reagent",
                lot_number=lot_number,
                reagent=reagent,
                manufacturer="Miltenyi" if reagent == "isolation" else "Takara",
                received_on=today - timedelta(days=20),
                expiry_date=today + timedelta(days=200),
            )
            materials.material_lot_disposition(
                actor=qa, password=DEMO_PASSWORD, lot=lot, status="released", reason="CoA reviewed"
            )
        il2 = ReagentLot.objects.get(lot_number="IL2-PROLEUKIN-5521")
        materials.material_lot_disposition(
            actor=qa, password=DEMO_PASSWORD, lot=il2, status="released", reason="CoA reviewed"
        )
        template = templates.template_approve(
            actor=qa,
            password=DEMO_PASSWORD,
            template=ProcessTemplate.objects.get(code="CB-CAR-NK", version=1),
        )
        qc_spec_set_approve(
            actor=qa, password=DEMO_PASSWORD, spec_set=QcSpecSet.objects.get(template=template)
        )
        unit = CordBloodUnit.objects.filter(eligibility=Eligibility.ELIGIBLE).first()
        assert unit is not None  # two of the demo's units were found eligible
        batch = batch_record.batch_create(
            actor=tech,
            source_unit=unit,
            template=template,
            unit_fraction_used_pct=Decimal(50),
            intended_recipient=Recipient.objects.get(subject_id="CARNK-001"),
        )
        return lifecycle.batch_transition(
            actor=tech, batch=batch, to_state="in_process", reason="Thaw"
        )

    def _record_culture(self, batch, day0):
        """Eight days of culture on the planned batch: four steps and four counts."""
        tech = get_user_model().objects.get(username="tech")
        unit = batch.source_unit
        steps = list(batch.template.steps.order_by("order"))
        plans = [
            (
                day0,
                {
                    "cbu_din": unit.din_eye_readable,
                    "post_thaw_tnc": 9.2e8,
                    "post_thaw_viability_pct": 86,
                    "nk_purity_pct": 91,
                },
                [("reagent", "ISO-CD3-0421")],
            ),
            (
                day0 + timedelta(hours=3),
                {"feeder_nk_ratio": 2, "il2_iu_per_ml": 200, "feeder_irradiation_gy": 100},
                [("feeder", "uAPC-2211"), ("reagent", "IL2-PROLEUKIN-5521")],
            ),
            (
                day0 + timedelta(days=5),
                {"vector_titer": 2.1e7, "moi": 10, "vector_volume_ml": 12},
                [("vector", "RV-iC9-CAR19-IL15-0007"), ("reagent", "RN-T100A-902")],
            ),
            (day0 + timedelta(days=7), {"feeder_nk_ratio": 1}, [("feeder", "uAPC-2211")]),
        ]
        for step, (at, values, used) in zip(steps, plans, strict=False):
            batch_record.step_record(
                actor=tech,
                password=DEMO_PASSWORD,
                batch=batch,
                template_step=step,
                performed_at=at,
                values=values,
                materials=[{"kind": k, "lot_number": n} for k, n in used],
            )
        for day, viable, viability in (
            (0, 2.0e5, 88),
            (3, 1.1e6, 91),
            (5, 4.0e6, 90),
            (7, 1.6e7, 93),
        ):
            batch_record.cell_count_record(
                actor=tech,
                batch=batch,
                day=day,
                measured_at=day0 + timedelta(days=day, hours=2),
                total_cells_per_ml=viable * 100 / viability,
                viable_cells_per_ml=viable,
                volume_ml=Decimal(20 + 10 * day),
            )
