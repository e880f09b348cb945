"""The browser tests: Debian's Chromium driven by Playwright against a live server on the test
database (real PostgreSQL and Redis), one browser for the whole session.

Two kinds of test share it:
  journeys (test_journeys.py)  write through the UI; transactional, so the server's writes
                               are seen and each journey starts from an emptied database
  page checks (test_pages.py)  only read: one lab built once for all of them (`lab`), the
                               database left open to the server while they run and emptied
                               after the last (pytest-django runs them after every
                               transactional test: they use no database fixture)
"""

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.test import override_settings
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright
from pytest_django.live_server_helper import LiveServer

from tests.browser.lab import Lab, build_lab

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
VENDOR = Path(__file__).parent / "vendor"
AXE = VENDOR / "axe.min.js"
WIDTHS = (1440, 820, 390)
SCREENSHOTS = settings.VAR_DIR / "screenshots"
JOURNEY_CLICKS = settings.VAR_DIR / "journey_clicks.json"


def pytest_collection_modifyitems(items):
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.path).parents:
            item.add_marker(pytest.mark.browser)


# --- The browser and the server ------------------------------------------------------------


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Chromium from the system (apt-get install chromium; `make test` does it as root).
    Playwright's own browser download is never used."""
    if not shutil.which(CHROMIUM):
        pytest.fail(f"no Chromium at {CHROMIUM}: apt-get install chromium (or set CHROMIUM)")
    # Chromium's sandbox needs user namespaces, which a root CI container does not give.
    args = ["--no-sandbox"] if os.geteuid() == 0 else []
    # Playwright's sync API keeps an asyncio loop marked running in this thread while the
    # browser lives, which Django takes for async code and refuses the ORM in: the flag turns
    # off that check alone (no code here is async), until the browser is closed.
    unsafe = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=args)
            yield browser
            browser.close()
    finally:
        if unsafe is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = unsafe


@pytest.fixture(scope="session")
def test_database(request, django_db_setup, django_db_blocker) -> Iterator[None]:
    """The test database, also when only the page checks run. pytest-django sets one up only
    for tests that ask for a database, which the page checks do not: alone, they would build
    their lab in, and then flush, the database DATABASE_URL names."""
    from django.test.utils import setup_databases, teardown_databases

    if any(item.get_closest_marker("django_db") for item in request.session.items):
        yield
        return
    with django_db_blocker.unblock():
        config = setup_databases(verbosity=0, interactive=False, aliases={"default": False})
    yield
    with django_db_blocker.unblock():
        teardown_databases(config, verbosity=0)


@pytest.fixture(scope="session")
def site(test_database) -> Iterator[LiveServer]:
    """One live server for every browser test. Not pytest-django's `live_server`: a test that
    uses that one is always transactional, which would empty the page checks' lab after the
    first of them."""
    server = LiveServer("localhost")
    server._live_server_modified_settings.enable()
    yield server
    server._live_server_modified_settings.disable()
    server.stop()


# --- Pages -----------------------------------------------------------------------------------


class Visit:
    """A page in a fresh browser context (its own cookies), with the console's errors and
    the page's uncaught exceptions collected as they happen."""

    def __init__(self, browser: Browser, base_url: str, width: int = 1440) -> None:
        # The app's Content-Security-Policy allows scripts from the site only; axe-core is
        # injected by the test, so the policy is bypassed in the test's browser alone.
        self.context: BrowserContext = browser.new_context(
            base_url=base_url, viewport={"width": width, "height": 900}, bypass_csp=True
        )
        self.context.set_default_timeout(10_000)
        self.page: Page = self.context.new_page()
        self.console_errors: list[str] = []
        self.page_errors: list[str] = []
        self.page.on(
            "console",
            lambda m: (
                self.console_errors.append(f"{m.text} ({m.location.get('url')})")
                if m.type == "error"
                else None
            ),
        )
        self.page.on("pageerror", lambda e: self.page_errors.append(str(e)))

    def sign_in(self, username: str, password: str) -> None:
        self.page.goto("/accounts/login/")
        self.page.fill("#id_username", username)
        self.page.fill("#id_password", password)
        self.page.press("#id_password", "Enter")
        self.page.wait_for_url(lambda url: "/accounts/login/" not in url)

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def visit(browser, site) -> Iterator:
    """visit(width=1440) -> a Visit on the live server; closed after the test."""
    opened: list[Visit] = []

    def open_visit(width: int = 1440) -> Visit:
        v = Visit(browser, site.url, width)
        opened.append(v)
        return v

    yield open_visit
    for v in opened:
        v.close()


def axe_violations(page: Page, impacts=("serious", "critical")) -> list[dict]:
    """axe-core's violations of the given impacts on the page as it is now."""
    page.add_script_tag(path=str(AXE))
    violations = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
    )
    return [
        {
            "id": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "nodes": [n["target"] for n in v["nodes"]][:5],
            "count": len(v["nodes"]),
        }
        for v in violations
        if v["impact"] in impacts
    ]


