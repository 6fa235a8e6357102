"""Train the second stage's head on the development split, and estimate how well it generalises.

    .venv/bin/python -m vigil.detect.text.train_head tests/data/text_corpus/dev.jsonl          # report only
    .venv/bin/python -m vigil.detect.text.train_head tests/data/text_corpus/dev.jsonl --write  # refit, save

Only the development split is ever read; a file whose name starts with ``test`` is refused. The
training rows are the split's items (positives of a category against everything else: other
categories' positives, hard negatives, benign chatter) and the sentences of ``exemplars.yaml``
(a category's positives against its look-alikes, the benign sentences and the other categories'
positives). Each category gets an L2-penalised logistic regression over the unit-length embeddings,
positives and negatives weighted to equal total weight, fitted by Newton's method from zero: no
randomness, so the same inputs give the same weights.

Cross-validation, within the development split only, chooses each category's penalty (from
:data:`PENALTIES`) and its threshold (the out-of-fold probability that maximises F1). Folds are
grouped: items whose embeddings are at least :data:`GROUP_SIMILARITY` alike (translations of one
skeleton score 0.7-0.8, so this also joins close paraphrases) are joined into one group, and a group
never straddles two folds; groups are dealt to folds so that every language is spread evenly. The
exemplars are training data in every fold and never evaluated.

The report is nested cross-validation: for each outer fold, the language centres come from the other
folds and the penalty and threshold are chosen by an inner (:data:`INNER_FOLDS`-fold) cross-validation
on them, the head is fitted there and judged on the held-out fold.
That figure, per category, for the head alone and for the cascade, is the honest estimate; the
in-sample one (``bench/classifiers.py --split dev``) is not. In the cascade column stage 1 is still
in-sample (its lexicons were tuned on this split), so it flatters the cascade; the head-alone column
does not have that bias.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from vigil.detect.text.calibrate import CATEGORIES, Item, read_items
from vigil.detect.text.classifier import CategoryFinding, TextClassifier, combine, needs_second_stage
from vigil.detect.text.embedding import (
    HEAD_FILE,
    Estimate,
    Exemplars,
    Head,
    Matrix,
    centre,
    embed,
    load_exemplars,
    sentence_encoder,
)
from vigil.detect.text.language import detect_language
from vigil.domain.taxonomy import Category

FOLDS = 5
SEED = 20_240_611
GROUP_SIMILARITY = 0.5
MIN_CENTRE_ROWS = 20
INNER_FOLDS = 3  # of the nested report's inner cross-validation: fewer, to keep its cost in minutes
PENALTIES = (1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 3e-3)
_NEWTON_STEPS = 50

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]
Flags = npt.NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class TrainingSet:
    """Embeddings and labels: the split's items first (``dev`` of them), then the exemplars."""

    vectors: Matrix  # rows x 512, unit length, not centred
    labels: Flags  # rows x categories
    languages: tuple[str, ...]  # detected, as the classifier would, per row
    group: Ints  # per split item: items in one group never go to different folds
    dev: int


def training_set(items: Sequence[Item], exemplars: Exemplars) -> TrainingSet:
    """Embed the split's items and the exemplars (needs the encoder) and label them per category."""
    texts = [item.text for item in items]
    labels = [[category in item.labels for category in CATEGORIES] for item in items]
    for category, positives in exemplars.positive.items():
        for sentence in positives:
            texts.append(sentence)
            labels.append([category is each for each in CATEGORIES])
    for negatives in (*exemplars.negative.values(), exemplars.benign):
        for sentence in negatives:
            texts.append(sentence)
            labels.append([False] * len(CATEGORIES))
    vectors = embed(sentence_encoder(), texts)
    return TrainingSet(
        vectors,
        np.array(labels, dtype=np.bool_),
        tuple(detect_language(text) for text in texts),
        groups(vectors[: len(items)]),
        len(items),
    )


@dataclass(frozen=True, slots=True)
class Centring:
    """Language centres taken from some split items, and every row of a training set centred with them."""

    languages: tuple[str, ...]  # "" first: the mean over all those items
    centres: Floats
    vectors: Floats


