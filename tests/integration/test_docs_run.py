"""Docs that run: the README's 60-second tour, and the examples of docs/api.md's "Keys" section, are
executed as written against a live `vigil serve`, and what they print is compared with what the docs
show. Only what must differ is substituted: the admin key and the port. The machinery is in
docs_runner.py, the fixtures in conftest.py; the other pages of docs/ run in test_docs_pages.py."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.integration.docs_runner import ROOT, check, run_steps, steps, substitute
from tests.integration.live import Vigil

pytestmark = pytest.mark.e2e


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
