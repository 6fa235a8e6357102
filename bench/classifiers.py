"""How well Vigil's text classifier does on the labelled corpus, per category and language, and how fast.

    .venv/bin/python bench/classifiers.py                      # test split, stage one vs stage one + two
    .venv/bin/python bench/classifiers.py --split dev          # the split to tune on
    .venv/bin/python bench/classifiers.py --stages first       # stage one only
    .venv/bin/python bench/classifiers.py --markdown           # the same tables as Markdown (bench/RESULTS.md)
    .venv/bin/python bench/classifiers.py split                # rewrite dev.jsonl and test.jsonl

The corpus is ``tests/data/text_corpus/<lang>.jsonl`` (one file per language, described in that
folder's README). ``split`` divides all of them into ``dev.jsonl`` and ``test.jsonl``, half and half
within every stratum (language, kind, category): tune on dev, report on test.

The split is stable: inside a stratum the items are taken in the order of their ids, two by two; the
first of each pair goes to the side named by a bit of the SHA-256 of its id and the second to the
other side. Ids are numbered in the order items are written (``en-drugs-014`` after ``en-drugs-013``),
so appending items never moves an existing one, and every stratum is split within one item of 50/50
(a pure per-id coin would leave small strata lopsided: 3 of 12 in test is not rare).

What is measured, on the chosen split:

- Quality, for stage one alone and for stage one + two when the second stage is installed: an item
  counts as predicted positive for a category when the category is in ``classify(...).flagged``.
  Precision, recall, F1 and support per category; recall (and precision where anything was predicted)
  per category and language; the false-positive rate (any category flagged) on hard negatives per kind
  (news, counter-speech, ...) and on benign chatter. ``classify`` runs with ``language=None``, so
  language identification is part of what is evaluated, as in production.
- Language identification: ``detect_language(text)`` against the item's language.
- Latency per item (median and p95, µs) of ``detect_language``, ``first_stage`` and ``second_stage``
  (called directly on every item, after an untimed warm-up on the other split that loads the encoder;
  the second stage is reported over every item and over the items whose findings it rescored, its
  cost when the cascade needs it),
  and stage-one throughput on one core: ``first_stage`` alone (language given) over the whole split,
  several passes after a warm-up, in texts/s of the wall clock and of this process's CPU time; and
  ``classify`` with the second stage off (language identification included) for comparison.
- The issue's targets, each PASS or FAIL: stage one precision >= 0.9 and recall >= 0.8 per category
  in en, fr and id; no category below 0.6 recall in any language; stage one >= 5,000 texts/s.

An item that makes the classifier raise is counted as predicting nothing and listed under errors:
the run never stops on a corpus item.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import re
import statistics
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

if TYPE_CHECKING:
    from vigil.detect.text.classifier import TextClassifier

CORPUS_DIR = ROOT / "tests" / "data" / "text_corpus"
SPLITS = ("dev", "test")
CATEGORIES = ("terrorism", "drugs", "fraud", "hate_speech", "grooming", "ncii", "spam")
KINDS = ("positive", "hard_negative", "benign")
LANGUAGE_FILE = re.compile(r"^([a-z]{2})\.jsonl$")
ID_PATTERN = re.compile(r"^(?P<lang>[a-z]{2})-(?P<topic>[a-z_]+?)(?P<hn>-hn)?-(?P<number>\d{3,})$")
WARM_UP_ITEMS = 200  # at most, untimed, before the latencies
MAX_TEXT_CHARS = 20_000  # a corpus line is a message, not a document: longer means a broken file

# the targets
TARGET_LANGUAGES = ("en", "fr", "id")
TARGET_PRECISION = 0.9
TARGET_RECALL = 0.8
FLOOR_RECALL = 0.6
TARGET_TEXTS_PER_S = 5_000.0


# ---- the corpus -------------------------------------------------------------------------------------


class CorpusError(ValueError):
    """A corpus line that breaks the format; the message names the file and line."""


@dataclass(frozen=True, slots=True)
class Item:
    """One labelled text of the corpus, with the line it was read from (kept verbatim for the splits)."""

    id: str
    text: str
    language: str
    labels: tuple[str, ...]
    kind: str
    negative_type: str
    note: str
    line: str

    @property
    def topic(self) -> str:
        """The category the item is about: its first label, the category a hard negative borrows its
        words from (named in its id, ``<lang>-<category>-hn-<n>``), or ``benign``."""
        if self.kind == "benign":
            return "benign"
        if self.labels:
            return self.labels[0]
        match = ID_PATTERN.match(self.id)
        return match["topic"] if match else ""

    @property
    def stratum(self) -> tuple[str, str, str]:
        return (self.language, self.kind, self.topic)


def _require(condition: bool, where: str, message: str) -> None:
    if not condition:
        raise CorpusError(f"{where}: {message}")


def parse_item(line: str, where: str) -> Item:
    """One corpus line as an ``Item``; ``CorpusError`` (naming ``where``) when it breaks the format."""
    try:
        raw = json.loads(line)
    except json.JSONDecodeError as error:
        raise CorpusError(f"{where}: not JSON ({error.msg} at column {error.colno})") from None
    _require(isinstance(raw, dict), where, "expected a JSON object")
    for key in ("id", "text", "language", "kind", "note"):
        _require(
            isinstance(raw.get(key), str) and raw[key] != "", where, f"'{key}' must be a non-empty string"
        )
    labels = raw.get("labels")
    _require(
        isinstance(labels, list) and all(isinstance(x, str) for x in labels),
        where,
        "'labels' must be a list of strings",
    )
    unknown = sorted(set(labels) - set(CATEGORIES))
    _require(not unknown, where, f"unknown label(s) {unknown}; expected some of {list(CATEGORIES)}")
    _require(len(set(labels)) == len(labels), where, "a label is repeated")
    kind = raw["kind"]
    _require(kind in KINDS, where, f"unknown kind {kind!r}; expected one of {list(KINDS)}")
    _require((kind == "positive") == bool(labels), where, "positives need labels; negatives must have none")
    _require(len(raw["text"]) <= MAX_TEXT_CHARS, where, f"text longer than {MAX_TEXT_CHARS} characters")
    negative_type = raw.get("negative_type", "")
    _require(isinstance(negative_type, str), where, "'negative_type' must be a string")
    _require(
        (kind == "hard_negative") == bool(negative_type),
        where,
        "'negative_type' is required on hard negatives only",
    )
    item = Item(
        raw["id"], raw["text"], raw["language"], tuple(labels), kind, negative_type, raw["note"], line
    )
    match = ID_PATTERN.match(item.id)
    _require(match is not None, where, f"id {item.id!r} is not <lang>-<category|benign>[-hn]-<number>")
    assert match is not None
    _require(match["lang"] == item.language, where, f"id {item.id!r} does not start with its language")
    expected = {"positive": item.topic, "hard_negative": item.topic, "benign": "benign"}[kind]
    _require(
        match["topic"] == expected and expected in (*CATEGORIES, "benign"),
        where,
        f"id {item.id!r} does not name {expected!r}",
    )
    _require(
        bool(match["hn"]) == (kind == "hard_negative"), where, "only hard negatives carry '-hn' in the id"
    )
    return item


def read_items(path: Path) -> list[Item]:
    """Every item of one JSON-lines file (blank lines skipped), validated."""
    items = []
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if line.strip():
                items.append(parse_item(line.rstrip("\n"), f"{path.name} line {number}"))
    return items


def language_files(corpus: Path = CORPUS_DIR) -> list[Path]:
    """The per-language files ``<lang>.jsonl`` of the corpus, by name."""
    return sorted(p for p in corpus.iterdir() if LANGUAGE_FILE.match(p.name))


def load_corpus(corpus: Path = CORPUS_DIR) -> list[Item]:
    """All items of all per-language files; each file holds only its own language; ids unique."""
    items: list[Item] = []
    seen: dict[str, str] = {}
    for path in language_files(corpus):
        language = LANGUAGE_FILE.match(path.name)[1]  # type: ignore[index]
        for item in read_items(path):
            if item.language != language:
                raise CorpusError(f"{path.name}: item {item.id} has language {item.language!r}")
            if item.id in seen:
                raise CorpusError(f"{path.name}: id {item.id} already used in {seen[item.id]}")
            seen[item.id] = path.name
            items.append(item)
    return items


# ---- the split ----------------------------------------------------------------------------------------


def _id_key(item_id: str) -> tuple[str, int]:
    match = ID_PATTERN.match(item_id)
    return (item_id, 0) if match is None else (item_id[: match.start("number")], int(match["number"]))


def assign_splits(items: Iterable[Item]) -> dict[str, str]:
    """``{id: "dev" | "test"}``: pairs in id order within each stratum, the first of a pair placed by
    the SHA-256 of its id and the second opposite, so that appended items never move existing ones."""
    strata: dict[tuple[str, str, str], list[Item]] = defaultdict(list)
    for item in items:
        strata[item.stratum].append(item)
    side: dict[str, str] = {}
    for members in strata.values():
        members.sort(key=lambda item: _id_key(item.id))
        for position, item in enumerate(members):
            if position % 2 == 0:
                side[item.id] = SPLITS[hashlib.sha256(item.id.encode()).digest()[0] & 1]
            else:
                side[item.id] = SPLITS[1 - SPLITS.index(side[members[position - 1].id])]
    return side


def write_splits(corpus: Path = CORPUS_DIR) -> dict[str, int]:
    """Rewrite ``dev.jsonl`` and ``test.jsonl`` from the per-language files; the item count of each."""
    items = load_corpus(corpus)
    side = assign_splits(items)
    counts = {}
    for split in SPLITS:
        chosen = [item.line for item in items if side[item.id] == split]
        (corpus / f"{split}.jsonl").write_text("".join(line + "\n" for line in chosen), encoding="utf-8")
        counts[split] = len(chosen)
    return counts


# ---- tables: one model, printed with Rich or as Markdown --------------------------------------------------


@dataclass(slots=True)
class Report:
    title: str
    columns: Sequence[str]
    rows: list[Sequence[str]] = field(default_factory=list)
    caption: str = ""


def render_rich(reports: Sequence[Report]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(width=200)
    for report in reports:
        table = Table(title=report.title, caption=report.caption or None)
        for index, column in enumerate(report.columns):
            table.add_column(column, justify="left" if index == 0 else "right")
        for row in report.rows:
            table.add_row(*row)
        console.print(table)


def render_markdown(reports: Sequence[Report]) -> str:
    parts = []
    for report in reports:
        lines = [f"#### {report.title}", ""]
        lines.append("| " + " | ".join(report.columns) + " |")
        lines.append("| --- " + "| ---: " * (len(report.columns) - 1) + "|")
        lines.extend(
            "| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in report.rows
        )
        if report.caption:
            lines += ["", report.caption]
        parts.append("\n".join(lines))
    return "\n\n".join(parts) + "\n"


def listing(entries: Sequence[str], shown: int = 12) -> str:
    """The first ``shown`` entries joined, and how many more there are."""
    more = f"; and {len(entries) - shown} more" if len(entries) > shown else ""
    return "; ".join(entries[:shown]) + more


def ratio(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


def fmt(value: float | None, digits: int = 2) -> str:
    return "—" if value is None or math.isnan(value) else f"{value:.{digits}f}"


# ---- quality ----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Scores:
    tp: int
    fp: int
    fn: int

    @property
    def support(self) -> int:
        return self.tp + self.fn

    @property
    def precision(self) -> float | None:
        return ratio(self.tp, self.tp + self.fp)

    @property
    def recall(self) -> float | None:
        return ratio(self.tp, self.support)

    @property
    def f1(self) -> float | None:
        p, r = self.precision, self.recall
        if p is None or r is None:
            return None
        return 0.0 if p + r == 0 else 2 * p * r / (p + r)


def scores(items: Sequence[Item], predicted: dict[str, frozenset[str]], category: str) -> Scores:
    """Counts for one category over ``items`` (gold: the labels; predicted: the flagged categories)."""
    tp = fp = fn = 0
    for item in items:
        gold, guess = category in item.labels, category in predicted[item.id]
        tp += gold and guess
        fp += guess and not gold
        fn += gold and not guess
    return Scores(tp, fp, fn)


@dataclass(slots=True)
class Run:
    """One configuration's predictions over the split."""

    name: str
    predicted: dict[str, frozenset[str]]
    errors: list[str]


