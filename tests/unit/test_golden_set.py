"""The golden sets themselves: every expected source exists and every answer fact is really in it."""

import re
from collections import Counter
from functools import cache
from pathlib import Path

import pytest
import yaml

from bot.evaluation.golden import GoldenQuestion, golden_corpus, load_golden
from tests.conftest import REPO

GOLDEN = REPO / "golden" / "questions.yaml"
GOLDEN_FILES = [GOLDEN, *sorted((REPO / "golden").glob("*/questions.yaml"))]
QUESTIONS = [(path, q) for path in GOLDEN_FILES for q in load_golden(path)]
CORPORA = {path: tuple(golden_corpus(path)) for path in GOLDEN_FILES}


@cache
def source_text(corpus: tuple[Path, ...], path: str) -> str:
    file = next((root / path for root in corpus if (root / path).is_file()), None)
    assert file is not None, f"{path} is in none of {[str(c) for c in corpus]}"
    if file.suffix == ".pdf":
        import pypdf

        text = "\n".join(page.extract_text() for page in pypdf.PdfReader(file).pages)
    else:
        text = file.read_text(encoding="utf-8")
    return re.sub(r"\s+", " ", text).lower()


def test_the_set_is_large_and_covers_every_kind_in_both_splits() -> None:
    questions = load_golden(GOLDEN)
    assert len(questions) >= 120
    assert sum(not q.answerable for q in questions) >= 20
    kinds = Counter((q.kind, q.split) for q in questions)
    for kind in ("definition", "formula", "schema", "lineage", "policy", "multi-source", "acronym", "unanswerable"):
        assert kinds[(kind, "dev")] and kinds[(kind, "test")], kind


@pytest.mark.parametrize("path", GOLDEN_FILES, ids=lambda p: str(p.relative_to(REPO)))
def test_every_golden_file_names_its_corpus(path: Path) -> None:
    assert golden_corpus(path) and all(folder.is_dir() for folder in golden_corpus(path))


@pytest.mark.parametrize(("golden", "question"), QUESTIONS, ids=lambda x: x.id if isinstance(x, GoldenQuestion) else "")
def test_expected_sources_exist_and_hold_the_answer_facts(golden: Path, question: GoldenQuestion) -> None:
    corpus = CORPORA[golden]
    asks = question.parts or [question]
    for ask in asks:
        for fact in ask.answer_facts:
            needle = re.sub(r"\s+", " ", fact).lower()
            assert any(needle in source_text(corpus, p) for p in ask.expected_sources), f"{question.id}: {fact!r}"
        for path in ask.expected_sources:
            source_text(corpus, path)  # exists in the corpus


def test_a_golden_file_may_carry_its_own_gate(tmp_path: Path) -> None:
    from bot.errors import ConfigError
    from bot.evaluation.golden import read_golden_set

    question = {"id": "x1", "split": "dev", "kind": "unanswerable", "question": "what is x?", "answerable": False,
                "expected_sources": [], "answer_facts": []}
    path = tmp_path / "questions.yaml"
    path.write_text(yaml.safe_dump({"minimums": {"fact_recall": 0.7}, "questions": [question]}))
    assert read_golden_set(path).minimums == {"fact_recall": 0.7}
    for minimums, named in (({"fact_recall": 1.5}, "minimums.fact_recall"), ({"facts": 0.5}, "minimums.facts")):
        path.write_text(yaml.safe_dump({"minimums": minimums, "questions": [question]}))
        with pytest.raises(ConfigError, match=re.escape(named)):
            read_golden_set(path)
