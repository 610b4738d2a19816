"""Slack replies stay inside Slack's limits and cite their sources as links."""

import pytest

from bot.answering.answer import Answer, Source
from bot.interfaces.slack import blocks

TEMPLATE = "https://git.example.com/docs/blob/main/{path}#L{start_line}-L{end_line}"


def source(n: int, path: str = "metrics/mrr.yaml", section: str | None = "metrics.arr", lines: bool = True) -> Source:
    return Source(
        n=n, path=path, section=section, start_line=10 if lines else None, end_line=20 if lines else None,
        score=0.6, snippet="ARR is MRR times 12", text="ARR is MRR times 12",
    )


def answer(text: str, sources: list[Source], abstained: bool = False) -> Answer:
    return Answer(id="a1b2c3d4e5f6", question="How is ARR calculated?", text=text, abstained=abstained, sources=sources)


def texts(reply: list[blocks.Block], kind: str) -> list[str]:
    found = []
    for block in reply:
        if block["type"] == kind == "section":
            found.append(block["text"]["text"])
        elif block["type"] == kind == "context":
            found.extend(element["text"] for element in block["elements"])
    return found


def test_split_text_cuts_at_paragraphs_and_respects_the_limit() -> None:
    text = "\n\n".join(f"paragraph {i} " + "x" * 900 for i in range(10))
    pieces = blocks.split_text(text, 3000)
    assert all(len(piece) <= 3000 for piece in pieces)
    assert all(piece.startswith("paragraph") for piece in pieces)  # every cut fell between paragraphs
    assert "".join(pieces).replace("\n", "") == text.replace("\n", "")


def test_split_text_cuts_a_single_huge_word_hard() -> None:
    pieces = blocks.split_text("y" * 7001, 3000)
    assert [len(p) for p in pieces] == [3000, 3000, 1001]


def test_short_text_is_one_piece_and_empty_text_none() -> None:
    assert blocks.split_text("hello") == ["hello"]
    assert blocks.split_text("") == []


def test_a_huge_answer_fits_in_50_blocks_and_keeps_its_buttons() -> None:
    text = "\n".join(f"> line {i} " + "z" * 200 for i in range(2000))  # ~420k characters
    reply = blocks.answer_blocks(answer(text, [source(n) for n in range(1, 51)]), TEMPLATE)
    assert len(reply) <= blocks.MAX_BLOCKS
    assert all(len(t) <= blocks.MAX_TEXT_CHARS for t in texts(reply, "section") + texts(reply, "context"))
    assert texts(reply, "section")[-1] == blocks.CUT_NOTE
    assert reply[-1]["type"] == "actions"
    assert [e["value"] for e in reply[-1]["elements"]] == ["a1b2c3d4e5f6"] * 2
    cited = "\n".join(texts(reply, "context"))
    assert "[50] metrics/mrr.yaml" in cited  # all 50 sources listed, across context elements


def test_a_normal_answer_is_section_sources_buttons() -> None:
    text = "From metrics/mrr.yaml [1]:\n> ARR is MRR * 12"
    reply = blocks.answer_blocks(answer(text, [source(1), source(2)]), TEMPLATE)
    assert [b["type"] for b in reply] == ["section", "context", "actions"]
    assert reply[0]["text"] == {"type": "mrkdwn", "text": text}
    context = texts(reply, "context")[0].splitlines()
    assert context == [
        "*Sources*",
        "<https://git.example.com/docs/blob/main/metrics/mrr.yaml#L10-L20|[1] metrics/mrr.yaml § metrics.arr>",
        "<https://git.example.com/docs/blob/main/metrics/mrr.yaml#L10-L20|[2] metrics/mrr.yaml § metrics.arr>",
    ]
    assert [e["action_id"] for e in reply[-1]["elements"]] == [blocks.UP, blocks.DOWN]


def test_without_a_template_sources_are_plain_text() -> None:
    line = blocks.source_line(source(3, section=None), "")
    assert line == "[3] metrics/mrr.yaml"


def test_source_urls_quote_the_path_and_drop_the_fragment_without_lines() -> None:
    assert blocks.source_url(TEMPLATE, source(1, path="policies/T&E policy.pdf", lines=False)) == (
        "https://git.example.com/docs/blob/main/policies/T%26E%20policy.pdf"
    )



def test_a_pdf_source_links_the_file_and_names_its_page() -> None:
    from dataclasses import replace

    pdf = replace(source(2, path="policies/travel.pdf", section="Booking travel"), page=3)
    assert blocks.source_url(TEMPLATE, pdf) == "https://git.example.com/docs/blob/main/policies/travel.pdf"
    assert blocks.source_label(pdf) == "[2] policies/travel.pdf p.3 § Booking travel"

def test_slack_control_characters_are_escaped_but_quotes_still_quote() -> None:
    text = "From a.md [1]:\n> if a < b && c > d\n>\n> done"
    assert blocks.to_mrkdwn(text) == "From a.md [1]:\n> if a &lt; b &amp;&amp; c &gt; d\n>\n> done"
    label = blocks.source_line(source(1, section="A <b> & c"), TEMPLATE)
    assert label.endswith("|[1] metrics/mrr.yaml § A &lt;b&gt; &amp; c>")


