# ruff: noqa: RUF001, RUF002 - look-alike letters are this module's subject
"""Normalisation that defeats common evasion, with a map back to the original text.

People who post what a platform forbids spell it so that a plain keyword search misses it:
``ＣＡＳＨ`` (fullwidth), ``cásh``, ``ca\u200bsh`` (zero-width space), ``саsh`` (Cyrillic ``с`` and ``а``),
``c4$h`` (leetspeak), ``caaaash``, ``c a s h``. :func:`normalise` turns a text into two views:

``folded``
    Unicode NFKC, case folding, combining marks stripped (``é`` → ``e``; Devanagari vowel signs and
    the Cyrillic letters ``й`` and ``ї`` are kept, because there the mark is part of the letter),
    zero-width, bidi-control and other invisible characters removed, Arabic-script letter variants
    unified (``ي``/``ى`` → ``ی``, ``ك`` → ``ک``, ``ة`` → ``ه``, tatweel removed), and homoglyphs resolved
    per token by script majority: a token that is mostly Latin gets its Cyrillic and Greek look-alikes
    replaced by Latin letters, a token that is mostly Cyrillic gets its Latin look-alikes replaced by
    Cyrillic ones, and a genuine Russian or Ukrainian word (no Latin letter in it) is never touched.
    Regular-expression lexicon entries run on this view.
``skeleton``
    ``folded`` plus leetspeak undone inside tokens that mix letters and digits or ``@ $ !``
    (``c0ca1ne`` → ``cocaine``; plain numbers, prices and handles are left alone), letters separated
    by one repeated separator joined (``c a s h``, ``c.a.s.h``, ``c-a-s-h`` → ``cash``), and every run
    of one repeated letter squeezed to one letter (``caaaash`` → ``cash``, but also ``pill`` → ``pil``:
    lexicon terms are squeezed the same way, so legitimate doubles still match). The automaton runs
    on this view.

Every character of both views carries the offset of the original character it came from, so that
evidence spans always point into the original text. Speed matters (the first stage must classify
thousands of messages a second on one core): characters are mapped with ``str.translate`` through a
table that fills itself the first time it meets a character; the offset maps are only built when a
span is asked for (most texts match nothing), and then the folded one is the identity (no list at
all) unless some character changed length; the other steps are regular expressions that only run
when a cheap test, one that every text they could change passes, says they can apply.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from itertools import chain
from typing import TypeVar

# longer texts are classified on this prefix, so that time and memory stay bounded
MAX_CHARS = 65_536

_INVISIBLE = frozenset(
    [
        0x00AD, 0x034F, 0x061C, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x180E, 0x3164, 0xFEFF, 0xFFA0,
        *range(0x200B, 0x2010),  # zero-width space/non-joiner/joiner, LRM, RLM
        *range(0x202A, 0x202F),  # bidi embeddings and overrides
        *range(0x2060, 0x2070),  # word joiner, invisible operators, bidi isolates
        *range(0xFE00, 0xFE10),  # variation selectors
        *range(0xE0000, 0xE0080),  # tag characters
    ]
)  # fmt: skip
# Arabic-script variants that writers (and evaders) use interchangeably
_ARABIC_UNIFY = {"ي": "ی", "ى": "ی", "ك": "ک", "ة": "ه", "ـ": ""}
# letters whose combining mark is part of the letter in our languages
_KEEP_COMPOSED = frozenset("йїЙЇ")
# Cyrillic and Greek look-alikes of Latin letters (both cases), used only inside mostly-Latin tokens
_TO_LATIN = str.maketrans(
    {
        **dict.fromkeys("Аа", "a"), **dict.fromkeys("ВвЬь", "b"), **dict.fromkeys("ЕеЁё", "e"),
        **dict.fromkeys("Кк", "k"), **dict.fromkeys("Мм", "m"), **dict.fromkeys("НнҺһ", "h"),
        **dict.fromkeys("Оо", "o"), **dict.fromkeys("Рр", "p"), **dict.fromkeys("Сс", "c"),
        **dict.fromkeys("Тт", "t"), **dict.fromkeys("Уу", "y"), **dict.fromkeys("Хх", "x"),
        **dict.fromkeys("Ѕѕ", "s"), **dict.fromkeys("ІіЇї", "i"), **dict.fromkeys("Јј", "j"),
        **dict.fromkeys("Ԁԁ", "d"), **dict.fromkeys("Ԛԛ", "q"), **dict.fromkeys("Ԝԝ", "w"), "п": "n",
        **dict.fromkeys("Αα", "a"), **dict.fromkeys("Ββ", "b"), **dict.fromkeys("Εε", "e"), "Ζ": "z",
        "Η": "h", **dict.fromkeys("Ιι", "i"), **dict.fromkeys("Κκ", "k"), "Μ": "m", "Ν": "n", "ν": "v",
        **dict.fromkeys("Οο", "o"), **dict.fromkeys("Ρρ", "p"), **dict.fromkeys("Ττ", "t"), "Υ": "y",
        "υ": "u", **dict.fromkeys("Χχ", "x"), **dict.fromkeys("Ϲϲ", "c"), "ω": "w",
    }
)  # fmt: skip
# Latin look-alikes of Cyrillic letters, used only inside mostly-Cyrillic tokens
_TO_CYRILLIC = str.maketrans(
    {
        **dict.fromkeys("Aa", "а"), **dict.fromkeys("Ee", "е"), **dict.fromkeys("Oo", "о"),
        **dict.fromkeys("Pp", "р"), **dict.fromkeys("Cc", "с"), **dict.fromkeys("Xx", "х"),
        **dict.fromkeys("Yy", "у"), **dict.fromkeys("Kk", "к"), "M": "м", "T": "т", "H": "н", "B": "в",
    }
)  # fmt: skip
_LATIN_LETTER = re.compile(r"[A-Za-z]")
_CYRILLIC_GREEK = re.compile(r"[\u0370-\u03ff\u0400-\u052f]")
_WORD = re.compile(r"\w+")
_LEET = str.maketrans(
    {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s", "!": "i"}
)
_LEET_GATE = re.compile(r"[^\W\d_][\d@$!]|[\d@$][^\W\d_]")
# every text _LEET_GATE accepts holds one of these; searching for them alone is several times faster
_LEET_HINT = re.compile(r"[\d@$!]")
# a token of letters, digits and @ $ ! holding at least one letter and at least one leet character
_LEET_TOKEN = re.compile(r"(?<![\w@$!])(?=[\w@$!]*[^\W\d_])(?=[\w@$!]*[\d@$!])[\w@$!]+")
# three or more single letters, each separated from the next by the same short separator
_SEPARATED = re.compile(
    r"(?<![^\W_])[^\W\d_](?P<sep>[ ._*•·/|+~-]{1,3})[^\W\d_](?:(?P=sep)[^\W\d_])+(?![^\W_])"
)
# what every _SEPARATED match holds around its second letter; far cheaper to look for, and rarely there
_SEPARATED_HINT = re.compile(r"[ ._*•·/|+~-][^\W\d_][ ._*•·/|+~-]{1,3}[^\W\d_](?![^\W_])")
# runs of one repeated character: found several times faster than runs of one repeated letter, whose
# character is then checked against _LETTER
_RUN = re.compile(r"(.)\1+", re.DOTALL)
_LETTER = re.compile(r"[^\W\d_]")


def _fold_char(cp: int) -> str:
    if cp in _INVISIBLE:
        return ""
    if 0xD800 <= cp <= 0xDFFF:  # a lone surrogate: keep the offsets, drop the character
        return " "
    ch = chr(cp)
    category = unicodedata.category(ch)
    if category == "Cc":
        return ch if ch in "\t\n\r" else " "
    if category in ("Mn", "Me"):
        # a standalone combining mark: Latin/Arabic diacritics and "zalgo" go; Indic vowel signs stay
        return ch if 0x0900 <= cp <= 0x0DFF else ""
    if ch in _KEEP_COMPOSED:
        return ch.lower()
    folded = unicodedata.normalize("NFKC", ch).casefold()
    stripped = "".join(
        c
        for c in unicodedata.normalize("NFD", folded)
        if unicodedata.category(c) not in ("Mn", "Me") or 0x0900 <= ord(c) <= 0x0DFF
    )
    stripped = unicodedata.normalize("NFC", stripped)
    return "".join(_ARABIC_UNIFY.get(c, c) for c in stripped)


class _FoldTable(dict[int, str]):
    """``str.translate`` table that computes a character's folded form the first time it is met."""

    def __init__(self) -> None:
        super().__init__()
        # characters whose folded form is not exactly one character: their presence needs an offset map
        self.irregular: set[str] = set()

    def __missing__(self, cp: int) -> str:
        folded = _fold_char(cp)
        if len(folded) != 1:
            self.irregular.add(chr(cp))
        self[cp] = folded
        return folded


