from pathlib import Path

import pytest

from bot.config import load_config
from bot.errors import ConfigError


def test_defaults_apply_when_the_default_file_is_absent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    config = load_config()
    assert config.retrieval.top_k == 5
    assert config.http.port == 8000
    assert config.index.path == tmp_path / ".finbot/chroma"
    assert config.corpus.paths == [tmp_path / "corpus"]


def test_a_partial_file_keeps_the_other_defaults(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("retrieval:\n  top_k: 3\n")
    config = load_config(path)
    assert config.retrieval.top_k == 3
    assert config.retrieval.min_confidence == 0.5
    assert (config.retrieval.mode, config.retrieval.glossary) == ("hybrid", True)
    assert config.http.host == "127.0.0.1"


def test_relative_paths_are_relative_to_the_config_file(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "c.yaml"
    path.parent.mkdir()
    path.write_text("corpus:\n  paths: [docs, /abs/dbt]\nindex:\n  path: idx\n")
    config = load_config(path)
    assert config.corpus.paths == [tmp_path / "sub" / "docs", Path("/abs/dbt")]
    assert config.index.path == tmp_path / "sub" / "idx"


def test_environment_overrides_the_file_key_by_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("retrieval:\n  top_k: 3\n  min_confidence: 0.2\n")
    monkeypatch.setenv("FINBOT_RETRIEVAL__TOP_K", "8")
    monkeypatch.setenv("FINBOT_CORPUS__PATHS", '["a", "b"]')
    config = load_config(path)
    assert config.retrieval.top_k == 8
    assert config.retrieval.min_confidence == 0.2  # the file's value for the key the env left alone
    assert config.corpus.paths == [tmp_path / "a", tmp_path / "b"]


def test_a_bad_file_names_every_bad_field(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("retrieval:\n  top_k: 0\nretreival: {}\nhttp:\n  port: http\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    lines = str(caught.value).splitlines()
    assert lines[0] == f"{path}: invalid configuration"
    assert "  retrieval.top_k: must be greater than 0" in lines
    assert "  retreival: unknown key; check its spelling against config.yaml" in lines
    assert any(line.startswith("  http.port: must be a valid integer") for line in lines)


def test_a_bad_environment_value_is_reported_by_field(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("FINBOT_RETRIEVAL__TOP_K", "-1")
    with pytest.raises(ConfigError, match=r"retrieval.top_k: must be greater than 0"):
        load_config()


def test_invalid_yaml_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("retrieval:\n  top_k: 3\n   min_score: [\n")
    with pytest.raises(ConfigError, match=rf"{path}:3: invalid YAML"):
        load_config(path)


def test_an_explicit_missing_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.yaml")


def test_the_shipped_config_yaml_is_valid_and_documents_the_required_keys() -> None:
    shipped = Path(__file__).resolve().parents[2] / "config.yaml"
    config = load_config(shipped)
    text = shipped.read_text()
    assert config.http.port == 8000
    for key in ("corpus:", "paths:", "index:", "path:", "http:", "host:", "port:", "retrieval:", "top_k:"):
        assert key in text


@pytest.mark.parametrize(
    ("yaml_text", "message"),
    [
        ("retrieval:\n  min_score: 0.35\n", "retrieval: min_score was replaced by min_confidence"),
        ("retrieval:\n  mode: semantic\n", "retrieval.mode: must be 'vector', 'bm25' or 'hybrid'"),
    ],
    ids=["replaced min_score key", "unknown retrieval mode"],
)
def test_a_retired_key_or_unknown_mode_says_what_to_write(tmp_path: Path, yaml_text: str, message: str) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(yaml_text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert message in str(caught.value)
