"""Fit the second stage's heads on the development split (``train_verifier.py`` runs it).

The training rows are the split's items (positives of a category against everything else: other
categories' positives, hard negatives, benign chatter) and the sentences of ``exemplars.yaml``
(a category's positives against its look-alikes, the benign sentences and the other categories'
positives). Each category gets an L2-penalised logistic regression over the unit-length embeddings,
positives and negatives weighted to equal total weight, fitted by Newton's method from zero: no
randomness, so the same inputs give the same weights. The talk head is fitted the same way on the
harms' positives against their hard negatives and look-alike exemplars.

Cross-validation, within the development split only, chooses each head's penalty (from
:data:`PENALTIES`) and its threshold (the out-of-fold probability that maximises F1). Folds are
grouped: items whose embeddings are at least :data:`GROUP_SIMILARITY` alike (translations of one
skeleton score 0.7-0.8, so this also joins close paraphrases) are joined into one group, and a group
never straddles two folds; groups are dealt to folds so that every language is spread evenly. The
exemplars are training data in every fold and never evaluated.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from vigil.detect.text.calibrate import CATEGORIES, Item
from vigil.detect.text.embedding import (
    HEAD_FILE,
    Exemplars,
    Head,
    Matrix,
    centre,
    embed,
    logistic,
    sentence_encoder,
)
from vigil.detect.text.language import detect_language
from vigil.domain.taxonomy import Category

FOLDS = 5
SEED = 20_240_611
GROUP_SIMILARITY = 0.5
MIN_CENTRE_ROWS = 20
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
    talk: Flags  # per row: talks about a harm (hard negative, look-alike exemplar)
    talk_rows: Flags  # per row: whether it trains the talk head (harms and their look-alikes)


def training_set(items: Sequence[Item], exemplars: Exemplars) -> TrainingSet:
    """Embed the split's items and the exemplars (needs the encoder) and label them per category."""
    texts = [item.text for item in items]
    labels = [[category in item.labels for category in CATEGORIES] for item in items]
    talk = [item.kind == "hard_negative" for item in items]
    talk_rows = [item.kind in ("positive", "hard_negative") for item in items]
    for category, positives in exemplars.positive.items():
        for sentence in positives:
            texts.append(sentence)
            labels.append([category is each for each in CATEGORIES])
            talk.append(False)
            talk_rows.append(True)
    for negatives, is_look_alike in (
        *((negatives, True) for negatives in exemplars.negative.values()),
        (exemplars.benign, False),
    ):
        for sentence in negatives:
            texts.append(sentence)
            labels.append([False] * len(CATEGORIES))
            talk.append(is_look_alike)
            talk_rows.append(is_look_alike)
    vectors = embed(sentence_encoder(), texts)
    return TrainingSet(
        vectors,
        np.array(labels, dtype=np.bool_),
        tuple(detect_language(text) for text in texts),
        groups(vectors[: len(items)]),
        len(items),
        np.array(talk, dtype=np.bool_),
        np.array(talk_rows, dtype=np.bool_),
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


def fit(
    vectors: Floats, labels: Flags, penalty: float, start: Floats | None = None, *, balanced: bool = True
) -> tuple[Floats, float]:
    """Weights and bias of an L2-penalised (bias unpenalised) logistic regression, class-balanced
    unless ``balanced`` is False; ``start`` (weights then bias) is where Newton's method begins, zero
    by default."""
    rows, dims = vectors.shape
    positives = int(labels.sum())
    if positives in (0, rows):
        raise ValueError("a category needs positive and negative rows")
    y = labels.astype(np.float64)
    if balanced:
        weight = np.where(labels, 0.5 / positives, 0.5 / (rows - positives))  # sums to 1
    else:
        weight = np.full(rows, 1.0 / rows)
    design = np.hstack([vectors, np.ones((rows, 1))])
    ridge = np.full(dims + 1, penalty)
    ridge[-1] = 0.0
    theta = np.zeros(dims + 1) if start is None else start.copy()
    for _ in range(_NEWTON_STEPS):
        p = logistic(design @ theta)
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


def _out_of_fold(
    data: TrainingSet, vectors: Floats, rows: Ints, fold: Ints, labels: Flags, mask: Flags | None = None
) -> Floats:
    """Out-of-fold probabilities of one target (``labels``, one per row of ``data``; only rows in
    ``mask`` train) for split items ``rows``, one row per penalty of :data:`PENALTIES`; exemplars are
    always trained on. Each fold's fits go from the strongest penalty to the weakest, each starting
    where the previous one ended (the same optimum, fewer steps)."""
    extra = np.arange(data.dev, data.vectors.shape[0])
    out = np.zeros((len(PENALTIES), len(rows)))
    for f in np.unique(fold):
        train = np.concatenate([rows[fold != f], extra])
        if mask is not None:
            train = train[mask[train]]
        held = vectors[rows[fold == f]]
        theta: Floats | None = None
        for index in sorted(range(len(PENALTIES)), key=lambda i: -PENALTIES[i]):
            w, b = fit(vectors[train], labels[train], PENALTIES[index], theta)
            theta = np.append(w, b)
            out[index, fold == f] = logistic(held @ w + b)
    return out


TALK = "talk"  # the key of the talk head's choice beside the categories'


def choose(
    data: TrainingSet, centred: Centring, rows: Ints, count: int = FOLDS, seed: int = SEED
) -> dict[Category | str, Choice]:
    """Per category, and for the talk head (key :data:`TALK`), the penalty with the best out-of-fold
    F1 (``count`` folds) over split items ``rows``, and the threshold that gave it."""
    fold = folds(data.group[rows], [data.languages[r] for r in rows], count, seed)
    targets: list[tuple[Category | str, Flags, Flags | None]] = [
        (category, data.labels[:, column], None) for column, category in enumerate(CATEGORIES)
    ]
    targets.append((TALK, data.talk, data.talk_rows))
    choices: dict[Category | str, Choice] = {}
    for key, labels, mask in targets:
        kept = rows if mask is None else rows[mask[rows]]
        gold = labels[kept]
        best: tuple[float, Choice] | None = None
        for penalty, probabilities in zip(
            PENALTIES,
            _out_of_fold(
                data, centred.vectors, kept, fold if mask is None else fold[mask[rows]], labels, mask
            ),
            strict=True,
        ):
            threshold = _best_threshold(probabilities, gold)
            f1 = _f1(probabilities >= threshold, gold)
            if best is None or f1 > best[0]:
                best = (f1, Choice(penalty, threshold))
        assert best is not None
        choices[key] = best[1]
    return choices


def fit_head(data: TrainingSet, centred: Centring, rows: Ints, choices: dict[Category | str, Choice]) -> Head:
    """The head (and the talk head) fitted on split items ``rows`` and every exemplar, with the chosen
    penalties and thresholds; weights rounded to float32 as they are stored."""
    keep = np.concatenate([rows, np.arange(data.dev, data.vectors.shape[0])])
    weights, bias = [], []
    for column, category in enumerate(CATEGORIES):
        w, b = fit(centred.vectors[keep], data.labels[keep, column], choices[category].penalty)
        weights.append(w)
        bias.append(b)
    talking = keep[data.talk_rows[keep]]
    talk_w, talk_b = fit(centred.vectors[talking], data.talk[talking], choices[TALK].penalty)
    return Head(
        CATEGORIES,
        np.array(weights, dtype=np.float32).astype(np.float64),
        np.array(bias),
        np.array([choices[c].threshold for c in CATEGORIES]),
        centred.languages,
        centred.centres,
        talk_w.astype(np.float32).astype(np.float64),
        talk_b,
    )


def train(data: TrainingSet, choices: dict[Category | str, Choice]) -> Head:
    """The head fitted on every row of ``data``, centres from every split item."""
    rows = np.arange(data.dev)
    return fit_head(data, centring(data, rows), rows, choices)


def shipped_choices(path: Path = HEAD_FILE) -> dict[Category | str, Choice]:
    """The penalties and thresholds a saved head (and its talk head) was trained with."""
    with np.load(path, allow_pickle=False) as data:
        choices: dict[Category | str, Choice] = {
            Category(str(c)): Choice(float(p), float(t))
            for c, p, t in zip(data["categories"], data["penalties"], data["thresholds"], strict=True)
        }
        choices[TALK] = Choice(float(data["talk_penalty"]), 0.5)
    return choices


def save(head: Head, choices: dict[Category | str, Choice], source: Path, path: Path = HEAD_FILE) -> None:
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
        talk_weights=head.talk_weights.astype(np.float32),
        talk_bias=np.array(head.talk_bias),
        talk_penalty=np.array(choices[TALK].penalty),
        source_sha256=np.array(hashlib.sha256(source.read_bytes()).hexdigest()),
    )