_FOLD = _FoldTable()
for _cp in range(0x80):
    _FOLD.__missing__(_cp)  # warm the table for ASCII


@dataclass(frozen=True, slots=True)
class _OffsetMaps:
    folded: list[int] | None  # folded index -> original index; None when it is the identity
    skeleton: list[int]  # skeleton index -> original index


@dataclass(frozen=True, slots=True)
class Normalised:
    """A text's normalised views and the way back to it (see the module docstring).

    The offset maps are built the first time a span or a map is asked for: most texts match nothing
    and never need them.
    """

    original: str  # the text that was normalised: the input, or its first MAX_CHARS characters
    folded: str
    skeleton: str
    truncated: bool
    # what the maps are rebuilt from: the text that was folded (the original with look-alike letters
    # resolved, a 1:1 change) and the spans each skeleton step deleted, in that step's coordinates
    _folded_from: str = field(repr=False, compare=False)
    _deleted: tuple[list[tuple[int, int]], ...] = field(repr=False, compare=False)
    _maps: _OffsetMaps | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def folded_offsets(self) -> list[int] | None:
        """Folded index -> original index; None when it is the identity."""
        return self._offset_maps().folded

    @property
    def skeleton_offsets(self) -> list[int]:
        """Skeleton index -> original index."""
        return self._offset_maps().skeleton

    def _offset_maps(self) -> _OffsetMaps:
        if self._maps is None:
            folded = _fold_offsets(self._folded_from)
            skeleton = folded if folded is not None else list(range(len(self.folded)))
            for spans in self._deleted:
                if spans:
                    skeleton = _without(skeleton, spans)
            # a cache filled once: the views it is derived from are immutable
            object.__setattr__(self, "_maps", _OffsetMaps(folded, skeleton))
        assert self._maps is not None
        return self._maps

    def _span(self, start: int, end: int, offsets: list[int] | None) -> tuple[int, int]:
        if end <= start:
            return (0, 0)
        first = offsets[start] if offsets is not None else start
        last = (offsets[end - 1] if offsets is not None else end - 1) + 1
        # take in what normalisation dropped right after the match (a combining mark, a zero-width space)
        while last < len(self.original) and _FOLD[ord(self.original[last])] == "":
            last += 1
        return (first, last)

    def skeleton_span(self, start: int, end: int) -> tuple[int, int]:
        """The original span ``[start, end)`` of the skeleton's characters ``[start, end)``."""
        return self._span(start, end, self.skeleton_offsets)

    def folded_span(self, start: int, end: int) -> tuple[int, int]:
        """The original span of the folded view's characters ``[start, end)``."""
        return self._span(start, end, self.folded_offsets)


