"""End-to-end tests in headless Chromium: login, court scope, CSP, language switch, lockout.

The browser is Debian's chromium or the one that ZHIXING_CHROMIUM names, so Playwright never
downloads one. Requests to any other origin are aborted and recorded, which also checks that
the pages work on an intranet without internet access.

NOTE: these tests have run on SQLite only; the live server on PostgreSQL is untested.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.utils import translation

from zhixing.conftest import TEST_PASSWORD
from zhixing.courts.models import Role

try:
    from playwright.sync_api import expect, sync_playwright
except ImportError:  # The browser fixture skips or fails, as for a missing Chromium.
    HAVE_PLAYWRIGHT = False
else:
    HAVE_PLAYWRIGHT = True

# Playwright's sync API keeps an event loop running in the test thread, so Django raises
# SynchronousOnlyOperation for ORM calls there. This variable is Django's documented opt-out.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
# Bind the live server to the IPv4 loopback address explicitly rather than "localhost".
os.environ.setdefault("DJANGO_LIVE_TEST_SERVER_ADDRESS", "127.0.0.1")

CHROMIUM_ENV = "ZHIXING_CHROMIUM"
DEFAULT_CHROMIUM = "/usr/bin/chromium"
REQUIRE_ENV = "ZHIXING_REQUIRE_BROWSER"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Chromium 156 logs a violation as "Loading the script '...' violates the following Content
# Security Policy directive". Earlier releases began such messages with "Refused to".
CSP_MARKERS = ("Content Security Policy", "Refused to")

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _roles(transactional_db: None) -> None:
    """Create the roles of migration courts 0002, because the flush after each test deletes them."""
    for code in Role.Code.values:
        Role.objects.get_or_create(code=code)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Start one headless Chromium for the module, or skip (fail if required) when it is missing."""
    path = os.environ.get(CHROMIUM_ENV) or DEFAULT_CHROMIUM
    message = None
    if not (Path(path).is_file() and os.access(path, os.X_OK)):
        message = f"Chromium not found at {path}: set {CHROMIUM_ENV} to a Chromium executable"
    elif not HAVE_PLAYWRIGHT:
        message = "Python package playwright not found: install it with pip install -e '.[dev]'"
    if message is not None:
        if os.environ.get(REQUIRE_ENV) == "1":
            pytest.fail(f"{message} ({REQUIRE_ENV}=1 forbids skipping)")
        pytest.skip(message)

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=path, args=CHROMIUM_ARGS, headless=True
        )
        yield chromium
        chromium.close()


@dataclass
class Tab:
    """Page in its own browser context, with its console messages, errors and responses."""

    page: Any
    base_url: str
    console: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    statics: list[tuple[str, int]] = field(default_factory=list)
    foreign: list[str] = field(default_factory=list)
    html: dict[str, str] = field(default_factory=dict)

    def open(self, path: str) -> Any:
        response = self.page.goto(self.base_url + path)
        self.remember()
        return response

    def remember(self) -> None:
        """Record the current page's HTML, so that a test can search it for leaked data."""
        self.page.wait_for_load_state("load")
        self.html[self.page.url] = self.page.content()

    def login(self, username: str, password: str = TEST_PASSWORD) -> None:
        self.open("/login/")
        form = self.page.locator("main form")
        form.locator("input[name=username]").fill(username)
        form.locator("input[name=password]").fill(password)
        with self.page.expect_navigation():
            form.locator("button[type=submit]").click()
        self.remember()

    def csp_problems(self) -> list[str]:
        return [
            text
            for text in self.console + self.errors
            if any(marker in text for marker in CSP_MARKERS)
        ]

    def pages_containing(self, text: str) -> list[str]:
        return [url for url, html in self.html.items() if text in html]


