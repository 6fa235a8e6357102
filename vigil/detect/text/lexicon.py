"""Lexicons: the first stage's data, one YAML file per language under ``lexicons/``.

A file names its ``language`` (an ISO 639-1 code, or ``"*"`` for entries that hold in every
language: URL shorteners, wallet addresses, handles) and holds two lists::

    language: en
    entries:                      # what the text is about
      - category: drugs           # a Category key
        label: drug_sale          # optional finer label a policy can single out
        weight: 0.35              # (0, 1]: how much one match adds to the category's raw score
        notes: Street names of controlled substances; weak alone, strong next to an offer.
        terms: [cocaine, "coke"]  # matched on the normalised skeleton, whole words
        patterns: ['\\b...\\b']   # optional regular expressions, matched on the folded view
    cues:                         # how the text talks about it (see classifier.py)
      - kind: news                # a CueKind: news, counter_speech, warning, ..., offer
        multiplier: 0.3           # (0, 5]: applied to category scores whose evidence is near
        categories: [drugs]       # optional: only these categories (default: all)
        notes: Reporting on an arrest or seizure, not an offer.
        terms: [police seized, was arrested]

Each list item is one entry for reviewers: its terms share its category, weight, label and notes. A
term matches whole words; ``*`` at its end lets it match the start of a longer word (``наркотик*``
for inflected languages), ``*`` at its start the end of one (Arabic attached prefixes). Terms are
normalised exactly as texts are (:func:`~vigil.detect.text.normalise.normalise_term`), so they are
written in plain spelling and still match the evasive ones.

Files are validated on load; every mistake raises :class:`LexiconError` naming the file, the entry
and what is wrong.
"""

from __future__ import annotations

import importlib
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import yaml

from vigil.detect.text.normalise import normalise_term
from vigil.domain.taxonomy import Category

LEXICON_DIR = Path(__file__).with_name("lexicons")
ANY_LANGUAGE = "*"
_MAX_PATTERN_CHARS = 300


class LexiconError(ValueError):
    """A lexicon file is malformed; the message names the file, the entry and the problem."""


class CueKind(StrEnum):
    """How the text around a match talks about the harm.

    Every kind but ``offer`` is a context frame (:data:`CONTEXT_FRAMES`): a way of talking about a
    harm that is not the harm, which the classifier reports as a ``context`` signal.
    """

    NEWS = "news"  # reporting: arrests, trials, seizures, attacks
    COUNTER_SPEECH = "counter_speech"  # rejecting or condemning the harm
    WARNING = "warning"  # warning people about it: "beware", "your bank will never ..."
    EDUCATION = "education"  # teaching, prevention, research, harm reduction
    REMEMBRANCE = "remembrance"  # memorials and the history of victims
    QUOTE = "quote"  # reported speech: training material, rulings, research quoting the words
    FICTION = "fiction"  # films, novels, games, satire
    JOKE = "joke"  # jokes, banter, slang that collides with harm words
    HELP_SEEKING = "help_seeking"  # a victim or a parent asking for help
    OFFER = "offer"  # a first-person offer or a call to action: strengthens


CONTEXT_FRAMES = tuple(kind for kind in CueKind if kind is not CueKind.OFFER)


@dataclass(frozen=True, slots=True)
class Entry:
    """A group of terms that say the same thing about one category."""

    category: Category
    weight: float
    label: str
    notes: str
    where: str  # "en.yaml entries[3]", for reviewers and error messages


@dataclass(frozen=True, slots=True)
class Cue:
    """A group of terms that mark the context a match sits in."""

    kind: CueKind
    multiplier: float
    categories: frozenset[Category]  # empty: every category
    notes: str
    where: str

    def applies_to(self, category: Category) -> bool:
        return not self.categories or category in self.categories


@dataclass(frozen=True, slots=True)
class Term:
    """One automaton key and the rule it belongs to."""

    key: str  # skeleton form
    written: str
    word_start: bool  # the match must start a word
    word_end: bool  # the match must end a word
    rule: Entry | Cue


@dataclass(frozen=True, slots=True)
class Pattern:
    """One regular expression and the rule it belongs to."""

    regex: re.Pattern[str]
    rule: Entry | Cue
    # finds where a match may first begin, faster than regex does (see _lead); None if there is none
    lead: re.Pattern[str] | None = None

    def finditer(self, text: str) -> Iterator[re.Match[str]]:
        """Every match of :attr:`regex` in ``text``, exactly as ``regex.finditer(text)`` gives them."""
        start = 0
        if self.lead is not None:
            # no match of regex can start before the lead's first match
            first = self.lead.search(text)
            if first is None:
                return iter(())
            start = first.start()
        return self.regex.finditer(text, start)


@dataclass(frozen=True, slots=True)
class Lexicon:
    language: str
    terms: tuple[Term, ...]
    patterns: tuple[Pattern, ...]


