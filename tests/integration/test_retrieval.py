"""Hybrid retrieval on the real index: glossary lookups, filters, --explain, BM25 kept in step with ingest."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

import bot.retrieval.hybrid
from bot.answering.answerer import load_answerer
from bot.config import load_config
from bot.interfaces.cli import cli
from ingest import keyword_index
from tests.conftest import CORPUS, write_config
from tests.integration.test_ask import ask_json, assert_answer_shape

pytestmark = pytest.mark.model


def test_an_acronym_only_the_aliases_know_finds_its_metric(indexed_config: Path) -> None:
    body = ask_json(indexed_config, "what does NDR measure", "--explain")
    top = body["sources"][0]
    assert (top["path"], top["section"]) == ("metrics/retention.yaml", "metrics.net_revenue_retention")
    assert top["explain"]["glossary"] == "metric net_revenue_retention via alias 'ndr'"


def test_a_column_name_finds_its_report(indexed_config: Path) -> None:
    body = ask_json(indexed_config, "what is balance_transaction_count")
    assert body["sources"][0]["path"] == "reports/rpt_payout_reconciliation.yaml"
    # Columns are indexed in small groups that each name their model; the column's group comes first.
    assert body["sources"][0]["section"].startswith("models.rpt_payout_reconciliation.columns")
    assert "column balance_transaction_count" in body["answer"]


@pytest.mark.parametrize(
    ("option", "value", "check"),
    [
        ("--type", "policy", lambda s: s["path"].startswith("policies/")),
        ("--type", "report", lambda s: s["path"].startswith("reports/")),
        ("--path", "metrics/retention", lambda s: s["path"] == "metrics/retention.yaml"),
    ],
)
def test_filters_restrict_the_sources(indexed_config: Path, option: str, value: str, check: object) -> None:
    body = ask_json(indexed_config, "how is DSO calculated and monitored", option, value)
    assert_answer_shape(body)
    assert body["sources"] and all(check(s) for s in body["sources"])  # type: ignore[operator]


def test_a_filter_that_leaves_nothing_abstains(indexed_config: Path) -> None:
    body = ask_json(indexed_config, "how is DSO calculated", "--path", "no/such/folder/")
    assert body["abstained"] is True and body["sources"] == []


def test_explain_shows_each_stage(indexed_config: Path) -> None:
    args = ["--config", str(indexed_config), "ask", "--explain", "what's the formula for DSO"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    header = next(line for line in result.output.splitlines() if "vector rank" in line)
    for column in ("similarity", "bm25 rank", "bm25 score", "scaled v/b", "glossary", "fused", "support"):
        assert column in header
    assert "[1]  " in result.output and "metric dso via name 'dso'" in result.output
    explained = ask_json(indexed_config, "what's the formula for DSO", "--explain")["sources"][0]["explain"]
    assert set(explained) == {
        "vector_rank", "similarity", "bm25_rank", "bm25_score", "glossary", "glossary_weight", "vector_scaled",
        "bm25_scaled", "fused", "support",
    }
    # relative_score (the default): what the passage's fused score is made of
    assert 0 <= explained["vector_scaled"] <= 1 and 0 <= explained["bm25_scaled"] <= 1
    assert "explain" not in ask_json(indexed_config, "what's the formula for DSO")["sources"][0]


@pytest.mark.parametrize("mode", ["vector", "bm25"])
def test_each_mode_alone_still_answers(indexed_config: Path, mode: str) -> None:
    result = CliRunner().invoke(
        cli, ["--config", str(indexed_config), "ask", "--json", "--explain", "how is ARR calculated"],
        env={"FINBOT_RETRIEVAL__MODE": mode, "FINBOT_RETRIEVAL__GLOSSARY": "false"},
    )
    assert result.exit_code == 0, result.output
    sources = json.loads(result.output)["sources"]
    used, unused = ("vector_rank", "bm25_rank") if mode == "vector" else ("bm25_rank", "vector_rank")
    ranks = [s["explain"][used] for s in sources]
    assert None not in ranks and 1 in ranks  # one list alone: its best passage is cited
    assert len({s["path"] for s in sources}) == len(sources)  # one passage per document
    assert all(s["explain"][unused] is None and s["explain"]["glossary"] is None for s in sources)
    assert any(s["path"] == "metrics/mrr.yaml" for s in sources)


def test_bm25_follows_ingest_and_a_running_answerer_sees_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    corpus = tmp_path / "corpus"
    (corpus / "policies").mkdir(parents=True)
    shutil.copy(CORPUS / "policies" / "refunds_and_credit_notes.md", corpus / "policies")
    config_path = write_config(tmp_path, corpus)
    runner = CliRunner()

    def ingest(*args: str) -> None:
        result = runner.invoke(cli, ["--config", str(config_path), "ingest", *args])
        assert result.exit_code == 0, result.output

    ingest()
    config = load_config(config_path)
    folder = keyword_index.keyword_dir(config.index.path, config.index.collection)
    stamp = json.loads((folder / "finbot-keyword.json").read_text())
    answerer = load_answerer(config)
    assert answerer.retriever.generation == stamp["generation"]
    monkeypatch.setattr(bot.retrieval.hybrid, "REFRESH_SECONDS", 0.0)  # check the generation on every question

    def paths(question: str) -> set[str]:
        return {s.path for s in answerer.ask(question, 10).sources}

    # add: a new file's words are found by BM25 and the running answerer, without a restart
    (corpus / "policies" / "zephyr.md").write_text("# Zephyr levy\n\nThe zephyr levy is booked to account 2991.\n")
    ingest()
    added = json.loads((folder / "finbot-keyword.json").read_text())
    assert added["generation"] != stamp["generation"] and added["chunks"] > stamp["chunks"]
    assert "policies/zephyr.md" in paths("zephyr levy account")
    assert answerer.retriever.generation == added["generation"]

    # change: the old words are gone from the keyword index, the new ones are there
    (corpus / "policies" / "zephyr.md").write_text("# Quillon surcharge\n\nThe quillon surcharge is waived.\n")
    ingest()
    keyword, _ = answerer.retriever.current()
    texts = " ".join(c.text for c in keyword.chunks if c.path == "policies/zephyr.md")
    assert "quillon" in texts and "zephyr" not in texts

    # delete: a vanished file's chunks leave Chroma and BM25 on the next plain ingest
    (corpus / "policies" / "zephyr.md").unlink()
    ingest()
    keyword, _ = answerer.retriever.current()
    assert all(c.path != "policies/zephyr.md" for c in keyword.chunks)
    assert json.loads((folder / "finbot-keyword.json").read_text())["chunks"] == len(keyword.chunks)
    assert "policies/zephyr.md" not in paths("quillon surcharge waived")

    # rebuild: the running answerer keeps answering from the rebuilt index
    ingest("--rebuild")
    assert "policies/refunds_and_credit_notes.md" in paths("refund window on annual plans")
    assert answerer.retriever.generation == json.loads((folder / "finbot-keyword.json").read_text())["generation"]


def test_a_missing_keyword_folder_is_rebuilt_from_chroma(indexed_config: Path, tmp_path: Path) -> None:
    config = load_config(indexed_config)
    copy = tmp_path / "index"
    shutil.copytree(config.index.path, copy)
    shutil.rmtree(copy / "keyword")
    moved = config.model_copy(update={"index": config.index.model_copy(update={"path": copy})})
    answerer = load_answerer(moved)
    assert not answerer.retriever.current()[0].loaded  # built from Chroma...
    assert (copy / "keyword" / config.index.collection / "finbot-keyword.json").exists()  # ...and persisted
    assert answerer.ask("what's the formula for DSO").sources[0].path == "metrics/receivables.yaml"


def test_a_keyword_index_tokenized_with_other_stop_words_is_rebuilt(indexed_config: Path, tmp_path: Path) -> None:
    config = load_config(indexed_config)
    copy = tmp_path / "index"
    shutil.copytree(config.index.path, copy)
    stamp = copy / "keyword" / config.index.collection / "finbot-keyword.json"
    written = json.loads(stamp.read_text())
    assert written["stopwords"] == keyword_index.STOPWORDS_VERSION
    stamp.write_text(json.dumps({**written, "stopwords": "en"}))  # as an older finbot wrote it
    moved = config.model_copy(update={"index": config.index.model_copy(update={"path": copy})})
    assert not load_answerer(moved).retriever.current()[0].loaded  # rebuilt, not read
    assert json.loads(stamp.read_text())["stopwords"] == keyword_index.STOPWORDS_VERSION


def test_a_figure_for_a_period_is_refused_and_points_to_the_definition(indexed_config: Path) -> None:
    body = ask_json(indexed_config, "what was net revenue retention for march 2026")
    assert body["abstained"] is True and body["confidence"] == 0.0
    assert "hold no figures" in body["answer"] and "march 2026" in body["answer"]
    assert body["sources"][0]["path"] == "metrics/retention.yaml"
    about_the_definition = ask_json(indexed_config, "how is net revenue retention calculated for march 2026")
    assert about_the_definition["abstained"] is False


def test_a_figure_for_a_period_is_given_only_from_a_passage_about_that_period(indexed_config: Path) -> None:
    calendar = ask_json(indexed_config, "how many business days does the august 2026 close take")  # an amount
    assert calendar["sources"][0]["path"] == "reference/close_calendar_2026.json"
    assert "2026-08" in calendar["sources"][0]["section"] and "nothing about" not in calendar["answer"]
    elsewhere = ask_json(indexed_config, "how much deferred revenue did we have at 6/30/26?")
    assert elsewhere["abstained"] is True and elsewhere["confidence"] == 0.0
    assert "nothing about 6/30/26" in elsewhere["answer"]


def test_the_asks_of_a_question_searched_together_find_what_each_finds_alone(indexed_config: Path) -> None:
    retriever = load_answerer(load_config(indexed_config)).retriever
    asks = ["how is DSO calculated", "who approves a refund over the limit", "which column is the arrival date"]
    for filters in (None, bot.retrieval.hybrid.Filters("policy", None)):
        together = retriever.retrieve_many(asks, 5, filters)
        alone = [retriever.retrieve(ask, 5, filters) for ask in asks]
        for a, b in zip(together, alone, strict=True):
            assert [c.chunk.id for c in a.candidates] == [c.chunk.id for c in b.candidates]
            assert a.best_similarity == pytest.approx(b.best_similarity, abs=1e-5)
