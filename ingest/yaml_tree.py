"""Composed YAML (and JSON) node trees: lookups, line spans, and the generic passage walker."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import yaml

from ingest.chunking import Passage, passages_for


def describe_yaml_error(exc: yaml.YAMLError, offset: int = 0) -> str:
    """"line N: problem" for a YAML error (offset shifts N, e.g. past a front-matter fence)."""
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    return f"line {mark.line + 1 + offset}: {problem}" if mark else problem


def scalar(node: yaml.Node | None) -> str | None:
    return str(node.value) if isinstance(node, yaml.ScalarNode) else None


def get(node: yaml.Node | None, key: str) -> yaml.Node | None:
    """The value under `key` of a mapping node (None for a missing key or a non-mapping)."""
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if scalar(k) == key:
                child: yaml.Node = v
                return child
    return None


def items(node: yaml.Node | None) -> list[yaml.Node]:
    """The entries of a sequence node ([] for anything else)."""
    return list(node.value) if isinstance(node, yaml.SequenceNode) else []


def last_line(node: yaml.Node) -> int:
    """0-based last line a node's text occupies."""
    # A block collection's end_mark sits at the next token, often on a later line: ask its last child.
    if isinstance(node, yaml.CollectionNode) and node.value and not node.flow_style:
        last = node.value[-1]
        return last_line(last[1] if isinstance(last, tuple) else last)
    mark = node.end_mark
    return max(node.start_mark.line, mark.line if mark.column > 0 else mark.line - 1)


def span(node: yaml.Node) -> tuple[int, int]:
    """0-based inclusive line range of a node."""
    return node.start_mark.line, last_line(node)


def name_of(node: yaml.Node) -> str | None:
    """The `name:` of a list item: dbt models, columns, metrics, measures..."""
    return scalar(get(node, "name"))


def yaml_title(root: yaml.Node) -> str | None:
    return scalar(get(root, "title")) or scalar(get(root, "label"))


class YamlPassages:
    """Walks a composed tree: one passage per named list item, other nodes whole while small.

    Passages are runs of the file's own lines, so their text is exactly what the citation points at.
    `item_key` names a list item in the key path (default: its `name:`, else its index);
    `split_named_lists` gives every item of a list with names its own passage (dbt-style YAML).
    """

    def __init__(
        self,
        lines: list[str],
        max_chars: int,
        item_key: Callable[[yaml.Node], str | None] = name_of,
        split_named_lists: bool = True,
    ) -> None:
        self.lines = lines
        self.max_chars = max_chars
        self.item_key = item_key
        self.split_named_lists = split_named_lists

    def walk(
        self, node: yaml.Node, keys: list[str], start: int | None = None, title: str | None = None
    ) -> Iterator[Passage]:
        first, last = span(node)
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
            _, last = span(child)
            if self.is_named_list(child) or self.size(first, last) > self.max_chars:
                yield from flush()
                yield from self.walk(child, [*keys, key], first, title)
                continue
            if run and self.size(run[0][1], last) > self.max_chars:
                yield from flush()
            run.append((key, first, last))
        yield from flush()

    def size(self, first: int, last: int) -> int:
        return sum(len(line) + 1 for line in self.lines[first : last + 1])

    def is_named_list(self, node: yaml.Node) -> bool:
        return self.split_named_lists and any(name_of(item) for item in items(node))

    @staticmethod
    def item_title(node: yaml.Node) -> str | None:
        return scalar(get(node, "label")) or name_of(node)

    def children(self, node: yaml.Node) -> list[tuple[str, yaml.Node, int]]:
        """(key, child, first line of the entry) for mappings and sequences."""
        if isinstance(node, yaml.MappingNode):
            return [(scalar(k) or str(i), v, k.start_mark.line) for i, (k, v) in enumerate(node.value)]
        if isinstance(node, yaml.SequenceNode):
            return [(self.item_key(v) or str(i), v, v.start_mark.line) for i, v in enumerate(node.value)]
        return []

    def emit(self, first: int, last: int, keys: list[str], title: str | None) -> Iterator[Passage]:
        yield from passages_for(self.lines, first, last, ".".join(keys) or None, title, self.max_chars)
