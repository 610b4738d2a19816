"""The web page in a real headless Chromium (Debian's /usr/bin/chromium, driven by Playwright; nothing downloads a
browser) against a real `finbot serve` process on a free port."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import httpx
import pytest

from tests.conftest import REPO
from tests.integration.servers import free_port

pytestmark = [pytest.mark.integration, pytest.mark.model]

CHROMIUM = Path("/usr/bin/chromium")
KEY = "web-page-test-key-0123456789"
DOCS = "https://docs.example.invalid/finance/blob/main/"  # never reached: the test's browser answers it
# Set WEB_SCREENSHOT=docs/web.png to refresh the README's screenshot from this run.
SCREENSHOT_ENV = "WEB_SCREENSHOT"

if not CHROMIUM.exists():
    pytest.skip("Debian's chromium is not installed: run `make system-deps`", allow_module_level=True)

from playwright.sync_api import Browser, Page, Route, expect, sync_playwright  # noqa: E402


def serve(config: Path, log: Path, **env: str) -> Iterator[str]:
    """`finbot serve` (as `python -m bot serve`) on a free port until the test is done; yields its base URL."""
    port = free_port()
    full_env = {**os.environ, "FINBOT_CONFIG": str(config), "FINBOT_HTTP__PORT": str(port), **env}
    with log.open("w") as err:
        proc = subprocess.Popen([sys.executable, "-m", "bot", "serve"], env=full_env, stderr=err, cwd=REPO)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert proc.poll() is None, log.read_text()
            try:
                httpx.get(f"{base}/healthz", timeout=2)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "finbot serve did not answer within 120 s"
                time.sleep(0.25)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.fixture(scope="module")
def open_server(indexed_config: Path, warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Auth off (as the shipped config.yaml has it for local use), with the demo warehouse for values."""
    log = tmp_path_factory.mktemp("web-open") / "serve.log"
    yield from serve(indexed_config, log, FINBOT_AUTH__REQUIRED="false", FINBOT_WAREHOUSE__PATH=str(warehouse),
                     FINBOT_SLACK__SOURCE_URL_TEMPLATE=DOCS + "{path}#L{start_line}-L{end_line}")


@pytest.fixture(scope="module")
def keyed_server(indexed_config: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    log = tmp_path_factory.mktemp("web-keyed") / "serve.log"
    yield from serve(indexed_config, log, FINBOT_AUTH__REQUIRED="true", FINBOT_API_KEYS=KEY)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM))
        debian = subprocess.run([str(CHROMIUM), "--version"], capture_output=True, text=True).stdout
        assert launched.version in debian  # Debian's binary, not a browser Playwright downloaded
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    yield context.new_page()
    context.close()


def ask(page: Page, question: str) -> None:
    page.fill("#question", question)
    page.press("#question", "Enter")  # the keyboard, not a click
    expect(page.locator("#ask-button")).to_be_enabled(timeout=60_000)
    expect(page.locator("#status")).to_have_text("", timeout=60_000)


def test_ask_see_the_answer_and_its_sources(page: Page, open_server: str, tmp_path: Path) -> None:
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(open_server)
    expect(page.locator("h1")).to_have_text("finbot")

    ask(page, "How is net revenue retention calculated?")
    expect(page.locator("#result")).to_be_visible()
    expect(page.locator("#refusal")).to_be_hidden()
    assert "cohort_net_retained_mrr / cohort_starting_mrr" in page.inner_text("#answer")
    first = page.locator("#sources li").first
    expect(first).to_contain_text("metrics/retention.yaml:")
    expect(first).to_contain_text("§ metrics.net_revenue_retention")
    expect(page.locator("#sources-heading")).to_have_text("Sources")
    assert float(page.inner_text("#confidence").removeprefix("Confidence ")) >= 0.3
    page.locator("#answer a", has_text="[1]").first.click()  # the [1] marker jumps to source 1
    assert page.url.endswith("#source-1")

    screenshot = tmp_path / "web.png"
    page.screenshot(path=str(screenshot), full_page=True)
    assert screenshot.stat().st_size > 10_000
    if target := os.environ.get(SCREENSHOT_ENV):
        shutil.copy(screenshot, REPO / target)
    # Nothing outside this server was fetched (no CDN, no fonts, no analytics).
    assert requested and all(url.startswith(open_server) for url in requested), requested


