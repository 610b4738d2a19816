"""The topic grouping and --since parsing of `finbot gaps` (no model: vectors built by hand)."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from bot.errors import ConfigError
from bot.interfaces.gaps import cluster, find_gaps, parse_since
from bot.interfaces.slack.feedback import GapQuestion


def unit(*values: float) -> np.ndarray:
    vector = np.asarray(values, dtype=np.float32)
    return vector / np.linalg.norm(vector)


def test_cluster_groups_near_vectors_and_keeps_far_ones_apart() -> None:
    vectors = np.stack([unit(1, 0.1, 0), unit(0, 1, 0), unit(1, 0, 0.1), unit(0, 0, 1), unit(0.1, 1, 0)])
    assert sorted(map(sorted, cluster(vectors, 0.9))) == [[0, 2], [1, 4], [3]]
    assert sorted(map(sorted, cluster(vectors, 0.0))) == [[0, 1, 2, 3, 4]]


def test_topics_rank_by_people_then_questions() -> None:
    def q(n: int, user: str | None, asked: str) -> GapQuestion:
        return GapQuestion(f"a{n}", asked, True, 0, [], user, "2026-01-01T00:00:00+00:00")

    questions = [q(1, "U1", "x1"), q(2, "U1", "x2"), q(3, "U2", "y1"), q(4, None, "y2"), q(5, "U3", "z")]
    vectors = {"x": [1.0, 0, 0], "y": [0, 1.0, 0], "z": [0, 0, 1.0]}
    topics = find_gaps(questions, lambda texts: [vectors[t[0]] for t in texts])
    assert [(t.people, t.questions) for t in topics] == [(2, 2), (1, 2), (1, 1)]
    assert topics[0].examples == ["y1", "y2"]  # a question with no user counts as its own person
    assert topics[0].suggestion.startswith("No document came close")


def test_since() -> None:
    now = datetime(2026, 3, 31, 12, tzinfo=UTC)
    assert parse_since("30d", now) == "2026-03-01T12:00:00+00:00"
    assert parse_since("2w", now) == "2026-03-17T12:00:00+00:00"
    assert parse_since("12h", now) == "2026-03-31T00:00:00+00:00"
    with pytest.raises(ConfigError, match="such as 12h, 30d or 2w"):
        parse_since("30 days", now)
