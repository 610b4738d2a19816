"""Coverage gaps for the docs owners: the questions finbot refused, answered with low confidence or people voted
down, grouped into topics by embedding similarity, ranked by how many people asked, each with examples, its
closest documents and where in the corpus an answer would go. Read from the feedback store (`finbot gaps`): the
questions recorded from every interface (recording.*) and Slack's stored answers."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

import click

from bot.errors import ConfigError

if TYPE_CHECKING:
    import numpy as np

    from bot.interfaces.cli import CliState
    from bot.interfaces.slack.feedback import GapQuestion

# A question joins a topic when its embedding's cosine similarity to the topic's centroid is at least this. On
# all-MiniLM-L6-v2 the seeded paraphrases of tests/integration/test_gaps.py score 0.57-0.96 to their topic's
# centroid and questions of other topics at most 0.35: a first guess, not tuned on real traffic.
SIMILARITY = 0.5
EXAMPLES = 3
CLOSEST = 3
_SINCE = re.compile(r"^(\d+)([hdw])$")


@dataclass(frozen=True)
class Topic:
    label: str  # the question closest to the topic's centre
    people: int  # distinct askers (an answer with no user counts as its own person)
    questions: int
    refused: int
    low_confidence: int
    voted_down: int
    examples: list[str]
    closest: list[dict[str, Any]]  # {path, section, count}: the documents finbot found nearest, most often first
    suggestion: str


def parse_since(text: str, now: datetime | None = None) -> str:
    """'30d', '12h' or '2w' back from now, as the ISO UTC time the store compares with."""
    found = _SINCE.match(text.strip())
    if not found:
        raise ConfigError(f"--since {text!r}: use a number of hours, days or weeks such as 12h, 30d or 2w.")
    unit = {"h": "hours", "d": "days", "w": "weeks"}[found.group(2)]
    start = (now or datetime.now(UTC)) - timedelta(**{unit: int(found.group(1))})
    return start.isoformat(timespec="seconds")


def cluster(vectors: np.ndarray, threshold: float = SIMILARITY) -> list[list[int]]:
    """Group unit vectors: each joins the most similar topic centroid if at least `threshold`, else starts one;
    then every vector is reassigned once to its nearest final centroid (so the order of arrival matters less)."""
    import numpy as np

    centroids: list[np.ndarray] = []
    members: list[list[int]] = []
    for i, vector in enumerate(vectors):
        if centroids:
            sims = np.stack(centroids) @ vector
            best = int(np.argmax(sims))
            if sims[best] >= threshold:
                members[best].append(i)
                centroid = vectors[members[best]].mean(axis=0)
                centroids[best] = centroid / np.linalg.norm(centroid)
                continue
        centroids.append(vector)
        members.append([i])
    final = np.stack(centroids) if centroids else np.zeros((0, vectors.shape[1] if vectors.ndim == 2 else 0))
    groups: dict[int, list[int]] = {}
    for i, vector in enumerate(vectors):
        groups.setdefault(int(np.argmax(final @ vector)), []).append(i)
    return list(groups.values())


def find_gaps(
    questions: Sequence[GapQuestion], embed: Callable[[list[str]], list[list[float]]],
    threshold: float = SIMILARITY,
) -> list[Topic]:
    """The topics of `questions`, most people first (then most questions)."""
    import numpy as np

    if not questions:
        return []
    vectors = np.asarray(embed([q.asked for q in questions]), dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    topics = [_topic([questions[i] for i in group], vectors[group]) for group in cluster(vectors, threshold)]
    return sorted(topics, key=lambda t: (-t.people, -t.questions, t.label))


def _topic(questions: list[GapQuestion], vectors: np.ndarray) -> Topic:
    import numpy as np

    centre = vectors.mean(axis=0)
    order = np.argsort(-(vectors @ centre), kind="stable")
    examples: list[str] = []
    for i in order:
        text = questions[int(i)].asked
        if text.lower() not in {e.lower() for e in examples}:
            examples.append(text)
    people = len({q.user if q.user else f"answer:{q.answer_id}" for q in questions})
    nearest = Counter(
        (str(q.sources[0].get("path")), q.sources[0].get("section")) for q in questions if q.sources
    )
    closest = [{"path": p, "section": s, "count": n} for (p, s), n in nearest.most_common(CLOSEST)]
    return Topic(
        label=examples[0], people=people, questions=len(questions),
        refused=sum(q.abstained for q in questions), low_confidence=sum(q.low_confidence for q in questions),
        voted_down=sum(q.down_votes > 0 for q in questions),
        examples=examples[:EXAMPLES], closest=closest, suggestion=_suggestion(closest),
    )


def _suggestion(closest: list[dict[str, Any]]) -> str:
    if not closest:
        return "No document came close: a new document (its folder sets its type: metrics/, reports/, policies/)."
    top = closest[0]
    where = f" § {top['section']}" if top["section"] else ""
    return f"{top['path']}{where}, the passage finbot found nearest (or a new section beside it)."


def to_markdown(topics: list[Topic], since: str | None) -> str:
    asked = sum(t.questions for t in topics)
    window = f" since {since}" if since else ""
    lines = [f"# Coverage gaps{window}", "",
             f"{asked} questions refused, answered with low confidence or voted down, in {len(topics)} topics, "
             "most people first.", ""]
    for n, topic in enumerate(topics, start=1):
        people = "person" if topic.people == 1 else "people"
        lines += [
            f"## {n}. {topic.label}", "",
            f"{topic.people} {people}, {topic.questions} questions: {topic.refused} refused, "
            f"{topic.low_confidence} low-confidence, {topic.voted_down} voted down.", "",
            *(f"- {example}" for example in topic.examples), "",
            "Closest documents: " + (
                "; ".join(f"{c['path']}" + (f" § {c['section']}" if c["section"] else "") + f" ({c['count']})"
                          for c in topic.closest) or "none"
            ) + ".", "",
            f"Add the answer to: {topic.suggestion}", "",
        ]
    return "\n".join(lines)


def to_json(topics: list[Topic], since: str | None) -> str:
    return json.dumps({"since": since, "topics": [asdict(t) for t in topics]}, ensure_ascii=False, indent=2)


@click.command("gaps")
@click.option("--since", default="30d", show_default=True, help="How far back: 12h, 30d, 2w.")
@click.option("--format", "fmt", type=click.Choice(["md", "json"]), default="md", show_default=True)
@click.pass_obj
def gaps_command(state: CliState, since: str, fmt: Literal["md", "json"]) -> None:
    """What people asked that the documents don't answer: the refused, low-confidence and voted-down questions
    of the feedback store (slack.feedback_db: Slack's answers and the questions recorded from the page, HTTP,
    MCP and the CLI as recording.* says), grouped into topics, most people first, each with example questions,
    its closest documents and where an answer would go."""
    from bot.interfaces.slack.feedback import FeedbackStore
    from ingest import store

    config = state.config
    start = parse_since(since)
    questions = FeedbackStore.open_existing(config.slack.feedback_db).gap_questions(start)
    embed = None
    if questions:  # the model takes seconds to load; none is needed for an empty report
        model = store.load_embed_model(config.embedding.model, config.embedding.batch_size)
        embed = model.get_text_embedding_batch
    topics = find_gaps(questions, embed) if embed else []
    click.echo(to_json(topics, start) if fmt == "json" else to_markdown(topics, start))