def _resolve_homoglyphs(text: str) -> str:
    """Replace look-alike letters inside mixed-script tokens; a 1:1 change, so offsets stay valid."""
    pieces: list[str] = []
    last = 0
    for match in _WORD.finditer(text):
        token = match.group()
        if not (_LATIN_LETTER.search(token) and _CYRILLIC_GREEK.search(token)):
            continue
        latin = len(_LATIN_LETTER.findall(token))
        foreign = _CYRILLIC_GREEK.findall(token)
        lookalikes = sum(1 for c in foreign if ord(c) in _TO_LATIN)
        if lookalikes == len(foreign) or latin > len(foreign):
            replaced = token.translate(_TO_LATIN)
        elif all(ord(c) in _TO_CYRILLIC for c in _LATIN_LETTER.findall(token)):
            replaced = token.translate(_TO_CYRILLIC)
        else:
            continue
        pieces.append(text[last : match.start()])
        pieces.append(replaced)
        last = match.end()
    if not pieces:
        return text
    pieces.append(text[last:])
    return "".join(pieces)


def _fold_offsets(text: str) -> list[int] | None:
    """Where each character of ``text.translate(_FOLD)`` came from; None when that is the identity."""
    if _FOLD.irregular.isdisjoint(text):
        return None
    offsets: list[int] = []
    for index, ch in enumerate(text):
        offsets.extend([index] * len(_FOLD[ord(ch)]))
    return offsets