def classify_all(name: str, classifier: TextClassifier, items: Sequence[Item]) -> Run:
    predicted: dict[str, frozenset[str]] = {}
    errors = []
    for item in items:
        try:
            result = classifier.classify(item.text)
            predicted[item.id] = frozenset(str(category) for category in result.flagged)
        except Exception as error:  # an item must never stop the run: record it as predicting nothing
            predicted[item.id] = frozenset()
            errors.append(f"{item.id}: {type(error).__name__}: {error}")
    return Run(name, predicted, errors)


def quality_reports(items: Sequence[Item], runs: Sequence[Run]) -> list[Report]:
    languages = sorted({item.language for item in items})
    overall = Report(
        "Per category (all languages)",
        ["category", "support", *(f"{run.name} {m}" for run in runs for m in ("P", "R", "F1"))],
    )
    for category in CATEGORIES:
        row = [category, str(sum(category in item.labels for item in items))]
        for run in runs:
            s = scores(items, run.predicted, category)
            row += [fmt(s.precision), fmt(s.recall), fmt(s.f1)]
        overall.rows.append(row)
    reports = [overall]
    for run in runs:
        per_language = Report(
            f"Per category and language, {run.name}: recall/precision (support)",
            ["category", *languages],
            caption="precision is '—' where nothing of the language was flagged with the category",
        )
        for category in CATEGORIES:
            row = [category]
            for language in languages:
                s = scores([i for i in items if i.language == language], run.predicted, category)
                row.append("—" if not s.support else f"{fmt(s.recall)}/{fmt(s.precision)} ({s.support})")
            per_language.rows.append(row)
        reports.append(per_language)
    negatives = Report(
        "False-positive rate on negatives (any category flagged)",
        ["negative kind", "items", *(run.name for run in runs)],
    )
    groups: dict[str, list[Item]] = defaultdict(list)
    for item in items:
        if item.kind != "positive":
            groups[f"hard: {item.negative_type}" if item.negative_type else "benign"].append(item)
    groups["all hard negatives"] = [i for i in items if i.kind == "hard_negative"]
    for name in sorted(groups, key=lambda n: (n == "benign", n == "all hard negatives", n)):
        members = groups[name]
        rates = [fmt(ratio(sum(bool(run.predicted[i.id]) for i in members), len(members))) for run in runs]
        negatives.rows.append([name, str(len(members)), *rates])
    reports.append(negatives)
    by_topic = Report(
        "False-positive rate on hard negatives per category they borrow words from",
        ["category", "items", *(run.name for run in runs)],
    )
    for category in CATEGORIES:
        members = [i for i in items if i.kind == "hard_negative" and i.topic == category]
        rates = [fmt(ratio(sum(bool(run.predicted[i.id]) for i in members), len(members))) for run in runs]
        by_topic.rows.append([category, str(len(members)), *rates])
    reports.append(by_topic)
    return reports


