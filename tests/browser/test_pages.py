"""Each role's home page and the pages the lab works from, in Chromium at a desktop, a tablet
and a phone width: no serious or critical accessibility violation (axe-core), nothing wider
than a phone's screen, no error in the console, and a screenshot of each home page."""

import pytest

from carnk_mfg.roles import Role
from tests.browser.conftest import SCREENSHOTS, WIDTHS, axe_violations, horizontal_overflow
from tests.browser.lab import USERNAMES
from tests.factories import PASSWORD

# name: (who looks, where)
PAGES = {
    **{f"home-{role}": (role, lambda lab: "/") for role in USERNAMES},
    "batch": (Role.TECHNICIAN, lambda lab: lab.running.get_absolute_url()),
    "qc-worklist": (Role.QC_ANALYST, lambda lab: "/qc/"),
    "release-queue": (Role.QA, lambda lab: "/release/"),
    "bedside": (Role.CLINICAL, lambda lab: "/bedside/"),
    "bag-list": (Role.CLINICAL, lambda lab: "/bags/"),
    "recipient": (Role.CLINICAL, lambda lab: lab.released.intended_recipient.get_absolute_url()),
    "qc-batch-review": (Role.QC_ANALYST, lambda lab: f"/qc/batches/{lab.in_qc.lot_number}/review/"),
    # One match opens its record; a text naming nothing gets the find page itself.
    "find-lot": (Role.TECHNICIAN, lambda lab: f"/find/?q={lab.in_qc.lot_number}"),
    "find-nothing": (Role.TECHNICIAN, lambda lab: "/find/?q=NO-SUCH-LOT"),
    # The full worklists, one of each role's with rows in the lab.
    "work-steps-due": (Role.TECHNICIAN, lambda lab: "/work/steps-due/"),
    "work-records-to-review": (Role.QA, lambda lab: "/work/records-to-review/"),
    "work-bags-in-transit": (Role.CLINICAL, lambda lab: "/work/bags-in-transit/"),
}

_signed_in: dict[str, dict] = {}


def open_page(visit, lab, name, width):
    """The page as its role sees it, at the width; the sign-in is done once per role."""
    role, where = PAGES[name]
    v = visit(width)
    if role in _signed_in:
        v.context.add_cookies(_signed_in[role])
    else:
        v.sign_in(USERNAMES[role], PASSWORD)
        _signed_in[role] = v.context.cookies()
    response = v.page.goto(where(lab))
    assert response is not None and response.ok, f"{name}: {response and response.status}"
    # Late requests (images, the favicon) report their errors after the load event.
    v.page.wait_for_load_state("networkidle")
    return v


@pytest.mark.parametrize(("name", "width"), [(n, w) for n in PAGES for w in WIDTHS])
def test_no_serious_accessibility_violation(visit, lab_open, name, width):
    v = open_page(visit, lab_open, name, width)
    if name.startswith("home-"):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        v.page.screenshot(path=SCREENSHOTS / f"{name[5:]}-{width}.png", full_page=True)
    assert axe_violations(v.page) == []


@pytest.mark.parametrize("name", list(PAGES))
def test_fits_a_phone(visit, lab_open, name):
    v = open_page(visit, lab_open, name, 390)
    found = horizontal_overflow(v.page)
    assert found["overflow"] == 0, f"wider than the 390 px viewport: {found}"


@pytest.mark.parametrize("name", list(PAGES))
def test_no_console_error(visit, lab_open, name):
    v = open_page(visit, lab_open, name, 1440)
    assert (v.console_errors, v.page_errors) == ([], [])
