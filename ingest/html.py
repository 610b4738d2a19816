"""HTML pages: the main text by heading path, without scripts, styles, navigation or page chrome."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from bs4 import BeautifulSoup
from bs4.element import NavigableString, Tag

from ingest.chunking import MAX_CHUNK_CHARS, Passage, pack_lines
from ingest.documents import LoadContext, ParsedDocument, read_text, title_from_name

DROPPED = (
    "script", "style", "noscript", "template", "nav", "aside", "form", "button", "input", "select", "textarea",
    "label", "svg", "iframe",
)
PAGE_CHROME = ("header", "footer")  # dropped unless inside <main>/<article>, where they hold the title or byline
# The same chrome marked the way exported wiki pages mark it (Confluence: <div id="sidebar" role="navigation">,
# <div id="footer" role="contentinfo">): ARIA landmark roles that are never the page's text, and breadcrumbs.
CHROME_ROLES = ("navigation", "banner", "contentinfo", "complementary", "search")
_BREADCRUMB = re.compile(r"breadcrumb", re.IGNORECASE)
HEADINGS = {f"h{level}": level for level in range(1, 7)}
# Elements whose whole text is one block; everything else is walked into.
BLOCKS = ("p", "li", "pre", "blockquote", "tr", "caption", "figcaption", "address", "dt", "dd", "summary")


@dataclass
class _Block:
    text: str
    section: str | None
    first: int  # 1-based lines of the HTML file
    last: int


def load_html(path: Path, context: LoadContext | None = None, *, max_chars: int = MAX_CHUNK_CHARS) -> ParsedDocument:
    """Blocks of text (paragraphs, list items, table rows, glossary terms) packed per heading section.

    Line ranges are the HTML file's lines (html.parser records where each tag starts).
    """
    soup = BeautifulSoup(read_text(path), "html.parser")
    for tag in soup.find_all(DROPPED):
        tag.decompose()
    chrome = [*soup.find_all(PAGE_CHROME), *soup.find_all(role=list(CHROME_ROLES))]
    for tag in chrome:
        if not tag.decomposed and tag.find_parent(["main", "article"]) is None:
            tag.decompose()
    for tag in [*soup.find_all(id=_BREADCRUMB), *soup.find_all(class_=_BREADCRUMB)]:
        if not tag.decomposed:
            tag.decompose()
    main = soup.find("main") or soup.find("article") or soup.find(True, attrs={"role": "main"}) or soup.body or soup
    h1 = main.find("h1") if isinstance(main, Tag) else None
    title_tag = soup.find("title")
    title = _text(h1) or _text(title_tag) or title_from_name(path)
    blocks = list(_Walker().blocks(main)) if isinstance(main, Tag) else []
    lines = read_text(path).splitlines()
    return ParsedDocument(title, [p.located(lines) for p in _pack(blocks, max_chars)], {})


class _Walker:
    def __init__(self) -> None:
        self.headings: list[tuple[int, str]] = []

    @property
    def section(self) -> str | None:
        return " > ".join(text for _, text in self.headings) or None

    def blocks(self, node: Tag) -> Iterator[_Block]:
        loose: list[str] = []  # text directly inside a container (a <div> without <p>s)
        for child in node.children:
            if isinstance(child, NavigableString):
                if type(child) is NavigableString and child.strip():
                    loose.append(str(child))
                continue
            if not isinstance(child, Tag):
                continue
            if child.name in HEADINGS:
                yield from self.flush(loose, node)
                self.open_heading(HEADINGS[child.name], _text(child))
            elif child.name == "dl":
                yield from self.flush(loose, node)
                yield from self.definitions(child)
            elif child.name in BLOCKS:
                yield from self.flush(loose, node)
                yield from self.block(child)
            elif child.name in ("a", "b", "strong", "em", "i", "code", "span", "abbr", "small", "sup", "sub"):
                loose.append(child.get_text())
            else:
                yield from self.flush(loose, node)
                yield from self.blocks(child)
        yield from self.flush(loose, node)

    def open_heading(self, level: int, text: str) -> None:
        while self.headings and self.headings[-1][0] >= level:
            self.headings.pop()
        if text:
            self.headings.append((level, text))

    def block(self, tag: Tag, text: str | None = None) -> Iterator[_Block]:
        cells = tag.find_all(["td", "th"]) if tag.name == "tr" else []
        if cells:
            text = " | ".join(_text(cell) for cell in cells)
        text = text if text is not None else _text(tag)
        if text:
            first, last = _lines(tag)
            yield _Block(text, self.section, first, last)
            if len(cells) > 1 and all(cell.name == "th" for cell in cells):
                # A header row is marked as Markdown marks one, so its table's rows are read under it.
                yield _Block(" | ".join("---" for _ in cells), self.section, first, last)

    def definitions(self, dl: Tag) -> Iterator[_Block]:
        """A glossary: each term with its definitions as one block, so they are never split apart."""
        term: Tag | None = None
        parts: list[str] = []
        last = 0
        for child in dl.find_all(["dt", "dd"]):
            if child.name == "dt" and parts:
                yield from self.definition(term, parts, last)
                term, parts = None, []
            if child.name == "dt":
                term = child
                parts = [_text(child)]
            else:
                parts.append(_text(child))
                term = term or child
            last = _lines(child)[1]
        if parts:
            yield from self.definition(term, parts, last)

    def definition(self, term: Tag | None, parts: list[str], last: int) -> Iterator[_Block]:
        text = ": ".join(p for p in parts[:2] if p) + "".join(f" {p}" for p in parts[2:] if p)
        if term is not None and text:
            yield _Block(text, self.section, _lines(term)[0], last)

    def flush(self, loose: list[str], container: Tag) -> Iterator[_Block]:
        text = _squash(" ".join(loose))
        if text:
            first, last = _lines(container)
            yield _Block(text, self.section, first, last)
        loose.clear()


def _pack(blocks: list[_Block], max_chars: int) -> Iterator[Passage]:
    """Consecutive blocks of one section packed up to max_chars."""
    run: list[_Block] = []

    def flush() -> Iterator[Passage]:
        if run:
            for text in pack_lines([b.text for b in run], max_chars):
                yield Passage(text, run[0].section, run[0].first, max(b.last for b in run))
            run.clear()

    for block in blocks:
        if run and (block.section != run[0].section or sum(len(b.text) + 1 for b in run) + len(block.text) > max_chars):
            yield from flush()
        run.append(block)
    yield from flush()


def _lines(tag: Tag) -> tuple[int, int]:
    """1-based first and last line of a tag in the file (the last counted from its serialized newlines)."""
    first = tag.sourceline or 1
    return first, first + str(tag).count("\n")


def _text(tag: object) -> str:
    return _squash(tag.get_text(" ")) if isinstance(tag, Tag) else ""


def _squash(text: str) -> str:
    """One line; the spaces get_text(" ") put inside brackets and before punctuation taken out again."""
    text = re.sub(r"\s+", " ", text).strip()
    return re.sub(r"([(\[]) | (?=[)\],.;:!?])", r"\1", text)
