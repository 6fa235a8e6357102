"""Docs that run: the machinery that executes the shell examples of the README and of docs/ as written,
against a live `vigil serve`, and compares what they print with what the page shows after them.

A page's example is a fenced `sh` block; the fenced ```json or plain ``` block right after it (blank
lines between at most) is what it prints. The `sh` blocks of the sections a test names run in one bash
process, in order, so that the variables of one example carry to the next, as in a reader's terminal.
JSON is compared by keys and values, text as a pattern; values that differ from run to run (ids,
secrets, times) need only have the form the page shows (`VOLATILE`)."""

from __future__ import annotations

import json
import math
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
FENCE = re.compile(
    r"^(?P<indent>[ \t]*)```(?P<lang>[\w-]*)[ \t]*\n(?P<body>.*?)^(?P=indent)```[ \t]*$", re.M | re.S
)
LOCAL = "http://127.0.0.1:8080"  # where the docs' examples find `vigil serve`

# Strings that differ from run to run: a value the docs show in one of these forms must come back in
# the same form; every other value must come back as shown. The forms are tried in this order, and
# match whole tokens only (not a part of a longer word), inside a string as well as as a whole value.
VOLATILE = [
    re.compile(r"(?:wh|dec|evt|case|ntc|ord|sor|hold)_[0-9a-f]{24}"),  # ids of Vigil's records
    re.compile(r"whsec_[A-Za-z0-9_-]{43}"),  # a webhook's signing secret
    re.compile(r"vgl_[0-9a-f]{12}_[A-Za-z0-9_-]{43}"),  # an API key
    re.compile(r"[0-9a-f]{12}"),  # an API key's id
    re.compile(r"[0-9a-f]{64}"),  # the audit chain's head, an event's hash
    re.compile(r"[A-Za-z0-9+/]{43}="),  # 32 bytes in base64: an Ed25519 public key
    re.compile(r"sha256-[A-Za-z0-9+/]{43}="),  # a Content-Security-Policy's hash of an inline stylesheet
    re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z"),  # a timestamp
    re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC"),  # a timestamp, as a receipt writes it
    re.compile(r"\d{4}-\d\d-\d\d"),  # a day
]
TOKENS = re.compile(r"(?<![\w+/])(?:" + "|".join(f"(?:{p.pattern})" for p in VOLATILE) + r")(?![\w+/])")

# Numbers that differ from run to run, by the key they are under: only their type is checked.
COUNTDOWNS = {"seconds_left"}  # an order's or case's time left, which runs while the example does


@dataclass
class Step:
    """A fenced `sh` block and the output the docs show after it (None: the docs show none)."""

    line: int
    script: str
    expected: str | None
    expected_lang: str


def section(markdown: str, heading: str | None) -> tuple[int, int]:
    """Where a `## ` section starts and ends; heading None: the text before the first `## `."""
    start = 0 if heading is None else markdown.index(f"\n## {heading}\n")
    end = markdown.find("\n## ", start + 1)
    return start, len(markdown) if end < 0 else end


def steps(markdown: str, heading: str | None) -> list[Step]:
    """The `sh` blocks of a `## ` section in order, each with the fenced block right after it (```json
    or plain ```, blank lines between at most) as its output."""
    start, end = section(markdown, heading)
    blocks = list(FENCE.finditer(markdown, start, end))
    found: list[Step] = []
    for i, block in enumerate(blocks):
        if block["lang"] != "sh":
            continue
        after = blocks[i + 1] if i + 1 < len(blocks) else None
        shown = (
            after is not None
            and after["lang"] in ("json", "")
            and markdown[block.end() : after.start()].strip() == ""
        )
        found.append(
            Step(
                line=markdown.count("\n", 0, block.start()) + 1,
                script=dedent(block["body"], block["indent"]),
                expected=dedent(after["body"], after["indent"]).rstrip("\n") if shown and after else None,
                expected_lang=after["lang"] if shown and after else "",
            )
        )
    assert found, f"no sh blocks in the section {heading!r}"
    return found


def dedent(body: str, indent: str) -> str:
    """A fenced block's text without the indentation of its fence (a block inside a list item)."""
    return "".join(line.removeprefix(indent) for line in body.splitlines(keepends=True))


def substitute(script: str, pattern: str, replacement: str) -> str:
    """Replace what must differ from the docs, and fail if the docs no longer have it."""
    result, count = re.subn(pattern, replacement, script, flags=re.M)
    assert count == 1, f"expected the docs to contain {pattern!r} once, found it {count} times"
    return result


