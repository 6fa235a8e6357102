"""Fit the first stage's calibration on the labelled development split, and report how it does.

    .venv/bin/python -m vigil.detect.text.calibrate tests/data/text_corpus/dev.jsonl          # report only
    .venv/bin/python -m vigil.detect.text.calibrate tests/data/text_corpus/dev.jsonl --write  # refit, save

Only the development split is ever read here; the held-out test split is for reporting (the
harness in ``bench/classifiers.py``), never for fitting. For each category the raw first-stage score
of every item (0 when nothing matched) and whether the item carries the category give a 1-D logistic
regression, fitted by Newton's method with an L2 penalty on the slope (the dev split is small; the
penalty keeps one odd item from steering the curve). The slope is kept positive. The threshold is the
calibrated score, among those the dev items take, that maximises F1 on the dev split, never below
0.5, so that ``flagged`` means "more likely than not" at least.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from vigil.detect.text.classifier import CALIBRATION_FILE, TextClassifier
from vigil.domain.taxonomy import Category

CATEGORIES = (
    Category.TERRORISM,
    Category.DRUGS,
    Category.FRAUD,
    Category.HATE_SPEECH,
    Category.GROOMING,
    Category.NCII,
    Category.SPAM,
)
_L2 = 0.05


MAX_ITEMS = 100_000  # a corpus file larger than this is refused, not read half-way
KINDS = ("positive", "hard_negative", "benign")


class CorpusFileError(ValueError):
    """A line of a corpus file is not a labelled item; the message names the file and the line."""


@dataclass(frozen=True, slots=True)
class Item:
    """One labelled text of a corpus split (``tests/data/text_corpus/README.md``)."""

    text: str
    language: str
    labels: frozenset[Category]
    kind: str  # positive, hard_negative or benign
    id: str
    negative_type: str = ""  # news, counter_speech, ... (hard negatives)
    evasion: str = ""  # spacing, leetspeak, ... (evasive positives)


def read_items(path: Path) -> list[Item]:
    """The items of a JSON-lines corpus file; :class:`CorpusFileError` names the first bad line."""
    items: list[Item] = []
    with path.open(encoding="utf-8") as stream:
        for number, line in enumerate(stream, 1):
            if not line.strip():
                continue
            if len(items) >= MAX_ITEMS:
                raise CorpusFileError(f"{path.name}: more than {MAX_ITEMS} items")
            try:
                data = json.loads(line)
                labels = frozenset(Category(c) for c in data["labels"])
                kind = str(data["kind"])
                if kind not in KINDS or (kind == "positive") != bool(labels):
                    raise ValueError(f"kind {kind!r} does not fit labels {sorted(labels)}")
                items.append(
                    Item(
                        str(data["text"]),
                        str(data["language"]),
                        labels,
                        kind,
                        str(data["id"]),
                        str(data.get("negative_type", "")),
                        str(data.get("evasion", "")),
                    )
                )
            except (ValueError, KeyError, TypeError) as error:
                raise CorpusFileError(f"{path.name} line {number}: {error}") from None
    return items


def read_dev_split(path: Path, doing: str) -> list[Item]:
    """The items of the development split for a tuning script (``doing``: "calibrate", "train");
    exits with one line when ``path`` is the held-out split (refused by name, before reading) or
    cannot be read."""
    if path.name.startswith("test"):
        sys.exit(f"refusing to read the held-out test split: {doing} on the development split only")
    try:
        return read_items(path)
    except (OSError, CorpusFileError) as error:
        sys.exit(str(error))


def fit_logistic(xs: Sequence[float], ys: Sequence[int]) -> tuple[float, float]:
    """``a`` and ``b`` of ``P(y) = 1 / (1 + exp(-(a x + b)))`` by penalised Newton iterations."""
    a, b = 1.0, 0.0
    for _ in range(100):
        ga = gb = haa = hab = hbb = 0.0
        for x, y in zip(xs, ys, strict=True):
            p = 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, a * x + b))))
            ga += (p - y) * x
            gb += p - y
            w = p * (1 - p)
            haa += w * x * x
            hab += w * x
            hbb += w
        ga += _L2 * a
        haa += _L2
        det = haa * hbb - hab * hab
        if det <= 1e-12:
            break
        da = (hbb * ga - hab * gb) / det
        db = (haa * gb - hab * ga) / det
        a, b = max(0.5, a - da), b - db
        if abs(da) < 1e-7 and abs(db) < 1e-7:
            break
    return a, b


def _raw_scores(classifier: TextClassifier, items: Sequence[Item]) -> list[dict[Category, float]]:
    """Raw (uncalibrated) first-stage scores, recovered from the calibrated ones."""
    out: list[dict[Category, float]] = []
    cal = classifier.calibration
    for item in items:
        raw: dict[Category, float] = {}
        for finding in classifier.first_stage(item.text, item.language):
            p = min(max(finding.score, 1e-12), 1 - 1e-12)
            raw[finding.category] = (math.log(p / (1 - p)) - cal.b[finding.category]) / cal.a[
                finding.category
            ]
        out.append(raw)
    return out


def _best_threshold(scores: Sequence[float], ys: Sequence[int]) -> float:
    best, best_f1 = 0.5, -1.0
    for threshold in sorted({s for s in scores if s >= 0.5} | {0.5}):
        tp = sum(1 for s, y in zip(scores, ys, strict=True) if s >= threshold and y)
        fp = sum(1 for s, y in zip(scores, ys, strict=True) if s >= threshold and not y)
        fn = sum(1 for s, y in zip(scores, ys, strict=True) if s < threshold and y)
        f1 = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
        if f1 > best_f1:
            best, best_f1 = threshold, f1
    return best


def report(classifier: TextClassifier, items: Sequence[Item], *, second_stage: bool = False) -> None:
    """Precision and recall per category (and per language) of ``flagged`` on ``items``."""
    counts: dict[tuple[str, Category], list[int]] = {}
    for item in items:
        if second_stage:
            flagged = set(classifier.classify(item.text, item.language).flagged)
        else:
            flagged = {
                f.category
                for f in classifier.first_stage(item.text, item.language)
                if f.score >= classifier.thresholds[f.category]
            }
        for category in CATEGORIES:
            for key in (("all", category), (item.language, category)):
                tp_fp_fn = counts.setdefault(key, [0, 0, 0])
                if category in flagged and category in item.labels:
                    tp_fp_fn[0] += 1
                elif category in flagged:
                    tp_fp_fn[1] += 1
                elif category in item.labels:
                    tp_fp_fn[2] += 1
    print(f"{'lang':<5} {'category':<12} {'P':>6} {'R':>6} {'F1':>6}  tp/fp/fn")
    for (language, category), (tp, fp, fn) in sorted(
        counts.items(), key=lambda kv: (kv[0][0] != "all", kv[0])
    ):
        if tp + fp + fn == 0:
            continue
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
        print(
            f"{language:<5} {category.value:<12} {precision:>6.2f} {recall:>6.2f} {f1:>6.2f}  {tp}/{fp}/{fn}"
        )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("dev", type=Path, help="the development split (JSON lines)")
    parser.add_argument("--write", action="store_true", help=f"refit and save {CALIBRATION_FILE.name}")
    parser.add_argument("--second-stage", action="store_true", help="report classify() with the second stage")
    args = parser.parse_args(argv)
    items = read_dev_split(args.dev, "calibrate")
    classifier = TextClassifier(use_second_stage=False)
    if args.write:
        raws = _raw_scores(classifier, items)
        data = yaml.safe_load(CALIBRATION_FILE.read_text(encoding="utf-8"))
        for category in CATEGORIES:
            xs = [raw.get(category, 0.0) for raw in raws]
            ys = [int(category in item.labels) for item in items]
            a, b = fit_logistic(xs, ys)
            scores = [1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, a * x + b)))) for x in xs]
            threshold = _best_threshold(scores, ys)
            data["categories"][category.value] = {
                "a": round(a, 4),
                "b": round(b, 4),
                # rounded down: rounding up could lift it above the very scores it was chosen at
                "threshold": math.floor(threshold * 10_000) / 10_000,
            }
        header = "".join(
            line + "\n"
            for line in CALIBRATION_FILE.read_text(encoding="utf-8").splitlines()
            if line.startswith("#")
        )
        CALIBRATION_FILE.write_text(
            header + yaml.safe_dump(data, sort_keys=False, default_flow_style=None), encoding="utf-8"
        )
    if args.write or args.second_stage:
        classifier = TextClassifier(use_second_stage=args.second_stage)
    report(classifier, items, second_stage=args.second_stage)


if __name__ == "__main__":
    main()