def test_an_abstention_says_its_sources_are_only_the_closest() -> None:
    reply = blocks.answer_blocks(answer("I couldn't find this in the documents", [source(1)], abstained=True))
    assert texts(reply, "context")[0].startswith("*Closest sources (none close enough to answer from)*")


def test_the_asked_question_leads_when_given() -> None:
    reply = blocks.answer_blocks(answer("x [1]", [source(1)]), asked="what is <arr>?")
    assert reply[0] == {"type": "context", "elements": [{"type": "mrkdwn", "text": "*Asked:* what is &lt;arr&gt;?"}]}


def test_fallback_text_is_short_and_flat() -> None:
    text = blocks.fallback_text(answer("a\n\n" + "b " * 1000, []))
    assert len(text) <= blocks.FALLBACK_CHARS and "\n" not in text


@pytest.mark.parametrize(
    ("limit", "window", "retry_in", "expected"),
    [
        (5, 60, 12.2, "You've asked 5 questions in the last minute, which is my limit for now. "
                      "Please try again in about 13 seconds."),
        (20, 3600, 1500, "in the last hour, which is my limit for now. Please try again in about 25 minutes."),
        (3, 600, 0.1, "in the last 10 minutes, which is my limit for now. Please try again in about 1 second."),
    ],
)
def test_the_rate_limit_message_is_polite_and_says_when(
    limit: int, window: int, retry_in: float, expected: str
) -> None:
    assert expected in blocks.rate_limited(limit, window, retry_in)


def test_the_apology_names_the_error_id_and_nothing_else() -> None:
    text = blocks.apology("deadbeef")
    assert "`deadbeef`" in text and "Traceback" not in text and "/" not in text.replace("/finbot", "")


VALUE_TEXT = ("Annual recurring revenue (ARR), Q3 2025: USD 6,806,584.32 [1]\n"
              "This is an end-of-period value: the last month end on or before 30 September 2025.\n\n"
              "SQL (generated by MetricFlow):\nSELECT 12 * SUM(mrr_usd) AS arr\nFROM main.fct_mrr")
VALUE = {"metric": "arr", "period": "Q3 2025", "value": 6806584.32, "unit": "USD", "refused": False,
         "sql": "SELECT 12 * SUM(mrr_usd) AS arr\nFROM main.fct_mrr", "group_by": None, "rows": None}


def value_answer(text: str, value: dict) -> Answer:  # type: ignore[type-arg]
    return Answer(id="v1v2v3", question="what was ARR in Q3 2025?", text=text, abstained=False,
                  sources=[source(1)], value=value)


def test_a_value_answer_shows_the_number_and_a_table_and_keeps_the_sql_behind_a_button() -> None:
    reply = blocks.answer_blocks(value_answer(VALUE_TEXT, VALUE))
    sections = texts(reply, "section")
    assert sections[0].startswith("Annual recurring revenue (ARR), Q3 2025: USD 6,806,584.32 [1]")
    assert sections[1] == "```period                arr\nQ3 2025  USD 6,806,584.32```"
    assert "SELECT" not in str(reply)
    assert [b.get("block_id") for b in reply if b["type"] == "actions"] == [blocks.SQL_BLOCK, blocks.FEEDBACK_BLOCK]
    assert reply[-2]["elements"][0] == {"type": "button", "action_id": blocks.SHOW_SQL, "value": "v1v2v3",
                                        "text": {"type": "plain_text", "text": ":mag: Show SQL", "emoji": True}}


def test_a_grouped_value_answer_is_a_table_of_its_groups() -> None:
    text = ("ARR by plan_tier, Q3 2025 [1]:\n\n| plan_tier | arr |\n|---|---:|\n| growth | USD 12.00 |\n"
            "| starter | USD 1,200.50 |\n\nSQL (generated by MetricFlow):\nSELECT 1")
    grouped = {**VALUE, "group_by": "plan_tier", "rows": [["growth", 12.0], ["starter", 1200.5]], "value": None}
    table = texts(blocks.answer_blocks(value_answer(text, grouped)), "section")[1]
    assert table == "```plan_tier           arr\ngrowth        USD 12.00\nstarter    USD 1,200.50```"
    assert "|" not in texts(blocks.answer_blocks(value_answer(text, grouped)), "section")[0]


def test_a_refused_value_answer_is_plain_text() -> None:
    refused = Answer(id="r1", question="q", text="No warehouse at x.", abstained=True, sources=[source(1)],
                     value={**VALUE, "refused": True, "sql": None})
    reply = blocks.answer_blocks(refused)
    assert texts(reply, "section") == ["No warehouse at x."]
    assert blocks.SQL_BLOCK not in [b.get("block_id") for b in reply]


def test_the_sql_dialog_holds_long_sql_in_code_blocks_within_slacks_limits() -> None:
    assert blocks.sql_of(VALUE_TEXT) == "SELECT 12 * SUM(mrr_usd) AS arr\nFROM main.fct_mrr"
    assert blocks.sql_of("no sql here") is None
    sql = "\n".join(f"  , column_{i} AS alias_{i} -- a < b & c" for i in range(400))
    view = blocks.sql_modal(sql)
    sections = [b["text"]["text"] for b in view["blocks"] if b["type"] == "section"]
    assert len(sections) > 1 and all(len(t) <= blocks.MAX_TEXT_CHARS and t.startswith("```") for t in sections)
    assert "&lt; b &amp; c" in sections[0] and len(view["title"]["text"]) <= 24
