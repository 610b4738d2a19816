"""Definition cards and the spans they are built from, on a rendered dbt metric in memory (no model)."""

from __future__ import annotations

from bot.answering.cards import card_spans
from bot.answering.chunk_spans import split_spans
from bot.answering.spans import SpanIndex
from ingest import keyword_index, store
from ingest.keyword_index import Chunk

# ingest/dbt.py renders a metric's description on one line, however many sentences it has.
METRIC = Chunk(
    "variable-opex",
    "Metric variable_opex: Variable operating expenses\n"
    "Description: Variable opex is commissions amortization and partner referral fees. "
    "Variable opex is the extra deduction in contribution margin.\n"
    "Owner: Priya Nair (fpa)",
    {store.PATH: "metrics/margins.yaml", store.SECTION: "metrics.variable_opex", store.TITLE: "Variable opex",
     store.DOC_TYPE: "metric", store.START_LINE: 10, store.END_LINE: 12},
)


def test_sentences_of_one_line_are_different_spans() -> None:
    first, second = (s for s in split_spans(METRIC) if s.label == "Description")
    assert (first.first, first.last) == (second.first, second.last)
    assert first.key != second.key


def test_each_line_of_an_html_chunk_is_a_paragraph_of_its_own() -> None:
    # ingest/html.py writes a block per line; in Markdown, consecutive lines are one wrapped paragraph
    text = "Created by Patrick Nolan on Feb 25, 2026\nNever override the tax code without approval."
    html = Chunk("tax", text, {store.PATH: "tax/indirect-tax.html"})
    markdown = Chunk("tax-md", text, {store.PATH: "tax/indirect-tax.md"})
    assert [s.text for s in split_spans(html)] == text.split("\n")
    assert [s.text for s in split_spans(markdown)] == [text.replace("\n", " ")]


def test_quoting_a_later_sentence_of_the_description_keeps_its_first_in_the_card() -> None:
    spans = SpanIndex(keyword_index.from_chunks([METRIC]))
    later = next(s for s in spans.spans(METRIC) if "extra deduction" in s.text)
    card = card_spans([later], [METRIC], spans)
    assert [s.text for s in card] == [
        "Variable operating expenses",
        "Variable opex is commissions amortization and partner referral fees.",
        "Priya Nair (fpa)",
    ]
