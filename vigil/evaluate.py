"""``vigil eval``: the text classifier and a policy pack, measured on a labelled corpus split.

Every text of the split is classified (language detected, as in production), its signals go through
the pack's policies as a public post would, and three outcomes are counted per category:

- **flagged**: the classifier flagged the category (score from 0.5);
- **routed**: a policy of the category matched (it restricts, or asks for review before or after):
  a person or the machine will deal with it;
- **acted**: a policy of the category matched that restricts at once, without waiting for a
  reviewer (not ``review: before``): what the machine did alone.

Precision and recall are given with Wilson 95% intervals: the cells are small (a category in one
language holds 10-20 test positives), and an interval says how little one cell can tell. Positives
are split by kind into ``plain`` and ``evasive`` (the corpus's ``evasion`` key); hard negatives are
counted per ``negative_type``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from vigil.detect.text.calibrate import Item
from vigil.detect.text.classifier import TextClassifier
from vigil.detect.text.detector import classification_signals
from vigil.domain.cases import ReviewMode
from vigil.domain.content import Audience, Content, ContentKind
from vigil.domain.decisions import PLATFORM_ACTIONS, Decision, DecisionContext
from vigil.domain.taxonomy import Category
from vigil.policy.engine import PolicySet
from vigil.policy.loader import PolicyDefinition

OUTCOMES = ("flagged", "routed", "acted")
_Z = 1.96


def wilson(successes: int, trials: int) -> tuple[float, float]:
    """The Wilson score 95% interval of a proportion (0, 1 when there were no trials)."""
    if trials == 0:
        return 0.0, 1.0
    p = successes / trials
    centre = (p + _Z * _Z / (2 * trials)) / (1 + _Z * _Z / trials)
    half = _Z * math.sqrt(p * (1 - p) / trials + _Z * _Z / (4 * trials * trials)) / (1 + _Z * _Z / trials)
    # at 0 and at 1 the bound is exactly the observed share (floating point would land a hair inside)
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == trials else min(1.0, centre + half)
    return low, high


@dataclass(slots=True)
class Cell:
    """True positives, false positives and false negatives of one outcome in one slice."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float | None:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else None

    @property
    def recall(self) -> float | None:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else None

    def to_json(self) -> dict[str, Any]:
        return {
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
            "precision": _round(self.precision),
            "precision_ci": [round(x, 3) for x in wilson(self.tp, self.tp + self.fp)],
            "recall": _round(self.recall),
            "recall_ci": [round(x, 3) for x in wilson(self.tp, self.tp + self.fn)],
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


@dataclass(frozen=True, slots=True)
class Judged:
    """What Vigil did with one labelled item."""

    item: Item
    flagged: frozenset[Category]
    routed: frozenset[Category]
    acted: frozenset[Category]

    def of(self, outcome: str) -> frozenset[Category]:
        result: frozenset[Category] = getattr(self, outcome)
        return result


def judge(
    item: Item,
    flagged: Iterable[Category],
    decision: Decision,
    policies: Mapping[str, PolicyDefinition],
) -> Judged:
    """The three outcomes of one item from the classifier's flags, the pack's decision and the
    definitions of the pack's policies (by id)."""
    matched = [policies[ref.id] for ref in decision.policies]
    routed = frozenset(p.category for p in matched)
    acted = frozenset(
        p.category for p in matched if p.review is not ReviewMode.BEFORE and p.actions & PLATFORM_ACTIONS
    )
    return Judged(item, frozenset(flagged), routed, acted)


def run(items: Sequence[Item], classifier: TextClassifier, policies: PolicySet) -> list[Judged]:
    """Classify every item and decide it with ``policies`` as a public post (no side effects)."""
    results = classifier.classify_many([item.text for item in items])
    definitions = {p.definition.id: p.definition for p in policies.policies}
    judged: list[Judged] = []
    created = datetime(2026, 1, 1, tzinfo=UTC)
    for item, result in zip(items, results, strict=True):
        content = Content(item.id, ContentKind.POST, Audience.PUBLIC, "eval", created, text=item.text)
        decision = policies.decide(content, classification_signals(result), DecisionContext())
        judged.append(judge(item, result.flagged, decision, definitions))
    return judged


@dataclass(slots=True)
class Report:
    """Cells per (outcome, category, language, kind); negatives' outcome rates per type."""

    categories: tuple[Category, ...]
    cells: dict[tuple[str, Category, str, str], Cell] = field(default_factory=dict)
    # (outcome, negative type or "benign", language) -> [items with any category, items]
    negatives: dict[tuple[str, str, str], list[int]] = field(default_factory=dict)

    def cell(self, outcome: str, category: Category, language: str = "all", kind: str = "all") -> Cell:
        return self.cells.setdefault((outcome, category, language, kind), Cell())


def report(judged: Sequence[Judged]) -> Report:
    """Count every outcome per category, language ("all" too) and kind of positive ("all" too)."""
    categories = tuple(sorted({c for j in judged for c in j.item.labels}, key=lambda c: c.value))
    out = Report(categories)
    for j in judged:
        kind = "evasive" if j.item.evasion else "plain"
        for outcome in OUTCOMES:
            said = j.of(outcome)
            for category in categories:
                for language in ("all", j.item.language):
                    if category in j.item.labels:
                        for each in ("all", kind):
                            cell = out.cell(outcome, category, language, each)
                            if category in said:
                                cell.tp += 1
                            else:
                                cell.fn += 1
                    elif category in said:
                        out.cell(outcome, category, language).fp += 1
            if j.item.kind != "positive":
                group = j.item.negative_type or "benign"
                hit = int(bool(said & frozenset(categories)))
                for key in ((outcome, group, "all"), (outcome, group, j.item.language)):
                    counts = out.negatives.setdefault(key, [0, 0])
                    counts[0] += hit
                    counts[1] += 1
                if j.item.kind == "hard_negative":
                    for key in (
                        (outcome, "all hard negatives", "all"),
                        (outcome, "all hard negatives", j.item.language),
                    ):
                        counts = out.negatives.setdefault(key, [0, 0])
                        counts[0] += hit
                        counts[1] += 1
    return out


def _pr(cell: Cell) -> str:
    p, r = cell.precision, cell.recall
    return f"{'-' if p is None else f'{p:.2f}'}/{'-' if r is None else f'{r:.2f}'}"


def _ci(cell: Cell, which: str) -> str:
    value = cell.precision if which == "precision" else cell.recall
    n = cell.tp + (cell.fp if which == "precision" else cell.fn)
    if value is None:
        return "-"
    low, high = wilson(cell.tp, n)
    return f"{value:.2f} [{low:.2f}-{high:.2f}]"


def render(result: Report) -> str:
    """The report as plain-text tables."""
    lines: list[str] = []
    languages = sorted({lang for (_, _, lang, _) in result.cells if lang != "all"})
    lines.append("Per category, all languages: precision and recall with Wilson 95% intervals")
    lines.append(
        f"{'category':<12} {'pos':>4}  {'flag precision':<18} {'flag recall':<18} {'routed P/R':<10} "
        f"{'acted precision':<18} {'acted recall':<18} {'evasive recall':<18}"
    )
    for category in result.categories:
        flag, routed, acted = (result.cell(o, category) for o in OUTCOMES)
        evasive = result.cell("flagged", category, "all", "evasive")
        lines.append(
            f"{category.value:<12} {flag.tp + flag.fn:>4}  {_ci(flag, 'precision'):<18} {_ci(flag, 'recall'):<18} "
            f"{_pr(routed):<10} {_ci(acted, 'precision'):<18} {_ci(acted, 'recall'):<18} {_ci(evasive, 'recall'):<18}"
        )
    lines.append("")
    lines.append("Flag precision/recall per category and language (positives in brackets)")
    lines.append(f"{'category':<12} " + " ".join(f"{lang:<14}" for lang in languages))
    for category in result.categories:
        row = []
        for lang in languages:
            cell = result.cell("flagged", category, lang)
            row.append(f"{_pr(cell)} ({cell.tp + cell.fn})".ljust(14))
        lines.append(f"{category.value:<12} " + " ".join(row))
    lines.append("")
    lines.append("Per language, all categories: flag recall (plain, evasive) and hard negatives flagged")
    for lang in languages:
        total, evasive, plain = Cell(), Cell(), Cell()
        for category in result.categories:
            for target, kind in ((total, "all"), (evasive, "evasive"), (plain, "plain")):
                cell = result.cell("flagged", category, lang, kind)
                target.tp += cell.tp
                target.fn += cell.fn
        hit, n = result.negatives.get(("flagged", "all hard negatives", lang), [0, 0])
        lines.append(
            f"{lang:<4} recall {_ci(total, 'recall'):<18} plain {_ci(plain, 'recall'):<18} "
            f"evasive {_ci(evasive, 'recall'):<18} hard negatives flagged {hit}/{n}"
        )
    lines.append("")
    lines.append("Negatives: share with any category flagged / routed / acted on")
    groups = sorted({g for (o, g, lang) in result.negatives if lang == "all"})
    for group in groups:
        cells = []
        for outcome in OUTCOMES:
            hit, n = result.negatives.get((outcome, group, "all"), [0, 0])
            low, high = wilson(hit, n)
            cells.append(f"{hit / n if n else 0:.2f} [{low:.2f}-{high:.2f}]")
        n = result.negatives.get(("flagged", group, "all"), [0, 0])[1]
        lines.append(f"{group:<20} {n:>5}  " + "  ".join(f"{c:<18}" for c in cells))
    return "\n".join(lines)


def to_json(result: Report) -> dict[str, Any]:
    """The report as one JSON object: ``cells`` (one per outcome, category, language, kind) and
    ``negatives`` (one per outcome, negative type, language)."""
    return {
        "cells": [
            {"outcome": o, "category": c.value, "language": lang, "kind": k, **cell.to_json()}
            for (o, c, lang, k), cell in sorted(
                result.cells.items(), key=lambda kv: (kv[0][0], kv[0][1].value, kv[0][2], kv[0][3])
            )
        ],
        "negatives": [
            {
                "outcome": o,
                "type": g,
                "language": lang,
                "items": n,
                "hit": hit,
                "share": round(hit / n, 3) if n else None,
            }
            for (o, g, lang), (hit, n) in sorted(result.negatives.items())
        ],
    }
