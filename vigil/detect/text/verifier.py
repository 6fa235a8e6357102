"""The judge at the end of the cascade: one calibrated score per category from all the evidence.

The lexicons see words and the phrases around them; the sentence-embedding head sees what a whole
text is like; a third model, the *talk* head, sees whether a text talks about a harm (news, a warning,
a memorial, a quotation) or is one. Taking the higher of two scores, as the cascade once did, can only
add flags. The verifier instead weighs, per category ``c``, four features of a text:

``lexicon``
    logit of the first stage's calibrated score for ``c`` (0.001 when nothing matched);
``head``
    logit of the embedding head's probability for ``c``;
``talk``
    logit of the talk head's probability that the text talks about a harm rather than being one;
``context``
    1 when a context phrase (a news, warning, remembrance... cue of the lexicons) that applies to
    ``c`` is in the text, else 0;

with a logistic regression per category, ``q = sigmoid(w . features + b)``. It is fitted on
out-of-fold features of the development split (``train_verifier.py``), so a low head or a high talk
probability lowers a lexicon score as readily as a high head probability raises it.
Without the embedding stage (``vigil[ml]`` not installed) a second set of coefficients over
``lexicon`` and ``context`` alone does the same job.

``q`` is then put on the scale that policies read, anchored on two measured points per category:
``review_at``, the ``q`` from which the classifier flags (chosen on the development split for recall),
lands on :data:`FLAG_SCORE` (0.5); ``act_at``, the lowest ``q`` from which the flags of texts without
any context phrase were at least 0.98 precise on the development split, lands on :data:`ACT_SCORE`
(0.9). Between and beyond the anchors the map is linear in logits, so the order of texts is kept. A
category whose precision never reached 0.98 has no ``act_at``: its scores stay below
:data:`ACT_SCORE`, and a policy that acts from 0.9 never acts on it alone. The anchors, the
coefficients and the figures they were measured with are in ``verifier.yaml``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from vigil.domain.taxonomy import Category

VERIFIER_FILE = Path(__file__).with_name("verifier.yaml")
FLAG_SCORE = 0.5  # a score from which the classifier flags
ACT_SCORE = 0.9  # a score from which its flags were measured at least 0.98 precise
_CAPPED = 0.89  # where the scores of a category without act_at stop
FEATURES = ("lexicon", "head", "talk", "context")
LEXICON_FEATURES = ("lexicon", "context")
_FLOOR = 1e-3


class VerifierError(ValueError):
    """``verifier.yaml`` is malformed."""


def logit(p: float, floor: float = 1e-6) -> float:
    """log(p / (1 - p)), with ``p`` kept within [floor, 1 - floor]."""
    p = min(max(p, floor), 1.0 - floor)
    return math.log(p / (1.0 - p))


def sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))


def lexicon_feature(score: float) -> float:
    """The ``lexicon`` feature of a first-stage score (0 when nothing matched)."""
    return logit(score, _FLOOR)


@dataclass(frozen=True, slots=True)
class Judge:
    """One category's coefficients and anchors."""

    weights: tuple[float, ...]  # one per feature of the mode, in its order
    bias: float
    review_at: float  # q from which to flag
    act_at: float | None  # q from which flags of texts without context were >= 0.98 precise

    def probability(self, features: tuple[float, ...]) -> float:
        """``q``: the fitted probability that the text is the category's harm."""
        return sigmoid(sum(w * x for w, x in zip(self.weights, features, strict=True)) + self.bias)

    def score(self, q: float) -> float:
        """``q`` on the policies' scale: ``review_at`` -> 0.5, ``act_at`` -> 0.9, linear in logits."""
        z, review = logit(q), logit(self.review_at)
        flag, act = logit(FLAG_SCORE), logit(ACT_SCORE)
        if z <= review:
            return sigmoid(z - review + flag)
        if self.act_at is None:
            return min(sigmoid(z - review + flag), _CAPPED)
        top = logit(self.act_at)
        if z >= top:
            return sigmoid(z - top + act)
        return sigmoid(flag + (z - review) * (act - flag) / (top - review))


@dataclass(frozen=True, slots=True)
class Verifier:
    """The judges of every category, for the full cascade and for the lexicons alone."""

    full: Mapping[Category, Judge]
    lexicon_only: Mapping[Category, Judge]


def _judge(data: Any, features: tuple[str, ...], where: str) -> Judge:
    try:
        weights = tuple(float(data["weights"][name]) for name in features)
        bias = float(data["bias"])
        review_at = float(data["review_at"])
        act_at = None if data.get("act_at") is None else float(data["act_at"])
    except (KeyError, TypeError, ValueError) as error:
        raise VerifierError(f"{VERIFIER_FILE.name} {where}: {error!r}") from None
    if not all(math.isfinite(x) for x in (*weights, bias)):
        raise VerifierError(f"{VERIFIER_FILE.name} {where}: weights must be finite")
    if not 0.0 < review_at < 1.0 or (act_at is not None and not review_at < act_at < 1.0):
        raise VerifierError(f"{VERIFIER_FILE.name} {where}: need 0 < review_at < act_at < 1")
    return Judge(weights, bias, review_at, act_at)


def load_verifier(path: Path = VERIFIER_FILE) -> Verifier:
    """Read and validate ``verifier.yaml``; :class:`VerifierError` names what is wrong."""
    try:
        data: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
        modes = {name: data["modes"][name]["categories"] for name in ("full", "lexicon_only")}
    except (OSError, KeyError, TypeError, yaml.YAMLError) as error:
        raise VerifierError(f"{path.name}: unreadable: {error!r}") from None
    judges: dict[str, dict[Category, Judge]] = {}
    for name, features in (("full", FEATURES), ("lexicon_only", LEXICON_FEATURES)):
        judges[name] = {}
        for key, values in modes[name].items():
            try:
                category = Category(key)
            except ValueError:
                raise VerifierError(f"{path.name} modes.{name}: unknown category {key!r}") from None
            judges[name][category] = _judge(values, features, f"modes.{name}.{key}")
    return Verifier(judges["full"], judges["lexicon_only"])
