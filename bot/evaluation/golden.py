"""The golden question set: what `finbot eval` measures the bot against."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from bot.errors import ConfigError
from ingest.loaders import describe_yaml_error

Kind = Literal["definition", "formula", "schema", "lineage", "policy", "multi-source", "acronym", "unanswerable"]
Split = Literal["dev", "test"]


class GoldenQuestion(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    question: str = Field(min_length=1)
    kind: Kind
    split: Split
    answerable: bool
    expected_sources: list[str] = Field(default_factory=list)  # corpus-relative paths, best first
    answer_facts: list[str] = Field(default_factory=list)  # strings a correct answer must contain

    @model_validator(mode="after")
    def consistent(self) -> GoldenQuestion:
        if self.answerable and not self.expected_sources:
            raise ValueError("an answerable question needs expected_sources")
        if self.answerable == (self.kind == "unanswerable"):
            raise ValueError("kind 'unanswerable' goes with answerable: false, and only with it")
        return self


class GoldenSet(BaseModel):
    model_config = ConfigDict(extra="forbid")

    questions: list[GoldenQuestion]

    @model_validator(mode="after")
    def unique_ids(self) -> GoldenSet:
        seen: set[str] = set()
        for q in self.questions:
            if q.id in seen:
                raise ValueError(f"question id {q.id!r} is used twice")
            seen.add(q.id)
        return self


def load_golden(path: Path, split: str = "all") -> list[GoldenQuestion]:
    """The questions of one split ('dev', 'test' or 'all'); errors name the question and field."""
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
    return [q for q in golden.questions if split == "all" or q.split == split]