def run_steps(found: list[Step], workdir: Path, env: dict[str, str]) -> list[str]:
    """Run every step in one bash process, so that the variables of one carry to the next, and return
    what each printed. A marker echoed between steps splits the output."""
    marker = "----vigil-docs-step-{}----"
    parts = ["set -euo pipefail"]
    for i, step in enumerate(found):
        parts += [step.script, f"printf '\\n%s\\n' '{marker.format(i)}'"]
    done = subprocess.run(
        ["bash", "-c", "\n".join(parts)],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    outputs: list[str] = []
    rest = done.stdout
    for i, step in enumerate(found):
        before, separator, rest = rest.partition(f"\n{marker.format(i)}\n")
        if not separator:
            pytest.fail(
                f"the step at line {step.line} did not finish (bash exit status {done.returncode})\n"
                f"--- step\n{step.script}\n--- its output\n{before}\n--- stderr\n{done.stderr}"
            )
        outputs.append(before.strip("\n"))
    assert done.returncode == 0, done.stderr
    return outputs


def volatile(value: str) -> re.Pattern[str] | None:
    return next((pattern for pattern in VOLATILE if pattern.fullmatch(value)), None)


def same_shape(expected: Any, actual: Any, path: str = "$") -> list[str]:
    """Where a JSON answer differs from the one the docs show: the same keys everywhere, the same
    values, except that a volatile string (or a volatile part of a string) need only have the same
    form, a countdown only be a whole number, and a fraction agree to nine significant digits."""
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return [f"{path}: expected an object, got {actual!r}"]
        problems = (
            [f"{path}: keys differ: shown {sorted(expected)}, got {sorted(actual)}"]
            if set(expected) != set(actual)
            else []
        )
        for key in expected.keys() & actual.keys():
            if key in COUNTDOWNS and type(expected[key]) is int:
                problems += (
                    [] if type(actual[key]) is int else [f"{path}.{key}: {actual[key]!r} is not a number"]
                )
            else:
                problems += same_shape(expected[key], actual[key], f"{path}.{key}")
        return problems
    if isinstance(expected, list):
        if not isinstance(actual, list) or len(actual) != len(expected):
            return [f"{path}: expected {len(expected)} items, got {actual!r}"]
        return [
            p
            for i, (e, a) in enumerate(zip(expected, actual, strict=True))
            for p in same_shape(e, a, f"{path}[{i}]")
        ]
    if isinstance(expected, str) and TOKENS.search(expected):
        return (
            []
            if isinstance(actual, str) and text_pattern(expected).fullmatch(actual)
            else [f"{path}: {actual!r} is not like {expected!r}"]
        )
    if isinstance(expected, float) and type(actual) is float:
        return (
            []
            if math.isclose(expected, actual, rel_tol=1e-9)
            else [f"{path}: shown {expected!r}, got {actual!r}"]
        )
    if type(expected) is not type(actual) or expected != actual:
        return [f"{path}: shown {expected!r}, got {actual!r}"]
    return []


def text_pattern(expected: str) -> re.Pattern[str]:
    """The text the docs show as a regex: volatile tokens become their form, the rest is literal."""
    pattern, last = "", 0
    for token in TOKENS.finditer(expected):
        pattern += re.escape(expected[last : token.start()]) + volatile(token[0]).pattern  # type: ignore[union-attr]
        last = token.end()
    return re.compile(pattern + re.escape(expected[last:]))


def check(found: list[Step], outputs: list[str], source: str) -> None:
    failures = []
    for step, actual in zip(found, outputs, strict=True):
        if step.expected is None:
            problems = [] if actual == "" else ["the docs show no output"]
        elif step.expected_lang == "json":
            try:
                problems = same_shape(json.loads(step.expected), json.loads(actual))
            except json.JSONDecodeError as error:
                problems = [f"not JSON: {error}"]
        else:
            problems = [] if text_pattern(step.expected).fullmatch(actual) else ["the text differs"]
        if problems:
            failures.append(
                f"{source}, the step at line {step.line}:\n" + "\n".join(f"  {p}" for p in problems) + "\n"
                f"--- step\n{step.script}--- shown\n{step.expected}\n--- got\n{actual}\n"
            )
    assert not failures, "the docs drifted from the code:\n\n" + "\n".join(failures)
