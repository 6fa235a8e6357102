"""`vigil eval`'s counting: what a flag, a routing and an automatic action are, per category, language
and kind, and the intervals that say how little a small cell tells."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vigil.detect.text.calibrate import CorpusFileError, Item, read_items
from vigil.domain.taxonomy import Category
from vigil.evaluate import Judged, report, wilson

DRUGS, SPAM = Category.DRUGS, Category.SPAM


def text(item_id: str, labels: frozenset[Category], kind: str, language: str = "en", **extra: str) -> Item:
    return Item("t", language, labels, kind, item_id, **extra)


def judged(item: Item, flagged: set[Category], routed: set[Category], acted: set[Category]) -> Judged:
    return Judged(item, frozenset(flagged), frozenset(routed), frozenset(acted))


def test_flags_routings_and_actions_are_counted_per_category_language_and_kind() -> None:
    sale = text("a", frozenset({DRUGS}), "positive")
    evasive = text("b", frozenset({DRUGS}), "positive", "fr", evasion="leetspeak")
    news = text("c", frozenset(), "hard_negative", negative_type="news")
    spam = text("d", frozenset({SPAM}), "positive")
    result = report(
        [
            judged(sale, {DRUGS}, {DRUGS}, {DRUGS}),
            judged(evasive, set(), set(), set()),
            judged(news, {DRUGS}, {DRUGS}, set()),
            judged(spam, {SPAM}, {SPAM}, set()),
        ]
    )

    flagged = result.cell("flagged", DRUGS)
    assert (flagged.tp, flagged.fp, flagged.fn) == (1, 1, 1)
    acted = result.cell("acted", DRUGS)
    assert (acted.tp, acted.fp, acted.fn, acted.precision) == (1, 0, 1, 1.0)
    assert result.cell("flagged", DRUGS, "all", "evasive").recall == 0.0
    assert result.cell("flagged", DRUGS, "all", "plain").recall == 1.0
    assert result.cell("flagged", DRUGS, "fr").recall == 0.0
    assert result.negatives["flagged", "news", "all"] == [1, 1]
    assert result.negatives["acted", "all hard negatives", "all"] == [0, 1]
    assert result.cell("acted", SPAM).precision is None  # nothing acted on: undefined, not 0


@given(st.integers(0, 500), st.integers(0, 500))
def test_the_wilson_interval_holds_the_observed_share_within_zero_and_one(successes: int, extra: int) -> None:
    trials = successes + extra
    low, high = wilson(successes, trials)
    assert 0.0 <= low <= high <= 1.0
    if trials:
        assert low <= successes / trials <= high


def test_a_small_cell_gets_a_wide_interval() -> None:
    assert wilson(10, 10)[0] < 0.75  # ten out of ten says little
    assert wilson(1000, 1000)[0] > 0.99


def test_a_broken_line_is_named(tmp_path: Path) -> None:
    good = {"id": "x", "text": "t", "language": "en", "labels": ["drugs"], "kind": "positive"}
    path = tmp_path / "split.jsonl"
    path.write_text(json.dumps(good) + "\n" + json.dumps({**good, "kind": "benign"}) + "\n", encoding="utf-8")
    with pytest.raises(CorpusFileError, match=r"split\.jsonl line 2"):
        read_items(path)
