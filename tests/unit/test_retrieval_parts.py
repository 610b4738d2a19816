"""Glossary extraction, fusion, filters, confidence and widening on small in-memory chunk sets (no model)."""

from __future__ import annotations

import math

import pytest

from bot.answering.confidence import estimate
from bot.retrieval.columns import ColumnCheck
from bot.retrieval.context import widen
from bot.retrieval.glossary import acronyms, aliases, build_glossary, entity_of, label_of
from bot.retrieval.hybrid import (
    RRF_K,
    SOURCE_FLOOR,
    Candidate,
    Filters,
    _bm25_search,
    coverage,
    rank_documents,
    scale_scores,
)
from ingest import keyword_index, store
from ingest.keyword_index import Chunk


def chunk(
    cid: str, text: str, path: str = "metrics/m.yaml", section: str = "", title: str = "", doc_type: str = "metric",
    start: int = 1, end: int | None = None,
) -> Chunk:
    metadata = {
        store.PATH: path, store.SECTION: section, store.TITLE: title, store.DOC_TYPE: doc_type,
        store.START_LINE: start, store.END_LINE: end if end is not None else start + text.count("\n"),
    }
    return Chunk(cid, text, metadata)


CORPUS = [
    chunk("dso", "- name: dso\n  label: Days sales outstanding (DSO)\n  description: receivable over billings",
          section="metrics.dso", title="Days sales outstanding (DSO)", start=10),
    chunk("dso-meta", "  meta:\n    aliases: [debtor days, collection period]", section="metrics.dso.meta",
          title="Days sales outstanding (DSO)", start=14),
    chunk("nrr", "- name: net_revenue_retention\n  label: Net revenue retention\n  meta:\n    synonyms:\n"
          "      - NDR\n      - net dollar retention", section="metrics.net_revenue_retention",
          title="Net revenue retention (NRR, trailing 12 months)", path="metrics/retention.yaml"),
    chunk("arrival", "- name: arrival_date\n  description: when the payout lands in the bank",
          path="reports/rpt_payouts.yaml", section="models.rpt_payouts.columns.arrival_date", title="arrival_date",
          doc_type="report"),
    chunk("payouts", "- name: rpt_payouts\n  description: one row per payout", path="reports/rpt_payouts.yaml",
          section="models.rpt_payouts", title="rpt_payouts", doc_type="report", start=1),
    chunk("cur1", "- name: currency\n  description: ISO code", path="reports/rpt_payouts.yaml",
          section="models.rpt_payouts.columns.currency", title="currency", doc_type="report", start=30),
    chunk("cur2", "- name: currency\n  description: ISO code of the invoice", path="reports/rpt_aging.yaml",
          section="models.rpt_aging.columns.currency", title="currency", doc_type="report"),
    chunk("policy", "Collections follow up on DSO above 45 days; the controller reviews the list every month.",
          path="policies/invoicing.md", section="Invoicing > DSO monitoring", title="Invoicing", doc_type="policy"),
    chunk("other", "Chart of accounts: 1030 is the Northbank clearing account.", path="reference/coa.csv",
          section="rows 1-20", title="coa", doc_type="other"),
]


@pytest.fixture(scope="module")
def keyword() -> keyword_index.KeywordIndex:
    return keyword_index.from_chunks(list(CORPUS))


def test_entities_come_from_sections() -> None:
    assert entity_of("metrics.dso") == ("metric", "dso")
    assert entity_of("metrics.dso.meta") == ("metric", "dso")
    assert entity_of("models.rpt_payouts") == ("model", "rpt_payouts")
    assert entity_of("models.rpt_payouts.columns.arrival_date") == ("column", "rpt_payouts.arrival_date")
    assert entity_of("semantic_models.retention_cohorts") == ("model", "retention_cohorts")
    assert entity_of("Invoicing > DSO monitoring") is None
    assert label_of("metric", "dso", "Days sales outstanding (DSO)") == "Days sales outstanding"
    assert label_of("column", "rpt_payouts.arrival_date", "arrival_date") == "arrival date"


