"""British spellings read as American ones before stemming (ingest/spelling.py)."""

from __future__ import annotations

import pytest

from ingest.spelling import SpellingStemmer, american


@pytest.mark.parametrize(
    ("british", "american_spelling"),
    [
        ("capitalised", "capitalized"), ("amortisation", "amortization"), ("organisations", "organizations"),
        ("analyse", "analyze"), ("centre", "center"), ("centres", "centers"), ("labour", "labor"),
        ("favourable", "favorable"), ("travelling", "traveling"), ("cancelled", "canceled"),
        ("modelled", "modeled"), ("catalogue", "catalog"), ("ageing", "aging"), ("licence", "license"),
        ("cheque", "check"), ("instalments", "installments"), ("march", "mar"), ("september", "sep"),
        ("sept", "sep"), ("january", "jan"),
    ],
)
def test_a_british_spelling_stems_as_the_american_one(british: str, american_spelling: str) -> None:
    stemmer = SpellingStemmer()
    assert american(british) == american_spelling
    assert stemmer.stemWord(british) == stemmer.stemWord(american_spelling)
    assert stemmer.stemWords([british, american_spelling]) == [stemmer.stemWord(american_spelling)] * 2


@pytest.mark.parametrize("word", ["hours", "four", "your", "tour", "basis", "crisis", "this", "rise", "called",
                                  "filled", "stalled", "analysis", "business", "status", "acre", "genre"])
def test_other_words_are_left_alone(word: str) -> None:
    assert american(word) == word