@pytest.fixture
def new_tab(browser: Any, live_server: Any) -> Iterator[Callable[..., Tab]]:
    """Return a factory of tabs, each in a new browser context with a zh-CN locale."""
    contexts = []
    base_url = live_server.url

    def make(*, live: bool = False) -> Tab:
        """Open a tab; ``live`` lets its pages open the event stream, which others block.

        A stream holds a live-server thread for up to a minute, past the end of the test, so
        only the tests of live updates open one.
        """
        context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai")
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        tab = Tab(page=page, base_url=base_url)

        def route(route: Any) -> None:
            # Routing disables Playwright's HTTP cache, so each page fetches its static files.
            if route.request.url.startswith(base_url + "/events/") and not live:
                route.abort()
            elif route.request.url.startswith(base_url + "/"):
                route.continue_()
            else:
                tab.foreign.append(route.request.url)
                route.abort()

        def on_response(response: Any) -> None:
            if response.url.startswith(base_url + "/static/"):
                tab.statics.append((response.url, response.status))

        page.route("**/*", route)
        page.on("console", lambda message: tab.console.append(message.text))
        page.on("pageerror", lambda error: tab.errors.append(str(error)))
        page.on("response", on_response)
        return tab

    yield make
    for context in contexts:
        context.close()


def _zh(message: str) -> str:
    with translation.override("zh-hans"):
        return translation.gettext(message)


def _tree_link(tab: Tab, code: str) -> Any:
    return tab.page.locator(f'[data-testid=court-tree] a[data-court-code="{code}"]')


@pytest.mark.browser
def test_basic_court_sees_own_court(new_tab, make_user, courts):
    make_user("officer0104", "粤0104", "case_officer")
    make_user("colleague0104", "粤0104", "clerk")
    make_user("officer0105", "粤0105", "case_officer")
    make_user("officer0303", "粤0303", "case_officer")
    tab = new_tab()

    tab.login("officer0104")
    tab.page.locator("nav a[href='/courts/']").click()
    tab.remember()
    assert tab.page.url == tab.base_url + "/courts/"
    assert _tree_link(tab, "粤0104").is_visible()
    assert _tree_link(tab, "粤0105").count() == 0
    assert _tree_link(tab, "粤03").count() == 0
    assert _tree_link(tab, "粤0303").count() == 0
    assert _tree_link(tab, "粤01").count() == 0

    _tree_link(tab, "粤0104").click()
    tab.remember()
    assert tab.page.url == tab.base_url + f"/courts/{courts['粤0104'].pk}/"
    assert "colleague0104" in tab.page.locator("[data-testid=staff-table]").inner_text()

    response = tab.open(f"/courts/{courts['粤0105'].pk}/")
    assert response.status == 404
    assert tab.pages_containing("officer0105") == []
    assert tab.pages_containing("officer0303") == []


@pytest.mark.browser
def test_intermediate_court_sees_basic_courts(new_tab, make_user, courts):
    make_user("commander01", "粤01", "commander")
    make_user("officer0104", "粤0104", "case_officer")
    make_user("officer0105", "粤0105", "case_officer")
    make_user("officer03", "粤03", "case_officer")
    make_user("officer0303", "粤0303", "case_officer")
    tab = new_tab()

    tab.login("commander01")
    tab.open("/courts/")
    # The user's own court starts unfolded; fold and unfold it as an officer would.
    summary = tab.page.locator("[data-testid=court-tree] summary small").first
    summary.click()
    assert not _tree_link(tab, "粤0104").is_visible()
    summary.click()
    assert _tree_link(tab, "粤01").is_visible()
    assert _tree_link(tab, "粤0104").is_visible()
    assert _tree_link(tab, "粤0105").is_visible()
    assert _tree_link(tab, "粤03").count() == 0
    assert _tree_link(tab, "粤0303").count() == 0

    # The basic courts' pages are reached through the links on the intermediate court's page.
    _tree_link(tab, "粤01").click()
    tab.remember()
    for code, colleague in [("粤0104", "officer0104"), ("粤0105", "officer0105")]:
        tab.open(f"/courts/{courts['粤01'].pk}/")
        tab.page.locator(f"main a[href='/courts/{courts[code].pk}/']").click()
        tab.remember()
        staff = tab.page.locator("[data-testid=staff-table]").inner_text()
        assert colleague in staff, code

    response = tab.open(f"/courts/{courts['粤03'].pk}/")
    assert response.status == 404
    response = tab.open(f"/courts/{courts['粤0303'].pk}/")
    assert response.status == 404
    assert tab.pages_containing("officer03") == []
    assert tab.pages_containing("officer0303") == []