def test_acronyms_are_stated_or_initials_of_long_labels() -> None:
    assert acronyms("Net revenue retention (NRR, trailing 12 months)") == ["NRR"]
    assert acronyms("Customer acquisition cost") == ["CAC"]
    assert acronyms("Cost of goods sold") == ["CGS"]  # small words skipped
    assert acronyms("Gross margin (%)") == []  # two words: too short to guess an acronym


def test_aliases_in_flow_lists_block_lists_and_prose() -> None:
    assert aliases("    aliases: [NRR, NDR, net dollar retention]") == ["NRR", "NDR", "net dollar retention"]
    assert aliases("synonyms:\n  - NDR\n  - 'net dollar retention'\nnext: x") == ["NDR", "net dollar retention"]
    assert aliases("DSO, also known as debtor days or collection period.") == ["debtor days", "collection period"]
    assert aliases("no list here") == []


def test_an_acronym_or_alias_names_its_metric(keyword: keyword_index.KeywordIndex) -> None:
    glossary = build_glossary(keyword)
    assert [(h.entity.name, h.via) for h in glossary.match("what's the formula for DSO")][0] == ("dso", "name")
    ndr = glossary.match("how is NDR calculated")
    assert ndr[0].entity.name == "net_revenue_retention" and ndr[0].via == "alias"
    assert glossary.match("debtor days last quarter")[0].entity.name == "dso"
    assert glossary.match("what is the capital of france") == []


def test_the_longest_term_wins_and_a_named_model_picks_its_column(keyword: keyword_index.KeywordIndex) -> None:
    glossary = build_glossary(keyword)
    hits = glossary.match("net revenue retention")
    assert {h.entity.name for h in hits} == {"net_revenue_retention"}
    ambiguous = [h for h in glossary.match("which currency is it in") if h.entity.kind == "column"]
    assert len(ambiguous) == 2 and ambiguous[0].weight < 0.5  # a column of many models: a weak hint
    scoped = [h for h in glossary.match("currency in rpt_payouts") if h.entity.kind == "column"]
    assert [h.entity.name for h in scoped] == ["rpt_payouts.currency"]
    assert scoped[0].weight > ambiguous[0].weight


def test_the_defining_chunk_gets_the_full_weight(keyword: keyword_index.KeywordIndex) -> None:
    glossary = build_glossary(keyword)
    weights = glossary.chunk_weights(glossary.match("DSO"))
    assert weights["dso"][0] > weights["dso-meta"][0] > 0


def test_rrf_rewards_agreement_and_the_glossary() -> None:
    both = Candidate(CORPUS[0], vector_rank=2, bm25_rank=2)
    one = Candidate(CORPUS[1], vector_rank=1)
    assert both.fuse(True, True, "reciprocal_rank") > one.fuse(True, True, "reciprocal_rank")
    assert math.isclose(one.fuse(True, True, "reciprocal_rank"), 1 / (RRF_K + 1))
    assert one.fuse(False, True, "reciprocal_rank") == 0.0  # bm25-only mode ignores the vector rank
    first_in_both = Candidate(CORPUS[3], vector_rank=1, bm25_rank=1)
    boosted = Candidate(CORPUS[2], vector_rank=4, bm25_rank=3, glossary_weight=1.0)
    # the question named its entity
    assert boosted.fuse(True, True, "reciprocal_rank") > first_in_both.fuse(True, True, "reciprocal_rank")


def test_bm25_search_filters_in_memory(keyword: keyword_index.KeywordIndex) -> None:
    words = keyword.tokens("DSO days")
    everything = {keyword.chunks[i].id for i, _ in _bm25_search(keyword, words, 10, Filters())[0]}
    assert {"dso", "policy"} <= everything
    policies, _ = _bm25_search(keyword, words, 10, Filters(doc_type="policy"))
    assert [keyword.chunks[i].id for i, _ in policies] == ["policy"]
    prefixed, _ = _bm25_search(keyword, words, 10, Filters(path_prefix="metrics/"))
    assert {keyword.chunks[i].path for i, _ in prefixed} == {"metrics/m.yaml"}
    assert _bm25_search(keyword, keyword.tokens("zzz unknownword"), 10, Filters()) == ([], None)


