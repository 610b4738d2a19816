"""Loose word matching: abbreviations and typos of passage words count as found, other words don't."""

from __future__ import annotations

from bot.retrieval.words import WordSet, one_edit, spelled_out, typos_repaired
from ingest import keyword_index
from ingest.keyword_index import Chunk


def test_abbreviations_and_typos_are_found() -> None:
    passage = WordSet(["revenu", "recogn", "calcul", "column", "receiv"])
    assert passage.has("revenu")  # itself
    assert passage.has("rev") and passage.has("calc") and passage.has("col")  # the start of a word
    assert passage.has("reciev")  # one swap away
    assert not passage.has("re")  # too short to read as an abbreviation
    assert not passage.has("ebitda") and not passage.has("penalti")


def test_short_words_are_not_read_as_typos() -> None:
    assert not WordSet(["cost"]).has("cast")  # four letters: a different word, not a typo
    assert WordSet(["margin"]).has("margn")


def test_one_edit_covers_each_kind_of_edit() -> None:
    edits = one_edit("cat")
    assert {"at", "act", "cot", "cart"} <= edits and "cat" not in edits


def test_chat_shorthands_are_spelled_out_whole_words_only() -> None:
    assert spelled_out("day trip, 11 hrs door to door - which acct pays, Mgr or ppl ops?") == (
        "day trip, 11 hours door to door - which account pays, manager or people ops?"
    )
    untouched = "shrs, hrsx, the mortgage thruput, /hr and HR stay"
    assert spelled_out(untouched) == untouched


def test_a_typo_no_chunk_holds_is_searched_as_the_word_one_edit_away() -> None:
    keyword = keyword_index.from_chunks([
        Chunk("a", "Sales commissions are capitalised and amortised over four years.", {}),
        Chunk("b", "Usage overage is billed monthly in arrears.", {}),
    ])
    assert typos_repaired(keyword, "amortize capitalized comissions") == ["amort", "capit", "commiss"]
    # an English word no chunk holds is no typo: "overall" stays, though "overage" is one edit from it
    assert typos_repaired(keyword, "overall score") == keyword.tokens("overall score")
    assert typos_repaired(keyword, "zzyzx") == ["zzyzx"]  # nothing one edit away: left as it is
