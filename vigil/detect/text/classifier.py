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

Second stage (needs ``pip install vigil[ml]``; without it the classifier runs the first stage alone
and ``has_second_stage`` is False): a multilingual sentence encoder and a logistic-regression head per
category trained on labelled examples (``embedding.py``, ``train_head.py``). The cascade:

1. Stage 1 runs on every text.
2. Stage 2 runs on every text that stage 1 did not flag confidently: when stage 1 flagged nothing
   (including texts with no lexicon evidence at all), or flagged some category with a score below
   ``second_stage.confident`` in ``calibration.yaml``. A text whose every flagged category is at or
   above that level skips it.
3. When it runs, the head gives each category a probability ``p``, which has its own threshold ``t``
   (chosen by cross-validation). ``p`` is moved onto the category's scale so that ``t`` lands on the
   category threshold ``T``: ``s2 = sigmoid(logit(p) - logit(t) + logit(T))``. The combined score is
   ``max(s1, s2)``, so a category is flagged when stage 1 or the head alone reaches its threshold, and
   raising ``T`` (the ``thresholds`` argument) makes both stricter. A max rather than a learned
   combination, because stage 1's scores on the development split are in-sample (its lexicons were
   tuned there) and any combination fitted on that split would learn to over-trust them.
4. A finding whose score stage 2 raised, or that stage 2 alone produced (when ``s2`` reaches
   ``second_stage.min_score``), has stage ``"embedding"``. Stage 2 has no span to point at: its
   evidence is one ``Evidence(0, 0, ...)`` that gives the estimate and the nearest labelled example
   (an ``exemplars.yaml`` sentence, never a corpus text), and says it is a model estimate.

:meth:`TextClassifier.classify_many` embeds all the stage-2 texts of a batch in a few encoder calls,
about 2.5 times cheaper per text than :meth:`TextClassifier.classify` one by one.
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