def test_filters_allow_by_type_and_prefix() -> None:
    assert not Filters()
    assert Filters(doc_type="report").allows(CORPUS[3]) and not Filters(doc_type="report").allows(CORPUS[0])
    assert Filters(path_prefix="reports/rpt_pay").allows(CORPUS[3])
    assert not Filters(doc_type="report", path_prefix="reports/rpt_aging").allows(CORPUS[3])


def test_coverage_counts_rare_question_words_most(keyword: keyword_index.KeywordIndex) -> None:
    found = [Candidate(CORPUS[0])]
    covered = coverage(keyword, keyword.tokens("dso receivable billings"), found)
    missing = coverage(keyword, keyword.tokens("dso crypto hedging"), found)
    assert covered == 1.0
    assert 0 < missing < 0.5


def test_confidence_rises_with_each_signal() -> None:
    # similarity, coverage, glossary, columns, lead (bot/answering/confidence.py SIGNALS)
    low = estimate((0.2, 0.2, 0.0, 1.0, 0.2))
    similar = estimate((0.7, 0.2, 0.0, 1.0, 0.2))
    covered = estimate((0.7, 0.9, 0.0, 1.0, 0.2))
    named = estimate((0.7, 0.9, 1.0, 1.0, 0.2))
    answered = estimate((0.7, 0.9, 1.0, 1.0, 0.9))
    assert 0 < low < similar < covered < named < answered < 1
    assert estimate((0.7, 0.9, 1.0, 0.0, 0.9)) < answered  # a column the report lacks lowers it


def test_widening_joins_the_neighbours_of_the_same_section() -> None:
    parts = [
        chunk("a", "| bucket | rate |\n|---|---|", path="policies/p.md", section="P > Table", start=1, end=2),
        chunk("b", "| current | 1% |", path="policies/p.md", section="P > Table", start=3, end=3),
        chunk("c", "| 90+ days | 50% |", path="policies/p.md", section="P > Table", start=5, end=5),
        chunk("d", "Another section.", path="policies/p.md", section="P > Other", start=7, end=7),
    ]
    keyword = keyword_index.from_chunks(parts)
    whole = widen(parts[1], keyword)
    assert whole.text == "| bucket | rate |\n|---|---|\n| current | 1% |\n\n| 90+ days | 50% |"
    assert (whole.start_line, whole.end_line) == (1, 5)
    assert widen(parts[3], keyword) == parts[3]  # alone in its section
    narrow = widen(parts[1], keyword, max_chars=len(parts[1].text) + len(parts[0].text) + 2)
    assert (narrow.start_line, narrow.end_line) == (1, 3)  # grows before, then stops at the limit


def test_a_superseded_document_ranks_below_the_current_one() -> None:
    current = chunk("now", "Refunds within 30 days.", path="policies/refunds.md", doc_type="policy")
    old = Chunk("old", "Refunds within 14 days.", {**current.metadata, store.STATUS: "superseded"})
    old_first = Candidate(old, vector_rank=1, bm25_rank=1)
    current_second = Candidate(current, vector_rank=2, bm25_rank=2)
    assert current_second.fuse(True, True, "reciprocal_rank") > old_first.fuse(True, True, "reciprocal_rank")
    alone = Candidate(old, vector_rank=1, bm25_rank=1)
    assert alone.fuse(True, True, "reciprocal_rank") > 0  # still found when nothing current matches


