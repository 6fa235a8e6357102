"""Lexicon files are validated on load, with errors that name the file, the entry and the problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from vigil.detect.text.lexicon import LexiconError, load_lexicon_file, load_lexicons
from vigil.domain.taxonomy import Category

GOOD_ENTRY = """
  - category: drugs
    weight: 0.3
    notes: street names
    terms: [cocaine]
"""


def write(tmp_path: Path, body: str, name: str = "xx.yaml") -> Path:
    path = tmp_path / name
    path.write_text(body, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            "language: en\nentries:\n  - category: drugz\n    weight: 0.3\n    notes: n\n    terms: [coke]\n",
            r"xx\.yaml entries\[0\]: unknown category 'drugz'",
        ),
        (
            "language: en\nentries:\n  - category: drugs\n    weight: 1.5\n    notes: n\n    terms: [coke]\n",
            r"xx\.yaml entries\[0\]: 'weight' must be in \(0\.0, 1\.0\]",
        ),
        (
            "language: en\nentries:\n  - category: drugs\n    weight: 0.3\n    terms: [coke]\n",
            r"xx\.yaml entries\[0\]: 'notes' is required",
        ),
        (
            "language: en\nentries:\n  - category: drugs\n    weight: 0.3\n    notes: n\n    patterns: ['(unclosed']\n",
            r"xx\.yaml entries\[0\]: pattern '\(unclosed' is not a valid regular expression",
        ),
        (
            "language: en\nentries:\n  - category: drugs\n    weight: 0.3\n    notes: n\n    term: [coke]\n",
            r"xx\.yaml entries\[0\]: unknown key\(s\) term",
        ),
        (
            "language: en\nentries:\n  - category: drugs\n    weight: 0.3\n    notes: n\n    terms: [x]\n",
            r"xx\.yaml entries\[0\]: term 'x' normalises to 'x', too short",
        ),
        (
            "language: en\nentries:\n  - category: drugs\n    weight: 0.3\n    notes: n\n",
            r"xx\.yaml entries\[0\]: needs at least one of 'terms' or 'patterns'",
        ),
        (
            "language: en\ncues:\n  - kind: rumour\n    multiplier: 0.3\n    notes: n\n    terms: [they say]\n",
            r"xx\.yaml cues\[0\]: unknown cue kind 'rumour'",
        ),
        ("language: english\nentries: []\n", r"xx\.yaml: 'language' must be an ISO 639-1 code"),
        ("language: en\nentries: [\n", r"xx\.yaml: cannot be read as YAML"),
    ],
)
def test_malformed_lexicons_are_refused_with_a_clear_message(tmp_path: Path, body: str, message: str) -> None:
    with pytest.raises(LexiconError, match=message):
        load_lexicon_file(write(tmp_path, body))


def test_a_valid_file_loads_with_its_rules(tmp_path: Path) -> None:
    lexicon = load_lexicon_file(write(tmp_path, "language: en\nentries:" + GOOD_ENTRY))
    assert lexicon.language == "en"
    assert [t.written for t in lexicon.terms] == ["cocaine"]


def test_an_empty_directory_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(LexiconError, match="no lexicon files"):
        load_lexicons(tmp_path)


def test_the_shipped_lexicons_cover_every_language_and_category() -> None:
    lexicons = load_lexicons()
    full = {"en", "fr", "id", "es", "de", "pt", "ru", "ar"}
    core = {"tr", "uk", "fa", "hi"}
    assert full | core | {"*"} <= set(lexicons)
    wanted = {
        Category.TERRORISM,
        Category.DRUGS,
        Category.FRAUD,
        Category.HATE_SPEECH,
        Category.GROOMING,
        Category.NCII,
        Category.SPAM,
    }
    for language in full | core:
        categories = {t.rule.category for t in lexicons[language].terms if hasattr(t.rule, "category")}
        assert categories >= wanted, language
