"""Scoring of eval results, on hand-built answers (the Answerer itself is exercised in integration)."""

from pathlib import Path

import pytest

from bot.answering.answer import Answer, Source
from bot.errors import ConfigError
from bot.evaluation.evaluate import EvalReport, QuestionResult, percentile
from bot.evaluation.golden import GoldenQuestion, load_golden


def golden(
    qid: str, answerable: bool = True, sources: tuple[str, ...] = ("a.md",), facts: tuple[str, ...] = ()
) -> GoldenQuestion:
    return GoldenQuestion(
        id=qid, question=f"question {qid}", kind="definition" if answerable else "unanswerable", split="dev",
        answerable=answerable, expected_sources=list(sources) if answerable else [], answer_facts=list(facts),
    )


def answer(paths: list[str], abstained: bool = False, text: str = "") -> Answer:
    sources = [Source(n, p, None, 1, 2, 0.5, "", "") for n, p in enumerate(paths, start=1)]
    return Answer("id", "q", text, abstained, sources)


def result(g: GoldenQuestion, a: Answer, ms: float = 10.0) -> QuestionResult:
    return QuestionResult(g, a, ms)


def test_rank_is_that_of_the_first_expected_source_cited() -> None:
    r = result(golden("q1", sources=("b.md", "c.md")), answer(["x.md", "c.md", "b.md"]))
    assert r.rank == 2
    assert r.citation_precision == pytest.approx(2 / 3)
    assert not r.passed


def test_an_abstention_cites_nothing_but_its_closest_sources_still_rank() -> None:
    r = result(golden("q1"), answer(["a.md"], abstained=True))
    assert r.cited == [] and r.citation_precision == 0.0 and not r.passed
    assert r.rank == 1  # the closest sources a refusal lists count for recall@k and MRR


def test_a_document_listed_twice_counts_once() -> None:
    r = result(golden("q1", sources=("a.md",)), answer(["a.md", "a.md", "b.md"]))
    assert r.cited == ["a.md", "b.md"] and r.citation_precision == 0.5 and r.rank == 1
    assert result(golden("q2", answerable=False), answer(["a.md"], abstained=True)).passed


def test_fact_recall_is_case_insensitive() -> None:
    g = golden("q1", facts=("30 Days", "Controller", "absent"))
    r = result(g, answer(["a.md"], text="within 30 days; the controller"))
    assert r.fact_recall == pytest.approx(2 / 3)


def test_overall_and_per_kind_scores() -> None:
    results = [
        result(golden("q1"), answer(["a.md"]), 10),  # rank 1
        result(golden("q2"), answer(["x.md", "y.md", "a.md"]), 20),  # rank 3
        result(golden("q3"), answer(["a.md"], abstained=True), 30),  # wrongly abstained; its closest source is a.md
        result(golden("q4", answerable=False), answer(["x.md"], abstained=True), 40),  # rightly abstained
        result(golden("q5", answerable=False), answer(["x.md"]), 50),  # answered the unanswerable
    ]
    report = EvalReport("dev", results)
    v = report.overall.values
    assert v["recall_at_1"] == pytest.approx(2 / 3)  # a refusal's closest sources count
    assert v["recall_at_5"] == pytest.approx(3 / 3)
    assert v["mrr"] == pytest.approx((1 + 1 / 3 + 1) / 3)
    assert v["abstention_precision"] == pytest.approx(1 / 2)
    assert v["abstention_recall"] == pytest.approx(1 / 2)
    assert report.overall.latency_p50_ms == 30
    assert set(report.by_kind) == {"definition", "unanswerable"}
    assert [r.golden.id for r in report.failures] == ["q2", "q3", "q5"]
    assert report.below({"recall_at_1": 0.7, "recall_at_5": 0.5}) == ["recall_at_1 0.667 < 0.700"]


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 21)]
    assert percentile(values, 50) == 10 and percentile(values, 95) == 19 and percentile([], 95) == 0


