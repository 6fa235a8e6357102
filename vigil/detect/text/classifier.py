"""The multilingual text classifier: a lexicon first stage and an optional embedding second stage.

First stage (:meth:`TextClassifier.first_stage`), per text:

1. The text is cut to :data:`~vigil.detect.text.normalise.MAX_CHARS` characters (the result says
   ``truncated``) and normalised (``normalise.py``): evasive spellings become plain ones, and every
   character keeps the offset of the original character it came from.
2. One Aho-Corasick automaton per language (the language's lexicon, plus the English one, since
   English phrases turn up in every language online, plus the language-independent one) finds every
   lexicon term and every context cue in the normalised skeleton in one pass; a few regular
   expressions run on the folded view. An unknown or unserved language uses every lexicon.
3. Context. Each match of an entry is weighed by the cues found within :data:`CONTEXT_WINDOW`
   original characters of it (before or after) that apply to its category: ``news`` (police
   seized, was arrested, according to), ``counter_speech`` (is a lie, never again), ``education``
   (how to recognise, warning signs, report it) and ``joke`` multiply it by less than one; ``offer``
   (DM me, I sell, order now, join us, send me) by more than one. Each kind counts once (the
   strongest cue of that kind near the match), the kinds multiply, and the product is kept within
   [0.05, 3]. So "selling coke, DM me" weighs ``coke`` double while "police seized 2 kg of cocaine"
   weighs ``cocaine`` at a third.
4. Score. A category's raw score is the sum, over its distinct matched entries, of the entry's
   weight times the context multiplier of its best-placed match. It is calibrated to [0, 1] by a
   logistic (Platt) mapping ``1 / (1 + exp(-(a * raw + b)))`` whose ``a`` and ``b`` per category are
   fitted on the labelled development split (``python -m vigil.detect.text.calibrate``) and stored,
   with the per-category thresholds for ``flagged``, in ``calibration.yaml``.

Second stage (:meth:`TextClassifier.second_stage`, needs ``pip install vigil[ml]``): a category
whose first-stage score lies in the ambiguous band ``[threshold - band, threshold)`` is rescored by
the sentence encoder (``embedding.py``): its logit moves by ``gain * (margin - offset)``, where
``margin`` is how much closer the text is to that category's exemplars than to its look-alike
negatives. Without the package the classifier runs the first stage alone (``has_second_stage`` is
False).
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, cast

import ahocorasick
import yaml

from vigil.detect.text.embedding import load_embedding_stage
from vigil.detect.text.language import detect_language
from vigil.detect.text.lexicon import (
    ANY_LANGUAGE,
    Cue,
    CueKind,
    Entry,
    Lexicon,
    LexiconError,
    Pattern,
    Term,
    is_word_char,
    load_lexicons,
)
from vigil.detect.text.normalise import Normalised, normalise
from vigil.domain.signals import Evidence
from vigil.domain.taxonomy import Category

CONTEXT_WINDOW = 100  # original characters between a match and a cue that still qualifies it
CALIBRATION_FILE = Path(__file__).with_name("calibration.yaml")
_MULTIPLIER_RANGE = (0.05, 3.0)
_MAX_HITS_PER_RULE = 8  # later repeats of one entry add nothing and would only cost time
_MAX_CUE_HITS = 256
_MAX_EVIDENCE = 8
_DEFAULT_LANGUAGE_MIX = "en"  # merged into every language's automaton


@dataclass(frozen=True, slots=True)
class CategoryFinding:
    """What the classifier found about one category in one text."""

    category: Category
    score: float  # calibrated, in [0, 1]
    label: str  # finer label of the strongest evidence, "" if none
    evidence: tuple[Evidence, ...]  # offsets into the ORIGINAL text
    stage: str  # "lexicon" or "embedding"


@dataclass(frozen=True, slots=True)
class TextClassification:
    """The classifier's answer for one text."""

    language: str  # ISO 639-1, "" if unknown
    findings: tuple[CategoryFinding, ...]  # categories with score > 0, highest first
    flagged: tuple[Category, ...]  # categories whose score reached the threshold
    truncated: bool = False  # only the first MAX_CHARS characters were read