@pytest.mark.browser
def test_pages_without_csp_violations(new_tab, make_user, courts):
    make_user("admin01", "粤01", "administrator")
    make_user("head0104", "粤0104", "bureau_head")
    make_user("officer0105", "粤0105", "case_officer")

    admin = new_tab()
    admin.login("admin01")
    assert admin.page.url == admin.base_url + "/"
    admin.open("/courts/")
    admin.open(f"/courts/{courts['粤01'].pk}/")
    admin.open("/users/")
    # The search box filters through htmx, which must work under the policy too. The row count
    # is asserted after the policy, so that a blocked htmx is reported as a violation first.
    admin.page.locator("#user-search").fill("officer0105")
    rows = admin.page.locator("#user-rows tbody tr")
    with contextlib.suppress(AssertionError):
        expect(rows).to_have_count(1, timeout=5_000)

    head = new_tab()
    head.login("head0104")
    head.open("/audit/")
    assert head.page.locator("[data-testid=audit-table]").count() == 1

    for tab in (admin, head):
        assert tab.csp_problems() == []
        assert tab.errors == []
        assert tab.foreign == []
        assert [(url, status) for url, status in tab.statics if status != 200] == []
    assert rows.count() == 1
    assert "officer0105" in rows.first.inner_text()
    assert admin.page.evaluate("() => typeof window.htmx") == "object"
    loaded = {url.removeprefix(admin.base_url) for url, status in admin.statics}
    assert "/static/vendor/htmx/htmx.min.js" in loaded
    assert "/static/vendor/pico/pico.min.css" in loaded
    assert "/static/web/zhixing.js" in loaded
    assert "/static/web/zhixing.css" in loaded
    # The Pico stylesheet was parsed and applied, not only fetched: document.styleSheets
    # contains its rules.
    rule_count = admin.page.evaluate(
        "() => [...document.styleSheets].filter(s => s.href && s.href.includes('pico'))"
        ".reduce((n, s) => n + s.cssRules.length, 0)"
    )
    assert rule_count > 100


@pytest.mark.browser
def test_language_switch_to_english(new_tab):
    tab = new_tab()
    tab.open("/login/")
    heading = tab.page.locator("main h1")
    assert tab.page.locator("html").get_attribute("lang") == "zh-hans"
    assert heading.inner_text() == _zh("Enforcement command center platform")
    assert heading.inner_text() != "Enforcement command center platform"

    with tab.page.expect_navigation():
        tab.page.locator("select[name=language]").select_option("en")
    tab.remember()
    assert tab.page.url == tab.base_url + "/login/"
    assert tab.page.locator("html").get_attribute("lang") == "en"
    assert heading.inner_text() == "Enforcement command center platform"
    assert tab.page.locator("main button[type=submit]").inner_text() == "Log in"
    assert tab.csp_problems() == []
    assert tab.errors == []


@pytest.mark.browser
def test_lockout_after_five_failures(new_tab, make_user):
    make_user("officer0104", "粤0104", "case_officer")
    tab = new_tab()
    failure = _zh(
        "The user name or password is wrong. After repeated failures the account is "
        "locked for a while."
    )

    tab.login("officer0104", "Wrong-Passw0rd-1")
    assert failure in tab.page.locator("main [role=alert]").inner_text()
    for attempt in range(2, 6):
        tab.login("officer0104", f"Wrong-Passw0rd-{attempt}")

    tab.login("officer0104", TEST_PASSWORD)
    assert tab.page.locator("main h1").inner_text() == _zh("Account locked")
    assert tab.page.locator("[data-testid=current-user]").count() == 0
    tab.open("/")
    assert tab.page.url.startswith(tab.base_url + "/login/")
