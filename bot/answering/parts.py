"""Every ask of a question: "who owns X, and what rate does the example assume?" is two questions.

Without an LLM, a question is split where a new ask begins: after a question mark or a semicolon, and at
"and" / "also" / "plus" / "what about" / "is it different" or a dash when what follows starts like a question
of its own (a question word or an auxiliary verb). A piece that ends in a question mark asks; a piece that
asks nothing ("deal got countersigned march 28") is the scene, searched with every ask after it.
"X vs Y" and "the difference between X and Y" ask about two things at once, and so do two names joined
by "and" when each names a different metric, report or column (the glossary says which). A short follow-on
("and for annual plans?") borrows the words of the ask before it for retrieval, and keeps its own words as
its label.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from bot.retrieval.words import spelled_out

_QUESTION_START = (
    r"(?:who|whom|whose|whos|who's|what|whats|what's|which|when|whens|when's|where|wheres|where's|why|how|hows|"
    r"how's|is|are|was|were|do|does|did|can|could|"
    r"should|must|will|would|may|has|have|any|also|pls|please)\b"
)
# Where a new ask may begin inside a sentence: a conjunction followed by a question start.
_JOINER = re.compile(
    rf"(?i)(?:,\s*|\s+)(?:and|also|plus|but|or)\s+(?:then\s+|also\s+)?(?={_QUESTION_START})"
    rf"|,\s*(?=(?:what about|how about|is it different|is that different|does that change|same for)\b)"
    rf"|,\s+(?={_QUESTION_START})"
    rf"|\s+[-–—]+\s+(?={_QUESTION_START})"
)
_SENTENCES = re.compile(r"\?+\s*|;\s+|\n+|(?<=[a-z0-9)])\.\s+(?=[a-zA-Z])")
_NAME = r"[A-Za-z0-9][\w.%/&'-]*(?:\s+[A-Za-z0-9][\w.%/&'-]*){0,2}"
_VERSUS = re.compile(rf"(?i)^(?P<before>.*?)\b(?P<a>{_NAME})\s+(?:vs\.?|versus)\s+(?P<b>{_NAME})(?P<after>.*)$")
_BETWEEN = re.compile(r"(?i)^(?P<before>.*?\bdiff(?:erence)?s?\s+between)\s+(?P<a>.+?)\s+and\s+(?P<b>.+?)"
                      r"(?P<after>[?.!,;].*)?$")
_FOLLOW_ON = re.compile(
    r"(?i)^(?:and|also|plus|but|or|what about|how about|is it different|is that different|does that change|"
    r"same for|and for|and what about|what if)\b"
)
_WORD = re.compile(r"[A-Za-z0-9][\w'-]*")
_COMPARING = re.compile(r"(?i)\b(?:diff|differ\w*|difference|compare\w*|distinguish)\b")
# An ask that refers back ("does it include new logos", "who can approve going past it") searches with the
# words of the ask before it too.
_REFERS_BACK = re.compile(r"(?i)\b(?:it|its|it's|that|this|they|them|those|these|there|one|ones)\b")
# A follow-on that asks the same of something else: the piece before it was an ask too.
_ELSEWHERE = re.compile(r"(?i)^(?:and\s+)?(?:what about|how about|is it different|is that different|same for)\b")
_FILLER = re.compile(r"(?i)^(?:(?:hey|hi|ok|okay|so|quick q|quick question|q|question|also|and|but|plus|then|pls|"
                     r"please)\b[\s,:-]*)+")
_CHATTER = re.compile(r"(?i)^(?:thanks?|thank you|thx|ty|cheers|sorry|fyi|urgent|asap|help|lol)\b[\s!.]*$")
_STARTS_ASKING = re.compile(rf"(?i)^{_QUESTION_START}")
# "someone who left", "a vendor which invoices in EUR": a relative clause, not a question word.
_RELATIVE = re.compile(r"(?i)\b(?:someone|somebody|anyone|anybody|everyone|everybody|people|person|those|the one|"
                       r"customers?|employees?|staff|vendors?|suppliers?|colleagues?)\s+(?:who|whom|whose|which)\b")
_WH = {"who", "whom", "whose", "whos", "who's", "what", "whats", "what's", "which", "when", "whens", "when's", "where",
       "wheres", "where's", "why", "how", "hows", "how's"}
MIN_WORDS = 2  # a piece with fewer words is not an ask of its own ("thanks", "pls")
MAX_PARTS = 4


@dataclass(frozen=True)
class Part:
    """One ask: its own words (shown as its label) and the words retrieval searches with."""

    text: str
    query: str

    @property
    def searched(self) -> tuple[str, str]:
        """(query, text) as searched and scored: chat shorthands spelled out ("11 hrs" -> "11 hours")."""
        return spelled_out(self.query), spelled_out(self.text)


def split_question(question: str, names: Callable[[str], list[str]] | None = None) -> list[Part]:
    """The question's asks, in order; a single ask comes back as one part (the question itself).

    Pieces that ask nothing ("big prospect wants net 60 terms", "need it for the board deck") are the
    scene of the ask after them, not asks of their own. `names` (optional) lists the entities a text names
    (metric, report, column names), to split "what are NRR and GRR" in two; without it only wording counts.
    """
    whole = question.strip()
    pieces: list[tuple[str, bool]] = []  # (piece, whether it ends a sentence with a question mark)
    start = 0
    for end in [*_SENTENCES.finditer(whole), None]:
        sentence = whole[start : end.start() if end else len(whole)]
        marked = end is not None and "?" in end.group()
        split = [p.strip(" ,.-–—:") for p in _JOINER.split(sentence) if p and p.strip()]
        pieces.extend((p, marked and n == len(split) - 1) for n, p in enumerate(split))
        start = end.end() if end else len(whole)
    # A piece of one word asks nothing of its own; unless it is chatter ("thanks"), it names what the asks
    # after it are about ("gpv - what model is it built on, and where does that data come from").
    pieces = [(p, marked) for p, marked in pieces if _WORD.findall(_CHATTER.sub("", _FILLER.sub("", p)))]
    short = [len(_WORD.findall(p)) < MIN_WORDS for p, _ in pieces]
    asking = [not brief and (marked or _asks(p)) for (p, marked), brief in zip(pieces, short, strict=True)]
    pieces_text = [p for p, _ in pieces]
    for n in range(len(pieces) - 1):  # "per diem in berlin, what about london?": the first asks too
        asking[n] = asking[n] or (not short[n] and _ELSEWHERE.match(pieces_text[n + 1]) is not None)
    if sum(asking) <= 1:
        sides = _comparison(whole) or _named_pair(whole, names)
        return [Part(side, side) for side in sides] if sides else [Part(whole, whole)]
    parts: list[Part] = []
    scene = ""  # what the pieces so far said without asking: the situation every later ask is about
    for piece, asks in zip(pieces_text, asking, strict=True):
        if not asks:
            scene = f"{scene} {piece}".strip()
            continue
        sides = _comparison(piece)
        if sides:  # each side of "X vs Y" names its own subject
            parts.extend(Part(side, side) for side in sides)
        else:
            borrowed = parts[-1].text if parts and _borrows(piece) else ""
            parts.append(Part(piece, " ".join(w for w in (scene, borrowed, piece) if w)))
    return parts[:MAX_PARTS]


def _asks(piece: str) -> bool:
    """Whether a piece asks something: it starts like a question, or has a question word early on."""
    words = _WORD.findall(_RELATIVE.sub(" ", _FILLER.sub("", piece)).lower())
    return bool(words) and (_STARTS_ASKING.match(" ".join(words)) is not None or bool(_WH & set(words[:6])))


def _borrows(ask: str) -> bool:
    """A follow-on ask names no subject of its own: "and for annual plans?", "what about GBP", "is it net"."""
    return _FOLLOW_ON.match(ask) is not None or _REFERS_BACK.search(ask) is not None or len(_WORD.findall(ask)) <= 3


def _comparison(text: str) -> list[str] | None:
    """ "NRR vs GRR, how do they differ" -> asks about each side, with the rest of the question."""
    for pattern in (_BETWEEN, _VERSUS):
        match = pattern.match(text)
        if match:
            before = match.group("before") if pattern is _VERSUS else ""
            after = (match.group("after") or "").strip(" ?.!,;-–—:")
            a, b = match.group("a").strip(), match.group("b").strip()
            if a.lower() == b.lower():
                return None
            frame = " ".join(w for w in (before.strip(" -–—:"), after) if w)
            inside = len(_WORD.findall(frame)) > 4 or bool(_WH & {w.lower() for w in _WORD.findall(before)})
            if pattern is _VERSUS and inside and not _COMPARING.search(frame):
                return None  # "(visa vs amex)" or "where does X come from vs Y" is one ask about both
            if not frame or _COMPARING.search(frame):  # "how do they differ" asks what each one is
                return [f"what is {side}" for side in (a, b)]
            return [f"{side} {frame}" for side in (a, b)]
    return None


def _named_pair(text: str, names: Callable[[str], list[str]] | None) -> list[str] | None:
    """ "what are NRR and GRR" -> one ask per name, when each side of the "and" names a different entity."""
    if names is None or len(_WORD.findall(text)) > 8:
        return None
    for match in re.finditer(r"(?i)\s+(?:and|&)\s+", text):
        left, right = text[: match.start()], text[match.end() :]
        left_names, right_names = names(left), names(right)
        if left_names and right_names and not set(left_names) & set(right_names):
            lead = re.match(r"(?i)^(.*?\b(?:what|how|which|where|who)\b(?:\s+\w+){0,3}?\s+(?:is|are|does|do)\s+)", left)
            frame = lead.group(1) if lead else ""
            return [left.strip(), f"{frame}{right}".strip()]
    return None
