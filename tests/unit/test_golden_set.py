"""The golden set itself: every expected source exists and every answer fact is really in it."""

import re
from collections import Counter
from functools import cache

import pytest

from bot.evaluation.golden import GoldenQuestion, load_golden
from tests.conftest import CORPUS, REPO

GOLDEN = REPO / "golden" / "questions.yaml"
QUESTIONS = load_golden(GOLDEN) if GOLDEN.exists() else []


@cache
def source_text(path: str) -> str:
    file = CORPUS / path
    if file.suffix == ".pdf":
        import pypdf

        text = "\n".join(page.extract_text() for page in pypdf.PdfReader(file).pages)
    else:
        text = file.read_text(encoding="utf-8")
    return re.sub(r"\s+", " ", text).lower()


def test_the_set_is_large_and_covers_every_kind_in_both_splits() -> None:
    assert len(QUESTIONS) >= 120
    assert sum(not q.answerable for q in QUESTIONS) >= 20
    kinds = Counter((q.kind, q.split) for q in QUESTIONS)
    for kind in ("definition", "formula", "schema", "lineage", "policy", "multi-source", "acronym", "unanswerable"):
        assert kinds[(kind, "dev")] and kinds[(kind, "test")], kind


@pytest.mark.parametrize("question", QUESTIONS, ids=lambda q: q.id)
def test_expected_sources_exist_and_hold_the_answer_facts(question: GoldenQuestion) -> None:
    for path in question.expected_sources:
        assert (CORPUS / path).is_file(), f"{question.id}: {path} is not in corpus/"
    for fact in question.answer_facts:
        needle = re.sub(r"\s+", " ", fact).lower()
        assert any(needle in source_text(p) for p in question.expected_sources), f"{question.id}: {fact!r}"
