"""Train the second stage (heads and talk head) and the verifier on the development split.

    .venv/bin/python -m vigil.detect.text.train_verifier tests/data/text_corpus/dev.jsonl          # report
    .venv/bin/python -m vigil.detect.text.train_verifier tests/data/text_corpus/dev.jsonl --write  # refit, save

Only the development split is read; a file whose name starts with ``test`` is refused.

1. The heads (``train_head.py``): per category and for the talk head, the penalty is chosen by
   grouped cross-validation on the whole split; then each of :data:`~train_head.FOLDS` grouped folds
   gets the heads fitted on the other folds (and the exemplars), which gives every split item
   out-of-fold head and talk probabilities.
2. Stage 1 reads every item (language detected as in production): its calibrated score per category
   and the categories a context phrase applies to.
3. The verifier (``verifier.py``) is fitted only on the split items whose ids are *not* listed in
   ``lexicon_tuned.txt`` beside the split: the lexicons were written while looking at the listed ones,
   so stage 1's scores on them are in-sample and a judge fitted there would learn to over-trust
   them. Per category, a logistic regression (not class-balanced: ``q`` is meant as a frequency of the
   split) over the four features; out-of-fold ``q`` over the same folds chooses the anchors:
   ``review_at``, the cut with the best F1 (a recall floor was tried first: with the heads this
   corpus allows, recall 0.85 meant flagging most hard negatives of some categories), and ``act_at``, the lowest cut from which, among items
   without a context phrase, at least :data:`MIN_ACTED` were flagged with precision at least
   :data:`ACT_PRECISION` (none when no cut does). The same for the lexicon-only judges.
4. ``--write`` saves the heads fitted on the whole split (``embedding_head.npz``) and the judges
   fitted on all the fresh items with their anchors and out-of-fold figures (``verifier.yaml``).

The figures printed are out-of-fold on the development split; the held-out figures come from
``vigil eval --split test``, which no step here reads.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from vigil.detect.text.calibrate import CATEGORIES, Item, read_dev_split
from vigil.detect.text.classifier import TextClassifier
from vigil.detect.text.embedding import load_exemplars, logistic
from vigil.detect.text.train_head import (
    FOLDS,
    Flags,
    Floats,
    Ints,
    centring,
    choose,
    fit,
    fit_head,
    folds,
    save,
    train,
    training_set,
)
from vigil.detect.text.verifier import FEATURES, LEXICON_FEATURES, VERIFIER_FILE, lexicon_feature

ACT_PRECISION = 0.98
MIN_ACTED = 10
COMBINER_PENALTY = 1e-2
TUNED_LIST = "lexicon_tuned.txt"


def _logits(p: Floats) -> Floats:
    clipped = np.clip(p, 1e-6, 1 - 1e-6)
    result: Floats = np.log(clipped / (1 - clipped))
    return result


@dataclass(frozen=True, slots=True)
class Anchors:
    review_at: float
    act_at: float | None
    precision: float  # of flags at review_at, out of fold
    recall: float
    acted: int  # items without context at or above act_at
    act_precision: float
    act_recall: float


def anchors(q: Floats, gold: Flags, framed: Flags) -> Anchors:
    """The review and act cuts on out-of-fold ``q`` (see the module docstring)."""
    order = np.argsort(-q, kind="stable")
    ranked, truth = q[order], gold[order]
    tp, fp = np.cumsum(truth), np.cumsum(~truth)
    total = max(int(gold.sum()), 1)
    distinct = np.append(ranked[1:] < ranked[:-1], True)
    f1 = 2 * tp / (tp + fp + total)
    best = int(np.argmax(np.where(distinct, f1, -1.0)))
    below = ranked[best + 1] if best + 1 < len(ranked) else ranked[best] / 2
    review_at = float(min(max((ranked[best] + below) / 2, 1e-4), 0.999))
    flagged = q >= review_at
    precision = float((flagged & gold).sum() / max(int(flagged.sum()), 1))
    flag_recall = float((flagged & gold).sum() / total)
    # the act cut: among texts without a context phrase, the lowest cut precise enough
    plain = ~framed
    order = np.argsort(-q[plain], kind="stable")
    ranked, truth = q[plain][order], gold[plain][order]
    tp, n = np.cumsum(truth), np.arange(1, len(ranked) + 1)
    distinct = np.append(ranked[1:] < ranked[:-1], True)
    ok = distinct & (n >= MIN_ACTED) & (tp / n >= ACT_PRECISION) & (ranked > review_at)
    if not ok.any():
        return Anchors(review_at, None, precision, flag_recall, 0, 0.0, 0.0)
    last = int(np.nonzero(ok)[0].max())
    below = ranked[last + 1] if last + 1 < len(ranked) else review_at
    act_at = float(min(max((ranked[last] + below) / 2, review_at + 1e-4), 0.9999))
    acted = plain & (q >= act_at)
    return Anchors(
        review_at,
        act_at,
        precision,
        flag_recall,
        int(acted.sum()),
        float((acted & gold).sum() / max(int(acted.sum()), 1)),
        float((acted & gold).sum() / total),
    )


@dataclass(frozen=True, slots=True)
class Fitted:
    weights: Floats
    bias: float
    anchors: Anchors
    flagged: Flags  # out of fold, per row: q reached review_at


def fit_judges(features: Floats, gold: Flags, framed: Flags, fold: Ints) -> Fitted:
    """One category's judge: out-of-fold ``q`` over ``fold`` for the anchors, then the fit on all rows."""
    q = np.zeros(len(gold))
    for f in np.unique(fold):
        train_rows, held = fold != f, fold == f
        w, b = fit(features[train_rows], gold[train_rows], COMBINER_PENALTY, balanced=False)
        q[held] = logistic(features[held] @ w + b)
    w, b = fit(features, gold, COMBINER_PENALTY, balanced=False)
    chosen = anchors(q, gold, framed)
    return Fitted(w, b, chosen, q >= chosen.review_at)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("dev", type=Path, help="the development split (JSON lines)")
    parser.add_argument("--write", action="store_true", help="refit and save the heads and verifier.yaml")
    args = parser.parse_args(argv)
    items = read_dev_split(args.dev, "train")
    tuned_path = args.dev.with_name(TUNED_LIST)
    tuned = set(tuned_path.read_text(encoding="utf-8").split()) if tuned_path.exists() else set()
    data = training_set(items, load_exemplars())
    rows = np.arange(data.dev)
    choices = choose(data, centring(data, rows), rows)
    outer = folds(data.group, data.languages[: data.dev])
    head_p = np.zeros((data.dev, len(CATEGORIES)))
    talk_p = np.zeros(data.dev)
    for f in range(FOLDS):
        fitted = fit_head(data, centring(data, rows[outer != f]), rows[outer != f], choices)
        held = rows[outer == f]
        languages = [data.languages[r] for r in held]
        head_p[held] = fitted.probabilities(data.vectors[held], languages)
        talk_p[held] = fitted.talk(data.vectors[held], languages)
    first = TextClassifier(use_second_stage=False)
    readings = [first.first_reading(item.text) for item in items]
    fresh = np.array([item.id not in tuned for item in items])
    print(
        f"{int(fresh.sum())} of {len(items)} split items train the judges ({len(tuned)} listed as tuned on)"
    )
    modes: dict[str, dict[str, Any]] = {"full": {}, "lexicon_only": {}}
    report: list[str] = []
    flags = {mode: np.zeros((int(fresh.sum()), len(CATEGORIES)), dtype=np.bool_) for mode in modes}
    for column, category in enumerate(CATEGORIES):
        lexicon = np.array([lexicon_feature(_score(found, category)) for _, found, _ in readings])
        framed = np.array([category in frames for _, _, frames in readings])
        gold = data.labels[: data.dev, column]
        full = np.column_stack([lexicon, _logits(head_p[:, column]), _logits(talk_p), framed.astype(float)])
        alone = np.column_stack([lexicon, framed.astype(float)])
        for mode, names, features in (("full", FEATURES, full), ("lexicon_only", LEXICON_FEATURES, alone)):
            judged = fit_judges(features[fresh], gold[fresh], framed[fresh], outer[fresh])
            flags[mode][:, column] = judged.flagged
            a = judged.anchors
            modes[mode][category.value] = {
                "weights": {name: round(float(w), 4) for name, w in zip(names, judged.weights, strict=True)},
                "bias": round(judged.bias, 4),
                "review_at": round(a.review_at, 6),
                "act_at": None if a.act_at is None else round(a.act_at, 6),
                "measured": {
                    "positives": int(gold[fresh].sum()),
                    "flag_precision": round(a.precision, 3),
                    "flag_recall": round(a.recall, 3),
                    "acted": a.acted,
                    "act_precision": round(a.act_precision, 3),
                    "act_recall": round(a.act_recall, 3),
                },
            }
            report.append(
                f"{mode:<13} {category.value:<12} {int(gold[fresh].sum()):>4}  flag P {a.precision:.2f} "
                f"R {a.recall:.2f}  act "
                + (
                    f"from q {a.act_at:.3f}: {a.acted} items, P {a.act_precision:.2f} R {a.act_recall:.2f}"
                    if a.act_at is not None
                    else "never (precision 0.98 not reached)"
                )
            )
    print("out-of-fold on the development split's fresh items:")
    print("\n".join(sorted(report)))
    print(_per_language([item for item, new in zip(items, fresh, strict=True) if new], flags))
    if args.write:
        save(train(data, choices), choices, args.dev)
        header = (
            "".join(
                line + "\n"
                for line in VERIFIER_FILE.read_text(encoding="utf-8").splitlines()
                if line.startswith("#")
            )
            if VERIFIER_FILE.exists()
            else ""
        )
        VERIFIER_FILE.write_text(
            header
            + yaml.safe_dump({"modes": {m: {"categories": c} for m, c in modes.items()}}, sort_keys=False),
            encoding="utf-8",
        )


def _per_language(items: Sequence[Item], flags: dict[str, Flags]) -> str:
    """Out-of-fold flag recall and the share of hard negatives flagged, per language and mode."""
    lines = [
        f"{'language':<9}" + "".join(f"{mode + ' recall / hard negatives flagged':>48}" for mode in flags)
    ]
    for language in sorted({item.language for item in items}):
        cells = []
        for flagged in flags.values():
            hits = total = hard = hard_flagged = 0
            for row, item in enumerate(items):
                if item.language != language:
                    continue
                said = {category for column, category in enumerate(CATEGORIES) if flagged[row, column]}
                hits += len(said & item.labels)
                total += len(item.labels)
                if item.kind == "hard_negative":
                    hard += 1
                    hard_flagged += bool(said)
            cells.append(f"{hits / max(total, 1):.2f} / {hard_flagged / max(hard, 1):.2f}")
        lines.append(f"{language:<9}" + "".join(f"{cell:>48}" for cell in cells))
    return "\n".join(lines)


def _score(found: Sequence[Any], category: Any) -> float:
    return next((f.score for f in found if f.category is category), 0.0)


if __name__ == "__main__":
    main()