def _undo_leet(text: str) -> str:
    pieces: list[str] = []
    last = 0
    for match in _LEET_TOKEN.finditer(text):
        token = match.group()
        core = token.lstrip("@").rstrip("!")
        if sum(1 for c in core if c.isalpha()) < 2:
            continue  # "4u", "5g", "mp3": too little of a word to be an evasive spelling
        head = len(token) - len(token.lstrip("@"))
        pieces.append(text[last : match.start() + head])
        pieces.append(core.translate(_LEET))
        last = match.start() + head + len(core)
    if not pieces:
        return text
    pieces.append(text[last:])
    return "".join(pieces)


_Sliceable = TypeVar("_Sliceable", str, list[int])


def _without(items: _Sliceable, spans: list[tuple[int, int]]) -> _Sliceable:
    """``items`` (a text or an offset map) without the positions in ``spans`` (sorted, disjoint)."""
    pieces = []
    last = 0
    for start, end in spans:
        pieces.append(items[last:start])
        last = end
    pieces.append(items[last:])
    if isinstance(items, str):
        return "".join(pieces)
    return list(chain.from_iterable(pieces))


def _separated(text: str) -> list[tuple[int, int]]:
    """The separators between letters spelled one by one (``c a s h``), to be deleted."""
    spans: list[tuple[int, int]] = []
    if _SEPARATED_HINT.search(text):
        for match in _SEPARATED.finditer(text):
            width = len(match.group("sep"))
            spans.extend((i + 1, i + 1 + width) for i in range(match.start(), match.end() - 1, width + 1))
    return spans


def _repeats(text: str) -> list[tuple[int, int]]:
    """Every letter that repeats the one before it, to be deleted."""
    return [(m.start() + 1, m.end()) for m in _RUN.finditer(text) if _LETTER.match(m.group(1))]


def normalise(text: str) -> Normalised:
    """Both normalised views of ``text`` (its first :data:`MAX_CHARS` characters); offsets on demand."""
    truncated = len(text) > MAX_CHARS
    original = text[:MAX_CHARS] if truncated else text
    source = original
    if not source.isascii() and _LATIN_LETTER.search(source) and _CYRILLIC_GREEK.search(source):
        source = _resolve_homoglyphs(source)
    folded = source.translate(_FOLD)
    skeleton = folded
    hint = _LEET_HINT.search(folded)
    if hint is not None and _LEET_GATE.search(folded, max(hint.start() - 1, 0)):
        skeleton = _undo_leet(folded)  # a 1:1 change: offsets stay valid
    joined = _separated(skeleton)
    if joined:
        skeleton = _without(skeleton, joined)
    squeezed = _repeats(skeleton)
    if squeezed:
        skeleton = _without(skeleton, squeezed)
    return Normalised(original, folded, skeleton, truncated, source, (joined, squeezed))


def normalise_term(term: str) -> str:
    """A lexicon term in the skeleton form that :func:`normalise` gives the texts it is matched in."""
    return normalise(term).skeleton