_ENTRY_KEYS = frozenset({"category", "label", "weight", "notes", "terms", "patterns"})
_CUE_KEYS = frozenset({"kind", "multiplier", "categories", "notes", "terms", "patterns"})


def is_word_char(ch: str) -> bool:
    """Whether ``ch`` continues a word (letters, digits, and the combining marks of Indic scripts)."""
    return ch.isalnum() or unicodedata.category(ch)[0] == "M"


def _fail(where: str, message: str) -> LexiconError:
    return LexiconError(f"{where}: {message}")


def _number(item: dict[str, Any], key: str, low: float, high: float, where: str) -> float:
    value = item.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _fail(where, f"'{key}' must be a number, got {value!r}")
    if not low < value <= high:
        raise _fail(where, f"'{key}' must be in ({low}, {high}], got {value}")
    return float(value)


def _category(value: Any, where: str) -> Category:
    try:
        return Category(value)
    except ValueError:
        known = ", ".join(c.value for c in Category)
        raise _fail(where, f"unknown category {value!r} (known: {known})") from None


def _strings(item: dict[str, Any], key: str, where: str) -> list[str]:
    values = item.get(key, [])
    if not isinstance(values, list) or not all(isinstance(v, str) and v.strip() for v in values):
        raise _fail(where, f"'{key}' must be a list of non-empty strings")
    return [v.strip() for v in values]


def _terms(written: Iterable[str], rule: Entry | Cue, where: str) -> list[Term]:
    out: list[Term] = []
    for text in written:
        key = normalise_term(text.strip("*").strip())
        if not key.strip() or (len(key) < 2 and is_word_char(key)):
            raise _fail(where, f"term {text!r} normalises to {key!r}, too short to match safely")
        # a term that begins or ends with punctuation ("bit.ly/") needs no word boundary there
        word_start = not text.startswith("*") and is_word_char(key[0])
        word_end = not text.endswith("*") and is_word_char(key[-1])
        out.append(Term(key, text, word_start, word_end, rule))
    return out


def _first_characters(ops: Any) -> tuple[list[Any], bool] | None:
    """The character-set items a match of ``ops`` (a parsed regex) can begin with, and whether it can be empty.

    None when that cannot be told simply (a negated set, a back-reference, scoped flags, any character).
    """
    items: list[Any] = []
    for op, value in ops:
        name = op.name
        if name in ("AT", "ASSERT", "ASSERT_NOT"):
            continue  # zero-width: the first character comes after
        if name == "LITERAL":
            return [*items, (op, value)], False
        if name == "IN":
            if any(item[0].name == "NEGATE" for item in value):
                return None
            return [*items, *value], False
        if name == "SUBPATTERN" and not value[1] and not value[2]:
            parts = [_first_characters(value[3])]
        elif name == "BRANCH":
            parts = [_first_characters(branch) for branch in value[1]]
        elif name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            parts = [_first_characters(value[2])]
            if value[0] == 0:
                parts.append(([], True))  # repeated zero times
        else:
            return None
        nullable = False
        for part in parts:
            if part is None:
                return None
            items.extend(part[0])
            nullable = nullable or part[1]
        if not nullable:
            return items, False
    return items, True


def _skips_ahead(op: Any, value: Any) -> bool:
    """Whether Python's regex engine can skip to where a regex that starts with this step may match."""
    if op.name == "BRANCH":
        return all(branch and branch[0][0].name == "LITERAL" for branch in value[1])
    return op.name in ("LITERAL", "IN")


def _lead(regex: re.Pattern[str]) -> re.Pattern[str] | None:
    """A regex that Python finds faster than ``regex`` and whose first match never starts after its first.

    Python's regex engine skips ahead to the characters a pattern can start with only when the pattern
    starts with a character, a set of them or alternative words; one that starts with ``\\b``, a
    look-behind, an optional part or a repeat is tried at every position, which made a few lexicon
    patterns cost more than the whole automaton pass. The lead is the pattern without its leading
    assertions when it then starts with something the engine skips ahead to, else the set of
    characters its matches can begin with. Either matches wherever ``regex`` does: a text it finds
    nothing in holds no match, and ``regex`` need only run from where the lead first matched, which
    gives the same matches. Both are derived with the standard library's own regex parser (a private
    module), so that they mean exactly what ``regex`` means; where that module is missing or changed,
    the pattern has groups (a back-reference into a dropped look-behind would change meaning) or it can
    match the empty string, there is no lead and the pattern runs as before.
    """
    if regex.groups:
        return None
    try:
        parser = importlib.import_module("re._parser")
        compiler = importlib.import_module("re._compiler")
        constants = importlib.import_module("re._constants")
        tree = parser.parse(regex.pattern, regex.flags)
        ops = tree.data
        leading = 0
        while leading < len(ops) and ops[leading][0].name in ("AT", "ASSERT", "ASSERT_NOT"):
            leading += 1
        if leading < len(ops) and _skips_ahead(*ops[leading]):
            if leading == 0:
                return None  # the engine already skips ahead on this one
            del ops[:leading]
        else:
            first = _first_characters(ops)
            if first is None or first[1] or not first[0]:
                return None
            ops[:] = [(constants.IN, first[0])]
        lead = compiler.compile(tree, regex.flags)
    except Exception:  # a private module: any surprise costs the speed-up, never a wrong answer
        return None
    return lead if isinstance(lead, re.Pattern) else None