def horizontal_overflow(page: Page) -> dict:
    """How many pixels the document is wider than the viewport (0 when it fits), and the
    outermost elements reaching past its right edge (what to fix)."""
    return page.evaluate(
        """() => {
          const width = window.innerWidth;
          const scrolls = e => ['auto', 'scroll', 'hidden', 'clip'].includes(
            getComputedStyle(e).overflowX);
          const inScroller = e => {
            for (let a = e.parentElement; a && a !== document.body; a = a.parentElement) {
              if (scrolls(a)) return true;
            }
            return false;
          };
          const past = [...document.body.querySelectorAll('*')].filter(e =>
            e.getBoundingClientRect().right > width + 1 && !inScroller(e) &&
            !(e.parentElement && e.parentElement.getBoundingClientRect().right > width + 1));
          const name = e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') +
            (e.classList.length ? '.' + [...e.classList].join('.') : '');
          return {
            overflow: Math.max(0, document.documentElement.scrollWidth - width),
            past_the_edge: past.slice(0, 8).map(e =>
              name(e) + ' in ' + (e.closest('[id]') ? name(e.closest('[id]')) : 'body') +
              ' right=' + Math.round(e.getBoundingClientRect().right)),
          };
        }"""
    )


# --- The page checks' lab ----------------------------------------------------------------------


@pytest.fixture(scope="session")
def lab(test_database, django_db_blocker, site) -> Iterator[Lab]:
    """Users of every role and batches in every stage the checked pages show, built once."""
    from django.core.management import call_command

    from tests.conftest import load_migration_data

    with django_db_blocker.unblock():
        # Earlier transactional tests leave the database emptied of the migrations' rows.
        load_migration_data()
        with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
            built = build_lab()
    yield built
    with django_db_blocker.unblock():
        call_command("flush", interactive=False, verbosity=0)


@pytest.fixture
def lab_open(lab, django_db_blocker) -> Iterator[Lab]:
    """The lab, with the database open to the server's threads while the test runs (the
    test itself asks for no database: it only reads the pages)."""
    with django_db_blocker.unblock():
        yield lab


# --- Journey counts ------------------------------------------------------------------------


def record_journey(name: str, counts: dict) -> None:
    """Merge one journey's counts into var/journey_clicks.json."""
    JOURNEY_CLICKS.parent.mkdir(parents=True, exist_ok=True)
    data = json.loads(JOURNEY_CLICKS.read_text()) if JOURNEY_CLICKS.exists() else {}
    data[name] = counts
    JOURNEY_CLICKS.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    _recorded[name] = counts


_recorded: dict[str, dict] = {}


def pytest_terminal_summary(terminalreporter):
    if _recorded:
        terminalreporter.section("browser journeys: clicks and Enter-submits")
        for name, counts in sorted(_recorded.items()):
            terminalreporter.write_line(f"{name:<12} {json.dumps(counts)}")
        terminalreporter.write_line(f"written to {JOURNEY_CLICKS}")


class Journey:
    """A person's work through the UI, counting what they do: clicks (a select's choice
    counts as one), Enter pressed to submit, fields typed into, and pages loaded; a barcode
    scanner's codes (each typed with its Enter by the scanner) are counted apart."""

    def __init__(self, visit: Visit) -> None:
        self.page = visit.page
        self.visit = visit
        self.counts = {
            "clicks": 0,
            "enter_submits": 0,
            "fields_typed": 0,
            "codes_scanned": 0,
            "page_loads": 0,
        }
        self.page.on("load", lambda _page: self._count("page_loads"))

    def _count(self, what: str) -> None:
        self.counts[what] += 1

    def click(self, selector: str, *, navigates: bool = False) -> None:
        self._count("clicks")
        if navigates:
            with self.page.expect_navigation():
                self.page.click(selector)
        else:
            self.page.click(selector)

    def press_enter(self, selector: str, *, navigates: bool = True) -> None:
        self._count("enter_submits")
        if navigates:
            with self.page.expect_navigation():
                self.page.press(selector, "Enter")
        else:
            self.page.press(selector, "Enter")

    def scan(self, selector: str, code: str, *, navigates: bool = False) -> None:
        """A code scanned into the field: the scanner types it and presses Enter."""
        self._count("codes_scanned")
        self.page.fill(selector, code)
        if navigates:
            with self.page.expect_navigation():
                self.page.press(selector, "Enter")
        else:
            self.page.press(selector, "Enter")

    def fill(self, selector: str, value: str) -> None:
        self._count("fields_typed")
        self.page.fill(selector, value)

    def choose(self, selector: str, value: str) -> None:
        self._count("clicks")
        self.page.select_option(selector, value)

    def sign(self, password: str) -> None:
        """The signing dialog a submit opened: the password, then Sign (the page reloads)."""
        self.fill("#esign-dialog input[name=password]", password)
        self.click("#esign-dialog [data-esign-confirm]", navigates=True)

    def text(self) -> str:
        """What the page says is wrong (errors, alerts), for a failing assertion's message."""
        return (
            " | ".join(
                t.strip()
                for t in self.page.locator(".errorlist:visible, .alert:visible").all_inner_texts()
            )
            or self.page.inner_text("main")[:800]
        )
