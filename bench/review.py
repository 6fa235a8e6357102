"""Server time of the review pages: a queue with 10,000 open cases, a case whose author has a long record.

    .venv/bin/python bench/review.py            # 10,000 open cases, a subject with 1,000 prior events
    .venv/bin/python bench/review.py --quick    # 1,000 cases, 100 prior events

Setup: a fresh SQLite store with the default policy pack and a fraud bank; every case is opened the
way production opens it (an upload matching the bank, decided through ``Pipeline.submit``, whose
policy asks for review after acting). The subject under review has an author with ``--history``
other decided items and a case with as many events (notes). Each page is requested through the
ASGI app in process (FastAPI's TestClient, no network), so the time is the server's: routing,
authentication, the store queries, priority and serialisation.

Rows compare each page at full size with the same page on a small baseline built in the same run
(100 cases, no history): the ratio says how the page scales. Target (issue 5): under 100 ms each on
SQLite. The machine is shared and noisy: read medians and ratios, not single runs.
"""

from __future__ import annotations

import argparse
import hashlib
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from fastapi.testclient import TestClient
from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from vigil.api.app import create_app  # noqa: E402
from vigil.config import Settings  # noqa: E402
from vigil.domain.content import Audience, Content, ContentKind, MediaHashes  # noqa: E402
from vigil.domain.decisions import DecisionContext  # noqa: E402
from vigil.domain.hashes import HashType, ListedHash  # noqa: E402
from vigil.domain.ids import utcnow  # noqa: E402
from vigil.domain.roles import Role  # noqa: E402
from vigil.domain.taxonomy import Category  # noqa: E402
from vigil.pipeline.admin import Admin  # noqa: E402
from vigil.pipeline.service import Pipeline  # noqa: E402
from vigil.policy.loader import DEFAULT_PACK, load_policy_paths  # noqa: E402
from vigil.store import cases as case_store  # noqa: E402
from vigil.store.db import Store  # noqa: E402

TARGET_MS = 100.0
KIT = hashlib.md5(b"phishing kit").hexdigest()


@dataclass(frozen=True, slots=True)
class Setup:
    client: TestClient
    key: str
    headers: dict[str, str]
    case_id: str


def _item(content_id: str, author: str) -> Content:
    media = (MediaHashes("m", None, KIT, None, 100),)
    return Content(
        content_id, ContentKind.POST, Audience.PUBLIC, author, utcnow(), text="claim your prize", media=media
    )


def build(folder: Path, cases: int, history: int) -> tuple[Store, Setup]:
    settings = Settings(
        database_url=f"sqlite:///{folder / 'review.db'}",
        webhook_deliver=False,
        retro_matching=False,
        text_classifier=False,
        qa_sample_rate=0.0,
    )
    store = Store(settings.database_url)
    store.migrate()
    admin = Admin(store)
    admin.apply_policies(load_policy_paths([DEFAULT_PACK]), "bench")
    admin.create_bank("kits", Category.FRAUD, "bench", 31, "bench")
    admin.add_hashes("kits", [ListedHash(HashType.MD5, KIT)], "bench")
    pipeline = Pipeline(store)
    # the author's record: `history` other items of the author, each decided (and each a case)
    record = [_item(f"old-{i}", "repeat-author") for i in range(history)]
    others = [_item(f"item-{i}", f"author-{i}") for i in range(max(0, cases - history - 1))]
    subject = _item("under-review", "repeat-author")
    everything = [*record, *others, subject]
    for start in range(0, len(everything), 1000):
        pipeline.submit(everything[start : start + 1000], DecisionContext(), "bench")
    with store.transaction() as session:
        case = case_store.open_case_of(session, subject.subject)
        assert case is not None
        case_id = case.id
        for i in range(history):  # the case's own history: as many events as the record has items
            case_store.add_event(session, case_id, utcnow(), "key:bench", "noted", {"text": f"note {i}"})
    _, key = admin.create_key(Role.SENIOR_REVIEWER, "bench", None, "bench")
    client = TestClient(create_app(settings, store))
    return store, Setup(client, key, {"Authorization": f"Bearer {key}"}, case_id)


def timed(call: Callable[[], object], runs: int) -> list[float]:
    call()  # warm caches (first-request imports, SQLite pages)
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def sign_in(setup: Setup) -> None:
    """A console session for the bench's key (the TestClient keeps the cookie)."""
    found = _CSRF.search(setup.client.get("/console/login").text)
    assert found is not None
    signed = setup.client.post(
        "/console/login", data={"csrf": found.group(1), "api_key": setup.key}, follow_redirects=False
    )
    assert signed.status_code == 303, signed.text


def measure(setup: Setup, runs: int) -> dict[str, list[float]]:
    sign_in(setup)

    def page(path: str) -> Callable[[], object]:
        def get() -> object:
            response = setup.client.get(path)
            assert response.status_code == 200, response.text
            return response

        return get

    def queue() -> object:
        response = setup.client.get(
            "/v1/cases", params={"queue": "general", "limit": 100}, headers=setup.headers
        )
        assert response.status_code == 200, response.text
        return response

    def case() -> object:
        response = setup.client.get(f"/v1/cases/{setup.case_id}", headers=setup.headers)
        assert response.status_code == 200, response.text
        return response

    return {
        "console queue page (/console/queues/general)": timed(page("/console/queues/general"), runs),
        "console case page (/console/cases/{id})": timed(page(f"/console/cases/{setup.case_id}"), runs),
        "API queue (GET /v1/cases, top 100)": timed(queue, runs),
        "API case (GET /v1/cases/{id})": timed(case, runs),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cases", type=int, default=None)
    parser.add_argument("--history", type=int, default=None)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    cases = args.cases or (1000 if args.quick else 10_000)
    history = args.history or (100 if args.quick else 1000)
    console = Console(width=150)
    results: dict[str, dict[str, list[float]]] = {}
    with tempfile.TemporaryDirectory(prefix="vigil-bench-review-") as tmp:
        for label, n, h in (("baseline", 100, 0), ("full", cases, history)):
            folder = Path(tmp) / label
            folder.mkdir()
            started = time.perf_counter()
            store, setup = build(folder, n, h)
            console.print(
                f"{label}: {n:,} open cases, {h:,} prior events, built in {time.perf_counter() - started:.1f} s"
            )
            with setup.client:
                results[label] = measure(setup, args.runs)
            store.dispose()
    table = Table(title=f"Review pages, server time in ms (median and p95 of {args.runs} requests, SQLite)")
    for column in (
        "page",
        "baseline median",
        f"{cases:,} cases / {history:,} events median",
        "p95",
        "ratio",
        "target",
    ):
        table.add_column(column, justify="left" if column == "page" else "right")
    for page, samples in results["full"].items():
        base = statistics.median(results["baseline"][page])
        median = statistics.median(samples)
        p95 = sorted(samples)[int(0.95 * (len(samples) - 1))]
        verdict = "PASS" if median < TARGET_MS else "FAIL"
        table.add_row(
            page,
            f"{base:.1f}",
            f"{median:.1f}",
            f"{p95:.1f}",
            f"{median / base:.1f}x",
            f"< {TARGET_MS:.0f}: {verdict}",
        )
    console.print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