def _patterns(written: Iterable[str], rule: Entry | Cue, where: str) -> list[Pattern]:
    out: list[Pattern] = []
    for text in written:
        if len(text) > _MAX_PATTERN_CHARS:
            raise _fail(where, f"pattern longer than {_MAX_PATTERN_CHARS} characters: {text[:40]!r}...")
        try:
            regex = re.compile(text)
        except re.error as error:
            raise _fail(where, f"pattern {text!r} is not a valid regular expression: {error}") from None
        out.append(Pattern(regex, rule, _lead(regex)))
    return out


def _parse_item(item: Any, section: str, index: int, name: str) -> tuple[list[Term], list[Pattern]]:
    where = f"{name} {section}[{index}]"
    if not isinstance(item, dict):
        raise _fail(where, "must be a mapping")
    allowed = _ENTRY_KEYS if section == "entries" else _CUE_KEYS
    unknown = sorted(set(item) - allowed)
    if unknown:
        raise _fail(where, f"unknown key(s) {', '.join(unknown)} (allowed: {', '.join(sorted(allowed))})")
    notes = item.get("notes")
    if not isinstance(notes, str) or not notes.strip():
        raise _fail(where, "'notes' is required: say why these terms matter, for reviewers")
    rule: Entry | Cue
    if section == "entries":
        label = item.get("label", "")
        if not isinstance(label, str) or (label and not re.fullmatch(r"[a-z][a-z0-9_]*", label)):
            raise _fail(where, f"'label' must be a snake_case word, got {label!r}")
        rule = Entry(
            _category(item.get("category"), where),
            _number(item, "weight", 0.0, 1.0, where),
            label,
            notes,
            where,
        )
    else:
        try:
            kind = CueKind(str(item.get("kind")))
        except ValueError:
            known = ", ".join(k.value for k in CueKind)
            raise _fail(where, f"unknown cue kind {item.get('kind')!r} (known: {known})") from None
        categories = item.get("categories", [])
        if not isinstance(categories, list):
            raise _fail(where, "'categories' must be a list of category keys")
        rule = Cue(
            kind,
            _number(item, "multiplier", 0.0, 5.0, where),
            frozenset(_category(c, where) for c in categories),
            notes,
            where,
        )
    terms = _terms(_strings(item, "terms", where), rule, where)
    patterns = _patterns(_strings(item, "patterns", where), rule, where)
    if not terms and not patterns:
        raise _fail(where, "needs at least one of 'terms' or 'patterns'")
    return terms, patterns


def load_lexicon_file(path: Path) -> Lexicon:
    """Read and validate one lexicon file."""
    name = path.name
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise LexiconError(f"{name}: cannot be read as YAML: {error}") from None
    if not isinstance(data, dict):
        raise LexiconError(f"{name}: must be a mapping with 'language', 'entries' and 'cues'")
    unknown = sorted(set(data) - {"language", "entries", "cues"})
    if unknown:
        raise LexiconError(f"{name}: unknown top-level key(s) {', '.join(unknown)}")
    language = data.get("language")
    if not isinstance(language, str) or not (language == ANY_LANGUAGE or re.fullmatch(r"[a-z]{2}", language)):
        raise LexiconError(f"{name}: 'language' must be an ISO 639-1 code or '*', got {language!r}")
    terms: list[Term] = []
    patterns: list[Pattern] = []
    for section in ("entries", "cues"):
        items = data.get(section) or []
        if not isinstance(items, list):
            raise LexiconError(f"{name}: '{section}' must be a list")
        for index, item in enumerate(items):
            more_terms, more_patterns = _parse_item(item, section, index, name)
            terms.extend(more_terms)
            patterns.extend(more_patterns)
    return Lexicon(language, tuple(terms), tuple(patterns))


def load_lexicons(directory: Path = LEXICON_DIR) -> dict[str, Lexicon]:
    """Every ``*.yaml`` lexicon in ``directory``, by language; two files for one language merge."""
    lexicons: dict[str, Lexicon] = {}
    for path in sorted(directory.glob("*.yaml")):
        lexicon = load_lexicon_file(path)
        if lexicon.language in lexicons:
            previous = lexicons[lexicon.language]
            lexicon = Lexicon(
                lexicon.language, previous.terms + lexicon.terms, previous.patterns + lexicon.patterns
            )
        lexicons[lexicon.language] = lexicon
    if not lexicons:
        raise LexiconError(f"{directory}: no lexicon files (*.yaml)")
    return lexicons
