"""The demo platform's texts: per-language templates and vocabularies, and how a template is filled.

Each ``texts/<language>.yaml`` holds a language's channels, its word lists (``words``) and, per post
kind, templates (``posts``); ``texts/common.yaml`` holds word lists every language shares. A
template is text with slots:

* ``{city}`` a random entry of the word list ``city`` (entries may hold slots themselves);
* ``{morning|evening}`` one of the alternatives;
* ``{2-40}`` a whole number in that range.

So "Police seized {2-40} kg of {drug} in {city}" gives many different sentences from one line.
Every file is checked when it is loaded, and an error names the file and the template.
"""

from __future__ import annotations

import random
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

TEXTS_DIR = Path(__file__).with_name("texts")
COMMON_FILE = "common.yaml"
VENUES = ("news", "community", "shop", "signals", "extremist")
_SLOT = re.compile(r"\{([^{}]*)\}")
_RANGE = re.compile(r"(\d+)-(\d+)")
_WORD = re.compile(r"[a-z_][a-z0-9_]*")
_MAX_DEPTH = 4  # a word may hold slots, whose words may hold slots ...: deep enough, never endless
_COUNTRY = re.compile(r"[A-Z]{2}")
_WAVE_MARK = "wave_mark"  # the word list a spam wave draws its small differences from


class TextsError(ValueError):
    """A texts file that cannot be used; the message names the file and the place."""


@dataclass(frozen=True, slots=True)
class ChannelSpec:
    """A channel or group as a texts file lists it."""

    id: str
    name: str
    venue: str
    country: str
    members: int


@dataclass(frozen=True, slots=True)
class Language:
    """One language's channels, words and templates."""

    code: str
    share: float  # weight of this language in the platform's traffic
    channels: tuple[ChannelSpec, ...]
    words: Mapping[str, tuple[str, ...]]
    posts: Mapping[str, tuple[str, ...]]  # post kind -> templates

    def render(self, kind: str, rng: random.Random) -> str:
        """A new text of ``kind``: a random template of that kind, filled."""
        return self.fill(rng.choice(self.posts[kind]), rng).strip()

    def fill(self, template: str, rng: random.Random, depth: int = 0) -> str:
        """``template`` with every slot filled at random."""

        def one(match: re.Match[str]) -> str:
            slot = match.group(1)
            if "|" in slot:
                return self.fill(rng.choice(slot.split("|")), rng, depth + 1)
            bounds = _RANGE.fullmatch(slot)
            if bounds:
                return str(rng.randint(int(bounds.group(1)), int(bounds.group(2))))
            return self.fill(rng.choice(self.words[slot]), rng, depth + 1)

        return template if depth > _MAX_DEPTH else _SLOT.sub(one, template)

    def vary(self, text: str, rng: random.Random) -> str:
        """``text`` with a small difference, as the posts of one spam wave differ."""
        return f"{text} {self.fill('{' + _WAVE_MARK + '}', rng)}".rstrip()


def _fail(file: str, where: str, problem: str) -> TextsError:
    return TextsError(f"texts/{file}: {where}: {problem}")