from vigil.detect.text.embedding import Estimate, load_embedding_stage
from vigil.detect.text.language import detect_language
from vigil.detect.text.lexicon import (
    ANY_LANGUAGE,
    CONTEXT_FRAMES,
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
from vigil.detect.text.verifier import FLAG_SCORE, Judge, Verifier, lexicon_feature, load_verifier, logit
from vigil.domain.signals import Evidence
from vigil.domain.taxonomy import Category

CONTEXT_WINDOW = 100  # original characters between a match and a cue that still qualifies it
CALIBRATION_FILE = Path(__file__).with_name("calibration.yaml")
_MULTIPLIER_RANGE = (0.05, 3.0)
_MAX_HITS_PER_RULE = 8  # later repeats of one entry add nothing and would only cost time
_MAX_CUE_HITS = 256
_MAX_EVIDENCE = 8
_DEFAULT_LANGUAGE_MIX = "en"  # merged into every language's automaton
_BATCH = 256  # texts of a classify_many call handled together: bounds the memory a huge call takes


@dataclass(frozen=True, slots=True)
class CategoryFinding:
    """What the classifier found about one category in one text."""

    category: Category
    score: float  # calibrated, in [0, 1]
    label: str  # finer label of the strongest evidence, "" if none
    evidence: tuple[Evidence, ...]  # offsets into the ORIGINAL text
    stage: str  # "lexicon" or "embedding"


@dataclass(frozen=True, slots=True)
class ContextFinding:
    """A frame in which the text talks about a harm without being it (news, a warning, a memorial).

    ``categories`` are the text's findings that the frame qualifies; ``evidence`` the phrases that
    mark it (offsets into the original text).
    """

    frame: CueKind
    categories: tuple[Category, ...]
    evidence: tuple[Evidence, ...]


@dataclass(frozen=True, slots=True)
class TextClassification:
    """The classifier's answer for one text."""

    language: str  # ISO 639-1, "" if unknown
    findings: tuple[CategoryFinding, ...]  # categories with score > 0, highest first
    flagged: tuple[Category, ...]  # categories whose score reached the threshold
    truncated: bool = False  # only the first MAX_CHARS characters were read
    contexts: tuple[ContextFinding, ...] = ()  # frames that qualify the findings, in CONTEXT_FRAMES order


@dataclass(frozen=True, slots=True)
class Calibration:
    """Platt parameters per category of the first stage's raw scores (with the threshold at which the
    first stage alone flagged best on the development split), and the floor of reported findings."""

    a: Mapping[Category, float]
    b: Mapping[Category, float]
    thresholds: Mapping[Category, float]  # of first_stage() alone; classify() flags from FLAG_SCORE
    min_score: float  # a category that only the embedding stage scores is reported from this score

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
        min_score = float(second["min_score"])
        if not 0 < min_score <= 1:
            raise ValueError("second_stage: 'min_score' must be in (0, 1]")
        return Calibration(a, b, thresholds, min_score)
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


def verify(
    first: Sequence[CategoryFinding],
    framed: frozenset[Category],
    judges: Mapping[Category, Judge],
    estimates: Mapping[Category, Estimate] | None,
    talk: float | None,
    min_score: float,
) -> list[CategoryFinding]:
    """The verifier's findings for one text (``verifier.py``), highest first.

    ``first`` are stage 1's findings and ``framed`` the categories a context phrase of the text
    applies to (:func:`framed_categories`); ``estimates`` and ``talk``
    the embedding stage's view (None without it: the lexicon-only judges decide). A category stage 1
    did not find is reported when the verified score reaches ``min_score``; categories without a
    judge keep stage 1's score.
    """
    by_category = {f.category: f for f in first}
    out = [f for f in first if f.category not in judges]
    model = estimates is not None and talk is not None
    for category, judge in judges.items():
        finding = by_category.get(category)
        if finding is None and not model:
            continue
        context = 1.0 if category in framed else 0.0
        lexicon = lexicon_feature(finding.score if finding else 0.0)
        if estimates is None or talk is None:
            score = judge.score(judge.probability((lexicon, context)))
            if finding is not None:
                out.append(CategoryFinding(category, score, finding.label, finding.evidence, "lexicon"))
            continue
        estimate = estimates[category]
        score = judge.score(judge.probability((lexicon, logit(estimate.probability), logit(talk), context)))
        if finding is None and score < min_score:
            continue
        reading = Evidence(
            0,
            0,
            f"verified {score:.2f}: lexicons {finding.score if finding else 0.0:.2f}, model "
            f"{estimate.probability:.2f}, talks about the harm {talk:.2f}"
            f"{', context phrase present' if context else ''}; nearest labelled example: "
            f"{estimate.nearest} (similarity {estimate.similarity:.2f})",
            "second stage: a judge weighing the lexicons' score, a sentence-embedding model's "
            "estimate and how the text talks about the harm; the closest "
            f"{category.value} exemplar (similarity {estimate.closest_positive_similarity:.2f}) is "
            f"{estimate.closest_positive!r}",
        )
        evidence = (*finding.evidence, reading) if finding else (reading,)
        out.append(CategoryFinding(category, score, finding.label if finding else "", evidence, "embedding"))
    return sorted(out, key=lambda f: -f.score)


def _span(norm: Normalised, hit: _Hit, note: str) -> Evidence:
    """Evidence pointing at what ``hit`` matched, as the user wrote it."""
    return Evidence(hit.start, hit.end, norm.original[hit.start : hit.end], note)


def framed_categories(cues: Sequence[_Hit]) -> frozenset[Category]:
    """The categories that some context phrase among ``cues`` applies to."""
    frames = [hit.rule for hit in cues if isinstance(hit.rule, Cue) and hit.rule.kind is not CueKind.OFFER]
    return frozenset(category for category in Category if any(cue.applies_to(category) for cue in frames))


def context_findings(
    norm: Normalised, cues: Sequence[_Hit], categories: Sequence[Category]
) -> tuple[ContextFinding, ...]:
    """The frames that the text's cues mark for the text's ``categories`` (in :data:`CONTEXT_FRAMES`
    order); a frame that qualifies none of them says nothing a policy could use and is left out.

    A frame qualifies the whole text, not only the matches near it as the multipliers do: messages are
    short, and a policy asks whether the text as a whole is reporting, warning or remembering.
    """
    per_frame: dict[CueKind, tuple[set[Category], list[Evidence]]] = {}
    for hit in cues:
        cue = hit.rule
        assert isinstance(cue, Cue)
        if cue.kind is CueKind.OFFER:
            continue
        qualified = {category for category in categories if cue.applies_to(category)}
        if not qualified:
            continue
        found, evidence = per_frame.setdefault(cue.kind, (set(), []))
        found |= qualified
        if len(evidence) < _MAX_EVIDENCE:
            evidence.append(
                _span(norm, hit, f"{cue.kind.value.replace('_', ' ')} ({cue.where}): {cue.notes}")
            )
    return tuple(
        ContextFinding(frame, tuple(sorted(found)), tuple(evidence))
        for frame in CONTEXT_FRAMES
        if frame in per_frame
        for found, evidence in [per_frame[frame]]
    )


@cache
def _shared_lexicons() -> dict[str, Lexicon]:
    return load_lexicons()


@cache
def _shared_verifier() -> Verifier:
    return load_verifier()


class TextClassifier:
    """Classifies texts into harm categories; build once, reuse (lexicons load once per process)."""

    def __init__(
        self, *, use_second_stage: bool = True, thresholds: Mapping[Category, float] | None = None
    ) -> None:
        self._lexicons = _shared_lexicons()
        self.calibration = load_calibration()
        merged = {category: FLAG_SCORE for category in Category}
        for category, value in (thresholds or {}).items():
            if not 0.0 < value <= 1.0:
                raise ValueError(f"threshold for {category} must be in (0, 1], got {value}")
            merged[Category(category)] = float(value)
        self.thresholds: Mapping[Category, float] = merged
        self._second = load_embedding_stage() if use_second_stage else None
        verifier = _shared_verifier()
        self._judges = verifier.full if self._second is not None else verifier.lexicon_only
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

    def _findings(self, norm: Normalised, language: str) -> tuple[list[CategoryFinding], list[_Hit]]:
        """Stage 1's findings, and the context cues found in the text (by position)."""
        hits = self._matcher(language).find(norm)
        if not hits:
            return [], []
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
                            _span(
                                norm,
                                each,
                                f"{entry.label or category.value} ({entry.where}, weight {entry.weight:g}"
                                f"{context}, counts {contribution:.2f}): {entry.notes}",
                            )
                        )
            strongest = ranked[0][1].rule
            assert isinstance(strongest, Entry)
            score = self.calibration.score(category, raw)
            findings.append(CategoryFinding(category, score, strongest.label, tuple(evidence), "lexicon"))
        findings.sort(key=lambda f: -f.score)
        return findings, cues

    def first_stage(self, text: str, language: str) -> list[CategoryFinding]:
        """Lexicon findings for ``text`` read as ``language`` ("" for unknown), highest score first."""
        return self._findings(normalise(text), language)[0]

    def _read(self, text: str, hint: str | None) -> tuple[Normalised, str, list[CategoryFinding], list[_Hit]]:
        """Stage 1 on one text: its normalised form, its language (detected, or ``hint``), the lexicon
        findings and the context cues."""
        norm = normalise(text)
        code = detect_language(norm.original, hint=hint)
        findings, cues = self._findings(norm, code)
        return norm, code, findings, cues

    def first_reading(
        self, text: str, hint: str | None = None
    ) -> tuple[str, list[CategoryFinding], frozenset[Category]]:
        """What the verifier reads from stage 1: the language (detected, or ``hint``), the lexicon
        findings, and the categories a context phrase applies to (training and evaluation use it)."""
        _, code, findings, cues = self._read(text, hint)
        return code, findings, framed_categories(cues)

    def classify(self, text: str, language: str | None = None) -> TextClassification:
        """Language, findings and flagged categories of ``text``; ``language`` is the platform's hint."""
        return self.classify_many([text], [language])[0]

    def classify_many(
        self, texts: Sequence[str], languages: Sequence[str | None] | None = None
    ) -> list[TextClassification]:
        """:meth:`classify` of each text (``languages``: the platform's hints, one per text, or None),
        with the stage-2 texts of each batch embedded together."""
        if languages is not None and len(languages) != len(texts):
            raise ValueError(f"got {len(texts)} texts but {len(languages)} languages")
        hints: Sequence[str | None] = languages if languages is not None else [None] * len(texts)
        results: list[TextClassification] = []
        for start in range(0, len(texts), _BATCH):
            results.extend(self._classify_batch(texts[start : start + _BATCH], hints[start : start + _BATCH]))
        return results

    def _classify_batch(self, texts: Sequence[str], hints: Sequence[str | None]) -> list[TextClassification]:
        read: list[tuple[Normalised, str] | None] = []  # None: an empty text
        findings: list[list[CategoryFinding]] = []
        cues: list[list[_Hit]] = []
        for text, hint in zip(texts, hints, strict=True):
            if not text or not text.strip():
                read.append(None)
                findings.append([])
                cues.append([])
                continue
            norm, code, found, cued = self._read(text, hint)
            read.append((norm, code))
            findings.append(found)
            cues.append(cued)
        min_score = self.calibration.min_score
        if self._second is None:
            for index, entry in enumerate(read):
                if entry is not None:
                    findings[index] = verify(
                        findings[index], framed_categories(cues[index]), self._judges, None, None, min_score
                    )
        else:
            pending = [(index, entry[0].original, entry[1]) for index, entry in enumerate(read) if entry]
            vectors = self._second.embed([original for _, original, _ in pending])
            codes = [code for _, _, code in pending]
            estimated = self._second.estimates(vectors, codes)
            talks = self._second.head.talk(vectors, codes)
            for (index, _, _), estimates, talk in zip(pending, estimated, talks, strict=True):
                findings[index] = verify(
                    findings[index],
                    framed_categories(cues[index]),
                    self._judges,
                    estimates,
                    float(talk),
                    min_score,
                )
        results: list[TextClassification] = []
        for entry, found, cued in zip(read, findings, cues, strict=True):
            if entry is None:
                results.append(TextClassification(language="", findings=(), flagged=()))
                continue
            norm, code = entry
            kept = tuple(f for f in found if f.score > 0.0)
            flagged = tuple(f.category for f in kept if f.score >= self.thresholds[f.category])
            contexts = context_findings(norm, cued, [f.category for f in kept])
            results.append(TextClassification(code, kept, flagged, norm.truncated, contexts))
        return results
