"""Test data (factory-boy). Records are built with the services where a rule applies; these
factories make the plain rows that tests start from."""

from datetime import date, timedelta
from decimal import Decimal
from typing import Any, TypeVar

import factory
from django.conf import settings
from django.contrib.auth.models import Group, User
from django.utils import timezone

from batches.models import (
    CordBloodUnit,
    DonorTest,
    DonorTestResult,
    Eligibility,
    Equipment,
    EquipmentCalibration,
    EquipmentKind,
    FeederIrradiation,
    FeederLot,
    LotStatus,
    MaterialLot,
    RcrResult,
    ReagentLot,
    Recipient,
    UnitStatus,
    VectorLot,
    WeightMeasurement,
)
from carnk_mfg import isbt128

PASSWORD = "Correct-Horse-42"

# Calling a factory (`UserFactory()`) is typed as the factory itself; tests that use the row
# call `.create()`, which is typed as the model and does the same (the create strategy).


def set_password(user: User, create: bool, extracted: str | None, **kwargs: Any) -> None:
    user.set_password(extracted or PASSWORD)
    if create:
        user.save(update_fields=["password"])


def join_role(user: User, create: bool, extracted: str | None, **kwargs: Any) -> None:
    if create and extracted:
        user.groups.add(Group.objects.get(name=extracted))


class UserFactory(factory.django.DjangoModelFactory[User]):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda u: f"{u.username}@lab.example")

    password = factory.PostGeneration(set_password)
    role = factory.PostGeneration(join_role)


def make_din(n: int) -> str:
    return f"G1234{timezone.now():%y}{n:06d}"


def donor_panel(
    unit: CordBloodUnit, create: bool, extracted: dict[str, str | None] | bool | None, **kw: Any
) -> None:
    """The donor's tests: by default every required marker, non-reactive, sampled on the day of
    collection; `donor_tests=False` for none; a dict changes results (None leaves one out)."""
    if not create or extracted is False:
        return
    results: dict[str, str | None] = dict.fromkeys(
        settings.DONOR_TESTS_REQUIRED, DonorTestResult.NON_REACTIVE
    )
    if isinstance(extracted, dict):
        results.update(extracted)
    DonorTest.objects.bulk_create(
        DonorTest(
            unit=unit,
            marker=marker,
            result=result,
            sample_date=timezone.localdate(unit.collected_at),
            test_kit="ABBOTT PRISM",
            kit_lot="K-2401",
            laboratory="Creative Testing Solutions",
            recorded_by=unit.registered_by,
            recorded_at=unit.registered_at,
        )
        for marker, result in results.items()
        if result is not None
    )


class CordBloodUnitFactory(factory.django.DjangoModelFactory[CordBloodUnit]):
    class Meta:
        model = CordBloodUnit
        skip_postgeneration_save = True

    din = factory.Sequence(lambda n: make_din(n + 1))
    product_code = "S1145V00"
    source_bank = "MD Anderson Cord Blood Bank"
    collected_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=400))
    cryopreserved_at = factory.LazyAttribute(lambda u: u.collected_at + timedelta(hours=20))
    volume_ml = Decimal("25.00")
    tnc_count = 1.2e9
    cd34_count = 4.1e6
    nrbc_count = 2.0e7
    viability_pct = Decimal("92.50")
    hla_a = "A*02:01, A*24:02"
    hla_b = "B*07:02, B*44:02"
    hla_c = "C*05:01, C*07:02"
    hla_drb1 = "DRB1*04:01, DRB1*15:01"
    kir_ligand_group = "C1/C2"
    freezer = "LN2-01"
    rack = "R3"
    box = "B12"
    position = "A4"
    status = UnitStatus.AVAILABLE
    eligibility = Eligibility.ELIGIBLE
    registered_by = factory.SubFactory(UserFactory)
    registered_at = factory.LazyFunction(timezone.now)

    donor_tests = factory.PostGeneration(donor_panel)


def check_char(din: str) -> str:
    return isbt128.check_character(din)


Lot = TypeVar("Lot", bound=MaterialLot)


class _LotFactory(factory.django.DjangoModelFactory[Lot]):
    manufacturer = "Acme Bio"
    received_on = factory.LazyFunction(lambda: timezone.localdate() - timedelta(days=30))
    expiry_date = factory.LazyFunction(lambda: timezone.localdate() + timedelta(days=300))
    status = LotStatus.RELEASED
    registered_by = factory.SubFactory(UserFactory)
    registered_at = factory.LazyFunction(timezone.now)
    # Ample stock: the default template's steps record no quantity, the demo's do.
    quantity_received = Decimal("1000")
    quantity_on_hand = Decimal("1000")