def target_report(items: Sequence[Item], first: Run, runs: Sequence[Run], throughput: float) -> Report:
    """The issue's targets, PASS or FAIL, with the shortfalls named."""
    report = Report("Targets of issue 4", ["target", "result", "detail"])
    shortfalls = []
    for language in TARGET_LANGUAGES:
        subset = [i for i in items if i.language == language]
        for category in CATEGORIES:
            s = scores(subset, first.predicted, category)
            if not s.support:
                shortfalls.append(f"{language}/{category}: no items")
                continue
            precision_ok = s.precision is None or s.precision >= TARGET_PRECISION
            if not precision_ok or (s.recall or 0.0) < TARGET_RECALL:
                shortfalls.append(f"{language}/{category} P={fmt(s.precision)} R={fmt(s.recall)}")
    report.rows.append(
        [
            f"{first.name}: P ≥ {TARGET_PRECISION} and R ≥ {TARGET_RECALL} per category in {', '.join(TARGET_LANGUAGES)}",
            "PASS" if not shortfalls else "FAIL",
            listing(shortfalls) or f"all {len(TARGET_LANGUAGES) * len(CATEGORIES)} met",
        ]
    )
    languages = sorted({item.language for item in items})
    for run in runs:
        low = []
        for language in languages:
            subset = [i for i in items if i.language == language]
            for category in CATEGORIES:
                s = scores(subset, run.predicted, category)
                if s.support and (s.recall or 0.0) < FLOOR_RECALL:
                    low.append(f"{language}/{category} R={fmt(s.recall)}")
        report.rows.append(
            [
                f"{run.name}: no category below R {FLOOR_RECALL} in any language",
                "PASS" if not low else "FAIL",
                listing(low) or f"{len(languages)} languages",
            ]
        )
    report.rows.append(
        [
            f"stage one ≥ {TARGET_TEXTS_PER_S:,.0f} texts/s on one core",
            "PASS" if throughput >= TARGET_TEXTS_PER_S else "FAIL",
            f"{throughput:,.0f} texts/s (first_stage, wall clock)",
        ]
    )
    return report


