"""Docs that run, page by page: the shell examples of every page of docs/ are executed as written
against a live `vigil serve`, and what they print is compared with what the page shows after them
(docs_runner.py says how). Each page runs the sections `PAGES` names, in that order, in one shell: its
opening (None: the text before the first `## `, whose block defines `V` and `J`) and the sections
whose examples build on each other. As in the README's tour, the examples assume `ADMIN`, the admin
key `vigil init` printed, and create every other key they need themselves.

A page whose output counts what is in the database (audit events, open cases, daily figures) gets a
database and server of its own; the other pages share one, each with a directory of its own for the
files its examples write. All databases are copies of one `vigil init`, and while a page runs, the
next server it needs starts, so that the pages cost little more than their examples."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.integration.docs_runner import LOCAL, ROOT, Step, check, run_steps, steps
from tests.integration.live import VIGIL, Vigil

pytestmark = pytest.mark.e2e


@dataclass(frozen=True)
class Page:
    """A page of docs/ and the sections whose examples run. `alone`: its output counts what is in the
    database, so it needs one of its own. `files`: files of the checkout its examples read (they run
    where `make run` runs, in the clone). `needs`: programs they need beyond bash, curl and Python."""

    name: str
    sections: tuple[str | None, ...]
    alone: bool = False
    files: tuple[str, ...] = ()
    needs: tuple[str, ...] = ()

    def __str__(self) -> str:
        return self.name


PAGES = [  # in an order that lets each page's server start while the page before runs its examples
    # the audit event of a decision by its number, the chain's length
    Page("api.md", (None, "Keys", "Errors", "Banks", "Content", "Hash look-up", "Audit"), alone=True),
    Page("classification.md", (None, "Text")),
    # the chain of a database `vigil init` has just created
    Page(
        "deployment.md",
        (None, "The audit chain", "API keys", "Operating: metrics, logs, readiness"),
        alone=True,
    ),
    # the open cases of the queues, the agreement of reviewers with the machines
    Page("review.md", (None, "Working a case (HTTP)", "Quality"), alone=True),
    Page("policies.md", ("Validation", "Versions")),
    # the day's figures
    Page("transparency.md", (None, "Statements of reasons", "Daily figures"), alone=True),
    Page("media-matching.md", (None, "Hash lists: import and export", "Hash-only look-up")),
    Page(
        "security.md",
        (
            None,
            "Who can do what",
            "What a leaked key can do, and how to limit it",
            "Content is the platform's word alone",
            "Outbound requests",
            "Hostile input",
            "The audit chain",
        ),
    ),
    Page("contact.md", (None, "The configuration file", "Security"), files=("vigil/intake/contact.yaml",)),
    Page("console.md", ("Signing in", "Security model")),
    Page(
        "notices.md",
        (None, "Sending a notice: `POST /v1/notices`", "Trusted flaggers: `/v1/trusted-flaggers`"),
    ),
    Page(
        "orders.md",
        (None, "1. Registering an authority (administrators)", "2. Sending an order (authorities)"),
        needs=("openssl",),
    ),
    Page("webhooks.md", (None, "Endpoint URLs")),
    Page("architecture.md", ("How to add",)),
    # a NATS server and a worker of the page's own, on the shared server's database
    Page("stream.md", ("Running a worker", "Dead letters")),
    Page("scaling.md", (None, "Trying it: `vigil cluster up`")),
]
SHARED = "shared"  # the server of the pages that are not alone


# --- the servers: one per page that needs its own, one for the others; the next starting meanwhile ---


class Servers:
    """Starts `vigil serve` on copies of one initialised database: a page's server when the page
    first needs it, and the next one the pages after it need at the same time, so that it is up by
    the time they run."""

    def __init__(self, pages: list[Page], template: Path, root: Path, env: dict[str, str]) -> None:
        self.pages, self.template, self.root, self.base_env = pages, template, root, env
        self.pool = ThreadPoolExecutor(max_workers=2)
        self.started: dict[str, Future[Vigil]] = {}

    def server(self, page: Page) -> Vigil:
        """The page's server, started (and the next one the pages after it need, starting)."""
        if self.name(page) not in self.started:
            self.started[self.name(page)] = self.pool.submit(self._start, self.name(page))
        following = self.pages[self.pages.index(page) + 1 :] if page in self.pages else []
        upcoming = next((self.name(p) for p in following if self.name(p) not in self.started), None)
        if upcoming is not None:
            self.started[upcoming] = self.pool.submit(self._start, upcoming)
        return self.started[self.name(page)].result()

    def done(self, page: Page) -> None:
        if page.alone:
            stop(self.started.pop(page.name).result())

    def workdir(self, page: Page) -> Path:
        """Where the page's examples run, with the checkout's files they read."""
        workdir = self.root / "examples" / page.name.removesuffix(".md")
        workdir.mkdir(parents=True)
        for name in page.files:
            (workdir / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(ROOT / name, workdir / name)
        return workdir

    def env(self, page: Page) -> dict[str, str]:
        return self.base_env | {"VIGIL_DATABASE_URL": f"sqlite:///{self.database(self.name(page))}"}

    def close(self) -> None:
        self.pool.shutdown(wait=True)
        for future in self.started.values():
            if future.exception() is None:
                stop(future.result())

    @staticmethod
    def name(page: Page) -> str:
        return page.name if page.alone else SHARED

    def database(self, name: str) -> Path:
        return self.root / "servers" / name / "vigil.db"

    def _start(self, name: str) -> Vigil:
        # apart from the examples' directories: `python -m vigil` would import as the package a
        # `vigil` folder of copied files (`files`) in its working directory
        database = self.database(name)
        database.parent.mkdir(parents=True)
        with closing(sqlite3.connect(self.template)) as source, closing(sqlite3.connect(database)) as copy:
            source.backup(copy)
        vigil = Vigil(database.parent, self.base_env | {"VIGIL_DATABASE_URL": f"sqlite:///{database}"})
        vigil.start()
        return vigil


def stop(vigil: Vigil) -> None:
    if vigil.process is not None and vigil.process.poll() is None:
        vigil.process.terminate()
        vigil.process.wait(timeout=10)


def page_env() -> dict[str, str]:
    """The defaults `make run` runs on (no VIGIL_ setting of the caller's leaks in), no random QA case
    (so the audit chain's length is exact), and `vigil` and `python3` of this installation first on the
    PATH, as in a shell where the virtual environment is active."""
    bin_dir = str(Path(sys.executable).parent)
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("VIGIL_")},
        "PATH": os.pathsep.join([bin_dir, os.environ.get("PATH", "")]),
        "VIRTUAL_ENV": str(Path(bin_dir).parent),
        "VIGIL_QA_SAMPLE_RATE": "0",
    }


