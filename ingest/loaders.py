"""Read one corpus file into passages that know their section and line range."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ingest.chunking import MAX_CHUNK_CHARS, Passage, passages_for
from ingest.errors import DocumentError

_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")


@dataclass(frozen=True)
class ParsedDocument:
    title: str
    passages: list[Passage]
    front_matter: dict[str, Any]


def read_text(path: Path) -> str:
    """The file as UTF-8 text, or a DocumentError that says why not."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DocumentError(path, f"cannot read file ({exc.strerror})") from exc
    if b"\x00" in data[:8192]:
        raise DocumentError(path, "looks binary (contains NUL bytes); remove it from the corpus or convert it to text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise DocumentError(path, f"line {line}: not valid UTF-8; re-save the file as UTF-8") from exc


def title_from_name(path: Path) -> str:
    return path.stem.replace("_", " ").replace("-", " ").strip().capitalize()


def load_markdown(path: Path, max_chars: int = MAX_CHUNK_CHARS) -> ParsedDocument:
    """Split by headings; each passage's section is its heading path ("Policy > Refunds")."""
    lines = read_text(path).splitlines()
    front_matter, body_start = _front_matter(path, lines)
    title = str(front_matter.get("title") or "") or None
    headings: list[tuple[int, str]] = []  # the open heading path: (level, text)
    sections: list[tuple[int, str | None]] = [(body_start, None)]  # (first line, section)
    in_fence = False
    for i in range(body_start, len(lines)):
        if _FENCE.match(lines[i]):
            in_fence = not in_fence
        match = None if in_fence else _HEADING.match(lines[i])
        if not match:
            continue
        level, text = len(match.group(1)), match.group(2)
        if level == 1 and title is None:
            title = text
        while headings and headings[-1][0] >= level:
            headings.pop()
        headings.append((level, text))
        sections.append((i, " > ".join(h for _, h in headings)))
    passages: list[Passage] = []
    for n, (first, section) in enumerate(sections):
        last = sections[n + 1][0] - 1 if n + 1 < len(sections) else len(lines) - 1
        if _has_body(lines, first, last):
            passages.extend(passages_for(lines, first, last, section, max_chars=max_chars))
    return ParsedDocument(title or title_from_name(path), passages, front_matter)


def _has_body(lines: list[str], first: int, last: int) -> bool:
    """A section that holds only its heading (a parent of subsections) is not worth a passage."""
    return any(line.strip() and not _HEADING.match(line) for line in lines[first : last + 1])


def _front_matter(path: Path, lines: list[str]) -> tuple[dict[str, Any], int]:
    if not lines or lines[0].strip() != "---":
        return {}, 0
    for end in range(1, len(lines)):
        if lines[end].strip() in ("---", "..."):
            break
    else:
        raise DocumentError(path, "line 1: front matter opened with '---' is never closed; add a closing '---'")
    try:
        data = yaml.safe_load("\n".join(lines[1:end])) or {}
    except yaml.YAMLError as exc:
        raise DocumentError(path, f"invalid YAML front matter: {describe_yaml_error(exc, offset=1)}") from exc
    if not isinstance(data, dict):
        raise DocumentError(path, "line 2: front matter must be a mapping of keys (title: ..., owner: ...)")
    return data, end + 1


def load_yaml(path: Path, max_chars: int = MAX_CHUNK_CHARS) -> ParsedDocument:
    """One passage per named item (metrics, models, columns...); section is its key path."""
    text = read_text(path)
    try:
        root = yaml.compose(text)
    except yaml.YAMLError as exc:
        problem = describe_yaml_error(exc)
        raise DocumentError(path, f"invalid YAML: {problem}. Fix the syntax; the file was not indexed") from exc
    if root is None:
        return ParsedDocument(title_from_name(path), [], {})
    lines = text.splitlines()
    passages = list(_YamlPassages(lines, max_chars).walk(root, []))
    return ParsedDocument(_yaml_title(root) or title_from_name(path), passages, {})


def describe_yaml_error(exc: yaml.YAMLError, offset: int = 0) -> str:
    """"line N: problem" for a YAML error (offset shifts N, e.g. past a front-matter fence)."""
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    return f"line {mark.line + 1 + offset}: {problem}" if mark else problem


def _scalar(node: yaml.Node | None) -> str | None:
    return str(node.value) if isinstance(node, yaml.ScalarNode) else None


def _get(node: yaml.Node, key: str) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if _scalar(k) == key:
                child: yaml.Node = v
                return child
    return None


def _yaml_title(root: yaml.Node) -> str | None:
    return _scalar(_get(root, "title")) or _scalar(_get(root, "label"))


class _YamlPassages:
    """Walks a composed YAML tree: one passage per named list item, other nodes whole while small."""

    def __init__(self, lines: list[str], max_chars: int) -> None:
        self.lines = lines
        self.max_chars = max_chars

    def walk(
        self, node: yaml.Node, keys: list[str], start: int | None = None, title: str | None = None
    ) -> Iterator[Passage]:
        first, last = self.span(node)
        first = first if start is None else start
        children = self.children(node)
        if self.is_named_list(node):
            for key, child, child_start in children:
                yield from self.walk(child, [*keys, key], child_start, self.item_title(child))
        elif not children or self.size(first, last) <= self.max_chars:
            yield from self.emit(first, last, keys, title)
        else:
            yield from self.pack(children, keys, first, title)

    def pack(
        self, children: list[tuple[str, yaml.Node, int]], keys: list[str], start: int, title: str | None
    ) -> Iterator[Passage]:
        """Group consecutive small entries into passages; walk into named lists and large entries."""
        run: list[tuple[str, int, int]] = []  # (key, first line, last line)

        def flush() -> Iterator[Passage]:
            if run:
                section = [*keys, run[0][0]] if len(run) == 1 else keys
                yield from self.emit(run[0][1], run[-1][2], section, title)
                run.clear()

        for i, (key, child, child_start) in enumerate(children):
            first = start if i == 0 else child_start
            _, last = self.span(child)
            if self.is_named_list(child) or self.size(first, last) > self.max_chars:
                yield from flush()
                yield from self.walk(child, [*keys, key], first, title)
                continue
            if run and self.size(run[0][1], last) > self.max_chars:
                yield from flush()
            run.append((key, first, last))
        yield from flush()

    def span(self, node: yaml.Node) -> tuple[int, int]:
        """0-based inclusive line range of a node."""
        return node.start_mark.line, max(node.start_mark.line, self.last_line(node))

    def last_line(self, node: yaml.Node) -> int:
        # A block collection's end_mark sits at the next token, often on a later line: ask its last child.
        if isinstance(node, yaml.CollectionNode) and node.value and not node.flow_style:
            last = node.value[-1]
            return self.last_line(last[1] if isinstance(last, tuple) else last)
        mark = node.end_mark
        return mark.line if mark.column > 0 else mark.line - 1

    def size(self, first: int, last: int) -> int:
        return sum(len(line) + 1 for line in self.lines[first : last + 1])

    @staticmethod
    def is_named_list(node: yaml.Node) -> bool:
        """A list of mappings with `name:` keys: dbt models, columns, metrics, measures..."""
        return isinstance(node, yaml.SequenceNode) and any(_scalar(_get(item, "name")) for item in node.value)

    @staticmethod
    def item_title(node: yaml.Node) -> str | None:
        return _scalar(_get(node, "label")) or _scalar(_get(node, "name"))

    @staticmethod
    def children(node: yaml.Node) -> list[tuple[str, yaml.Node, int]]:
        """(key, child, first line of the entry) for mappings and sequences."""
        if isinstance(node, yaml.MappingNode):
            return [(_scalar(k) or str(i), v, k.start_mark.line) for i, (k, v) in enumerate(node.value)]
        if isinstance(node, yaml.SequenceNode):
            return [(_scalar(_get(v, "name")) or str(i), v, v.start_mark.line) for i, v in enumerate(node.value)]
        return []

    def emit(self, first: int, last: int, keys: list[str], title: str | None) -> Iterator[Passage]:
        yield from passages_for(self.lines, first, last, ".".join(keys) or None, title, self.max_chars)


LOADERS: dict[str, Callable[[Path], ParsedDocument]] = {
    ".md": load_markdown,
    ".markdown": load_markdown,
    ".yaml": load_yaml,
    ".yml": load_yaml,
}


def load_document(path: Path) -> ParsedDocument:
    """Parse a file with the loader for its suffix (the caller checks `LOADERS` first)."""
    return LOADERS[path.suffix.lower()](path)
