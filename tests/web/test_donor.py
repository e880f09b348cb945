"""Web UI: cord blood units: who sees what, registration, the detail page's actions, and no
input giving a server error (the list has test_donor_list.py)."""

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from batches.models import CordBloodUnit, Eligibility, UnitStatus
from carnk_mfg.models import ElectronicSignature, SignatureFailure
from carnk_mfg.roles import Role
from carnk_mfg.sign_in import SIGNING_LOCKED
from carnk_mfg.signatures import WRONG_PASSWORD
from tests.factories import PASSWORD, CordBloodUnitFactory, UserFactory, check_char, make_din

pytestmark = pytest.mark.django_db


ALL_ROLES = [Role.TECHNICIAN, Role.QC_ANALYST, Role.QA, Role.CLINICAL, Role.ADMIN]
NEW_DIN = make_din(777001)


def register_data(**overrides):
    data = {
        "din": NEW_DIN,
        "check_character": check_char(NEW_DIN),
        "product_code": "S1145V00",
        "source_bank": "Lone Star Cord Blood Bank",
        "collected_at": "2025-01-10T08:30",
        "cryopreserved_at": "2025-01-10T20:00",
        "volume_ml": "24.50",
        "tnc_count": "1.3e9",
        "cd34_count": "4.0e6",
        "nrbc_count": "1.5e7",
        "viability_pct": "93.5",
        "hla_a": "A*02:01, A*24:02",
        "hla_b": "B*07:02",
        "hla_c": "C*05:01",
        "hla_drb1": "DRB1*04:01",
        "kir_ligand_group": "C1/C2",
        "freezer": "LN2-02",
        "rack": "R1",
        "box": "B3",
        "position": "C5",
        "password": PASSWORD,
    }
    data.update(overrides)
    return data


def wrong_check(din):
    right = check_char(din)
    return next(c for c in "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ" if c != right)


def page(client, user, url):
    client.force_login(user)
    return client.get(url)


# --- access ---


@pytest.mark.parametrize("role", ALL_ROLES)
def test_list_and_detail_render_for_every_role(client, users_by_role, role, pending_unit):
    client.force_login(users_by_role[role])
    assert client.get(reverse("cbu-list")).status_code == 200
    response = client.get(reverse("cbu-detail", args=[pending_unit.din]))
    assert response.status_code == 200
    assert pending_unit.din in response.content.decode()


@pytest.mark.parametrize(
    "role,status",
    [
        (Role.TECHNICIAN, 200),
        (Role.ADMIN, 403),
        (Role.QC_ANALYST, 403),
        (Role.QA, 403),
        (Role.CLINICAL, 403),
    ],
)
def test_register_page_only_for_roles_that_register(client, users_by_role, role, status):
    assert page(client, users_by_role[role], reverse("cbu-register")).status_code == status