# ---- language identification and speed ---------------------------------------------------------------------


def language_report(items: Sequence[Item], detect: Callable[[str], str]) -> tuple[Report, dict[str, str]]:
    """Accuracy of ``detect`` per language, and what it said per item ("" when it raised)."""
    detected: dict[str, str] = {}
    errors: Counter[str] = Counter()
    for item in items:
        try:
            detected[item.id] = detect(item.text)
        except Exception:  # counted as a miss, never fatal
            detected[item.id] = ""
            errors[item.language] += 1
    report = Report(
        "Language identification (detect_language)",
        ["language", "items", "accuracy", "errors", "most common misses"],
    )
    for language in sorted({item.language for item in items}):
        members = [i for i in items if i.language == language]
        misses = Counter(detected[i.id] or "none" for i in members if detected[i.id] != language)
        report.rows.append(
            [
                language,
                str(len(members)),
                fmt(ratio(len(members) - sum(misses.values()), len(members))),
                str(errors[language]),
                ", ".join(f"{lang} x{n}" for lang, n in misses.most_common(3)),
            ]
        )
    correct = sum(detected[i.id] == i.language for i in items)
    report.rows.append(["all", str(len(items)), fmt(ratio(correct, len(items))), str(errors.total()), ""])
    return report, detected


def timed(call: Callable[..., Any], *args: Any) -> tuple[float, Any]:
    """Microseconds ``call(*args)`` takes, and its result (NaN and None if it raises: an error must not
    stop the run)."""
    started = time.perf_counter_ns()
    try:
        result = call(*args)
    except Exception:
        return math.nan, None
    return (time.perf_counter_ns() - started) / 1_000, result


