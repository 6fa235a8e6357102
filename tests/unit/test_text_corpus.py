"""The labelled text corpus is well formed, big enough, and split into dev and test the way the tool says.

The checks on the lines are written against the format described in
``tests/data/text_corpus/README.md``, independently of the loader in ``bench/classifiers.py``, so
that a bug in the loader cannot hide a broken corpus. The split tool is then tested as a user relies
on it: the committed splits are exactly what it writes, half and half per stratum, and adding items
never moves an existing one.
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest

from bench.classifiers import (
    CorpusError,
    Item,
    assign_splits,
    load_corpus,
    read_items,
    write_splits,
)

CORPUS = Path(__file__).resolve().parents[1] / "data" / "text_corpus"
CATEGORIES = {"terrorism", "drugs", "fraud", "hate_speech", "grooming", "ncii", "spam"}
KINDS = {"positive", "hard_negative", "benign"}
NEGATIVE_TYPES = {
    "news",
    "counter_speech",
    "education",
    "warning",
    "remembrance",
    "quote",
    "fiction",
    "joke",
    "slang",
    "commerce",
    "official_notice",
    "everyday",
    "help_seeking",
}
EVASIONS = {"spacing", "leetspeak", "homoglyph", "zero_width", "emoji", "code_word", "mixed"}
LANGUAGES = {"en", "fr", "id", "es", "de", "pt", "ru", "ar", "tr", "uk", "fa", "hi"}
# (positives, hard negatives) per category, and benign items, in every language
MINIMUMS = (15, 15, 30)
MIN_HARD_NEGATIVE_SHARE = 0.40
MIN_ITEMS = 4_000
LANGUAGE_FILES = sorted(p for p in CORPUS.glob("*.jsonl") if re.fullmatch(r"[a-z]{2}\.jsonl", p.name))
SPLIT_HINT = "run: .venv/bin/python bench/classifiers.py split"


def raw_lines(path: Path) -> list[tuple[int, str]]:
    return [
        (n, line) for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if line.strip()
    ]


def topic_of(record: dict[str, Any]) -> str:
    """What an item is about: a positive's first label; the category named in a hard negative's id."""
    if record["kind"] == "positive":
        return str(record["labels"][0])
    return str(record["id"].split("-")[1])


def test_the_corpus_covers_every_language_vigil_classifies() -> None:
    languages = {p.stem for p in LANGUAGE_FILES}
    assert languages >= LANGUAGES, f"missing {sorted(LANGUAGES - languages)}"
    total = sum(len(raw_lines(path)) for path in LANGUAGE_FILES)
    assert total >= MIN_ITEMS


@pytest.mark.parametrize("path", LANGUAGE_FILES, ids=lambda p: p.stem)
def test_hard_negatives_are_at_least_two_fifths_of_every_language(path: Path) -> None:
    kinds = Counter(json.loads(line)["kind"] for _, line in raw_lines(path))
    assert kinds["hard_negative"] / sum(kinds.values()) >= MIN_HARD_NEGATIVE_SHARE


@pytest.mark.parametrize("path", LANGUAGE_FILES, ids=lambda p: p.stem)
def test_every_line_is_a_labelled_item_of_its_language(path: Path) -> None:
    for number, line in raw_lines(path):
        where = f"{path.name} line {number}"
        record = json.loads(line)
        assert set(record) <= {
            "id",
            "text",
            "language",
            "labels",
            "kind",
            "note",
            "negative_type",
            "evasion",
        }, where
        assert record["language"] == path.stem, where
        for key in ("text", "note"):
            assert isinstance(record[key], str), where
            assert record[key].strip(), where
        assert record["kind"] in KINDS, where
        labels = record["labels"]
        assert isinstance(labels, list), where
        assert set(labels) <= CATEGORIES, where
        assert len(set(labels)) == len(labels), where
        assert bool(labels) == (record["kind"] == "positive"), where
        if record["kind"] == "hard_negative":
            assert record.get("negative_type") in NEGATIVE_TYPES, where
        else:
            assert "negative_type" not in record, where
        if "evasion" in record:
            assert record["kind"] == "positive", where
            assert record["evasion"] in EVASIONS, where
        expected_id = {
            "positive": rf"{path.stem}-{labels[0] if labels else ''}-\d{{3,}}",
            "hard_negative": rf"{path.stem}-({'|'.join(CATEGORIES)})-hn-\d{{3,}}",
            "benign": rf"{path.stem}-benign-\d{{3,}}",
        }[record["kind"]]
        assert re.fullmatch(expected_id, record["id"]), f"{where}: id {record['id']!r}"


def test_ids_and_texts_are_unique_across_the_corpus() -> None:
    ids: Counter[str] = Counter()
    texts: Counter[str] = Counter()
    for path in LANGUAGE_FILES:
        for _, line in raw_lines(path):
            record = json.loads(line)
            ids[record["id"]] += 1
            texts[record["text"]] += 1
    assert [i for i, n in ids.items() if n > 1] == []
    assert [t for t, n in texts.items() if n > 1] == []


@pytest.mark.parametrize("path", LANGUAGE_FILES, ids=lambda p: p.stem)
def test_each_language_has_the_minimum_items_per_category_and_kind(path: Path) -> None:
    counts: Counter[tuple[str, str]] = Counter()
    for _, line in raw_lines(path):
        record = json.loads(line)
        if record["kind"] == "positive":
            counts.update(("positive", label) for label in record["labels"])
        elif record["kind"] == "hard_negative":
            counts["hard_negative", topic_of(record)] += 1
        else:
            counts["benign", ""] += 1
    min_positives, min_hard_negatives, min_benign = MINIMUMS
    short = [
        f"{kind} {category}: {counts[kind, category]} < {minimum}"
        for category in sorted(CATEGORIES)
        for kind, minimum in (("positive", min_positives), ("hard_negative", min_hard_negatives))
        if counts[kind, category] < minimum
    ]
    if counts["benign", ""] < min_benign:
        short.append(f"benign: {counts['benign', '']} < {min_benign}")
    assert short == [], f"{path.name} is short of items"


def split_lines(name: str) -> list[str]:
    return [line for _, line in raw_lines(CORPUS / f"{name}.jsonl")]


def test_dev_and_test_are_a_disjoint_partition_of_the_language_files() -> None:
    corpus = [line for path in LANGUAGE_FILES for _, line in raw_lines(path)]
    dev, test = split_lines("dev"), split_lines("test")
    assert set(dev).isdisjoint(test)
    assert sorted(dev + test) == sorted(corpus), SPLIT_HINT


def test_the_committed_splits_are_what_the_split_tool_writes(tmp_path: Path) -> None:
    for path in LANGUAGE_FILES:
        (tmp_path / path.name).write_bytes(path.read_bytes())
    write_splits(tmp_path)
    for name in ("dev", "test"):
        assert (tmp_path / f"{name}.jsonl").read_text("utf-8") == (CORPUS / f"{name}.jsonl").read_text(
            "utf-8"
        ), SPLIT_HINT


def test_every_stratum_is_split_within_one_item_of_half_and_half() -> None:
    items = load_corpus(CORPUS)
    side = assign_splits(items)
    per_stratum: dict[tuple[str, str, str], Counter[str]] = defaultdict(Counter)
    for item in items:
        per_stratum[item.stratum][side[item.id]] += 1
    lopsided = {s: dict(c) for s, c in per_stratum.items() if abs(c["dev"] - c["test"]) > 1}
    assert lopsided == {}
    assert ("en", "hard_negative", "drugs") in per_stratum  # hard negatives are stratified by their topic


def test_appending_items_never_moves_an_existing_item() -> None:
    items = load_corpus(CORPUS)
    by_stratum: dict[tuple[str, str, str], list[Item]] = defaultdict(list)
    for item in items:
        by_stratum[item.stratum].append(item)
    # the corpus as it was before the last few items of every stratum were written
    earlier = [item for members in by_stratum.values() for item in members[: max(1, len(members) - 3)]]
    before, after = assign_splits(earlier), assign_splits(items)
    assert {i: after[i] for i in before} == before


def test_the_split_does_not_depend_on_the_order_of_the_lines() -> None:
    items = load_corpus(CORPUS)
    assert assign_splits(reversed(items)) == assign_splits(items)


def test_a_broken_line_is_reported_with_its_file_and_line(tmp_path: Path) -> None:
    good = (
        '{"id": "xx-benign-001", "text": "hi", "language": "xx", "labels": [], "kind": "benign", "note": "n"}'
    )
    bad_label = good.replace('"labels": []', '"labels": ["drugz"]').replace('"benign"}', '"positive"}')
    (tmp_path / "xx.jsonl").write_text(f"{good}\n{bad_label}\n", encoding="utf-8")
    with pytest.raises(CorpusError, match=r"xx\.jsonl line 2: unknown label\(s\) \['drugz'\]"):
        load_corpus(tmp_path)
    (tmp_path / "xx.jsonl").write_text(f"{good}\n{{not json\n", encoding="utf-8")
    with pytest.raises(CorpusError, match=r"xx\.jsonl line 2: not JSON"):
        read_items(tmp_path / "xx.jsonl")
    (tmp_path / "xx.jsonl").write_text(f"{good}\n{good}\n", encoding="utf-8")
    with pytest.raises(CorpusError, match="id xx-benign-001 already used"):
        load_corpus(tmp_path)
