"""Docs that run: the README's 60-second tour, and the examples of docs/api.md's "Keys" section, are
executed as written against a live `vigil serve`, and what they print is compared with what the docs
show. Only what must differ is substituted: the admin key and the port."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.integration.live import VIGIL, Vigil

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
FENCE = re.compile(
    r"^(?P<indent>[ \t]*)```(?P<lang>[\w-]*)[ \t]*\n(?P<body>.*?)^(?P=indent)```[ \t]*$", re.M | re.S
)

# Strings that differ from run to run: a value the docs show in one of these forms must come back in
# the same form; every other value must come back as shown.
VOLATILE = [
    re.compile(r"(?:wh|dec)_[0-9a-f]{24}"),  # webhook and decision ids
    re.compile(r"whsec_[A-Za-z0-9_-]{43}"),  # a webhook's signing secret
    re.compile(r"vgl_[0-9a-f]{12}_[A-Za-z0-9_-]{43}"),  # an API key
    re.compile(r"[0-9a-f]{12}"),  # an API key's id
    re.compile(r"[0-9a-f]{64}"),  # the audit chain's head
    re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z"),  # a timestamp
]


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
    values, except that a volatile string need only have the same form."""
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return [f"{path}: expected an object, got {actual!r}"]
        problems = (
            [f"{path}: keys differ: shown {sorted(expected)}, got {sorted(actual)}"]
            if set(expected) != set(actual)
            else []
        )
        for key in expected.keys() & actual.keys():
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
    if isinstance(expected, str) and (pattern := volatile(expected)) is not None:
        return (
            []
            if isinstance(actual, str) and pattern.fullmatch(actual)
            else [f"{path}: {actual!r} is not like {expected!r}"]
        )
    if type(expected) is not type(actual) or expected != actual:
        return [f"{path}: shown {expected!r}, got {actual!r}"]
    return []


def text_pattern(expected: str) -> re.Pattern[str]:
    """The text the docs show as a regex: volatile tokens become their form, the rest is literal."""
    tokens = re.compile(r"\b(?:" + "|".join(f"(?:{p.pattern})" for p in VOLATILE) + r")\b")
    pattern, last = "", 0
    for token in tokens.finditer(expected):
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


@pytest.fixture
def tour_env(tmp_path: Path) -> dict[str, str]:
    """The defaults `make run` runs on (no VIGIL_ setting of the caller's leaks in), with a database of
    this test's own, and no random QA case, so the audit chain's length is exact."""
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("VIGIL_")},
        "VIGIL_DATABASE_URL": f"sqlite:///{tmp_path / 'vigil.db'}",
        "VIGIL_QA_SAMPLE_RATE": "0",
    }


@pytest.fixture
def admin_key(tmp_path: Path, tour_env: dict[str, str]) -> str:
    init = subprocess.run(
        [*VIGIL, "init", "--json"], cwd=tmp_path, env=tour_env, capture_output=True, check=True
    )
    return str(json.loads(init.stdout)["admin_key"])


@pytest.fixture
def server(tmp_path: Path, tour_env: dict[str, str], admin_key: str) -> Iterator[Vigil]:
    vigil = Vigil(tmp_path, tour_env)
    vigil.start()
    yield vigil
    assert vigil.process is not None
    vigil.process.terminate()
    vigil.process.wait(timeout=10)


def test_the_readme_tour_runs_as_written(
    tmp_path: Path, tour_env: dict[str, str], admin_key: str, server: Vigil
) -> None:
    found = steps((ROOT / "README.md").read_text(), "60-second tour")
    first = found[0].script
    first = substitute(first, r"^ADMIN=vgl_\.\.\.", f"ADMIN={admin_key}")
    first = substitute(first, r"^V=http://127\.0\.0\.1:8080/v1$", f"V={server.base}/v1")
    found[0].script = first
    # Step 7 runs `.venv/bin/vigil` in the checkout that `make run` runs in; here the tour runs in this
    # test's directory, next to `vigil serve`, so that relative path becomes the absolute one of the
    # `vigil` beside this Python (plainer than a `.venv/bin` symlink). The tour's shell has the
    # server's environment, so `vigil audit verify` reads the same database through VIGIL_DATABASE_URL.
    (verify,) = [step for step in found if ".venv/bin/vigil" in step.script]
    verify.script = verify.script.replace(".venv/bin/vigil", str(Path(sys.executable).parent / "vigil"))
    check(found, run_steps(found, tmp_path, tour_env), "README.md")


def test_the_api_reference_key_examples_run_as_written(
    tmp_path: Path, tour_env: dict[str, str], admin_key: str, server: Vigil
) -> None:
    """docs/api.md's examples assume the `V` and `J` of its opening block, and an `ADMIN` key (the
    README's tour defines it; here it is the key `vigil init` printed)."""
    markdown = (ROOT / "docs" / "api.md").read_text()
    (preamble,) = steps(markdown, None)
    assert preamble.expected is None
    preamble.script = substitute(preamble.script, r"^V=http://127\.0\.0\.1:8080/v1$", f"V={server.base}/v1")
    preamble.script = f"ADMIN={admin_key}\n{preamble.script}"
    found = [preamble, *steps(markdown, "Keys")]
    check(found, run_steps(found, tmp_path, tour_env), "docs/api.md")
