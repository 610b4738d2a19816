"""Question words matched loosely against a passage's words: chat abbreviations and typos still count.

Questions are typed fast: "rev rec", "calc", "col", "recievables". A question word (stemmed, as BM25
reads it) is found in a set of passage words when it is one of them, starts one of them (an
abbreviation, from MIN_PREFIX letters) or, from MIN_TYPO letters, is one edit away from one of them.
Chat shorthands that are neither ("11 hrs", "acct", "ppl") are spelled out before the question is searched.
"""

from __future__ import annotations

import bisect
import functools
import re
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ingest.keyword_index import Chunk, KeywordIndex

MIN_PREFIX = 3
MIN_TYPO = 5
_CHARACTERS = "abcdefghijklmnopqrstuvwxyz0123456789"
# Common English and business shorthands that do not start the word they stand for ("hr" is left out: it is
# also HR).
SHORTHANDS = {
    "hrs": "hours", "yr": "year", "yrs": "years", "mins": "minutes", "wk": "week", "wks": "weeks",
    "mo": "month", "mos": "months", "ppl": "people", "acct": "account", "accts": "accounts", "amt": "amount",
    "mgr": "manager", "mgmt": "management", "dept": "department", "depts": "departments", "pmt": "payment",
    "pmts": "payments", "pymt": "payment", "txn": "transaction", "txns": "transactions", "qty": "quantity",
    "pct": "percent", "thru": "through", "govt": "government", "w/o": "without", "b/c": "because",
}
_SHORTHAND = re.compile(r"(?i)(?<![\w/])(" + "|".join(re.escape(k) for k in SHORTHANDS) + r")(?![\w/])")


def spelled_out(text: str) -> str:
    """The text with chat shorthands written in full ("11 hrs" -> "11 hours")."""
    return _SHORTHAND.sub(lambda m: SHORTHANDS[m.group(1).lower()], text)


def typos_repaired(keyword: KeywordIndex, text: str) -> list[str]:
    """BM25's tokens of the text, with a typo read as the word one edit away that the most chunks hold
    ("comissions" -> "commiss"): a word of MIN_TYPO letters or more that no chunk holds and that is not an
    English word (one the embedding model's vocabulary holds whole: "overall" is no typo of "overage")."""
    tokens = []
    for word, token in keyword.word_stems(text):
        if len(token) >= MIN_TYPO and not keyword.document_frequency(token) and word not in english_words():
            frequency, nearest = max((keyword.document_frequency(w), w) for w in sorted(one_edit(token)))
            token = nearest if frequency else token
        tokens.append(token)
    return tokens


@functools.cache
def english_words() -> frozenset[str]:
    """The whole words of the bundled embedding model's WordPiece vocabulary: about 20,000 common English
    words (finance terms such as "accrual" are mostly not among them, but chunks hold those)."""
    from ingest.store import bundled_model_path

    vocabulary = (Path(bundled_model_path()) / "vocab.txt").read_text(encoding="utf-8").split()
    return frozenset(w for w in vocabulary if w.isalpha())


class WordSet:
    """Passage words, ready for loose lookups."""

    def __init__(self, words: Iterable[str]) -> None:
        self.words = set(words)
        self._sorted = sorted(self.words)

    def has(self, word: str) -> bool:
        if word in self.words:
            return True
        if len(word) >= MIN_PREFIX:
            at = bisect.bisect_left(self._sorted, word)
            if at < len(self._sorted) and self._sorted[at].startswith(word):
                return True
        return len(word) >= MIN_TYPO and not self.words.isdisjoint(one_edit(word))

    def share(self, words: Sequence[str], weight: Callable[[str], float]) -> float:
        """The weighted share of `words` found here (0 for no words)."""
        weights = {w: weight(w) for w in words}
        total = sum(weights.values())
        return sum(v for w, v in weights.items() if self.has(w)) / total if total else 0.0


def words_of(keyword: KeywordIndex, chunks: Iterable[Chunk]) -> WordSet:
    """The words of the chunks' titles, sections and texts, as BM25 reads them."""
    texts = [c.headed_text for c in chunks]
    return WordSet(w for tokens in keyword.tokenize_many(texts) for w in tokens)


def one_edit(word: str) -> set[str]:
    """Every string one deletion, swap of neighbours, replacement or insertion away from `word`."""
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    deletes = {a + b[1:] for a, b in splits if b}
    swaps = {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
    replaces = {a + c + b[1:] for a, b in splits if b for c in _CHARACTERS}
    inserts = {a + c + b for a, b in splits for c in _CHARACTERS}
    return (deletes | swaps | replaces | inserts) - {word}