@pytest.mark.clause("21 CFR 11.10(d)")
def test_anonymous_users_are_sent_to_login(client, pending_unit):
    urls = [
        reverse("cbu-list"),
        reverse("cbu-register"),
        reverse("cbu-detail", args=[pending_unit.din]),
        reverse("home"),
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith(reverse("login"))
    response = client.post(reverse("cbu-eligibility", args=[pending_unit.din]), {})
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_user_without_any_role_gets_403(client, pending_unit):
    nobody = UserFactory.create(username="visitor")
    client.force_login(nobody)
    assert client.get(reverse("cbu-list")).status_code == 403
    assert client.get(reverse("cbu-detail", args=[pending_unit.din])).status_code == 403


def test_unknown_din_is_404(client, qa):
    assert page(client, qa, reverse("cbu-detail", args=["G123400000000"])).status_code == 404
    assert page(client, qa, "/units/not-a-din!/").status_code == 404


def test_din_in_lower_case_finds_the_unit(client, qa, pending_unit):
    response = page(client, qa, f"/units/{pending_unit.din.lower()}/")
    assert response.status_code == 200


def test_action_urls_answer_post_only(client, qa, pending_unit):
    client.force_login(qa)
    assert client.get(reverse("cbu-eligibility", args=[pending_unit.din])).status_code == 405


# --- what each role sees ---


def forms_on_page(html):
    return {
        name
        for name in ("eligibility-form", "allocate-form", "move-form", "discard-form")
        if f'id="{name}"' in html
    }


@pytest.mark.parametrize(
    "role,expected",
    [
        (Role.TECHNICIAN, {"move-form"}),
        (Role.QC_ANALYST, set()),
        (Role.QA, {"eligibility-form", "discard-form"}),
        (Role.CLINICAL, set()),
        (Role.ADMIN, set()),  # reads everything, decides nothing
    ],
)
def test_actions_on_a_received_unit_by_role(client, users_by_role, role, expected, pending_unit):
    html = page(client, users_by_role[role], pending_unit.get_absolute_url()).content.decode()
    assert forms_on_page(html) == expected
    # The signing dialog is only on the page of someone who can sign here.
    assert ('id="esign-dialog"' in html) == ("eligibility-form" in expected)


def test_allocation_of_an_undetermined_unit_explains_why_not(client, clinical):
    unit = CordBloodUnitFactory.create(
        status=UnitStatus.QUARANTINED, eligibility=Eligibility.PENDING
    )
    html = page(client, clinical, unit.get_absolute_url()).content.decode()
    assert "has not determined donor eligibility yet" in html
    assert 'id="allocate-form"' not in html


@pytest.mark.parametrize(
    "role,expected",
    [
        (Role.TECHNICIAN, {"move-form"}),
        (Role.QC_ANALYST, set()),
        (Role.QA, {"eligibility-form", "allocate-form", "discard-form"}),
        (Role.CLINICAL, {"allocate-form"}),
    ],
)
def test_actions_on_an_available_unit_by_role(client, users_by_role, role, expected, eligible_unit):
    html = page(client, users_by_role[role], eligible_unit.get_absolute_url()).content.decode()
    assert forms_on_page(html) == expected


def test_qc_analyst_sees_no_actions_at_all(client, qc_analyst, eligible_unit):
    html = page(client, qc_analyst, eligible_unit.get_absolute_url()).content.decode()
    assert 'id="actions"' not in html


@pytest.mark.parametrize(
    "role,sees_register",
    [
        (Role.TECHNICIAN, True),
        (Role.ADMIN, False),
        (Role.QC_ANALYST, False),
        (Role.QA, False),
        (Role.CLINICAL, False),
    ],
)
def test_register_button_only_for_roles_that_register(client, users_by_role, role, sees_register):
    html = page(client, users_by_role[role], reverse("cbu-list")).content.decode()
    assert ("Register a unit" in html) == sees_register
    assert (f'href="{reverse("cbu-register")}"' in html) == sees_register


def test_discarded_unit_offers_no_actions(client, every_gmp_role):
    unit = CordBloodUnitFactory.create(status=UnitStatus.DISCARDED)
    html = page(client, every_gmp_role, unit.get_absolute_url()).content.decode()
    assert forms_on_page(html) == set()


# --- registration through the form ---


def test_register_page_has_the_signing_dialog_and_a_password_field_in_the_form(client, technician):
    html = page(client, technician, reverse("cbu-register")).content.decode()
    start = html.index('id="register-form"')
    form = html[start : html.index("</form>", start)]
    assert 'data-esign="Performed"' in form
    assert 'name="password"' in form and 'autocomplete="current-password"' in form
    assert 'name="check_character"' in form and 'type="datetime-local"' in form
    assert 'id="esign-dialog"' in html and "carnk_mfg/esign.js" in html


@pytest.mark.clause("21 CFR 11.50")
def test_register_a_unit_end_to_end(client, technician):
    client.force_login(technician)
    response = client.post(reverse("cbu-register"), register_data())
    unit = CordBloodUnit.objects.get(din=NEW_DIN)
    assert response.status_code == 302
    assert response.url == unit.get_absolute_url()
    assert unit.status == UnitStatus.RECEIVED
    assert unit.registered_by == technician
    assert not unit.donor_tests.exists()  # the donor's tests are recorded on the unit page
    assert str(unit.volume_ml) == "24.50"

    response = client.get(response.url)
    html = response.content.decode()
    assert unit.check_character in html
    # its signature, still matching the record
    sig = ElectronicSignature.objects.get(object_id=str(unit.pk))
    assert sig.printed_name in html and "Performed" in html
    assert sig.record_sha256[:12] in html
    assert "unchanged since signing" in html
    # its audit history: created, by whom and why
    history = response.context["history"]
    assert history[0]["event"] == "Created"
    assert history[0]["who"] == technician.username
    assert history[0]["why"] == "Cord blood unit received and registered"
    assert "Cord blood unit received and registered" in html
    assert "registered and signed" in html  # the success message


# The rule is the service's (tests/services/test_donor.py); this is the web's proof that a
# refusal lands on its field, with the service's message, and nothing is written.
def test_wrong_check_character_names_the_expected_one_and_writes_nothing(client, technician):
    client.force_login(technician)
    given = wrong_check(NEW_DIN)
    response = client.post(reverse("cbu-register"), register_data(check_character=given))
    assert response.status_code == 200
    errors = response.context["form"].errors["check_character"]
    assert f"is {check_char(NEW_DIN)}, not {given}" in errors[0]
    assert f"is {check_char(NEW_DIN)}, not {given}" in response.content.decode()
    assert not CordBloodUnit.objects.exists()
    assert not ElectronicSignature.objects.exists()


def test_wrong_password_is_a_password_error_and_writes_nothing(client, technician):
    client.force_login(technician)
    response = client.post(reverse("cbu-register"), register_data(password="not-my-password"))
    assert response.status_code == 200
    assert response.context["form"].errors["password"] == [WRONG_PASSWORD]
    assert "The password is not correct" in response.content.decode()
    assert not CordBloodUnit.objects.exists()
    assert not ElectronicSignature.objects.exists()
    assert SignatureFailure.objects.filter(username=technician.username).count() == 1


def test_repeated_wrong_passwords_lock_the_signer_out(client, qa, pending_unit, settings):
    client.force_login(qa)
    url = reverse("cbu-eligibility", args=[pending_unit.din])
    limit = settings.AXES_FAILURE_LIMIT
    answers = [
        client.post(url, {"eligibility": "eligible", "password": f"guess{i}"}) for i in range(limit)
    ]
    assert [a.status_code for a in answers] == [200] * (limit - 1) + [403]
    # the refusal that reaches the limit locks the signature and says so
    assert escape(SIGNING_LOCKED) in answers[-1].content.decode()
    # from then on even the right password does not sign
    response = client.post(url, {"eligibility": "eligible", "password": PASSWORD})
    assert response.status_code == 200
    assert "locked" in response.context["eligibility_form"].errors["password"][0]
    pending_unit.refresh_from_db()
    assert pending_unit.eligibility == Eligibility.PENDING
    assert not ElectronicSignature.objects.exists()


@pytest.mark.parametrize(
    "overrides,field",
    [
        ({"volume_ml": "-5"}, "volume_ml"),
        ({"volume_ml": "0"}, "volume_ml"),
        ({"viability_pct": "150"}, "viability_pct"),
        ({"viability_pct": "-1"}, "viability_pct"),
        ({"tnc_count": "lots"}, "tnc_count"),
        ({"tnc_count": "1e400"}, "tnc_count"),
        ({"cd34_count": "NaN"}, "cd34_count"),
        ({"nrbc_count": "-3"}, "nrbc_count"),
        ({"volume_ml": "12,5 ml"}, "volume_ml"),
        ({"volume_ml": "99999999999"}, "volume_ml"),
        ({"collected_at": "yesterday morning"}, "collected_at"),
        ({"cryopreserved_at": "2025-13-45T99:99"}, "cryopreserved_at"),
        ({"source_bank": ""}, "source_bank"),
        ({"source_bank": "Bank\x00"}, "source_bank"),
        ({"din": ""}, "din"),
        ({"din": "NOT A DIN"}, "din"),
        ({"din": "O123425000001"}, "din"),
        ({"check_character": "HH"}, "check_character"),
        ({"check_character": "?"}, "check_character"),
        ({"product_code": "XX"}, "product_code"),
        ({"kir_ligand_group": "C3/C3"}, "kir_ligand_group"),
        ({"hla_a": "A" * 41}, "hla_a"),
        ({"password": ""}, "password"),
    ],
)
def test_bad_input_gives_form_errors_and_writes_nothing(client, technician, overrides, field):
    client.force_login(technician)
    response = client.post(reverse("cbu-register"), register_data(**overrides))
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not CordBloodUnit.objects.exists()
    assert not ElectronicSignature.objects.exists()


def test_empty_form_lists_every_missing_field(client, technician):
    client.force_login(technician)
    response = client.post(reverse("cbu-register"), {})
    assert response.status_code == 200
    errors = response.context["form"].errors
    for field in (
        "din",
        "check_character",
        "product_code",
        "collected_at",
        "volume_ml",
        "tnc_count",
        "viability_pct",
        "freezer",
        "password",
    ):
        assert field in errors
    assert not CordBloodUnit.objects.exists()


def test_register_post_without_permission_is_403_and_writes_nothing(client, qa):
    client.force_login(qa)
    response = client.post(reverse("cbu-register"), register_data())
    assert response.status_code == 403
    assert not CordBloodUnit.objects.exists()


# --- actions on the detail page ---


def test_qa_determines_eligibility_through_the_form(client, qa, pending_unit):
    client.force_login(qa)
    url = reverse("cbu-eligibility", args=[pending_unit.din])
    response = client.post(url, {"eligibility": "eligible", "notes": "", "password": PASSWORD})
    assert response.status_code == 302
    pending_unit.refresh_from_db()
    assert pending_unit.eligibility == Eligibility.ELIGIBLE
    assert pending_unit.status == UnitStatus.AVAILABLE
    assert pending_unit.eligibility_determined_by == qa
    html = client.get(pending_unit.get_absolute_url()).content.decode()
    assert "Approved" in html and "Donor eligibility of cord blood unit" in html
    rows = client.get(pending_unit.get_absolute_url()).context["history"]
    last = rows[-1]
    assert last["who"] == qa.username and last["why"] == "Donor eligibility determined: eligible"
    changed = {c["field"]: (c["old"], c["new"]) for c in last["changes"]}
    assert changed["Eligibility"] == ("pending", "eligible")
    assert changed["Status"] == ("received", "available")


@pytest.mark.parametrize("choice", ["pending", "maybe", ""])
def test_eligibility_rejects_choices_outside_the_three(client, qa, pending_unit, choice):
    client.force_login(qa)
    url = reverse("cbu-eligibility", args=[pending_unit.din])
    response = client.post(url, {"eligibility": choice, "password": PASSWORD})
    assert response.status_code == 200
    assert "eligibility" in response.context["eligibility_form"].errors


@pytest.mark.clause("21 CFR 11.10(g)")
def test_eligibility_post_by_technician_is_403(client, technician, pending_unit):
    client.force_login(technician)
    url = reverse("cbu-eligibility", args=[pending_unit.din])
    response = client.post(url, {"eligibility": "eligible", "password": PASSWORD})
    assert response.status_code == 403
    pending_unit.refresh_from_db()
    assert pending_unit.eligibility == Eligibility.PENDING


def test_allocating_an_ineligible_unit_records_the_urgent_need(client, clinical):
    unit = CordBloodUnitFactory.create(
        status=UnitStatus.QUARANTINED, eligibility=Eligibility.INELIGIBLE
    )
    client.force_login(clinical)
    html = client.get(unit.get_absolute_url()).content.decode()
    assert "urgent medical need" in html and 'name="urgent_need_justification"' in html
    url = reverse("cbu-allocate", args=[unit.din])
    response = client.post(
        url,
        {
            "reason": "Batch for CARNK-004",
            "urgent_need_justification": "No eligible HLA-compatible unit available.",
            "urgent_need_physician": "Dr. K. Rezvani",
        },
    )
    assert response.status_code == 302
    unit.refresh_from_db()
    assert unit.status == UnitStatus.ALLOCATED
    html = client.get(unit.get_absolute_url()).content.decode()
    assert "Dr. K. Rezvani" in html


def test_allocate_eligible_unit_without_reason_is_an_error(client, clinical, eligible_unit):
    client.force_login(clinical)
    url = reverse("cbu-allocate", args=[eligible_unit.din])
    response = client.post(url, {"reason": ""})
    assert response.status_code == 200
    assert "reason" in response.context["allocate_form"].errors
    response = client.post(url, {"reason": "Manufacturing run 12"})
    assert response.status_code == 302
    eligible_unit.refresh_from_db()
    assert eligible_unit.status == UnitStatus.ALLOCATED


def test_technician_moves_a_unit_and_history_shows_old_and_new(client, technician, eligible_unit):
    client.force_login(technician)
    url = reverse("cbu-move", args=[eligible_unit.din])
    data = {
        "freezer": "LN2-09",
        "rack": "R3",
        "box": "B12",
        "position": "A4",
        "reason": "Freezer LN2-01 defrost",
    }
    assert client.post(url, data).status_code == 302
    eligible_unit.refresh_from_db()
    assert eligible_unit.freezer == "LN2-09"
    response = client.get(eligible_unit.get_absolute_url())
    last = response.context["history"][-1]
    assert last["why"] == "Freezer LN2-01 defrost" and last["who"] == technician.username
    changed = {c["field"]: (c["old"], c["new"]) for c in last["changes"]}
    assert changed == {"Freezer": ("LN2-01", "LN2-09")}
    assert "LN2-09" in response.content.decode()


def test_move_without_location_is_an_error(client, technician, eligible_unit):
    client.force_login(technician)
    url = reverse("cbu-move", args=[eligible_unit.din])
    response = client.post(url, {"freezer": "", "reason": "x"})
    assert response.status_code == 200
    assert "freezer" in response.context["move_form"].errors


def test_qa_discards_a_unit(client, qa, eligible_unit):
    client.force_login(qa)
    url = reverse("cbu-discard", args=[eligible_unit.din])
    assert client.post(url, {"reason": ""}).status_code == 200
    assert client.post(url, {"reason": "Bag damaged in transit"}).status_code == 302
    eligible_unit.refresh_from_db()
    assert eligible_unit.status == UnitStatus.DISCARDED
    # discarding twice is refused with a message, not an error page
    response = client.post(url, {"reason": "again"})
    assert response.status_code == 200
    assert "already" in str(response.context["discard_form"].non_field_errors())


@pytest.mark.clause("21 CFR 11.70")
def test_signature_shows_a_mismatch_after_the_record_changed(client, technician, qa, pending_unit):
    """A move is not what the eligibility signature attests; a changed donor test result is."""
    from batches.models import DonorTest

    client.force_login(qa)
    url = reverse("cbu-eligibility", args=[pending_unit.din])
    client.post(url, {"eligibility": "eligible", "password": PASSWORD})
    client.force_login(technician)
    client.post(
        reverse("cbu-move", args=[pending_unit.din]),
        {"freezer": "LN2-05", "rack": "R1", "box": "B1", "position": "A1", "reason": "Reorganised"},
    )
    html = client.get(pending_unit.get_absolute_url()).content.decode()
    assert "record changed after signing" not in html
    DonorTest.objects.filter(unit=pending_unit, marker="hcv_ab").update(result="reactive")
    html = client.get(pending_unit.get_absolute_url()).content.decode()
    assert "record changed after signing" in html


def test_flags_are_shown_on_the_detail_page(client, qc_analyst):
    unit = CordBloodUnitFactory.create(nrbc_count=9.5e7)
    html = page(client, qc_analyst, unit.get_absolute_url()).content.decode()
    assert "Nucleated red cells" in html and "exceed" in html
    assert 'class="flags"' in html


# --- no input gives a server error ---

NASTY = [
    "",
    " ",
    "\x00",
    "💥",
    "1e400",
    "-0",
    "9" * 40,
    "<script>x</script>",
    "NaN",
    "2025-02-29T25:00",
    "0001-01-01T00:00",
    "9999-12-31T23:59",
    "x" * 3000,
]


def test_no_typed_input_gives_a_server_error(client, every_gmp_role):
    unit = CordBloodUnitFactory.create(
        status=UnitStatus.QUARANTINED, eligibility=Eligibility.INELIGIBLE
    )
    targets = [
        (reverse("cbu-register"), register_data()),
        (
            reverse("cbu-eligibility", args=[unit.din]),
            {"eligibility": "ineligible", "notes": "n", "password": PASSWORD},
        ),
        (
            reverse("cbu-allocate", args=[unit.din]),
            {"reason": "r", "urgent_need_justification": "", "urgent_need_physician": ""},
        ),
        (
            reverse("cbu-move", args=[unit.din]),
            {"freezer": "f", "rack": "r", "box": "b", "position": "p", "reason": "r"},
        ),
        (reverse("cbu-discard", args=[unit.din]), {"reason": ""}),
        (
            reverse("cbu-donor-test", args=[unit.din]),
            {
                "marker": "hiv_1_nat",
                "result": "non_reactive",
                "sample_date": timezone.localdate(unit.collected_at).isoformat(),
                "test_kit": "k",
                "kit_lot": "l",
                "laboratory": "lab",
                "reason": "r",
            },
        ),
    ]
    client.force_login(every_gmp_role)
    for url, valid in targets:
        # (not the password: five wrong ones lock the account, tested above)
        for field in set(valid) - {"password"}:
            for bad in NASTY:
                response = client.post(url, {**valid, field: bad})
                # 302 where the odd text is still valid (a bank may be called "💥")
                assert response.status_code in (200, 302), (url, field, bad)


@pytest.mark.parametrize(
    "query", ["?status=%00", "?q=%00", "?page=%00", "?q=" + "x" * 3000, "?source_bank=%F0%9F"]
)
def test_no_list_query_gives_a_server_error(client, qa, query):
    client.force_login(qa)
    assert client.get(reverse("cbu-list") + query).status_code == 200


@pytest.mark.parametrize("path", ["/units/%00/", "/units/" + "X" * 300 + "/", "/units/%00/move/"])
def test_malformed_din_in_the_url_is_404(client, every_gmp_role, path):
    client.force_login(every_gmp_role)
    assert client.get(path).status_code in (404, 405)  # action URLs answer POST only
    assert client.post(path, {}).status_code in (404, 405)