def test_widening_stays_on_the_pdf_page() -> None:
    def page(cid: str, n: int, start: int) -> Chunk:
        base = chunk(cid, f"Text of {cid}.", path="policies/t.pdf", section="Travel", start=start, end=start)
        return Chunk(cid, base.text, {**base.metadata, store.PAGE: n})

    parts = [page("p1a", 1, 1), page("p1b", 1, 2), page("p2a", 2, 1)]
    keyword = keyword_index.from_chunks(parts)
    assert widen(parts[1], keyword).text == "Text of p1a.\nText of p1b."
    assert widen(parts[2], keyword) == parts[2]  # the same section continues on page 2, but a quote stays on its page


def test_a_document_with_several_matching_passages_outranks_one_lucky_passage() -> None:
    glossary_line = Candidate(chunk("g", "CTA: translation adjustment", path="reference/glossary.html"), fused=0.0330)
    sections = [
        Candidate(chunk(f"p{n}", f"Section {n}", path="policies/fx.md", start=n * 10), fused=fused)
        for n, fused in enumerate((0.0325, 0.0320, 0.0315, 0.0300))
    ]
    ranked = rank_documents([glossary_line, *sections], top_k=5)
    assert [c.chunk.path for c in ranked] == ["policies/fx.md", "reference/glossary.html"]  # one passage each
    assert ranked[0].chunk.id == "p0"  # the document is cited by its best passage
    assert ranked[0].support > 0 and ranked[1].support == 0.0
    assert ranked[0].score > glossary_line.score > ranked[0].fused


def test_documents_far_below_the_first_are_not_cited() -> None:
    best = Candidate(chunk("a", "a", path="metrics/a.yaml"), fused=0.03)
    near = Candidate(chunk("b", "b", path="metrics/b.yaml"), fused=0.03 * (SOURCE_FLOOR + 0.05))
    far = Candidate(chunk("c", "c", path="metrics/c.yaml"), fused=0.03 * (SOURCE_FLOOR - 0.05))
    assert [c.chunk.id for c in rank_documents([far, near, best], top_k=5)] == ["a", "b"]
    assert [c.chunk.id for c in rank_documents([far, near, best], top_k=1)] == ["a"]
    assert rank_documents([], top_k=5) == []


def test_chat_words_are_not_searched_for(keyword: keyword_index.KeywordIndex) -> None:
    assert keyword.tokens("hey whats GL 1030 and what does it roll up under, pls") == ["gl", "1030", "roll"]


def test_letters_joined_by_an_ampersand_are_one_word(keyword: keyword_index.KeywordIndex) -> None:
    assert keyword.tokens("what's M&IE on the P&L, says FP&A") == ["m&ie", "p&l", "say", "fp&a"]
    assert keyword.tokens("R & D") == []  # spaced out, they are single letters


def test_british_and_american_spellings_are_one_word() -> None:
    british = chunk("uk", "Capitalised software is amortised over 3 years; the cost centre owner approves.",
                    path="policies/capitalisation.md", doc_type="policy")
    keyword = keyword_index.from_chunks([british, *CORPUS])
    question = keyword.tokens("do we amortize capitalized software over 3 years, which cost center approves")
    assert set(question) <= set(keyword.tokens(british.text))  # every question word is the chunk's
    scores = keyword.scores(question)
    assert scores.argmax() == 0 and scores[0] > 0


def test_a_column_question_is_checked_against_the_named_report(keyword: keyword_index.KeywordIndex) -> None:
    glossary = build_glossary(keyword)
    columns = ColumnCheck(keyword)

    def check(question: str) -> float:
        return columns.coverage(question, keyword.tokens(question), glossary.match(question))

    assert check("which column of rpt_payouts is the arrival date") == 1.0  # arrival_date is one of its columns
    assert check("which column in rpt_payouts has the vendor name") < 0.5  # no column holds a vendor
    assert check("what is the vendor name") == 1.0  # names no report: not a column question
    assert check("what does rpt_payouts hold for crypto") == 1.0  # names a report but asks for no column
    assert check("how is the ltv:cac metric calculated") == 0.0  # no metric's name or label shares a word
    assert check("the retention metric, how is it defined") == 1.0  # "Net revenue retention": named loosely
    assert check("which metrics do we track") == 1.0  # asks for a list, names none


