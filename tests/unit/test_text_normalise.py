# ruff: noqa: RUF001, RUF003 - evasive spellings use look-alike letters on purpose
"""Evasive spellings of a lexicon entry are still matched, and the evidence points at what was written."""

from __future__ import annotations

import pytest

from vigil.detect.text.classifier import TextClassifier
from vigil.detect.text.normalise import normalise
from vigil.domain.taxonomy import Category


@pytest.fixture(scope="module")
def classifier() -> TextClassifier:
    return TextClassifier(use_second_stage=False)


def drug_evidence(classifier: TextClassifier, text: str) -> list[str]:
    findings = classifier.first_stage(text, "en")
    return [e.text for f in findings if f.category is Category.DRUGS for e in f.evidence]


EVASIONS = {
    "nfkc_fullwidth": "ｃｏｃａｉｎｅ",
    "case": "CoCaInE",
    "diacritics": "cócäíné",
    "zero_width": "coc\u200bai\u200dne",
    "bidi_controls": "co\u202dca\u2066ine",
    "cyrillic_homoglyph": "\u0441\u043e\u0441\u0430ine",  # Cyrillic с о с а
    "greek_homoglyph": "c\u03bfca\u03b9ne",  # Greek ο ι
    "leetspeak": "c0ca1n3",
    "repeated_letters": "coooocaaaaine",
    "separated_spaces": "c o c a i n e",
    "separated_dots": "c.o.c.a.i.n.e",
    "separated_dashes": "c-o-c-a-i-n-e",
}


@pytest.mark.parametrize("evasive", EVASIONS.values(), ids=EVASIONS.keys())
def test_evasive_spelling_matches_and_its_span_covers_the_original_characters(
    classifier: TextClassifier, evasive: str
) -> None:
    text = f"got {evasive} tonight, dm me"
    assert evasive in drug_evidence(classifier, text)


def test_the_plain_spelling_is_matched_too(classifier: TextClassifier) -> None:
    assert drug_evidence(classifier, "got cocaine tonight, dm me") == ["cocaine"]


def test_legitimate_double_letters_still_match_after_squeezing(classifier: TextClassifier) -> None:
    # "guaranteed" has a double e; the text and the lexicon term are squeezed alike
    findings = classifier.first_stage("guaranteed profit every week", "en")
    assert any(e.text == "guaranteed profit" for f in findings for e in f.evidence)


def test_russian_words_are_not_latinised() -> None:
    assert normalise("Продаю наркотики").folded == "продаю наркотики"
    # a word made only of letters that look Latin is still a Russian word
    assert normalise("сосна рос").folded == "сосна рос"


def test_a_latin_lookalike_inside_a_russian_word_becomes_cyrillic() -> None:
    assert normalise("нaркотики").folded == "наркотики"  # Latin "a" in a Cyrillic word


def test_indic_vowel_signs_and_cyrillic_short_i_survive() -> None:
    assert normalise("मैं थोड़ा").folded == "मैं थोड़ा"
    assert normalise("Мой").folded == "мой"


def test_prices_numbers_and_handles_are_not_leetspoken() -> None:
    skeleton = normalise("only 50$ for 2024 tickets, ask @dealer").skeleton
    for kept in ("50$", "2024", "@dealer"):
        assert kept in skeleton


def test_offsets_map_every_skeleton_character_into_the_original() -> None:
    text = "ﬁne ｃａｓｈ c\u200ba s h straße"
    norm = normalise(text)
    assert len(norm.skeleton_offsets) == len(norm.skeleton)
    assert all(0 <= offset < len(text) for offset in norm.skeleton_offsets)
    assert norm.skeleton_offsets == sorted(norm.skeleton_offsets)