def percentile(values: Sequence[float], fraction: float) -> float:
    finite = sorted(v for v in values if not math.isnan(v))
    if not finite:
        return math.nan
    return finite[min(len(finite) - 1, math.ceil(fraction * len(finite)) - 1)]


def rescored(findings: Sequence[Any]) -> bool:
    """Whether the second stage changed any finding (its findings then carry another stage name)."""
    return any(finding.stage != "lexicon" for finding in findings)


def latency_report(
    items: Sequence[Item],
    warm_up: Sequence[Item],
    classifier: TextClassifier,
    detect: Callable[[str], str],
    language: dict[str, str],
) -> Report:
    """Median and p95 µs per item of each stage, each stage given what it gets in the cascade.

    ``warm_up`` items (the other split: texts no cache has seen) are run first, untimed, until the
    second stage has rescored one, so that loading the encoder is not counted as an item's latency.
    """
    for item in warm_up[:WARM_UP_ITEMS]:
        language_id = timed(detect, item.text)[1] or ""
        first = timed(classifier.first_stage, item.text, language_id)[1] or []
        second = timed(classifier.second_stage, item.text, language_id, first)[1] or []
        if rescored(second):
            break
    stages: dict[str, list[float]] = {"language id": [], "first stage": []}
    second_all: list[float] = []
    second_rescoring: list[float] = []  # the items whose ambiguous findings the encoder rescored
    for item in items:
        stages["language id"].append(timed(detect, item.text)[0])
        elapsed, first = timed(classifier.first_stage, item.text, language[item.id])
        stages["first stage"].append(elapsed)
        if classifier.has_second_stage:
            elapsed, second = timed(classifier.second_stage, item.text, language[item.id], first or [])
            second_all.append(elapsed)
            if rescored(second or []):
                second_rescoring.append(elapsed)
    if classifier.has_second_stage:
        stages["second stage, every item"] = second_all
        stages["second stage, items it rescored"] = second_rescoring
    report = Report("Latency per item (µs)", ["stage", "items", "median", "p95", "errors"])
    for name, values in stages.items():
        finite = [v for v in values if not math.isnan(v)]
        median = statistics.median(finite) if finite else math.nan
        report.rows.append(
            [
                name,
                str(len(values)),
                fmt(median, 1),
                fmt(percentile(values, 0.95), 1),
                str(len(values) - len(finite)),
            ]
        )
    return report