def centring(data: TrainingSet, rows: Ints) -> Centring:
    """Centres from the split items ``rows`` (a language with fewer than :data:`MIN_CENTRE_ROWS` of them
    uses the overall one) applied to every row of ``data``."""
    counts = Counter(data.languages[r] for r in rows)
    codes = sorted(code for code, n in counts.items() if code and n >= MIN_CENTRE_ROWS)
    means = [data.vectors[rows].astype(np.float64).mean(axis=0)]
    for code in codes:
        members = [r for r in rows if data.languages[r] == code]
        means.append(data.vectors[members].astype(np.float64).mean(axis=0))
    known, centres = ("", *codes), np.array(means)
    return Centring(known, centres, centre(data.vectors, data.languages, known, centres))


def fit(vectors: Floats, labels: Flags, penalty: float, start: Floats | None = None) -> tuple[Floats, float]:
    """Weights and bias of a class-balanced, L2-penalised (bias unpenalised) logistic regression;
    ``start`` (weights then bias) is where Newton's method begins, zero by default."""
    rows, dims = vectors.shape
    positives = int(labels.sum())
    if positives in (0, rows):
        raise ValueError("a category needs positive and negative rows")
    y = labels.astype(np.float64)
    weight = np.where(labels, 0.5 / positives, 0.5 / (rows - positives))  # sums to 1
    design = np.hstack([vectors, np.ones((rows, 1))])
    ridge = np.full(dims + 1, penalty)
    ridge[-1] = 0.0
    theta = np.zeros(dims + 1) if start is None else start.copy()
    for _ in range(_NEWTON_STEPS):
        p = 1.0 / (1.0 + np.exp(-np.clip(design @ theta, -50.0, 50.0)))
        gradient = design.T @ (weight * (p - y)) + ridge * theta
        hessian = (design.T * (weight * p * (1.0 - p))) @ design + np.diag(ridge)
        step = np.linalg.solve(hessian, gradient)
        theta -= step
        if float(np.max(np.abs(step))) < 1e-9:
            break
    return theta[:-1], float(theta[-1])


def groups(vectors: Matrix) -> Ints:
    """A group number per row: rows at least :data:`GROUP_SIMILARITY` alike, directly or through
    others, share one (union-find over the similarity graph)."""
    parent = list(range(vectors.shape[0]))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    close = np.triu(vectors @ vectors.T >= GROUP_SIMILARITY, k=1)
    for i, j in zip(*np.nonzero(close), strict=True):
        parent[root(int(i))] = root(int(j))
    return np.array([root(i) for i in range(len(parent))], dtype=np.int64)


def folds(group: Ints, languages: Sequence[str], count: int = FOLDS, seed: int = SEED) -> Ints:
    """A fold per row: whole groups, largest first (ties in a seeded random order), each to the fold
    that holds the fewest rows of the group's languages so far."""
    members: dict[int, list[int]] = {}
    for row, g in enumerate(group.tolist()):
        members.setdefault(g, []).append(row)
    order = np.random.default_rng(seed).permutation(len(members))
    keyed = sorted(zip(order.tolist(), members.values(), strict=True), key=lambda kv: (-len(kv[1]), kv[0]))
    per_language: list[Counter[str]] = [Counter() for _ in range(count)]
    sizes = [0] * count
    assigned = np.zeros(len(languages), dtype=np.int64)
    for _, rows in keyed:
        wanted = Counter(languages[r] for r in rows)
        chosen = min(range(count), key=lambda f: (sum(per_language[f][lang] for lang in wanted), sizes[f], f))
        for r in rows:
            assigned[r] = chosen
        per_language[chosen].update(wanted)
        sizes[chosen] += len(rows)
    return assigned


def _best_threshold(probabilities: Floats, labels: Flags) -> float:
    """The cut that maximises F1, halfway between the lowest score kept and the highest one left out."""
    order = np.argsort(-probabilities, kind="stable")
    ranked, gold = probabilities[order], labels[order]
    tp = np.cumsum(gold)
    fp = np.cumsum(~gold)
    f1 = 2 * tp / (tp + fp + gold.sum())
    distinct = np.append(ranked[1:] < ranked[:-1], True)  # cut only between different scores
    f1 = np.where(distinct, f1, -1.0)
    best = int(np.argmax(f1))
    below = ranked[best + 1] if best + 1 < len(ranked) else 0.0
    return float(min(max((ranked[best] + below) / 2, 0.01), 0.99))


