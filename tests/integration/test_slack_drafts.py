"""LLM mode in Slack: the placeholder shows the model's draft as it streams (a few edits, not one per piece),
then the verified answer replaces it. Real bolt app on a real uvicorn, the real Answerer over a small ingested
corpus, the fake Slack Web API, and the writer streaming over HTTP from the local fake OpenAI server."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from bot.answering.answerer import load_answerer
from bot.config import load_config
from bot.interfaces.api import create_api
from bot.interfaces.slack import blocks
from bot.interfaces.slack.app import create_slack_app
from bot.interfaces.slack.drafts import DRAFT_NOTE
from bot.interfaces.slack.feedback import FeedbackStore
from tests.conftest import ingested_pages
from tests.integration.llm_server import fake_llm
from tests.integration.servers import uvicorn_in_thread
from tests.integration.slack_harness import FakeSlack, event_body, mention, poll, section_texts, signature_headers

pytestmark = [pytest.mark.model, pytest.mark.integration]

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
CHANNEL = "C0FINANCE"
PAGES = {
    "policies/expenses.md": (
        "# Expense Policy\n\n## Late claims\n\nClaims are due within 30 days of the expense. "
        "A claim submitted more than 60 days after the expense date needs the Assistant Controller's approval. "
        "Claims older than 120 days are not reimbursed.\n"
    ),
    "policies/refunds.md": "# Refund Policy\n\nRefunds above USD 2,000 are approved by the Billing Lead.\n",
}
LATE = "how late can i still submit an expense claim?"
SUPPORTED = "Claims are due within 30 days of the expense [{n}]."
INVENTED = "Claims older than 90 days are not reimbursed [{n}]."


def test_the_placeholder_shows_the_draft_then_the_verified_answer(tmp_path: Path) -> None:
    config_path = ingested_pages(tmp_path, PAGES)

    def reply(body: dict[str, Any]) -> str:
        user = next(m["content"] for m in body["messages"] if m["role"] == "user")
        found = re.search(r"^\[(\d+)\] policies/expenses\.md", user, re.M)
        assert found
        n = found.group(1)
        return " ".join([SUPPORTED.format(n=n)] * 6 + [INVENTED.format(n=n)])

    with fake_llm(reply) as llm:
        llm.stream_gap = 0.15  # 25 pieces: about 4 s of drafting
        data = yaml.safe_load(config_path.read_text())
        data["answer"] = {"mode": "llm"}
        data["llm"] = {"model": "fake-model", "api_base": f"{llm.url}/v1", "timeout": 30}
        config_path.write_text(yaml.safe_dump(data))
        config = load_config(config_path)
        answerer = load_answerer(config)
        fake = FakeSlack().start()
        try:
            settings = config.slack.model_copy(update={"api_base_url": fake.base_url, "feedback_db": tmp_path / "f.db"})
            app = create_slack_app(answerer, settings, token="xoxb-test", signing_secret=SECRET,
                                   store=FeedbackStore(tmp_path / "f.db"))
            with uvicorn_in_thread(create_api(answerer, app)) as url:
                event = mention(CHANNEL, "U0ANN", LATE)
                body = event_body(event)
                response = httpx.post(f"{url}/slack/events", content=body, timeout=30, headers={
                    "Content-Type": "application/json", **signature_headers(body, SECRET)})
                assert response.status_code == 200
                placeholder = fake.wait_for("chat.postMessage", channel=CHANNEL, thread_ts=event["ts"])[0]
                ts = placeholder.result["ts"]
                poll(lambda: any("blocks" in c.params for c in fake.find("chat.update", ts=ts)), "the final answer")
                updates = [c.params for c in fake.find("chat.update", ts=ts)]
        finally:
            fake.stop()
        full_draft = llm.text_for(llm.requests[0]["body"])
    n = re.search(r"\[(\d+)\]", full_draft)
    assert n
    pieces = len(re.findall(r"\S+\s*", full_draft)) // 3 + 1  # the fake streams three words a piece
    drafts, final = updates[:-1], updates[-1]
    assert placeholder.params["text"] == blocks.SEARCHING
    assert drafts, "the placeholder never showed the draft"
    assert len(drafts) < pieces, "the placeholder was edited for every piece instead of about once a second"
    shown = [d["text"].removesuffix(f" …\n\n{DRAFT_NOTE}") for d in drafts]
    assert all(d["text"].endswith(DRAFT_NOTE) and "blocks" not in d for d in drafts)
    assert all(full_draft.startswith(text) for text in shown)
    assert [len(text) for text in shown] == sorted({len(text) for text in shown}), "each edit shows a longer draft"
    answer = section_texts(final["blocks"])[0]
    assert SUPPORTED.format(n=n.group(1)) in answer
    assert "90 days" not in answer, "the verified answer, not the draft, is the last word"
    assert [e["action_id"] for e in final["blocks"][-1]["elements"]] == [blocks.UP, blocks.DOWN]
