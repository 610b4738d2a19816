"""The web page in a real headless Chromium (Debian's /usr/bin/chromium, driven by Playwright; nothing downloads a
browser) against a real `finbot serve` process on a free port."""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import httpx
import pytest

from tests.conftest import REPO
from tests.integration.llm_server import FakeLlm, fake_llm
from tests.integration.servers import free_port

pytestmark = [pytest.mark.integration, pytest.mark.model]

CHROMIUM = Path("/usr/bin/chromium")
KEY = "web-page-test-key-0123456789"
DOCS = "https://docs.example.invalid/finance/blob/main/"  # never reached: the test's browser answers it
# Set WEB_SCREENSHOT=docs/web.png to refresh the README's screenshot from this run.
SCREENSHOT_ENV = "WEB_SCREENSHOT"

if not CHROMIUM.exists():
    pytest.skip("Debian's chromium is not installed: run `make system-deps`", allow_module_level=True)

from playwright.sync_api import Browser, Page, Request, Response, Route, expect, sync_playwright  # noqa: E402


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
def feedback_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The open server's feedback store (Slack's votes, the page's votes, recorded questions)."""
    return tmp_path_factory.mktemp("web-feedback") / "feedback.sqlite3"


@pytest.fixture(scope="module")
def open_server(
    indexed_config: Path, warehouse: Path, feedback_db: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """Auth off (as the shipped config.yaml has it for local use), with the demo warehouse for values."""
    log = tmp_path_factory.mktemp("web-open") / "serve.log"
    yield from serve(indexed_config, log, FINBOT_AUTH__REQUIRED="false", FINBOT_WAREHOUSE__PATH=str(warehouse),
                     FINBOT_SLACK__SOURCE_URL_TEMPLATE=DOCS + "{path}#L{start_line}-L{end_line}",
                     FINBOT_SLACK__FEEDBACK_DB=str(feedback_db))


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


def rows(db: Path, sql: str, *params: object) -> list[dict[str, object]]:
    with sqlite3.connect(db) as con:
        con.row_factory = sqlite3.Row
        return [dict(row) for row in con.execute(sql, params)]


def answer_ids(page: Page) -> list[str]:
    """The X-Answer-Id of every answer the page will receive."""
    ids: list[str] = []

    def keep(response: Response) -> None:
        if response.url.endswith("/v1/ask/stream"):
            ids.append(response.headers["x-answer-id"])

    page.on("response", keep)
    return ids


def test_a_vote_is_stored_with_the_slack_feedback(page: Page, open_server: str, feedback_db: Path) -> None:
    question = "Who owns the DSO metric?"
    ids = answer_ids(page)
    page.goto(open_server)
    ask(page, question)
    expect(page.locator("#votes")).to_be_visible()
    [answer_id] = ids
    recorded = rows(feedback_db, "SELECT * FROM questions WHERE id = ?", answer_id)
    assert len(recorded) == 1 and recorded[0]["interface"] == "web" and recorded[0]["question"] == question
    assert str(recorded[0]["user"]).startswith("session:")

    page.focus("#vote-down")
    page.keyboard.press("Enter")  # a button works from the keyboard
    expect(page.locator("#comment-form")).to_be_visible()
    expect(page.locator("#comment")).to_be_focused()
    expect(page.locator("#vote-down")).to_have_attribute("aria-pressed", "true")
    [down] = rows(feedback_db, "SELECT * FROM feedback WHERE answer_id = ?", answer_id)
    assert (down["vote"], down["interface"], down["asked"], down["comment"]) == ("down", "web", question, None)
    assert down["user"] == recorded[0]["user"]  # the tab that asked is the one that voted

    page.fill("#comment", "It should name the owner's team too")
    page.press("#comment", "Enter")
    expect(page.locator("#vote-status")).to_have_text("Thanks: your comment was saved.")
    [commented] = rows(feedback_db, "SELECT * FROM feedback WHERE answer_id = ?", answer_id)
    assert (commented["vote"], commented["comment"]) == ("down", "It should name the owner's team too")

    page.click("#vote-up")  # changing one's mind replaces the vote (one per person per answer)
    expect(page.locator("#vote-status")).to_have_text("Thanks: your vote was saved.")
    expect(page.locator("#vote-up")).to_have_attribute("aria-pressed", "true")
    [up] = rows(feedback_db, "SELECT * FROM votes WHERE answer_id = ?", answer_id)
    assert (up["vote"], up["comment"], up["interface"]) == ("up", None, "web")


def test_a_vote_on_an_answer_never_recorded_is_a_404_naming_the_switch(open_server: str) -> None:
    response = httpx.post(f"{open_server}/v1/feedback", json={"answer_id": "0123456789ab", "vote": "up"}, timeout=30)
    assert response.status_code == 404 and "recording.http" in response.json()["detail"]
    bad = httpx.post(f"{open_server}/v1/feedback", json={"answer_id": "x", "vote": "sideways"}, timeout=30)
    assert bad.status_code == 422 and "vote" in bad.text


def test_page_questions_are_recorded_and_plain_api_calls_are_not(
    page: Page, open_server: str, feedback_db: Path
) -> None:
    ids = answer_ids(page)
    page.goto(open_server)
    ask(page, "What is the CFO's favourite colour?")
    [refused] = rows(feedback_db, "SELECT * FROM questions WHERE id = ?", ids[0])
    assert (refused["interface"], refused["outcome"]) == ("web", "refused")
    assert refused["question"] == "What is the CFO's favourite colour?"
    assert "answer" not in refused  # no answer text is recorded
    assert all(set(s) == {"path", "section"} for s in json.loads(str(refused["sources"])))

    plain = httpx.post(f"{open_server}/v1/ask", json={"question": "What is DSO?"}, timeout=60)
    assert plain.status_code == 200 and plain.headers["x-answer-id"]
    assert rows(feedback_db, "SELECT * FROM questions WHERE id = ?", plain.headers["x-answer-id"]) == []


def test_a_follow_up_is_asked_with_the_earlier_turn(page: Page, open_server: str) -> None:
    sent: list[dict[str, Any]] = []

    def keep(request: Request) -> None:
        if request.url.endswith("/v1/ask/stream"):
            sent.append(json.loads(request.post_data or "{}"))

    page.on("request", keep)
    page.goto(open_server)
    ask(page, "how is DSO calculated?")
    expect(page.locator("#new-conversation")).to_be_visible()
    ask(page, "who owns it?")
    expect(page.locator("#thread li")).to_have_count(1)
    expect(page.locator("#thread li .turn-question")).to_have_text("how is DSO calculated?")
    expect(page.locator("#asked")).to_have_text("who owns it?")
    assert page.inner_text("#answer").startswith("Owner: Marcus Okafor")
    expect(page.locator("#sources li").first).to_contain_text("§ metrics.dso")
    earlier = sent[1]["conversation"]
    assert isinstance(earlier, list) and [turn["question"] for turn in earlier] == ["how is DSO calculated?"]
    assert "DSO" in earlier[0]["answer"]

    page.click("#new-conversation")  # forgets the thread: the same words now stand alone
    expect(page.locator("#conversation")).to_be_hidden()
    expect(page.locator("#question")).to_be_focused()
    ask(page, "who owns it?")
    assert "conversation" not in sent[2]
    expect(page.locator("#sources li").first).not_to_contain_text("§ metrics.dso")


LLM_QUESTION = "How is net revenue retention calculated?"
UNSUPPORTED = "The board signs it off every Friday"


def llm_reply(body: dict[str, object]) -> str:
    """Source 1's formula, then a sentence no source supports (the check removes it from the final answer)."""
    messages = body["messages"]
    assert isinstance(messages, list)
    prompt = next(m["content"] for m in messages if m["role"] == "user")
    n = int(re.search(r"^\[(\d+)\] metrics/retention.yaml", prompt, re.M).group(1))  # type: ignore[union-attr]
    return (f"{UNSUPPORTED} [{n}]. Net revenue retention is cohort_net_retained_mrr / cohort_starting_mrr [{n}]. "
            "It is reported monthly and quarterly for every cohort.")


@pytest.fixture(scope="module")
def llm() -> Iterator[FakeLlm]:
    with fake_llm(llm_reply) as fake:
        fake.stream_gap = 0.05
        yield fake


@pytest.fixture(scope="module")
def llm_server(indexed_config: Path, llm: FakeLlm, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    log = tmp_path_factory.mktemp("web-llm") / "serve.log"
    yield from serve(indexed_config, log, FINBOT_AUTH__REQUIRED="false", FINBOT_ANSWER__MODE="llm",
                     FINBOT_LLM__MODEL="fake-model", FINBOT_LLM__API_BASE=f"{llm.url}/v1", FINBOT_LLM__TIMEOUT="20",
                     OPENAI_API_KEY="sk-test-not-a-real-key")


# Every text the answer box shows, kept by a MutationObserver: the draft is seen however fast it streams.
WATCH_ANSWER = """
window.answerTexts = [];
document.addEventListener("DOMContentLoaded", () => {
  const box = document.getElementById("answer");
  new MutationObserver(() => window.answerTexts.push(box.textContent))
    .observe(box, { childList: true, characterData: true, subtree: true });
});
"""


def test_the_answer_streams_in_then_the_checked_answer_replaces_the_draft(
    page: Page, llm_server: str, llm: FakeLlm
) -> None:
    page.add_init_script(WATCH_ANSWER)
    page.goto(llm_server)
    ask(page, LLM_QUESTION)
    assert llm.requests and llm.requests[-1]["body"]["stream"] is True
    final = page.inner_text("#answer")
    assert "cohort_net_retained_mrr / cohort_starting_mrr" in final and UNSUPPORTED not in final
    texts: list[str] = page.evaluate("window.answerTexts")
    drafts = [t for t in texts if UNSUPPORTED in t]
    assert drafts, texts  # the draft was on screen before the checked answer replaced it
    assert any(len(a) < len(b) for a, b in zip(drafts, drafts[1:], strict=False)), "the draft grew piece by piece"
    expect(page.locator("#sources li").first).to_contain_text("metrics/retention.yaml:")