@dataclass(frozen=True, slots=True)
class Choice:
    penalty: float
    threshold: float


def _f1(predicted: Flags, gold: Flags) -> float:
    tp = int((predicted & gold).sum())
    return 2 * tp / (int(predicted.sum()) + int(gold.sum())) if tp else 0.0


def _out_of_fold(data: TrainingSet, vectors: Floats, rows: Ints, fold: Ints, column: int) -> Floats:
    """Out-of-fold probabilities of one category for split items ``rows``, one row per penalty of
    :data:`PENALTIES`; exemplars are always trained on. Each fold's fits go from the strongest penalty
    to the weakest, each starting where the previous one ended (the same optimum, fewer steps)."""
    extra = np.arange(data.dev, data.vectors.shape[0])
    out = np.zeros((len(PENALTIES), len(rows)))
    for f in np.unique(fold):
        train = np.concatenate([rows[fold != f], extra])
        held = vectors[rows[fold == f]]
        theta: Floats | None = None
        for index in sorted(range(len(PENALTIES)), key=lambda i: -PENALTIES[i]):
            w, b = fit(vectors[train], data.labels[train, column], PENALTIES[index], theta)
            theta = np.append(w, b)
            out[index, fold == f] = 1.0 / (1.0 + np.exp(-np.clip(held @ w + b, -50.0, 50.0)))
    return out


def choose(
    data: TrainingSet, centred: Centring, rows: Ints, count: int = FOLDS, seed: int = SEED
) -> dict[Category, Choice]:
    """Per category, the penalty with the best out-of-fold F1 (``count`` folds) over split items
    ``rows``, and the threshold that gave it."""
    fold = folds(data.group[rows], [data.languages[r] for r in rows], count, seed)
    choices: dict[Category, Choice] = {}
    for column, category in enumerate(CATEGORIES):
        gold = data.labels[rows, column]
        best: tuple[float, Choice] | None = None
        for penalty, probabilities in zip(
            PENALTIES, _out_of_fold(data, centred.vectors, rows, fold, column), strict=True
        ):
            threshold = _best_threshold(probabilities, gold)
            f1 = _f1(probabilities >= threshold, gold)
            if best is None or f1 > best[0]:
                best = (f1, Choice(penalty, threshold))
        assert best is not None
        choices[category] = best[1]
    return choices


def fit_head(data: TrainingSet, centred: Centring, rows: Ints, choices: dict[Category, Choice]) -> Head:
    """The head fitted on split items ``rows`` and every exemplar, with the chosen penalties and
    thresholds; weights rounded to float32 as they are stored."""
    keep = np.concatenate([rows, np.arange(data.dev, data.vectors.shape[0])])
    weights, bias = [], []
    for column, category in enumerate(CATEGORIES):
        w, b = fit(centred.vectors[keep], data.labels[keep, column], choices[category].penalty)
        weights.append(w)
        bias.append(b)
    return Head(
        CATEGORIES,
        np.array(weights, dtype=np.float32).astype(np.float64),
        np.array(bias),
        np.array([choices[c].threshold for c in CATEGORIES]),
        centred.languages,
        centred.centres,
    )


def train(data: TrainingSet, choices: dict[Category, Choice]) -> Head:
    """The head fitted on every row of ``data``, centres from every split item."""
    rows = np.arange(data.dev)
    return fit_head(data, centring(data, rows), rows, choices)


def nested(data: TrainingSet) -> Flags:
    """Per split item and category, whether the head flags it when its fold took no part in fitting
    the head, its language centres, or the choice of its penalty and threshold."""
    rows = np.arange(data.dev)
    outer = folds(data.group, data.languages[: data.dev])
    flags = np.zeros((data.dev, len(CATEGORIES)), dtype=np.bool_)
    for f in range(FOLDS):
        inner = rows[outer != f]
        centred = centring(data, inner)
        choices = choose(data, centred, inner, INNER_FOLDS, SEED + f + 1)
        head = fit_head(data, centred, inner, choices)
        held = rows[outer == f]
        probabilities = head.probabilities(data.vectors[held], [data.languages[r] for r in held])
        flags[held] = probabilities >= head.thresholds
    return flags