@dataclass(frozen=True, slots=True)
class Throughput:
    texts: int
    wall_s: float
    cpu_s: float

    @property
    def per_wall_s(self) -> float:
        return self.texts / self.wall_s if self.wall_s else math.inf

    @property
    def per_cpu_s(self) -> float:
        return self.texts / self.cpu_s if self.cpu_s else math.inf


def throughput(call: Callable[[Item], object], items: Sequence[Item], passes: int) -> Throughput:
    """Texts per second of ``call`` over ``passes`` passes of ``items`` after one warm-up pass."""

    def one_pass() -> None:
        for item in items:
            try:
                call(item)
            except Exception:  # counted in the latency table; here only the time matters
                continue

    one_pass()
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(passes):
        one_pass()
    return Throughput(len(items) * passes, time.perf_counter() - wall, time.process_time() - cpu)


# ---- the command ------------------------------------------------------------------------------------------------


def evaluate(split: str, stages: str, passes: int, markdown: bool, corpus: Path) -> int:
    from vigil.detect.text.classifier import TextClassifier
    from vigil.detect.text.language import detect_language

    items = read_items(corpus / f"{split}.jsonl")
    notes = [f"split: {split} ({len(items)} items, {len({i.language for i in items})} languages)"]
    if hasattr(os, "sched_setaffinity"):  # "on one core" for real: threads a library starts share it
        core = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {core})
        notes.append(f"pinned to CPU {core}")
    first_only = TextClassifier(use_second_stage=False)
    runs = [classify_all("stage 1", first_only, items)]
    both: TextClassifier | None = None
    if stages == "both":
        both = TextClassifier(use_second_stage=True)
        if both.has_second_stage:
            runs.append(classify_all("stage 1+2", both, items))
        else:
            notes.append("second stage not installed (pip install vigil[ml]): stage one only")
            both = None
    language_table, detected = language_report(items, detect_language)
    reports = quality_reports(items, runs)
    reports.append(language_table)
    # each stage is timed with the language the cascade gives it: the detected one
    other = read_items(corpus / f"{SPLITS[1 - SPLITS.index(split)]}.jsonl")
    reports.append(latency_report(items, other, both or first_only, detect_language, detected))
    stage_one = throughput(lambda item: first_only.first_stage(item.text, detected[item.id]), items, passes)
    end_to_end = throughput(lambda item: first_only.classify(item.text), items, max(1, passes // 2))
    speed = Report("Throughput on one core (texts/s)", ["what", "texts", "by wall clock", "by CPU time"])
    for name, measured in (
        ("first_stage (language given)", stage_one),
        ("classify, second stage off (language id included)", end_to_end),
    ):
        speed.rows.append(
            [name, f"{measured.texts:,}", f"{measured.per_wall_s:,.0f}", f"{measured.per_cpu_s:,.0f}"]
        )
    reports.append(speed)
    reports.append(target_report(items, runs[0], runs, stage_one.per_wall_s))
    errors = [f"{run.name}: {error}" for run in runs for error in run.errors]
    if errors:
        reports.append(
            Report(
                "Items the classifier raised on", ["configuration: item: error"], [[e] for e in errors[:50]]
            )
        )
    if markdown:
        sys.stdout.write("\n".join(f"_{note}_" for note in notes) + "\n\n" + render_markdown(reports))
    else:
        for note in notes:
            print(note)
        render_rich(reports)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--split", choices=SPLITS, default="test", help="which split to evaluate (default test)"
    )
    parser.add_argument(
        "--stages", choices=("first", "both"), default="both", help="stage one alone, or also 1+2"
    )
    parser.add_argument("--passes", type=int, default=5, help="timed passes over the split for throughput")
    parser.add_argument("--markdown", action="store_true", help="print the tables as Markdown")
    parser.add_argument("--corpus", type=Path, default=CORPUS_DIR, help=argparse.SUPPRESS)
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("split", help="rewrite dev.jsonl and test.jsonl from the per-language files")
    args = parser.parse_args(argv)
    try:
        if args.command == "split":
            counts = write_splits(args.corpus)
            print(", ".join(f"{split}.jsonl: {n} items" for split, n in counts.items()))
            return 0
        return evaluate(args.split, args.stages, max(1, args.passes), args.markdown, args.corpus)
    except (CorpusError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
