"""Checking a written answer against its sources, sentence by sentence.

A sentence is kept only when it cites at least one source that exists, every figure and name in it (number,
amount, percentage, date, account number, snake_case column/metric/model name, quoted phrase) appears in a
cited source, and enough of its content words do too. Everything else is removed and counted.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation

# [1], [1, 2], [1][2], [1-2] after NFKC (which turns full-width ［１］ into [1]); 【1】 is mapped to [1] first.
_CITE = re.compile(r"\[\s*(\d{1,3}(?:\s*[,;\-–]\s*\d{1,3})*)\s*\]")
_CITES = rf"(?:\s*{_CITE.pattern})*"
_END = re.compile(rf"[.!?]+[\"')\]]?{_CITES}(?=\s|$)|\n+")
_ABBREVIATION = re.compile(r"(?i)\b(?:e\.g|i\.e|etc|vs|no|approx|incl|excl|inc|ltd|dept|fig|mr|ms|dr|st)\.$")
_HEADING = re.compile(r"^[#*\s]*[A-Za-z][A-Za-z ,'&/()-]{0,60}:\**$")  # "Late claims:", "**Part 2:**"
_LIST_MARK = re.compile(r"^\s*(?:[-*+•]|\d{1,2}[.)])\s+")
# 5,000  5000  5k  $5,000.50  12%  2025-03-31 (three numbers); a leading currency sign or code is dropped.
_NUMBER = re.compile(r"(?<![\w.])(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?\s?(k|m|bn|thousand|million|billion)?(?![\w])", re.I)
_SCALE = {"k": 1000, "thousand": 1000, "m": 1_000_000, "million": 1_000_000, "bn": 10**9, "billion": 10**9}
_IDENTIFIER = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b", re.I)
_QUOTED = re.compile(r"[\"“]([^\"”]{3,120})[\"”]")
_WORD = re.compile(r"[a-z][a-z'-]+", re.I)
STEM = 5  # words match on their first five letters: "reimbursed" ~ "reimbursement", "approval" ~ "approved"
_STOPWORD_TEXT = (
    "the a an and or but if then than that this these those there their they them it its is are was were "
    "be been being to of in on at by for from with as into onto over under about after before within "
    "without between per each any all some no not nor only also so such can could may might must shall "
    "should will would do does did done has have had having which who whom whose what when where why how "
    "you your we our us he she his her i me my more most other same both either neither very just up "
    "down out off again once here source sources document documents according says said states stated"
)
STOPWORDS = frozenset(_STOPWORD_TEXT.split())


@dataclass(frozen=True)
class Sentence:
    """One sentence of the answer as checked: the sources it cites and why it failed ("" = kept)."""

    text: str
    cites: tuple[int, ...]
    problem: str = ""
    starts_line: bool = False  # it began a new line (a list item, a part's paragraph) in the reply
    heading: bool = False  # a label line of a part ("Late claims:"): kept when a kept sentence follows it

    @property
    def kept(self) -> bool:
        return not self.problem


@dataclass(frozen=True)
class Checked:
    """The answer with its unsupported sentences removed."""

    sentences: list[Sentence] = field(default_factory=list)

    @property
    def kept(self) -> list[Sentence]:
        """The supported sentences, with each heading that has one of them under it."""
        kept: list[Sentence] = []
        heading: Sentence | None = None
        for sentence in self.sentences:
            if sentence.heading:
                heading = sentence
            elif sentence.kept:
                if heading is not None:
                    kept.append(heading)
                    heading = None
                kept.append(sentence)
        return kept

    @property
    def claims(self) -> list[Sentence]:
        """The sentences that state something (headings are structure)."""
        return [s for s in self.sentences if not s.heading]

    @property
    def removed(self) -> list[Sentence]:
        return [s for s in self.claims if not s.kept]

    @property
    def text(self) -> str:
        """The kept sentences, with the line breaks the reply had between them."""
        out = ""
        for sentence in self.kept:
            out += ("\n" if sentence.starts_line and out else " " if out else "") + sentence.text
        return out

    @property
    def cited(self) -> set[int]:
        return {n for s in self.kept for n in s.cites}


def normalise(text: str) -> str:
    """Full-width brackets and digits as ASCII, 【1】 as [1]."""
    return unicodedata.normalize("NFKC", text).replace("【", "[").replace("】", "]")


def citations(text: str) -> list[int]:
    """Every source number the text cites, in order, ranges expanded ([2-4] is 2, 3, 4)."""
    found: list[int] = []
    for match in _CITE.finditer(normalise(text)):
        for item in re.split(r"\s*[,;]\s*", match.group(1)):
            bounds = [int(x) for x in re.split(r"\s*[-–]\s*", item)]
            start, end = bounds[0], bounds[-1]
            found.extend(range(start, end + 1) if start <= end <= start + 20 else dict.fromkeys((start, end)))
    return found


def split_sentences(text: str) -> list[str]:
    """The answer's sentences, each with the citations that follow its full stop; a line of citations alone
    belongs to the sentence before it."""
    return [sentence for sentence, _ in _pieces(text)]


def _pieces(text: str) -> list[tuple[str, bool]]:
    """(sentence, whether it starts a new line) for each sentence of the text."""
    text = normalise(text)
    cuts: list[str] = []
    start = 0
    for match in _END.finditer(text):
        if _ABBREVIATION.search(text[start:match.start() + 1]) and match.group(0).strip().endswith("."):
            continue
        cuts.append(text[start:match.end()])
        start = match.end()
    cuts.append(text[start:])
    pieces: list[tuple[str, bool]] = []
    new_line = True
    for cut in cuts:
        piece = cut.strip()
        starts_line = new_line or "\n" in cut[: len(cut) - len(cut.lstrip())]
        new_line = "\n" in cut[len(cut.rstrip()):]
        if not piece:
            continue
        if pieces and not _CITE.sub("", piece).strip(" .;,"):
            pieces[-1] = (f"{pieces[-1][0]} {piece}", pieces[-1][1])
        else:
            pieces.append((piece, starts_line))
    return pieces


def check(text: str, sources: Mapping[int, str], min_overlap: float) -> Checked:
    """Each sentence of `text` checked against the sources it cites (`sources`: number -> passage text)."""
    facts = {n: _Facts.of(passage) for n, passage in sources.items()}
    return Checked([_check_sentence(s, facts, min_overlap, line) for s, line in _pieces(text)])


def _check_sentence(sentence: str, facts: Mapping[int, _Facts], min_overlap: float, line: bool) -> Sentence:
    return _judge(Sentence(sentence, (), "", line), facts, min_overlap)


def _judge(sentence: Sentence, facts: Mapping[int, _Facts], min_overlap: float) -> Sentence:
    text = sentence.text
    numbers = citations(text)
    if not numbers and sentence.starts_line and _HEADING.match(text):
        return replace(sentence, heading=True)
    cites = tuple(dict.fromkeys(n for n in numbers if n in facts))
    if not numbers:
        return replace(sentence, problem="cites no source")
    if not cites:
        return replace(sentence, problem=f"cites a source that does not exist ({', '.join(map(str, numbers))})")
    claim = _Facts.of(_LIST_MARK.sub("", _CITE.sub(" ", text)))
    cited = _Facts.union([facts[n] for n in cites])
    if missing := sorted(claim.numbers - cited.numbers):
        return replace(sentence, cites=cites, problem=f"figure {missing[0]} is not in its sources")
    if missing := sorted(claim.names - cited.names):
        return replace(sentence, cites=cites, problem=f"name {missing[0]} is not in its sources")
    for phrase in claim.quoted:
        if phrase not in cited.flat:
            return replace(sentence, cites=cites, problem=f"quote {phrase!r} is not in its sources")
    if claim.words:
        share = len(claim.words & cited.words) / len(claim.words)
        if share < min_overlap:
            return replace(sentence, cites=cites, problem=f"only {share:.0%} of its words are in its sources")
    return replace(sentence, cites=cites)


@dataclass(frozen=True)
class _Facts:
    numbers: frozenset[str]
    names: frozenset[str]
    quoted: tuple[str, ...]
    words: frozenset[str]
    flat: str

    @classmethod
    def of(cls, text: str) -> _Facts:
        text = normalise(text)
        flat = re.sub(r"\s+", " ", text).lower()
        return cls(
            frozenset(_numbers(text)),
            frozenset(m.lower() for m in _IDENTIFIER.findall(text)),
            tuple(re.sub(r"\s+", " ", m).lower().strip() for m in _QUOTED.findall(text)),
            frozenset(_stem(w) for w in _WORD.findall(text) if w.lower() not in STOPWORDS and len(w) > 2),
            flat,
        )

    @classmethod
    def union(cls, items: Sequence[_Facts]) -> _Facts:
        return cls(
            frozenset().union(*(f.numbers for f in items)),
            frozenset().union(*(f.names for f in items)),
            (),
            frozenset().union(*(f.words for f in items)),
            "\n".join(f.flat for f in items),
        )


def _numbers(text: str) -> set[str]:
    values: set[str] = set()
    for whole, fraction, scale in _NUMBER.findall(text):
        try:
            value = Decimal(whole.replace(",", "") + (fraction or ""))
        except InvalidOperation:
            continue
        if scale:
            value *= _SCALE[scale.lower()]
        values.add(_plain(value))
    return values


def _plain(value: Decimal) -> str:
    """5000, 5000.0 and 5,000.00 all read "5000"; 0.70 reads "0.7"."""
    text = format(value.normalize(), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _stem(word: str) -> str:
    return word.lower().strip("'-")[:STEM]