def _strings(value: Any, file: str, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or not all(isinstance(s, str) for s in value):
        raise _fail(file, where, "must be a non-empty list of strings")
    return tuple(value)


def _check_slots(text: str, words: Collection[str], file: str, where: str) -> None:
    if text.count("{") != text.count("}"):
        raise _fail(file, where, f"unbalanced braces in {text!r}")
    for slot in _SLOT.findall(text):
        bounds = _RANGE.fullmatch(slot)
        if "|" in slot:
            for alternative in slot.split("|"):
                _check_slots(alternative, words, file, where)
        elif bounds:
            if int(bounds.group(1)) > int(bounds.group(2)):
                raise _fail(file, where, f"range {{{slot}}} runs backwards")
        elif slot not in words:
            known = ", ".join(sorted(words))
            raise _fail(file, where, f"unknown word list {{{slot}}} in {text!r} (known: {known})")


def _channels(value: Any, file: str) -> tuple[ChannelSpec, ...]:
    if not isinstance(value, list) or not value:
        raise _fail(file, "channels", "must be a non-empty list")
    specs: list[ChannelSpec] = []
    for index, item in enumerate(value):
        where = f"channels[{index}]"
        if not isinstance(item, dict) or set(item) != {"id", "name", "venue", "country", "members"}:
            raise _fail(file, where, "needs exactly id, name, venue, country and members")
        if item["venue"] not in VENUES:
            raise _fail(file, where, f"venue {item['venue']!r} is none of {', '.join(VENUES)}")
        if not isinstance(item["country"], str) or not _COUNTRY.fullmatch(item["country"]):
            raise _fail(file, where, f"country {item['country']!r} is not an ISO 3166-1 alpha-2 code")
        if not isinstance(item["members"], int) or item["members"] < 1:
            raise _fail(file, where, "members must be a positive whole number")
        specs.append(
            ChannelSpec(str(item["id"]), str(item["name"]), item["venue"], item["country"], item["members"])
        )
    return tuple(specs)


def _words(value: Any, file: str) -> dict[str, tuple[str, ...]]:
    if not isinstance(value, dict):
        raise _fail(file, "words", "must map word-list names to lists")
    words: dict[str, tuple[str, ...]] = {}
    for name, entries in value.items():
        if not isinstance(name, str) or not _WORD.fullmatch(name):
            raise _fail(file, f"words.{name}", "a word-list name is lower case letters, digits and _")
        words[name] = _strings(entries, file, f"words.{name}")
    return words


def _language(path: Path, common: Mapping[str, tuple[str, ...]], kinds: Collection[str]) -> Language:
    file = path.name
    data: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    expected = {"language", "share", "channels", "words", "posts"}
    if not isinstance(data, dict) or set(data) != expected:
        raise _fail(file, "top level", f"needs exactly the keys {', '.join(sorted(expected))}")
    if data["language"] != path.stem:
        raise _fail(file, "language", f"{data['language']!r} is not the file's name")
    if not isinstance(data["share"], int | float) or data["share"] <= 0:
        raise _fail(file, "share", "must be a positive number")
    words = {**common, **_words(data["words"], file)}
    if not isinstance(data["posts"], dict):
        raise _fail(file, "posts", "must map post kinds to lists of templates")
    posts: dict[str, tuple[str, ...]] = {}
    for kind, templates in data["posts"].items():
        if kind not in kinds:
            raise _fail(file, f"posts.{kind}", f"unknown post kind (known: {', '.join(sorted(kinds))})")
        posts[kind] = _strings(templates, file, f"posts.{kind}")
    for name, entries in words.items():
        for index, entry in enumerate(entries):
            _check_slots(entry, words, file, f"words.{name}[{index}]")
    for kind, templates in posts.items():
        for index, template in enumerate(templates):
            _check_slots(template, words, file, f"posts.{kind}[{index}]")
    texts = (*(e for entries in words.values() for e in entries), *(t for ts in posts.values() for t in ts))
    used = {alternative for text in texts for slot in _SLOT.findall(text) for alternative in slot.split("|")}
    unused = set(data["words"]) - used
    if unused:
        raise _fail(file, "words", f"word lists no template uses: {', '.join(sorted(unused))}")
    return Language(path.stem, float(data["share"]), _channels(data["channels"], file), words, posts)


@cache
def _load(kinds: frozenset[str], directory: Path) -> dict[str, Language]:
    common_data: Any = yaml.safe_load((directory / COMMON_FILE).read_text(encoding="utf-8"))
    if not isinstance(common_data, dict) or set(common_data) != {"words"}:
        raise _fail(COMMON_FILE, "top level", "needs exactly the key words")
    common = _words(common_data["words"], COMMON_FILE)
    if _WAVE_MARK not in common:
        raise _fail(COMMON_FILE, "words", f"needs the word list {_WAVE_MARK}")
    languages = {}
    channels: dict[str, str] = {}  # channel id -> the file that lists it
    for path in sorted(directory.glob("*.yaml")):
        if path.name != COMMON_FILE:
            language = _language(path, common, kinds)
            for spec in language.channels:
                if spec.id in channels:
                    raise _fail(
                        path.name, "channels", f"channel id {spec.id!r} is also in {channels[spec.id]}"
                    )
                channels[spec.id] = path.name
            languages[language.code] = language
    return languages


def load_languages(kinds: Collection[str], directory: Path = TEXTS_DIR) -> dict[str, Language]:
    """Every language in ``directory``, checked, by code; ``kinds`` are the post kinds templates may have.

    Loaded once per process: the files ship with the package and do not change while it runs.
    """
    return _load(frozenset(kinds), directory)
