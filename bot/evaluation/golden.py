"""The golden question set: what `finbot eval` measures the bot against."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from bot.errors import ConfigError
from ingest.loaders import describe_yaml_error

Kind = Literal[
    "definition", "formula", "schema", "lineage", "policy", "multi-source", "acronym", "multi-part", "unanswerable"
]
Split = Literal["dev", "test"]


class GoldenPart(BaseModel):
    """One ask of a multi-part question: its own words, and whether (and by what) the documents answer it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    question: str = Field(min_length=1)
    answerable: bool
    expected_sources: list[str] = Field(default_factory=list)
    answer_facts: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def consistent(self) -> GoldenPart:
        if self.answerable and not self.expected_sources:
            raise ValueError("an answerable part needs expected_sources")
        if not self.answerable and (self.expected_sources or self.answer_facts):
            raise ValueError("an unanswerable part has no expected_sources or answer_facts")
        return self


class GoldenQuestion(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    question: str = Field(min_length=1)
    kind: Kind
    split: Split
    answerable: bool
    expected_sources: list[str] = Field(default_factory=list)  # corpus-relative paths, best first
    answer_facts: list[str] = Field(default_factory=list)  # strings a correct answer must contain
    # kind multi-part only: each ask on its own. The question's own expected_sources and answer_facts are then
    # those of its answerable parts (filled in when left out), and it is answerable when any part is.
    parts: list[GoldenPart] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def from_parts(cls, data: Any) -> Any:
        if not isinstance(data, dict) or not data.get("parts"):
            return data
        parts = [GoldenPart.model_validate(p) for p in data["parts"]]
        answered = [p for p in parts if p.answerable]
        derived = {
            "answerable": bool(answered),
            "expected_sources": list(dict.fromkeys(s for p in answered for s in p.expected_sources)),
            "answer_facts": list(dict.fromkeys(f for p in answered for f in p.answer_facts)),
        }
        for key, value in derived.items():
            if key in data and data[key] != value:
                raise ValueError(f"{key} must be what the parts say ({value!r}), or left out")
        return {**data, **derived}

    @model_validator(mode="after")
    def consistent(self) -> GoldenQuestion:
        if (self.kind == "multi-part") != bool(self.parts):
            raise ValueError("kind 'multi-part' goes with parts: (two or more), and only with it")
        if self.parts and len(self.parts) < 2:
            raise ValueError("a multi-part question has at least two parts")
        if self.answerable and not self.expected_sources:
            raise ValueError("an answerable question needs expected_sources")
        if self.answerable == (self.kind == "unanswerable") and self.kind != "multi-part":
            raise ValueError("kind 'unanswerable' goes with answerable: false, and only with it")
        return self


class GoldenSet(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # The folder(s) the questions were written against, relative to the golden file (bench scripts index them).
    corpus: list[str] = Field(default_factory=list)
    # The eval gate for this set ({recall_at_1: 0.86, ...}, each 0-1); when absent, eval.min_* in the config.
    minimums: dict[Literal[
        "recall_at_1", "recall_at_5", "mrr", "citation_precision", "fact_recall", "abstention_precision",
        "abstention_recall",
    ], float] = Field(default_factory=dict)
    questions: list[GoldenQuestion]

    @model_validator(mode="after")
    def unique_ids(self) -> GoldenSet:
        seen: set[str] = set()
        for q in self.questions:
            if q.id in seen:
                raise ValueError(f"question id {q.id!r} is used twice")
            seen.add(q.id)
        for name, value in self.minimums.items():
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"minimums.{name} is {value}; a minimum is a share between 0 and 1")
        return self


def load_golden(path: Path, split: str = "all") -> list[GoldenQuestion]:
    """The questions of one split ('dev', 'test' or 'all'); errors name the question and field."""
    return [q for q in read_golden_set(path).questions if split == "all" or q.split == split]


def golden_corpus(path: Path) -> list[Path]:
    """The corpus folders a golden file was written against (its `corpus:` key, relative to the file)."""
    return [(path.parent / folder).resolve() for folder in read_golden_set(path).corpus]


def read_golden_set(path: Path) -> GoldenSet:
    """The whole golden file, validated; errors name the question and field."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: golden set not found. Pass --golden or set eval.golden in the config.") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: invalid YAML in the golden set: {describe_yaml_error(exc)}") from None
    try:
        golden = GoldenSet.model_validate(data)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            loc = list(err["loc"])
            if len(loc) >= 2 and loc[0] == "questions" and isinstance(loc[1], int):
                qid = (data["questions"][loc[1]] or {}).get("id", f"#{loc[1] + 1}")
                loc = [f"question {qid}", *loc[2:]]
            lines.append(f"  {'.'.join(map(str, loc))}: {err['msg']}")
        raise ConfigError(f"{path}: invalid golden set\n" + "\n".join(lines)) from None
    return golden