@dataclass(frozen=True, slots=True)
class Calibration:
    """Platt parameters and thresholds per category, and the second stage's settings."""

    a: Mapping[Category, float]
    b: Mapping[Category, float]
    thresholds: Mapping[Category, float]
    band: float
    gain: float
    offset: float

    def score(self, category: Category, raw: float) -> float:
        z = self.a[category] * raw + self.b[category]
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))


def load_calibration(path: Path = CALIBRATION_FILE) -> Calibration:
    """Read ``calibration.yaml``; categories it does not list get a neutral mapping (raw 0.5 → 0.5)."""
    try:
        data: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
        categories = data["categories"]
        second = data["second_stage"]
        a = {c: 6.0 for c in Category}
        b = {c: -3.0 for c in Category}
        thresholds = {c: 0.5 for c in Category}
        for key, values in categories.items():
            category = Category(key)
            a[category], b[category] = float(values["a"]), float(values["b"])
            thresholds[category] = float(values["threshold"])
            if a[category] <= 0 or not 0 < thresholds[category] <= 1:
                raise ValueError(f"category {key}: 'a' must be positive and 'threshold' in (0, 1]")
        return Calibration(
            a, b, thresholds, float(second["band"]), float(second["gain"]), float(second["offset"])
        )
    except (OSError, KeyError, TypeError, ValueError, yaml.YAMLError) as error:
        raise LexiconError(f"{path.name}: invalid calibration file: {error!r}") from None


@dataclass(frozen=True, slots=True)
class _Hit:
    rule: Entry | Cue
    start: int  # original offsets
    end: int
    written: str


def _distinct(terms: list[Term]) -> tuple[Term, ...]:
    """One term per category (the heaviest) and per cue kind: a word that both a language's lexicon
    and the English one list is one piece of evidence, not two (as are two cues of one kind and scope)."""
    entries: dict[Category, Term] = {}
    cues: dict[tuple[CueKind, frozenset[Category]], Term] = {}
    for term in terms:
        rule = term.rule
        if isinstance(rule, Entry):
            kept = entries.get(rule.category)
            if kept is None or rule.weight > cast(Entry, kept.rule).weight:
                entries[rule.category] = term
        else:
            kept = cues.get((rule.kind, rule.categories))
            if kept is None or _strength(rule) > _strength(cast(Cue, kept.rule)):
                cues[rule.kind, rule.categories] = term
    return (*entries.values(), *cues.values())


def _strength(cue: Cue) -> float:
    # how far a cue moves a score, whichever way: 0.3 and 3.0 are equally strong
    return abs(math.log(cue.multiplier))


class _Matcher:
    """Every term and pattern of a set of lexicons, matched in one automaton pass."""

    def __init__(self, lexicons: Sequence[Lexicon]) -> None:
        by_key: dict[str, list[Term]] = {}
        patterns: list[Pattern] = []
        for lexicon in lexicons:
            for term in lexicon.terms:
                by_key.setdefault(term.key, []).append(term)
            patterns.extend(lexicon.patterns)
        self._automaton = ahocorasick.Automaton()
        for key, terms in by_key.items():
            self._automaton.add_word(key, _distinct(terms))
        self._automaton.make_automaton()
        self._patterns = tuple(patterns)

    def find(self, norm: Normalised) -> list[_Hit]:
        hits: list[_Hit] = []
        counts: dict[int, int] = {}
        skeleton = norm.skeleton
        size = len(skeleton)
        terms: tuple[Term, ...]
        for last, terms in self._automaton.iter(skeleton):
            start = last - len(terms[0].key) + 1
            before_is_word = start > 0 and is_word_char(skeleton[start - 1])
            after_is_word = last + 1 < size and is_word_char(skeleton[last + 1])
            for term in terms:
                if (term.word_start and before_is_word) or (term.word_end and after_is_word):
                    continue
                seen = counts.get(id(term.rule), 0)
                if seen >= (_MAX_CUE_HITS if isinstance(term.rule, Cue) else _MAX_HITS_PER_RULE):
                    continue
                counts[id(term.rule)] = seen + 1
                first, end = norm.skeleton_span(start, last + 1)
                hits.append(_Hit(term.rule, first, end, term.written))
        for pattern in self._patterns:
            for number, match in enumerate(pattern.finditer(norm.folded)):
                if number >= _MAX_HITS_PER_RULE or match.end() == match.start():
                    break
                first, end = norm.folded_span(match.start(), match.end())
                hits.append(_Hit(pattern.rule, first, end, pattern.regex.pattern))
        return hits


