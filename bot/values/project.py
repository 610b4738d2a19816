"""The corpus's dbt Semantic Layer YAML (`semantic_models:` and `metrics:`) as a MetricFlow semantic manifest.

No dbt at run time: `model: ref('x')` becomes a node relation in the warehouse schema, dbt's shorthands
(`numerator: mrr`, `meta:`) are expanded, and MetricFlow's own transform rules and validations run. Each metric
keeps where it is defined (path and lines, as ingest cites it), so a value answer cites its definition.
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.errors import SemanticLayerError
from ingest.yaml_tree import describe_yaml_error, get, items, name_of, scalar, span

logger = logging.getLogger(__name__)
_REF = re.compile(r"""^\s*ref\(\s*['"](?P<name>[\w.]+)['"]\s*\)\s*$""")
_SUFFIXES = (".yml", ".yaml")


@dataclass(frozen=True)
class Definition:
    """A metric as the corpus defines it, and where (1-based inclusive lines; path relative to its corpus folder)."""

    name: str
    label: str
    aliases: tuple[str, ...]
    type: str
    path: str
    start_line: int
    end_line: int
    description: str = ""

    @property
    def citation(self) -> str:
        """`metrics/mrr.yaml:87-108 (metrics.arr)`, the way `finbot ask` cites a source."""
        return f"{self.path}:{self.start_line}-{self.end_line} (metrics.{self.name})"


@dataclass(frozen=True)
class TimeSpine:
    """The warehouse table with one row per day that MetricFlow joins cumulative metrics to."""

    table: str = "metricflow_time_spine"
    column: str = "date_day"


@dataclass
class SemanticProject:
    """The validated manifest plus each metric's definition and the tables the semantic models read."""

    manifest: Any  # metricflow_semantic_interfaces PydanticSemanticManifest
    definitions: dict[str, Definition]
    tables: dict[str, str] = field(default_factory=dict)  # semantic model name -> warehouse table
    warnings: list[str] = field(default_factory=list)


@dataclass
class _Source:
    """One YAML item (a semantic model or metric) with its file and node, for messages that point at it."""

    path: str
    node: yaml.Node
    data: dict[str, Any]


def find_semantic_files(folders: Sequence[Path]) -> list[tuple[Path, Path]]:
    """(corpus folder, file) for every YAML file with a top-level `semantic_models:` or `metrics:` list."""
    found = []
    for folder in folders:
        for path in sorted(p for p in folder.rglob("*") if p.suffix in _SUFFIXES and p.is_file()):
            text = path.read_text(encoding="utf-8", errors="replace")
            if re.search(r"^(semantic_models|metrics):", text, re.MULTILINE):
                found.append((folder, path))
    return found


def load_project(
    folders: Sequence[Path], schema: str = "main", time_spine: TimeSpine | None = None, cache: Path | None = None
) -> SemanticProject:
    """Parse, transform and validate the semantic layer found in `folders`; SemanticLayerError names file and field.

    With `cache` (a folder), the built project is kept there keyed by the sha256 of the semantic YAML files (and
    the schema, time spine and MetricFlow version): an edited metric changes the key, so it is rebuilt, and values
    and definitions never drift apart.
    """
    files = find_semantic_files(folders)
    spine = time_spine or TimeSpine()
    key = _fingerprint(files, schema, spine) if cache is not None else ""
    if cache is not None and (cached := _read_cache(cache, key)) is not None:
        return cached
    project = _load(files, folders, schema, spine)
    if cache is not None:
        _write_cache(cache, key, project)
    return project


def _load(files: list[tuple[Path, Path]], folders: Sequence[Path], schema: str, spine: TimeSpine) -> SemanticProject:
    semantic_models: list[_Source] = []
    metrics: list[_Source] = []
    for folder, path in files:
        rel = path.relative_to(folder).as_posix()
        for key, source in _read_items(path, rel):
            (semantic_models if key == "semantic_models" else metrics).append(source)
    if not metrics:
        raise SemanticLayerError(f"no `metrics:` found in {', '.join(map(str, folders))}; "
                                 "point corpus.paths at the folders holding the dbt metric YAML")
    return _build(semantic_models, metrics, schema, spine)


_CACHE_FORMAT = 1


def _fingerprint(files: list[tuple[Path, Path]], schema: str, spine: TimeSpine) -> str:
    from importlib.metadata import version

    digest = hashlib.sha256(f"{_CACHE_FORMAT}|{version('metricflow')}|{schema}|{spine.table}|{spine.column}".encode())
    for folder, path in files:
        digest.update(f"\0{path.relative_to(folder).as_posix()}\0".encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _cache_file(cache: Path, key: str) -> Path:
    return cache / f"semantic-manifest-{key[:20]}.json"


def _read_cache(cache: Path, key: str) -> SemanticProject | None:
    """The project cached under `key`, or None (absent, another key, or unreadable: then it is rebuilt)."""
    from metricflow_semantic_interfaces.implementations.semantic_manifest import PydanticSemanticManifest

    path = _cache_file(cache, key)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("key") != key:
            return None
        manifest = PydanticSemanticManifest.parse_obj(data["manifest"])
        definitions = {d["name"]: Definition(**{**d, "aliases": tuple(d["aliases"])}) for d in data["definitions"]}
        return SemanticProject(manifest, definitions, dict(data["tables"]), list(data["warnings"]))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as exc:  # pydantic's ValidationError is a ValueError
        logger.warning("%s: unreadable semantic manifest cache (%s); rebuilding it", path, exc)
        return None


def _write_cache(cache: Path, key: str, project: SemanticProject) -> None:
    """Write the project under `key` (atomically) and drop the manifests of earlier versions of the YAML."""
    path = _cache_file(cache, key)
    body = {
        "key": key, "manifest": json.loads(project.manifest.json()),
        "definitions": [asdict(d) for d in project.definitions.values()],
        "tables": project.tables, "warnings": project.warnings,
    }
    try:
        cache.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + f".{os.getpid()}.partial")
        partial.write_text(json.dumps(body), encoding="utf-8")
        partial.replace(path)
        for old in cache.glob("semantic-manifest-*.json"):
            if old != path:
                old.unlink(missing_ok=True)
    except OSError as exc:  # a read-only index folder: values still work, built on every load
        logger.warning("%s: cannot cache the semantic manifest (%s)", cache, exc)


def _read_items(path: Path, rel: str) -> Iterable[tuple[str, _Source]]:
    text = path.read_text(encoding="utf-8")
    try:
        root = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise SemanticLayerError(f"{rel}: {describe_yaml_error(exc)}; fix the YAML syntax") from None
    for key in ("semantic_models", "metrics"):
        node = get(root, key)
        values = (data or {}).get(key) or []
        if node is None:
            continue
        if not isinstance(node, yaml.SequenceNode):
            raise SemanticLayerError(f"{rel}:{node.start_mark.line + 1}: {key}: must be a list of named items")
        for item_node, value in zip(items(node), values, strict=True):
            if not isinstance(value, dict) or not name_of(item_node):
                raise SemanticLayerError(f"{rel}:{item_node.start_mark.line + 1}: {key}: each item needs a `name:`")
            yield key, _Source(rel, item_node, value)


def _build(semantic_models: list[_Source], metrics: list[_Source], schema: str, spine: TimeSpine) -> SemanticProject:
    # MetricFlow's parsing classes are imported here, so `finbot --help` never pays for them.
    from metricflow_semantic_interfaces.implementations.metric import PydanticMetric
    from metricflow_semantic_interfaces.implementations.project_configuration import PydanticProjectConfiguration
    from metricflow_semantic_interfaces.implementations.semantic_manifest import PydanticSemanticManifest
    from metricflow_semantic_interfaces.implementations.semantic_model import PydanticSemanticModel
    from metricflow_semantic_interfaces.transformations.semantic_manifest_transformer import (
        PydanticSemanticManifestTransformer,
    )
    from pydantic.v1 import ValidationError

    parsed_models = []
    tables: dict[str, str] = {}
    for source in semantic_models:
        data = _semantic_model(source, schema)
        tables[data["name"]] = data["node_relation"]["alias"]
        parsed_models.append(_parse(PydanticSemanticModel, data, source, "semantic_models", ValidationError))
    parsed_metrics = [_parse(PydanticMetric, _metric(s), s, "metrics", ValidationError) for s in metrics]
    _check_unique(semantic_models, "semantic_models")
    _check_unique(metrics, "metrics")
    configuration = PydanticProjectConfiguration.parse_obj({"time_spines": [{
        "node_relation": {"alias": spine.table, "schema_name": schema},
        "primary_column": {"name": spine.column, "time_granularity": "day"},
    }]})
    manifest = PydanticSemanticManifest(
        semantic_models=parsed_models, metrics=parsed_metrics, project_configuration=configuration
    )
    try:
        manifest = PydanticSemanticManifestTransformer.transform(manifest)
    except Exception as exc:  # MetricFlow's transform rules raise bare exceptions; name the cause
        raise SemanticLayerError(f"the semantic layer could not be transformed: {exc}") from None
    warnings = _validate(manifest, semantic_models + metrics)
    return SemanticProject(manifest, {d.name: d for d in map(_definition, metrics)}, tables, warnings)


def _semantic_model(source: _Source, schema: str) -> dict[str, Any]:
    data = copy.deepcopy(source.data)
    name = data["name"]
    model = data.pop("model", None)
    match = _REF.match(model) if isinstance(model, str) else None
    if not match:
        line = _line_of(source.node, ("model",))
        raise SemanticLayerError(
            f"{source.path}:{line}: semantic_models.{name}.model: expected ref('table_name'), got {model!r}"
        )
    data["node_relation"] = {"alias": match["name"].split(".")[-1], "schema_name": schema}
    for key in ("meta", "config"):
        data.pop(key, None)
    return data


def _metric(source: _Source) -> dict[str, Any]:
    """dbt's metric shorthands in MetricFlow's shape: `meta:` into config, string inputs into {name: ...}."""
    data = copy.deepcopy(source.data)
    meta = data.pop("meta", None)
    if isinstance(meta, dict):
        data["config"] = {"meta": meta}
    params = data.get("type_params")
    if isinstance(params, dict):
        for key in ("numerator", "denominator"):
            if isinstance(params.get(key), str):
                params[key] = {"name": params[key]}
        if isinstance(params.get("metrics"), list):
            params["metrics"] = [{"name": m} if isinstance(m, str) else m for m in params["metrics"]]
    return data


def _parse(cls: Any, data: dict[str, Any], source: _Source, key: str, validation_error: type[Exception]) -> Any:
    try:
        return cls.parse_obj(data)
    except validation_error as exc:
        first = exc.errors()[0]  # type: ignore[attr-defined]
        loc = tuple(str(part) for part in first["loc"] if part != "__root__")
        where = ".".join((key, data["name"], *loc))
        raise SemanticLayerError(
            f"{source.path}:{_line_of(source.node, loc)}: {where}: {first['msg']}; see the dbt Semantic Layer spec"
        ) from None


def _check_unique(sources: list[_Source], key: str) -> None:
    seen: dict[str, _Source] = {}
    for source in sources:
        name = source.data["name"]
        if name in seen:
            first = seen[name]
            raise SemanticLayerError(
                f"{source.path}:{source.node.start_mark.line + 1}: {key}.{name}: defined twice (first at "
                f"{first.path}:{first.node.start_mark.line + 1}); rename or remove one"
            )
        seen[name] = source


def _validate(manifest: Any, sources: list[_Source]) -> list[str]:
    """MetricFlow's semantic checks; errors raise (pointing at the item they name), warnings are returned."""
    from metricflow_semantic_interfaces.validations.semantic_manifest_validator import SemanticManifestValidator

    results = SemanticManifestValidator[Any]().validate_semantic_manifest(manifest)
    by_name = {s.data["name"]: s for s in sources}
    errors = []
    for issue in results.errors:
        names = re.findall(r"`(\w+)`", issue.as_readable_str())
        source = next((by_name[n] for n in names if n in by_name), None)
        where = f"{source.path}:{source.node.start_mark.line + 1}: " if source else ""
        errors.append(f"{where}{issue.as_readable_str().strip()}")
    if errors:
        raise SemanticLayerError("the semantic layer is not valid:\n" + "\n".join(f"  {e}" for e in errors))
    return [w.as_readable_str().strip() for w in results.warnings]


def _definition(source: _Source) -> Definition:
    data = source.data
    meta = data.get("meta") if isinstance(data.get("meta"), dict) else {}
    aliases = meta.get("aliases") if isinstance(meta, dict) else None
    first, last = span(source.node)
    return Definition(
        name=data["name"],
        label=str(data.get("label") or ""),
        aliases=tuple(str(a) for a in aliases) if isinstance(aliases, list) else (),
        type=str(data.get("type") or ""),
        path=source.path,
        start_line=first + 1,
        end_line=last + 1,
        description=" ".join(str(data.get("description") or "").split()),
    )


def _line_of(node: yaml.Node, loc: Sequence[str]) -> int:
    """1-based line of the deepest node `loc` reaches (the item's first line when it reaches nothing)."""
    line = node.start_mark.line + 1
    current: yaml.Node | None = node
    for part in loc:
        if isinstance(current, yaml.MappingNode):
            key = next((k for k, _ in current.value if scalar(k) == part), None)
            current = get(current, part)
            if key is not None:
                line = key.start_mark.line + 1
        elif isinstance(current, yaml.SequenceNode) and part.isdigit() and int(part) < len(current.value):
            current = current.value[int(part)]
            line = current.start_mark.line + 1
        else:
            break
    return line