def test_a_question_the_documents_do_not_answer(page: Page, open_server: str) -> None:
    page.goto(open_server)
    ask(page, "What is the CFO's favourite colour?")
    expect(page.locator("#refusal")).to_be_visible()
    expect(page.locator("#refusal")).to_contain_text("Not in the documents")
    expect(page.locator("#sources-heading")).to_have_text("Closest passages")


def test_a_source_links_to_the_document(page: Page, open_server: str) -> None:
    opened: list[str] = []

    def fulfil(route: Route) -> None:
        opened.append(route.request.url)
        route.fulfill(body="<h1>the document</h1>", content_type="text/html")

    page.route(DOCS + "**", fulfil)
    page.goto(open_server)
    ask(page, "How is net revenue retention calculated?")
    link = page.locator("#sources li a.source-path").first
    href = link.get_attribute("href")
    assert href is not None and href.startswith(DOCS + "metrics/retention.yaml#L")
    start, end = href.rsplit("#L", 1)[1].split("-L")
    expect(link).to_have_text(f"metrics/retention.yaml:{start}-{end}")
    link.click()
    expect(page.locator("h1")).to_have_text("the document")
    assert opened == [href.split("#")[0]]


def test_filters_and_a_metric_value_with_its_sql(page: Page, open_server: str, warehouse: Path) -> None:
    page.goto(open_server)
    page.click("#filters summary")
    page.select_option("#doc-type", "policy")
    ask(page, "who approves a refund over the limit?")
    paths = page.locator("#sources li .source-path").all_inner_texts()
    assert paths and all(path.startswith("policies/") for path in paths), paths

    page.select_option("#doc-type", "")
    ask(page, "what was ARR in Q3 2025?")
    with duckdb.connect(str(warehouse), read_only=True) as con:
        row = con.execute("select sum(mrr_usd) from fct_mrr where snapshot_month = date '2025-09-01'").fetchone()
    assert row is not None
    expect(page.locator("#value")).to_be_visible()
    expect(page.locator("#value-figure")).to_contain_text(f"{float(row[0]) * 12:,.2f}")
    assert "fct_mrr" in page.inner_text("#value-sql")
    expect(page.locator("#sources li").first).to_contain_text("metrics/mrr.yaml:")


def test_readable_at_a_phone_width(browser: Browser, open_server: str) -> None:
    context = browser.new_context(viewport={"width": 375, "height": 800})
    page = context.new_page()
    page.goto(open_server)
    ask(page, "Which column of the payouts report is the arrival date?")
    expect(page.locator("#sources li").first).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375  # no sideways scrolling
    context.close()


def test_the_page_asks_for_a_key_when_the_server_needs_one(browser: Browser, keyed_server: str) -> None:
    context = browser.new_context()
    page = context.new_page()
    page.goto(keyed_server)
    page.fill("#question", "What is ARR?")
    page.press("#question", "Enter")
    expect(page.locator("#key-form")).to_be_visible(timeout=30_000)
    expect(page.locator("#key-message")).to_contain_text("This server needs an API key")

    page.fill("#api-key", "not-the-right-key-000000")
    page.press("#api-key", "Enter")
    expect(page.locator("#key-message")).to_contain_text("was not accepted", timeout=30_000)

    page.fill("#api-key", KEY)
    page.press("#api-key", "Enter")
    expect(page.locator("#sources li").first).to_be_visible(timeout=60_000)
    expect(page.locator("#key-form")).to_be_hidden()
    assert page.evaluate("sessionStorage.getItem('finbot.apiKey')") == KEY
    assert page.evaluate("localStorage.length") == 0  # the key is kept for this tab only
    context.close()

    fresh = browser.new_context().new_page()  # another browser session starts without it
    fresh.goto(keyed_server)
    assert fresh.evaluate("sessionStorage.getItem('finbot.apiKey')") is None
    fresh.context.close()
