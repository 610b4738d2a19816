"""Wiki-export markup taken out of Markdown lines, one line in, one line out, so line numbers stay true.

Pages exported from a wiki or a static-site generator carry what their renderer would have consumed:
Hugo shortcodes (`{{< hint warning >}}`), Jinja tags and comments (`{% include ... %}`), inline and block HTML,
HTML comments, attribute lines (`{.h2}`, `{: .note}`, `## Late claims {#late-claims}`), admonition
fences (`:::note`, `!!! warning "Title"`), entities (`&nbsp;`) and tables padded to line up. What a
reader would see is kept (link texts, a tab's or summary's label, cell texts); the rest becomes blank.
A line never merges with another, so a cleaned passage still cites the original file's lines.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable

_FENCE = re.compile(r"^\s*(```|~~~)")
_COMMENT = re.compile(r"<!--.*?-->")
# {{< name "label" args >}} / {{% ... %}} / {{</* */>}}; ref/relref keep their target, labelled ones their label
_SHORTCODE = re.compile(r"\{\{[<%]-?\s*(/?)\s*([\w-]+)?((?:[^>%}]|[>%](?!\}\}))*?)\s*-?[>%]\}\}")
_LABELLED = {"tab", "expand", "details", "collapse", "accordion", "hint", "notice", "callout", "alert", "panel"}
_QUOTED = re.compile(r"[\"“]([^\"”]+)[\"”]")
_JINJA = re.compile(r"\{%-?.*?-?%\}|\{#.*?#\}")  # tags and comments; {{ expressions }} stay as written
_ATTRIBUTES_LINE = re.compile(r"^\s*\{:?\s*[.#][^{}]*\}\s*$|^\s*\{:[^{}]*\}\s*$")
_TRAILING_ATTRIBUTES = re.compile(r"\s*\{:?\s*[.#][\w\s.#=\"'-]*\}\s*$")
_ADMONITION = re.compile(r"^(\s*)(?::::+|!!!|\?\?\?\+?)\s*(\w+)?\s*(?:[\"“]([^\"”]*)[\"”])?\s*$")
_HTML_HEADING = re.compile(r"^\s*<h([1-6])\b[^>]*>(.*?)</h\1>\s*$", re.IGNORECASE)
_CELL_END = re.compile(r"</t[dh]\s*>", re.IGNORECASE)
_BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)
_TAG_NAMES = (
    "a|abbr|article|aside|b|big|blockquote|br|button|caption|center|cite|code|col|colgroup|dd|del|details|div|dl|"
    "dt|em|figcaption|figure|font|footer|h[1-6]|header|hr|i|iframe|img|input|ins|kbd|label|li|main|mark|nav|ol|"
    "p|pre|q|s|section|small|span|strike|strong|sub|summary|sup|svg|table|tbody|td|tfoot|th|thead|tr|tt|u|ul"
)
_TAG = re.compile(rf"</?(?:{_TAG_NAMES})\b(?:\s+[^<>]*?)?/?>", re.IGNORECASE)
_LINK = re.compile(r"!?\[([^\]]*)\]\((?:[^()\s]|\([^()]*\))*(?:\s+\"[^\"]*\")?\)")
_SPACES = re.compile(r"[ \t\u00a0]{2,}")


def clean_lines(lines: Iterable[str]) -> list[str]:
    """The lines with markup taken out (same count, same order); fenced code blocks are left as written."""
    cleaned: list[str] = []
    in_fence = in_comment = False
    for raw in lines:
        line = raw
        if _FENCE.match(line):
            in_fence = not in_fence
            cleaned.append(line)
            continue
        if in_fence:
            cleaned.append(line)
            continue
        if in_comment:
            end = line.find("-->")
            if end < 0:
                cleaned.append("")
                continue
            line, in_comment = line[end + 3 :], False
        line = _COMMENT.sub("", line)
        if "<!--" in line:
            line, in_comment = line[: line.index("<!--")], True
        cleaned.append(clean_line(line) if line == raw else clean_line(line).rstrip())
    return cleaned


def clean_line(line: str) -> str:
    """One line without its markup (see the module docstring); "" when nothing readable is left."""
    original = line
    if _ATTRIBUTES_LINE.match(line):
        return ""
    admonition = _ADMONITION.match(line)
    if admonition:
        indent, kind, title = admonition.groups()
        label = title or (kind.capitalize() if kind else "")
        return f"{indent}{label}:" if label else ""
    heading = _HTML_HEADING.match(line)
    if heading:
        line = "#" * int(heading.group(1)) + " " + heading.group(2)
    line = _SHORTCODE.sub(_shortcode_text, line)
    line = _JINJA.sub("", line)
    line = _BREAK.sub(" ", line)
    line = _CELL_END.sub(" | ", line)
    line = _TAG.sub("", line)
    line = _LINK.sub(lambda m: m.group(1), line)
    line = html.unescape(line).replace("\u00a0", " ")
    line = _TRAILING_ATTRIBUTES.sub("", line)
    stripped = line.strip()
    if stripped.startswith("|") or stripped.endswith("|"):
        indent = line[: len(line) - len(line.lstrip())]
        line = indent + _SPACES.sub(" ", stripped)
    elif not stripped:
        return ""
    return original if line.strip() == original.strip() else line.rstrip()


def _shortcode_text(match: re.Match[str]) -> str:
    closing, name, args = match.group(1), (match.group(2) or "").lower(), match.group(3) or ""
    if closing:
        return ""
    quoted = _QUOTED.search(args)
    if name in ("ref", "relref"):
        return quoted.group(1) if quoted else args.strip()
    if name in _LABELLED and quoted:
        return quoted.group(1) + ":"
    return ""
