# ruff: noqa: RUF001, RUF003 - evasive spellings use look-alike letters on purpose
"""Evasive spellings of a lexicon entry are still matched, and the evidence points at what was written."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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


@pytest.mark.parametrize(
    ("text", "skeleton", "offsets"),
    [
        ("c a s h now", "cash now", [0, 2, 4, 6, 7, 8, 9, 10]),
        ("caaash", "cash", [0, 1, 4, 5]),
        ("c0ca1ne", "cocaine", [0, 1, 2, 3, 4, 5, 6]),
        ("co\u200bke", "coke", [0, 1, 3, 4]),
        ("ﬁne", "fine", [0, 0, 1, 2]),
    ],
)
def test_each_skeleton_character_points_at_the_character_it_came_from(
    text: str, skeleton: str, offsets: list[int]
) -> None:
    norm = normalise(text)
    assert norm.skeleton == skeleton
    assert norm.skeleton_offsets == offsets


def test_the_folded_map_is_the_identity_unless_a_character_changed_length() -> None:
    assert normalise("Straight ASCII, no change in length").folded_offsets is None
    assert normalise("ﬁne").folded_offsets == [0, 0, 1, 2]


def test_texts_that_need_no_joining_or_squeezing_keep_their_folded_form() -> None:
    # a one-letter word or a digit alone is not an evasive spelling
    for text in ("i am a bit late", "gate 5 at 7 pm", "a-b testing"):
        assert normalise(text).skeleton == normalise(text).folded


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="ab cs.-_*0134@$!\u200bﬁßéаосΑο\u0301क़", max_size=60))
def test_offset_maps_stay_in_bounds_and_in_order(text: str) -> None:
    norm = normalise(text)
    assert len(norm.skeleton_offsets) == len(norm.skeleton)
    assert all(0 <= offset < len(text) for offset in norm.skeleton_offsets)
    assert norm.skeleton_offsets == sorted(norm.skeleton_offsets)
    if norm.folded_offsets is not None:
        assert len(norm.folded_offsets) == len(norm.folded)
        assert set(norm.skeleton_offsets) <= set(norm.folded_offsets)
    start, end = norm.skeleton_span(0, len(norm.skeleton))
    assert 0 <= start <= end <= len(text)
