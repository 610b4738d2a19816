"""British spellings read as American ones before stemming, so that BM25, the glossary and the line scorer see
one word where finance writes two: "capitalised" / "capitalized", "amortisation", "cost centre", "labour",
"travelling", "catalogue", "ageing". A policy written in London and a question typed in New York share
their words; the English stemmer alone keeps "capitalis" and "capit" apart.

These are rules of English spelling, applied the same way to every document and question, so a word they
map wrongly ("premise" -> "premize") is changed on both sides and still matches itself. Month names are read
as the three letters a close calendar or a table writes ("march" -> "mar", "sept" -> "sep").
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

SPELLING_VERSION = "american-2"  # stamped on the persisted keyword index: bump when a rule changes

_WORDS = {
    "cheque": "check", "cheques": "checks", "programme": "program", "programmes": "programs",
    "judgement": "judgment", "judgements": "judgments", "ageing": "aging", "acknowledgement": "acknowledgment",
    "licence": "license", "licences": "licenses", "defence": "defense", "offence": "offense",
    "enrolment": "enrollment", "instalment": "installment", "instalments": "installments",
    "fulfilment": "fulfillment", "grey": "gray", "practise": "practice", "practised": "practiced",
    "practising": "practicing",
    "january": "jan", "february": "feb", "march": "mar", "april": "apr", "june": "jun", "july": "jul",
    "august": "aug", "september": "sep", "sept": "sep", "october": "oct", "november": "nov", "december": "dec",
}
_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^(\w{2,})is(e|ed|es|ing|ation|ations|er|ers|able)$"), r"\1iz\2"),  # capitalise, organisation
    (re.compile(r"^(\w{2,})ys(e|ed|es|ing|er|ers)$"), r"\1yz\2"),  # analyse
    (re.compile(r"^(\w{3,})our(s|ed|ing|able|ite|ites|ful)?$"), r"\1or\2"),  # labour, favourable
    (re.compile(r"^(\w{2,})tre(s?)$"), r"\1ter\2"),  # centre, metre
    (re.compile(r"^(\w{2,})tred$"), r"\1tered"),  # centred
    (re.compile(r"^(\w{3,})ogue(s?)$"), r"\1og\2"),  # catalogue
    (re.compile(r"^(\w{3,}[aeiou])ll(ed|ing|er|ers)$"), r"\1l\2"),  # travelled, cancelling, modelling
)


def american(word: str) -> str:
    """The American spelling of a lower-cased word ("capitalised" -> "capitalized"); others unchanged."""
    if word in _WORDS:
        return _WORDS[word]
    for pattern, replacement in _RULES:
        if pattern.match(word):
            return pattern.sub(replacement, word)
    return word


class SpellingStemmer:
    """PyStemmer's English stemmer after american(): what bm25s stems the chunks with (it calls stemWords)
    and what answering stems questions and lines with (stemWord), so both read one spelling."""

    def __init__(self) -> None:
        import Stemmer

        self._stem: Callable[[str], str] = Stemmer.Stemmer("english").stemWord

    def stemWord(self, word: str) -> str:  # noqa: N802  (PyStemmer's name, which bm25s calls)
        return self._stem(american(word))

    def stemWords(self, words: Sequence[str]) -> list[str]:  # noqa: N802
        return [self.stemWord(word) for word in words]