def certificate_for(lot, actor=None):
    """A supplier's CoA on file for `lot`, uploaded by a technician (`actor` if given)."""
    from batches.services.inventory import lot_certificate_upload

    actor = actor or UserFactory.create(role="technician")
    return lot_certificate_upload(
        actor=actor, lot=lot, filename="coa.pdf", data=b"%PDF-1.4 CoA " + lot.lot_number.encode()
    )


class VectorLotFactory(_LotFactory[VectorLot]):
    class Meta:
        model = VectorLot

    lot_number = factory.Sequence(lambda n: f"RV-CAR19-{n:04d}")
    titer_iu_per_ml = 1.5e7
    rcr_result = RcrResult.NEGATIVE


def calibrate(equipment: Equipment, create: bool, extracted: bool | None, **kwargs: Any) -> None:
    """A passed calibration a month ago, due in eleven months (`calibrated=False`: none)."""
    if create and extracted is not False:
        today = timezone.localdate()
        EquipmentCalibration.objects.create(
            equipment=equipment,
            performed_on=today - timedelta(days=30),
            next_due_on=today + timedelta(days=335),
            performed_by="Metrology Ltd",
            recorded_by=equipment.registered_by,
            recorded_at=timezone.now(),
        )


class EquipmentFactory(factory.django.DjangoModelFactory[Equipment]):
    class Meta:
        model = Equipment
        skip_postgeneration_save = True

    identifier = factory.Sequence(lambda n: f"EQ-{n:03d}")
    name = "Biosafety cabinet"
    kind = EquipmentKind.BIOSAFETY_CABINET
    location = "Suite 1"
    registered_by = factory.SubFactory(UserFactory)
    registered_at = factory.LazyFunction(timezone.now)

    calibrated = factory.PostGeneration(calibrate)


def irradiate(lot: FeederLot, create: bool, extracted: bool | None, **kwargs: Any) -> None:
    """The lot's irradiation record at its own dose and day (`irradiation=False`: none)."""
    if create and extracted is not False:
        FeederIrradiation.objects.create(
            feeder_lot=lot,
            dose_gy=lot.irradiation_dose_gy,
            irradiated_on=lot.irradiated_on,
            irradiator=EquipmentFactory.create(kind=EquipmentKind.IRRADIATOR, name="Irradiator"),
            recorded_by=lot.registered_by,
            recorded_at=timezone.now(),
        )


class FeederLotFactory(_LotFactory[FeederLot]):
    class Meta:
        model = FeederLot
        skip_postgeneration_save = True

    lot_number = factory.Sequence(lambda n: f"UAPC-{n:04d}")
    irradiation_dose_gy = Decimal("100.0")
    irradiated_on = factory.LazyFunction(lambda: timezone.localdate() - timedelta(days=10))

    irradiation = factory.PostGeneration(irradiate)


class ReagentLotFactory(_LotFactory[ReagentLot]):
    class Meta:
        model = ReagentLot

    lot_number = factory.Sequence(lambda n: f"IL2-{n:04d}")
    reagent = "il2"


class RecipientFactory(factory.django.DjangoModelFactory[Recipient]):
    class Meta:
        model = Recipient
        skip_postgeneration_save = True

    subject_id = factory.Sequence(lambda n: f"CARNK-{n:03d}")
    diagnosis = "NHL"
    date_of_birth = date(1980, 5, 17)
    medical_record_number = factory.Sequence(lambda n: f"MRN{n:06d}")
    dose_level = "DL2"
    registered_by = factory.SubFactory(UserFactory)
    registered_at = factory.LazyFunction(timezone.now)
    treating_clinician = factory.SubFactory(UserFactory, role="clinical")
    weight = factory.RelatedFactory(
        "tests.factories.WeightMeasurementFactory", factory_related_name="recipient"
    )


class WeightMeasurementFactory(factory.django.DjangoModelFactory[WeightMeasurement]):
    class Meta:
        model = WeightMeasurement

    weight_kg = Decimal("72.5")
    measured_on = factory.LazyFunction(timezone.localdate)
    recorded_by = factory.SubFactory(UserFactory)
    recorded_at = factory.LazyFunction(timezone.now)