def _multiplier(hit: _Hit, category: Category, cues: list[_Hit], cue_starts: list[int]) -> tuple[float, str]:
    """The context multiplier of one match, and a note saying which cues made it."""
    # cues starting after hit.end + window cannot qualify; those starting long before may still end near
    upper = bisect.bisect_right(cue_starts, hit.end + CONTEXT_WINDOW)
    strongest: dict[CueKind, Cue] = {}
    for cue_hit in cues[:upper]:
        cue = cue_hit.rule
        assert isinstance(cue, Cue)
        if not cue.applies_to(category):
            continue
        gap = max(cue_hit.start - hit.end, hit.start - cue_hit.end, 0)
        if gap > CONTEXT_WINDOW:
            continue
        current = strongest.get(cue.kind)
        if current is None or abs(math.log(cue.multiplier)) > abs(math.log(current.multiplier)):
            strongest[cue.kind] = cue
    product = math.prod(cue.multiplier for cue in strongest.values())
    low, high = _MULTIPLIER_RANGE
    note = ", ".join(f"{kind.value} x{cue.multiplier:g}" for kind, cue in sorted(strongest.items()))
    return min(high, max(low, product)), note


@cache
def _shared_lexicons() -> dict[str, Lexicon]:
    return load_lexicons()


class TextClassifier:
    """Classifies texts into harm categories; build once, reuse (lexicons load once per process)."""

    def __init__(
        self, *, use_second_stage: bool = True, thresholds: Mapping[Category, float] | None = None
    ) -> None:
        self._lexicons = _shared_lexicons()
        self.calibration = load_calibration()
        merged = dict(self.calibration.thresholds)
        for category, value in (thresholds or {}).items():
            if not 0.0 < value <= 1.0:
                raise ValueError(f"threshold for {category} must be in (0, 1], got {value}")
            merged[Category(category)] = float(value)
        self.thresholds: Mapping[Category, float] = merged
        self._second = load_embedding_stage() if use_second_stage else None
        self._matchers: dict[str, _Matcher] = {}

    @property
    def has_second_stage(self) -> bool:
        """Whether the embedding stage is installed and enabled."""
        return self._second is not None

    @property
    def languages(self) -> tuple[str, ...]:
        """The languages that have their own lexicon."""
        return tuple(sorted(code for code in self._lexicons if code != ANY_LANGUAGE))

    def _matcher(self, language: str) -> _Matcher:
        key = language if language in self._lexicons and language != ANY_LANGUAGE else ""
        matcher = self._matchers.get(key)
        if matcher is None:
            # an unknown language gets every lexicon
            codes = {key, _DEFAULT_LANGUAGE_MIX, ANY_LANGUAGE} if key else set(self._lexicons)
            matcher = _Matcher([self._lexicons[c] for c in sorted(codes) if c in self._lexicons])
            self._matchers[key] = matcher
        return matcher

    def _findings(self, norm: Normalised, language: str) -> list[CategoryFinding]:
        hits = self._matcher(language).find(norm)
        if not hits:
            return []
        cues = sorted((h for h in hits if isinstance(h.rule, Cue)), key=lambda h: h.start)
        cue_starts = [h.start for h in cues]
        # per category, per entry: its best-weighted match
        best: dict[Category, dict[int, tuple[float, _Hit, str, list[_Hit]]]] = {}
        for hit in hits:
            entry = hit.rule
            if not isinstance(entry, Entry):
                continue
            multiplier, note = _multiplier(hit, entry.category, cues, cue_starts)
            contribution = entry.weight * multiplier
            per_entry = best.setdefault(entry.category, {})
            previous = per_entry.get(id(entry))
            if previous is None:
                per_entry[id(entry)] = (contribution, hit, note, [hit])
            else:
                previous[3].append(hit)
                if contribution > previous[0]:
                    per_entry[id(entry)] = (contribution, hit, note, previous[3])
        findings: list[CategoryFinding] = []
        for category, per_entry in best.items():
            ranked = sorted(per_entry.values(), key=lambda item: -item[0])
            raw = sum(item[0] for item in ranked)
            evidence: list[Evidence] = []
            for contribution, hit, note, all_hits in ranked:
                entry = hit.rule
                assert isinstance(entry, Entry)
                context = f"; context {note}" if note else ""
                for each in sorted(all_hits, key=lambda h: h.start):
                    if len(evidence) < _MAX_EVIDENCE:
                        evidence.append(
                            Evidence(
                                each.start,
                                each.end,
                                norm.original[each.start : each.end],
                                f"{entry.label or category.value} ({entry.where}, weight {entry.weight:g}"
                                f"{context}, counts {contribution:.2f}): {entry.notes}",
                            )
                        )
            strongest = ranked[0][1].rule
            assert isinstance(strongest, Entry)
            score = self.calibration.score(category, raw)
            findings.append(CategoryFinding(category, score, strongest.label, tuple(evidence), "lexicon"))
        findings.sort(key=lambda f: -f.score)
        return findings

    def first_stage(self, text: str, language: str) -> list[CategoryFinding]:
        """Lexicon findings for ``text`` read as ``language`` ("" for unknown), highest score first."""
        return self._findings(normalise(text), language)

    def second_stage(
        self, text: str, language: str, first: Sequence[CategoryFinding]
    ) -> list[CategoryFinding]:
        """``first`` with every finding in the ambiguous band rescored by the sentence encoder.

        Without the second stage (not installed or disabled) this returns ``first`` unchanged.
        """
        if self._second is None:
            return list(first)
        band = self.calibration.band
        ambiguous = [
            f for f in first if self.thresholds[f.category] - band <= f.score < self.thresholds[f.category]
        ]
        if not ambiguous:
            return list(first)
        margins = self._second.margins(text, [f.category for f in ambiguous])
        rescored: dict[Category, CategoryFinding] = {}
        for finding in ambiguous:
            if finding.category not in margins:
                continue
            p = min(max(finding.score, 1e-6), 1 - 1e-6)
            z = math.log(p / (1 - p)) + self.calibration.gain * (
                margins[finding.category] - self.calibration.offset
            )
            score = 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))
            rescored[finding.category] = CategoryFinding(
                finding.category, score, finding.label, finding.evidence, "embedding"
            )
        out = [rescored.get(f.category, f) for f in first]
        out.sort(key=lambda f: -f.score)
        return out

    def classify(self, text: str, language: str | None = None) -> TextClassification:
        """Language, findings and flagged categories of ``text``; ``language`` is the platform's hint."""
        if not text or not text.strip():
            return TextClassification(language="", findings=(), flagged=())
        norm = normalise(text)
        code = detect_language(norm.original, hint=language)
        findings = self._findings(norm, code)
        if findings and self._second is not None:
            findings = self.second_stage(norm.original, code, findings)
        kept = tuple(f for f in findings if f.score > 0.0)
        flagged = tuple(f.category for f in kept if f.score >= self.thresholds[f.category])
        return TextClassification(code, kept, flagged, norm.truncated)
