"""A metric value in Slack: the number and a small table in the message, the SQL behind "Show SQL" (a dialog).

Real bolt app, real uvicorn, real Answerer with MetricFlow on the demo DuckDB warehouse; only Slack's Web API is
the local fake."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from bot.answering.answerer import Answerer, load_answerer
from bot.config import load_config
from bot.interfaces.api import create_api
from bot.interfaces.slack import blocks
from bot.interfaces.slack.app import create_slack_app
from bot.interfaces.slack.feedback import FeedbackStore
from tests.integration.servers import uvicorn_in_thread
from tests.integration.slack_harness import FakeSlack, section_texts
from tests.integration.test_http_values import with_warehouse
from tests.integration.test_slack import CHANNEL, SECRET, Bot, click, slack_settings

pytestmark = [pytest.mark.integration, pytest.mark.model]


@pytest.fixture(scope="module")
def bot(indexed_config: Path, warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bot]:
    fake = FakeSlack().start()
    config = with_warehouse(load_config(indexed_config), warehouse)
    answerer: Answerer = load_answerer(config)
    db = tmp_path_factory.mktemp("slack-values") / "feedback.sqlite3"
    slack_app = create_slack_app(answerer, slack_settings(config, fake, db), token="xoxb-test",
                                 signing_secret=SECRET, store=FeedbackStore(db))
    with uvicorn_in_thread(create_api(answerer, slack_app)) as url:
        yield Bot(url, fake, db)
    fake.stop()


def test_a_value_answer_shows_the_number_a_table_and_the_sql_behind_a_button(bot: Bot, warehouse: Path) -> None:
    reply = bot.ask(CHANNEL, "U0VAL", "what was ARR by plan in Q3 2025?")
    with duckdb.connect(str(warehouse), read_only=True) as con:
        expected = con.execute("select plan_tier, 12 * sum(mrr_usd) from fct_mrr "
                               "where snapshot_month = date '2025-09-01' group by 1 order by 1").fetchall()
    sections = section_texts(reply["blocks"])
    table = next(t for t in sections if t.startswith("```"))
    for tier, arr in expected:
        assert f"{tier}" in table and f"USD {float(arr):,.2f}" in table
    assert "end-of-period value" in "\n".join(sections)
    everything = str(reply["blocks"])
    assert "SELECT" not in everything and "|---|" not in everything  # no SQL or markdown table in the message
    [button] = [b for b in reply["blocks"] if b.get("block_id") == blocks.SQL_BLOCK]
    assert button["elements"][0]["text"]["text"] == ":mag: Show SQL"

    trigger = click(bot, reply, blocks.SHOW_SQL, "U0VAL")
    [dialog] = bot.fake.wait_for("views.open", trigger_id=trigger)
    view = dialog.params["view"]
    assert view["callback_id"] == blocks.SQL_VIEW
    sql = "".join(b["text"]["text"] for b in view["blocks"] if b["type"] == "section")
    assert "FROM main.fct_mrr" in sql and "customer_month__plan_tier" in sql


def test_show_sql_for_an_unknown_answer_says_so(bot: Bot) -> None:
    reply = bot.ask(CHANNEL, "U0VAL", "what was MRR in March 2025?")
    trigger = click(bot, {**reply, "blocks": [blocks.sql_button("not-an-answer")]}, blocks.SHOW_SQL, "U0VAL")
    said = bot.fake.wait_for("response_url", name=trigger)[0].params
    assert said["response_type"] == "ephemeral" and "no longer have the SQL" in said["text"]