def test_a_bad_golden_file_names_the_question_and_field(tmp_path: Path) -> None:
    path = tmp_path / "g.yaml"
    path.write_text(
        "questions:\n"
        "  - {id: q1, split: dev, kind: definition, question: what is arr, answerable: true, expected_sources: []}\n"
        "  - {id: q2, split: prod, kind: definition, question: x, answerable: true, expected_sources: [a.md]}\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_golden(path)
    message = str(caught.value)
    assert "question q1: Value error, an answerable question needs expected_sources" in message
    assert "question q2.split: Input should be 'dev' or 'test'" in message


def test_load_golden_filters_by_split(tmp_path: Path) -> None:
    path = tmp_path / "g.yaml"
    path.write_text(
        "questions:\n"
        "  - {id: q1, split: dev, kind: unanswerable, question: x, answerable: false}\n"
        "  - {id: q2, split: test, kind: unanswerable, question: y, answerable: false}\n"
    )
    assert [q.id for q in load_golden(path, "test")] == ["q2"]
    assert len(load_golden(path, "all")) == 2


def multi_part(**extra: object) -> dict[str, object]:
    return {
        "id": "m1", "question": "who approves refunds, and what was Q3 NRR?", "kind": "multi-part", "split": "dev",
        "parts": [
            {"question": "who approves refunds", "answerable": True, "expected_sources": ["p.md"],
             "answer_facts": ["controller"]},
            {"question": "what was Q3 NRR", "answerable": False},
        ],
        **extra,
    }


def test_a_multi_part_question_takes_its_sources_and_facts_from_its_parts() -> None:
    q = GoldenQuestion.model_validate(multi_part())
    assert q.answerable and q.expected_sources == ["p.md"] and q.answer_facts == ["controller"]
    assert [p.answerable for p in q.parts] == [True, False]


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        ({"answer_facts": ["other"]}, "answer_facts must be what the parts say"),
        ({"parts": [], "answerable": True, "expected_sources": ["p.md"]}, "goes with parts"),
        ({"kind": "policy"}, "goes with parts"),
    ],
)
def test_a_multi_part_question_must_agree_with_its_parts(change: dict[str, object], complaint: str) -> None:
    with pytest.raises(ValueError, match=complaint):
        GoldenQuestion.model_validate(multi_part(**change))


def test_llm_mode_scores_the_writing_and_re_checks_kept_sentences() -> None:
    from dataclasses import replace

    from bot.evaluation.evaluate import scored
    from bot.evaluation.report import scores_table

    source = Source(1, "a.md", None, 1, 2, 0.5, "", "Claims are due within 30 days of the expense.")
    written = Answer("id", "q", "Claims are due within 30 days of the expense [1].", False, [source],
                     mode="llm", removed_sentences=1)
    slipped = replace(written, text="Claims are due within 45 days of the expense [1].", removed_sentences=0)
    fell_back = replace(written, text="quoted", mode="llm-fallback", removed_sentences=2)
    quoted_refusal = Answer("id", "q", "I couldn't find this", True, [source])  # never went to the model
    results = [scored(golden(f"q{n}"), a, 10.0, 0.6) for n, a in
               enumerate([written, slipped, fell_back, quoted_refusal])]
    assert [(r.kept_sentences, r.supported_sentences) for r in results] == [(1, 1), (1, 0), (0, 0), (0, 0)]
    llm = EvalReport("dev", results).overall.llm
    assert llm == {"written_share": pytest.approx(2 / 3), "fallback_share": pytest.approx(1 / 3),
                   "removed_share": pytest.approx(3 / 5), "kept_supported": 0.5}
    assert "kept sentences supported" in scores_table({"all": EvalReport("dev", results).overall})
    extractive = EvalReport("dev", [result(golden("q1"), answer(["a.md"]))]).overall
    assert extractive.llm == {} and "fallback" not in scores_table({"all": extractive})