def shipped_choices(path: Path = HEAD_FILE) -> dict[Category, Choice]:
    """The penalties and thresholds a saved head was trained with."""
    with np.load(path, allow_pickle=False) as data:
        return {
            Category(str(c)): Choice(float(p), float(t))
            for c, p, t in zip(data["categories"], data["penalties"], data["thresholds"], strict=True)
        }


def _cascade(
    first: Sequence[CategoryFinding], head_flags: Flags, classifier: TextClassifier
) -> set[Category]:
    """What the cascade flags for one text given stage 1's findings and the head's decisions; the head's
    decision stands in for its probability (flagging exactly when it reaches its threshold)."""
    if not needs_second_stage(first, classifier.thresholds, classifier.calibration.confident):
        findings = list(first)
    else:
        estimates = {
            category: Estimate(0.75 if flag else 0.25, 0.5, "", 0.0, "", 0.0)
            for category, flag in zip(CATEGORIES, head_flags.tolist(), strict=True)
        }
        findings = combine(first, estimates, classifier.thresholds, classifier.calibration.min_score)
    return {f.category for f in findings if f.score >= classifier.thresholds[f.category]}


def report(items: Sequence[Item], head_flags: Flags) -> None:
    """Per category precision and recall: stage 1, head alone, cascade."""
    classifier = TextClassifier(use_second_stage=False)
    first = [list(classifier.classify(item.text).findings) for item in items]  # language detected
    stage1 = [{f.category for f in found if f.score >= classifier.thresholds[f.category]} for found in first]
    cascade = [_cascade(found, flags, classifier) for found, flags in zip(first, head_flags, strict=True)]
    print(f"{'category':<12} {'support':>7}  {'stage 1 P/R':>11}  {'head P/R':>11}  {'cascade P/R':>11}")
    for column, category in enumerate(CATEGORIES):
        gold = np.array([category in item.labels for item in items])
        cells = []
        for predicted in (
            np.array([category in s for s in stage1]),
            head_flags[:, column],
            np.array([category in s for s in cascade]),
        ):
            tp = int((predicted & gold).sum())
            precision = tp / int(predicted.sum()) if predicted.any() else 0.0
            cells.append(f"{precision:.2f}/{tp / int(gold.sum()):.2f}")
        print(f"{category.value:<12} {int(gold.sum()):>7}  {cells[0]:>11}  {cells[1]:>11}  {cells[2]:>11}")


def save(head: Head, choices: dict[Category, Choice], source: Path, path: Path = HEAD_FILE) -> None:
    """Write the head (weights as float32) with the penalties and the training file's SHA-256."""
    np.savez_compressed(
        path,
        categories=np.array([c.value for c in head.categories]),
        weights=head.weights.astype(np.float32),
        bias=head.bias,
        thresholds=head.thresholds,
        languages=np.array(head.languages),
        centres=head.centres,
        penalties=np.array([choices[c].penalty for c in head.categories]),
        source_sha256=np.array(hashlib.sha256(source.read_bytes()).hexdigest()),
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("dev", type=Path, help="the development split (JSON lines)")
    parser.add_argument("--write", action="store_true", help=f"refit and save {HEAD_FILE.name}")
    parser.add_argument("--no-report", action="store_true", help="skip the nested cross-validation")
    args = parser.parse_args(argv)
    if args.dev.name.startswith("test"):
        sys.exit("refusing to read the held-out test split: train on the development split only")
    items = read_items(args.dev)
    data = training_set(items, load_exemplars())
    if args.write:
        rows = np.arange(data.dev)
        choices = choose(data, centring(data, rows), rows)
        save(train(data, choices), choices, args.dev)
        for category, choice in choices.items():
            print(f"{category.value:<12} penalty {choice.penalty:g}  threshold {choice.threshold:.3f}")
    if not args.no_report:
        print("nested cross-validation on the development split (honest estimate):")
        report(items, nested(data))


if __name__ == "__main__":
    main()
