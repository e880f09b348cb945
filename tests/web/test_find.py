"""Scan anywhere: the header's search box opens the page of any identifier the lab scans or
types (DINs with or without their check character, ISBT 128 barcode data, bags, lot numbers,
subject and sample IDs), only pages the person may view; several records give a chooser and
none a page that says so; no input gives a server error."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from carnk_mfg import isbt128
from carnk_mfg.roles import Role
from qc.models import QcTest
from tests.batch_steps import formulate
from tests.factories import (
    CordBloodUnitFactory,
    FeederLotFactory,
    ReagentLotFactory,
    RecipientFactory,
    UserFactory,
    VectorLotFactory,
)

pytestmark = pytest.mark.django_db

UNIT_DIN = "G123426000777"


def find(client, text):
    return client.get(reverse("find"), {"q": text})


def html(response):
    return response.content.decode()


def opens(response, url):
    assert response.status_code == 302, html(response)[:2000]
    assert response["Location"] == url


@pytest.fixture
def unit():
    return CordBloodUnitFactory.create(din=UNIT_DIN)


@pytest.fixture
def signed_in(client, technician):
    client.force_login(technician)
    return client


# --- each kind of identifier ---


@pytest.mark.parametrize(
    "scanned",
    [
        UNIT_DIN,
        UNIT_DIN + isbt128.check_character(UNIT_DIN),
        (UNIT_DIN + isbt128.check_character(UNIT_DIN)).lower(),
        isbt128.DIN.from_text(UNIT_DIN).eye_readable,
        f"  {UNIT_DIN}\t",
        isbt128.DIN.from_text(UNIT_DIN).barcode(isbt128.computed_check_flags(UNIT_DIN)),
        isbt128.DIN.from_text(UNIT_DIN).barcode("00"),
    ],
)
def test_a_din_in_any_form_opens_its_unit(signed_in, unit, scanned):
    opens(find(signed_in, scanned), unit.get_absolute_url())


def test_a_din_with_the_wrong_check_character_says_which_is_right(signed_in, unit):
    right = isbt128.check_character(UNIT_DIN)
    wrong = "0" if right != "0" else "1"
    response = find(signed_in, UNIT_DIN + wrong)
    assert response.status_code == 200
    page = html(response)
    assert "Nothing matched" in page
    assert f"check character for {UNIT_DIN} is {right}, not {wrong}" in page
    assert 'id="find-page-q"' in page


def test_barcode_flags_that_contradict_the_din_are_refused(signed_in, unit):
    flags = isbt128.computed_check_flags(UNIT_DIN)
    other = "60" if flags != "60" else "61"
    response = find(signed_in, f"={UNIT_DIN}{other}")
    assert response.status_code == 200
    assert f"computed check flags for {UNIT_DIN} are {flags}" in html(response)


def test_a_batch_opens_by_lot_number_in_either_case_and_by_its_coi(signed_in, planned_batch):
    url = planned_batch.get_absolute_url()
    opens(find(signed_in, planned_batch.lot_number), url)
    opens(find(signed_in, planned_batch.lot_number.lower()), url)
    din = planned_batch.din
    opens(find(signed_in, din + isbt128.check_character(din)), url)
    opens(find(signed_in, isbt128.DIN.from_text(din).barcode()), url)


def test_each_kind_of_material_lot_opens(signed_in):
    for lot in (
        VectorLotFactory.create(lot_number="RV-77"),
        FeederLotFactory.create(lot_number="FD-77"),
        ReagentLotFactory.create(lot_number="IL2-77", reagent="il2"),
    ):
        opens(
            find(signed_in, lot.lot_number), reverse("lot-detail", args=[lot.kind, lot.lot_number])
        )


def test_a_subject_id_opens_its_recipient(signed_in):
    recipient = RecipientFactory.create(subject_id="CARNK-042")
    opens(find(signed_in, "carnk-042"), recipient.get_absolute_url())


def test_a_qc_sample_id_opens_its_test(signed_in, in_qc_batch):
    test = QcTest.objects.filter(batch=in_qc_batch).first()
    assert test is not None
    opens(
        find(signed_in, f"{in_qc_batch.lot_number}-QC{test.pk}"), reverse("qc-test", args=[test.pk])
    )
    # A test of another batch, or none at all, is no match.
    assert find(signed_in, f"CNK-OTHER-QC{test.pk}").status_code == 200
    assert find(signed_in, f"{in_qc_batch.lot_number}-QC999999999999").status_code == 200


@pytest.fixture
def bags(in_qc_batch, technician):
    formulate(in_qc_batch, technician, ("A0", "B0"))
    return {bag.division: bag for bag in in_qc_batch.dose_units.all()}


def test_a_bag_opens_by_its_barcodes_its_name_or_its_number(signed_in, in_qc_batch, bags):
    bag = bags["B0"]
    url = reverse("bag-detail", args=[bag.pk])
    din = in_qc_batch.din
    din_barcode = isbt128.DIN.from_text(din).barcode(isbt128.computed_check_flags(din))
    product_code = f"=<S1145V{bag.division}"
    for scanned in (
        din_barcode + product_code,  # both barcodes read as one
        f"{din_barcode} {product_code}",
        f"Bag {din} B0",
        f"{din}{isbt128.check_character(din)} b0",
        f"bag {bag.pk}",
        f"#{bag.pk}",
    ):
        opens(find(signed_in, scanned), url)


def test_a_product_code_alone_asks_for_the_din_too(signed_in, bags):
    response = find(signed_in, "=<S1145VA0")
    assert response.status_code == 200
    assert "scan the bag&#x27;s DIN barcode too" in html(response)


def test_a_bag_number_that_is_also_a_lot_number_gives_a_chooser(signed_in, bags):
    bag = bags["A0"]
    lot = VectorLotFactory.create(lot_number=str(bag.pk))
    response = find(signed_in, str(bag.pk))
    assert response.status_code == 200
    page = html(response)
    assert "Several records match" in page
    assert f'href="{reverse("bag-detail", args=[bag.pk])}"' in page
    assert f'href="{reverse("lot-detail", args=["vector", lot.lot_number])}"' in page


def test_one_record_named_two_ways_is_one_match(signed_in, planned_batch):
    # The DIN and the lot number of one batch: typed as the lot number, it names it once.
    opens(find(signed_in, planned_batch.lot_number), planned_batch.get_absolute_url())


def test_the_same_number_on_two_kinds_of_lot_gives_a_chooser(signed_in):
    VectorLotFactory.create(lot_number="LOT-1")
    ReagentLotFactory.create(lot_number="LOT-1", reagent="il2")
    response = find(signed_in, "LOT-1")
    page = html(response)
    assert response.status_code == 200 and "Several records match" in page
    assert f'href="{reverse("lot-detail", args=["vector", "LOT-1"])}"' in page
    assert f'href="{reverse("lot-detail", args=["reagent", "LOT-1"])}"' in page


def test_a_find_asks_few_queries(signed_in, django_assert_max_num_queries, unit):
    with django_assert_max_num_queries(14):
        assert find(signed_in, "NO-SUCH-LOT-7").status_code == 200


# --- permissions ---


def test_signed_out_the_find_asks_to_sign_in(client, unit):
    response = find(client, UNIT_DIN)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_a_person_without_the_view_right_finds_nothing_and_learns_nothing(client, unit):
    client.force_login(UserFactory.create(username="visitor"))
    response = find(client, UNIT_DIN)
    assert response.status_code == 200
    page = html(response)
    assert "Nothing matched" in page
    assert unit.get_absolute_url() not in page


def test_each_record_needs_its_own_view_right(client, unit):
    RecipientFactory.create(subject_id="CARNK-7")
    person = UserFactory.create(username="recipients-only")
    person.user_permissions.add(Permission.objects.get(codename="view_recipient"))
    client.force_login(person)
    opens(find(client, "CARNK-7"), reverse("recipient-detail", args=["CARNK-7"]))
    assert find(client, UNIT_DIN).status_code == 200  # the unit is not theirs to view


@pytest.mark.parametrize(
    "role", [Role.TECHNICIAN, Role.QC_ANALYST, Role.QA, Role.CLINICAL, Role.ADMIN]
)
def test_every_role_finds_a_unit(client, unit, role):
    client.force_login(UserFactory.create(username=f"finder-{role}", role=role))
    opens(find(client, UNIT_DIN), unit.get_absolute_url())


# --- hostile input ---


@pytest.mark.parametrize(
    "junk",
    [
        "",
        "   ",
        "\x00",
        f"{UNIT_DIN}\x00",
        "%00",
        "CNK\x00-1",
        "A" * 10_000,
        "=" * 10_000,
        "ÄÖÜ-ß-漢字-🧬",
        "W0420２６000001",  # full-width digits look like a DIN
        "\u202eW042026000001",  # a right-to-left override
        "' OR 1=1 --",
        "<script>alert(1)</script>",
        "=",
        "=<",
        "==<<",
        "=<S1145V",
        "=W042026000001=<S1145VA0",
        "bag 99999999999999999999999",
        "9" * 40,
        "-QC1",
        "X-QC99999999999999999999",
        "Bag",
        "bag #",
        "\t\n\r",
    ],
)
def test_garbage_never_gives_a_server_error(signed_in, unit, junk):
    response = find(signed_in, junk)
    assert response.status_code == 200
    page = html(response)
    assert "<script>alert(1)</script>" not in page
    assert "\x00" not in page


def test_a_long_text_is_not_echoed_whole(signed_in):
    page = html(find(signed_in, "A" * 10_000))
    assert "A" * 101 not in page
    assert "Nothing matched" in page


def test_the_find_page_without_a_text_offers_the_box(signed_in):
    response = signed_in.get(reverse("find"))
    assert response.status_code == 200
    assert 'id="find-page-q"' in html(response)


def test_the_find_is_a_get(signed_in):
    assert signed_in.post(reverse("find"), {"q": UNIT_DIN}).status_code == 405