@pytest.fixture(scope="module")
def admin(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """One `vigil init`, copied for every server: its database and the admin key it printed."""
    workdir = tmp_path_factory.mktemp("init")
    env = page_env() | {"VIGIL_DATABASE_URL": f"sqlite:///{workdir / 'vigil.db'}"}
    init = subprocess.run([*VIGIL, "init", "--json"], cwd=workdir, env=env, capture_output=True, check=True)
    return workdir / "vigil.db", str(json.loads(init.stdout)["admin_key"])


@pytest.fixture(scope="module")
def servers(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, admin: tuple[Path, str]
) -> Iterator[Servers]:
    selected = [  # the pages this session runs, in order, so that no server starts in vain
        page
        for item in request.session.items
        if isinstance(item, pytest.Function) and item.module is request.module and hasattr(item, "callspec")
        if isinstance(page := item.callspec.params.get("page"), Page)
    ]
    started = Servers(selected, admin[0], tmp_path_factory.mktemp("docs"), page_env())
    yield started
    started.close()


def page_steps(page: Page, base: str, admin_key: str) -> list[Step]:
    """The examples of the page's sections, in order, pointed at the test's server, with `ADMIN`."""
    markdown = (ROOT / "docs" / page.name).read_text()
    found = [step for heading in page.sections for step in steps(markdown, heading)]
    for step in found:
        step.script = step.script.replace(LOCAL, base)
    found[0].script = f"ADMIN={admin_key}\n{found[0].script}"
    return found


@pytest.mark.parametrize("page", PAGES, ids=str)
def test_the_page_examples_run_as_written(page: Page, servers: Servers, admin: tuple[Path, str]) -> None:
    missing = [program for program in page.needs if shutil.which(program) is None]
    # a reader of the page has these programs (Debian's openssl, say); a machine without them fails
    # here with the reason, never skips
    assert not missing, f"the examples of docs/{page.name} need {', '.join(missing)} on the PATH"
    server = servers.server(page)
    try:
        found = page_steps(page, server.base, admin[1])
        check(found, run_steps(found, servers.workdir(page), servers.env(page)), f"docs/{page.name}")
    finally:
        servers.done(page)


def test_every_page_of_the_docs_has_examples_that_run() -> None:
    pages = {page.name for page in PAGES}
    assert pages == {path.name for path in (ROOT / "docs").glob("*.md")}
    for page in PAGES:
        markdown = (ROOT / "docs" / page.name).read_text()
        assert sum(len(steps(markdown, heading)) for heading in page.sections) >= 2, page.name