def test_a_column_question_reads_the_named_models_own_chunks_and_its_sql() -> None:
    """One schema file defines several models, as dbt projects do: a column of another model is not this one's."""
    schema = "models/marts/_finance__models.yml"
    keyword = keyword_index.from_chunks([
        chunk("inv", "Model fct_invoices: one row per invoice", schema, "models.fct_invoices", "fct_invoices",
              "report"),
        chunk("inv-cols", "Model fct_invoices, column invoice_id\nModel fct_invoices, column amount_paid", schema,
              "models.fct_invoices.columns", "fct_invoices", "report", start=5),
        chunk("acct", "Model dim_accounts: one row per account\nColumn owner_name: the account owner's name",
              schema, "models.dim_accounts", "dim_accounts", "report", start=20),
        chunk("inv-sql", "select invoice_id, amount_paid, tax_amount from invoices",
              "models/marts/fct_invoices.sql", "", "Model fct_invoices (SQL)", "other"),
    ])
    glossary = build_glossary(keyword)
    columns = ColumnCheck(keyword)

    def check(question: str) -> float:
        return columns.coverage(question, keyword.tokens(question), glossary.match(question))

    assert check("does fct_invoices have a col for the account owner") < 0.5  # dim_accounts's, in the same file
    assert check("does fct_invoices carry the stripe processing fee") < 0.5  # asks whether it holds: no "column"
    assert check("does fct_invoices have the tax amount") == 1.0  # its SQL selects tax_amount
    assert check("which column of fct_invoices is the amount paid") == 1.0


def test_relative_score_fusion_keeps_how_far_ahead_a_hit_is() -> None:
    # BM25 alone finds the account number, far ahead of everything else; the other chunk is a little
    # better than average in both lists. Reciprocal rank fusion prefers the second; relative scores the first.
    literal = Candidate(CORPUS[8], bm25_rank=1, bm25_score=9.0)
    middling = Candidate(CORPUS[0], vector_rank=1, similarity=0.50, bm25_rank=2, bm25_score=3.0)
    runner = Candidate(CORPUS[7], vector_rank=2, similarity=0.40)
    candidates = [literal, middling, runner]
    scale_scores(candidates)
    assert (literal.bm25_scaled, middling.vector_scaled, runner.vector_scaled) == (1.0, 1.0, 0.0)
    assert literal.vector_scaled == 0.0  # vector search did not find it
    assert middling.fuse(True, True, "reciprocal_rank") > literal.fuse(True, True, "reciprocal_rank")
    assert literal.fuse(True, True, "relative_score") > middling.fuse(True, True, "relative_score")
    assert middling.fuse(True, False, "relative_score") == 1.0  # vector-only mode: its scaled similarity alone


def test_answering_tokenizes_exactly_as_bm25s_does(keyword: keyword_index.KeywordIndex) -> None:
    """tokenize_many is a faster copy of bm25s.tokenize: every file of the corpus and the golden questions (chat
    typing, unicode, identifiers, numbers) read the same both ways."""
    import bm25s

    from tests.conftest import REPO

    texts = [p.read_text(encoding="utf-8", errors="replace") for p in sorted((REPO / "corpus").rglob("*")) if
             p.is_file()]
    texts += (REPO / "golden" / "questions.yaml").read_text().splitlines()
    texts += ["", "  ", "Ünïcödé naïve café's — résumé", "rpt_payouts.arrival_date", "whats the $5,000 limit?"]
    assert keyword.retriever is not None
    expected = bm25s.tokenize(texts, token_pattern=keyword_index.TOKEN_PATTERN, stopwords=keyword_index.stopwords(),
                              stemmer=keyword.retriever.stemmer, return_ids=False, show_progress=False)
    assert keyword.tokenize_many(texts) == [list(t) for t in expected]
    assert keyword.tokenize_many(texts) == [list(t) for t in expected]  # and again from the remembered stems
