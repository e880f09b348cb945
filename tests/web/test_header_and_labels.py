"""The header on every page: the scan-anywhere box, the Menu button that folds the navigation
on tablets and phones (a static script, the Content-Security-Policy allows no inline one), the
site icon; and a label for every control of the bag-filling (formulation) form."""

from html.parser import HTMLParser

import pytest
from django.contrib.staticfiles import finders
from django.urls import reverse

from tests.batch_steps import result_all
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


class Controls(HTMLParser):
    """The form controls of a page, the ids labels point at, and the scripts it loads."""

    def __init__(self) -> None:
        super().__init__()
        self.controls: list[dict[str, str | None]] = []
        self.label_for: set[str] = set()
        self.scripts: list[dict[str, str | None]] = []
        self.forms: list[dict[str, str | None]] = []
        self.buttons: list[dict[str, str | None]] = []
        self._form: dict[str, str | None] = {}

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "form":
            self._form = attributes
            self.forms.append(attributes)
        elif tag in ("input", "select", "textarea"):
            self.controls.append({**attributes, "tag": tag, "form": self._form.get("id")})
        elif tag == "label" and attributes.get("for"):
            self.label_for.add(attributes["for"] or "")
        elif tag == "script":
            self.scripts.append(attributes)
        elif tag == "button":
            self.buttons.append(attributes)

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = {}


def parsed(response) -> Controls:
    assert response.status_code == 200
    controls = Controls()
    controls.feed(response.content.decode())
    return controls


def test_the_header_has_a_labelled_scan_box_that_gets_the_find_page(client, technician):
    client.force_login(technician)
    page = parsed(client.get(reverse("home")))
    search = [form for form in page.forms if form.get("role") == "search"]
    assert search == [
        {"class": "find", "method": "get", "action": reverse("find"), "role": "search"}
    ]
    box = next(c for c in page.controls if c.get("name") == "q")
    assert box["id"] in page.label_for
    assert box["autocomplete"] == "off"
    assert box["type"] == "search"


def test_the_menu_button_folds_the_navigation_with_a_static_script(client, qa):
    client.force_login(qa)
    page = parsed(client.get(reverse("home")))
    toggle = next(b for b in page.buttons if b.get("class") == "menu-toggle")
    assert toggle["aria-expanded"] == "false"
    assert toggle["aria-controls"] == "site-menu"
    # Hidden until the script shows it: without the script the navigation stays in view.
    assert "hidden" in toggle
    html = client.get(reverse("home")).content.decode()
    assert 'id="site-menu"' in html
    sources = [script.get("src") or "" for script in page.scripts]
    assert any(src.endswith("carnk_mfg/layout.js") for src in sources)
    assert all(script.get("src") for script in page.scripts), "no inline script (CSP)"
    assert finders.find("carnk_mfg/layout.js")


def test_signed_out_pages_have_no_scan_box(client):
    html = client.get(reverse("login")).content.decode()
    assert 'role="search"' not in html
    assert "favicon.svg" in html


def test_the_site_icon_is_linked_and_favicon_ico_leads_to_it(client):
    assert finders.find("carnk_mfg/favicon.svg")
    response = client.get("/favicon.ico")
    assert response.status_code == 302
    assert response["Location"].endswith("carnk_mfg/favicon.svg")


@pytest.fixture
def formulation_page(client, in_qc_batch, qc_analyst, technician):
    result_all(in_qc_batch, qc_analyst, UserFactory.create(username="qc-b", role="qc_analyst"))
    client.force_login(technician)
    return parsed(client.get(reverse("release-queue")))


def test_every_control_of_the_formulation_form_has_a_label(formulation_page, in_qc_batch):
    form_id = f"formulate-{in_qc_batch.pk}-form"
    controls = [
        c
        for c in formulation_page.controls
        if c["form"] == form_id and c.get("type") not in ("hidden", "submit")
    ]
    # Six bag rows of three controls and the password at least (the expiry is the product's
    # stability, not typed).
    assert len(controls) >= 6 * 3 + 1
    unlabelled = [c.get("name") for c in controls if c.get("id") not in formulation_page.label_for]
    assert unlabelled == []
