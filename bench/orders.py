"""Authority orders end to end: from an order's receipt to the platform's webhook, 1,000 orders at once.

    .venv/bin/python bench/orders.py                   # 1,000 orders, 32 requests in flight
    .venv/bin/python bench/orders.py --orders 100      # a smoke run
    .venv/bin/python bench/orders.py --concurrency 1000

What runs: ``vigil init`` and ``vigil serve`` as subprocesses on a fresh SQLite database (the default
policy pack, the default legal safeguards; webhook poll 0.05 s; the text classifier's first stage
only; no QA sampling), and a webhook receiver in this process that notes, on this process's
monotonic clock, when each item's enforcement webhook arrives. An authority (FR, competent for
``tco_removal``) is registered with an Ed25519 key, and its API key minted.

Two columns, each ``--orders`` items sent with ``--concurrency`` requests in flight (a thread pool),
baseline first, then orders, on the same server:

* ``removal orders``: first the items are submitted (``POST /v1/content/batch``, not timed; plain
  text that no policy acts on), then one signed terrorist-content removal order per item
  (``POST /v1/orders``), all at once. An EU authority's TCO order runs without a person when the
  safeguards find nothing, so each order is executed inside its request and its decision goes out
  through the outbox;
* ``baseline: content decisions``: as many items whose media MD5 is in a terrorism bank, each sent
  alone (``POST /v1/content``); the default pack removes them, through the same outbox and webhook
  path.

Per item: ``HTTP latency`` is the request's; ``receipt -> webhook`` runs from the moment the request
was sent to the arrival of that content item's webhook, and ``response -> webhook`` from the
response to the webhook (how far delivery trails the requests). ``first request -> last response``
and ``-> last webhook`` are the whole burst's. ``server CPU per item`` is the CPU time of the
``vigil serve`` process over the burst (its background threads included) divided by the items. The
orders' signatures and bodies are made before the clock starts, and a few items of each kind go
through first, untimed, so that neither column pays for loading.

Checked on the way (the run fails otherwise): every order is answered 201 and ``executed`` (or
``answered`` already, when its webhook was confirmed before the response was read), every
content decision removes, each item gets exactly one enforcement webhook carrying the decision the
response named, and every order is ``answered`` (the order watch answers it once the webhook is
delivered) and not late. ``receipt -> answered`` is the server's own ``answered_at - received_at``.

Target (the issue): all 1,000 orders through to the webhook well under one minute on SQLite. The
machine is shared and noisy: read the ratios (orders / baseline, rows of the same run).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import random
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.pipeline import free_port, load_average, process_cpu_seconds  # noqa: E402
from tests.order_fixtures import SigningAuthority, removal_order  # noqa: E402 - the tests' authority
from vigil.domain.enforcement import ENFORCEMENT_EVENT  # noqa: E402
from vigil.enforce.webhooks import EVENT_ID_HEADER, EVENT_TYPE_HEADER  # noqa: E402

TARGET_SECONDS = 60.0
WARM_UP = 5
SETTLE_SECONDS = 2.0  # after the last webhook: 40 delivery polls, time for a duplicate to show up
WEBHOOK_TIMEOUT = 600.0
BANK = "bench-terror"
# Everyday posts: nothing a policy acts on, and no word the safeguards read as reporting or protest
# (those orders would wait for a senior lawyer instead of running at once).
TEXTS = (
    "Just got back from the farmers market and the strawberries are finally in season.",
    "Selling my old road bike, barely used, message me if you are interested.",
    "Thread: what I learned after a year of learning to bake sourdough.",
    "Petite balade en Bretagne ce week-end, le temps était parfait.",
    "Heute endlich wieder Sonne, ab an den See mit den Kindern.",
    "Does anyone know a good place to get a bicycle repaired near the station?",
)


# --------------------------------------------------------------------------------------------------
# The platform's webhook endpoint
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Arrival:
    at: float  # time.monotonic() in this process
    event_id: str
    decision_id: str


class Receiver:
    """A real HTTP endpoint that notes when each content item's enforcement webhook arrives."""

    def __init__(self) -> None:
        self.port = free_port()
        self.arrivals: dict[str, list[Arrival]] = {}
        self.other_events: dict[str, int] = {}
        self._changed = threading.Condition()
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/vigil-hook"

    def _record(self, headers: dict[str, str], body: bytes, at: float) -> None:
        with self._changed:
            kind = headers.get(EVENT_TYPE_HEADER, "")
            if kind != ENFORCEMENT_EVENT:
                self.other_events[kind] = self.other_events.get(kind, 0) + 1
            else:
                event = json.loads(body)
                arrival = Arrival(at, headers[EVENT_ID_HEADER], event["decision_id"])
                self.arrivals.setdefault(event["subject"]["id"], []).append(arrival)
            self._changed.notify_all()

    def start(self) -> None:
        record = self._record

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep the delivery loop's connection open

            def do_POST(self) -> None:
                at = time.monotonic()
                body = self.rfile.read(int(self.headers["Content-Length"]))
                record(dict(self.headers.items()), body, at)
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def counts(self) -> dict[str, int]:
        """How many enforcement webhooks each content item has had."""
        with self._changed:
            return {subject: len(arrivals) for subject, arrivals in self.arrivals.items()}

    def wait_for(self, subjects: Sequence[str], seconds: float) -> None:
        """Until each of ``subjects`` has had a webhook; raises after ``seconds``."""
        deadline = time.monotonic() + seconds
        with self._changed:
            while True:
                missing = [s for s in subjects if s not in self.arrivals]
                if not missing:
                    return
                left = deadline - time.monotonic()
                if left <= 0:
                    raise RuntimeError(
                        f"{len(missing)} of {len(subjects)} webhooks did not arrive within {seconds:.0f} s"
                        f" (first missing: {missing[0]})"
                    )
                self._changed.wait(min(left, 1.0))


# --------------------------------------------------------------------------------------------------
# Vigil
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Server:
    base: str
    pid: int
    admin_key: str
    log: Path


@contextlib.contextmanager
def vigil_serve(folder: Path) -> Iterator[Server]:
    """``vigil init`` and ``vigil serve`` on a fresh SQLite database in ``folder``, as a user runs them."""
    port = free_port()
    env = {
        **os.environ,
        "VIGIL_DATABASE_URL": f"sqlite:///{folder / 'vigil.db'}",
        "VIGIL_WEBHOOK_POLL_SECONDS": "0.05",
        "VIGIL_QA_SAMPLE_RATE": "0",
        "VIGIL_TEXT_SECOND_STAGE": "false",
        "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
    }
    vigil = [sys.executable, "-m", "vigil"]
    init = subprocess.run([*vigil, "init", "--json"], cwd=folder, env=env, capture_output=True, check=True)
    admin_key = json.loads(init.stdout)["admin_key"]
    log = folder / "serve.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [*vigil, "serve", "--port", str(port)], cwd=folder, env=env, stdout=sink, stderr=sink
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"vigil serve exited with {process.returncode}: {log.read_text()[-2000:]}")
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError("vigil serve did not answer /healthz within 120 s")
            time.sleep(0.1)
        yield Server(base, process.pid, admin_key, log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _ok(response: httpx.Response, status: int = 201) -> Any:
    if response.status_code != status:
        raise RuntimeError(f"{response.request.method} {response.request.url.path}: {response.text[:500]}")
    return response.json()


@dataclass(frozen=True, slots=True)
class Setup:
    authority_headers: dict[str, str]
    platform_headers: dict[str, str]
    authority: SigningAuthority
    authority_key: str


def set_up(client: httpx.Client, server: Server, receiver: Receiver, run: str, bank_md5s: list[str]) -> Setup:
    """The webhook endpoint, the terrorism bank, the authority and its key, a platform key."""
    admin = {"Authorization": f"Bearer {server.admin_key}"}
    _ok(client.post("/v1/webhooks", json={"url": receiver.url}, headers=admin))
    _ok(client.post("/v1/banks", json={"name": BANK, "category": "terrorism"}, headers=admin))
    hashes = [{"type": "md5", "value": md5} for md5 in bank_md5s]
    _ok(client.post(f"/v1/banks/{BANK}/hashes", json={"hashes": hashes}, headers=admin), 200)
    authority = SigningAuthority(f"fr-bench-{run}", "FR", ["tco_removal"], name="Bench authority FR")
    _ok(client.post("/v1/authorities", json=authority.registration(), headers=admin))
    key = _ok(
        client.post(
            "/v1/keys",
            json={"role": "authority", "label": "bench", "bound_to": authority.id},
            headers=admin,
        )
    )["key"]
    platform = _ok(client.post("/v1/keys", json={"role": "platform", "label": "bench"}, headers=admin))["key"]
    return Setup(
        {"Authorization": f"Bearer {key}"},
        {"Authorization": f"Bearer {platform}", "Content-Type": "application/json"},
        authority,
        key,
    )


# --------------------------------------------------------------------------------------------------
# Items, requests, measurements
# --------------------------------------------------------------------------------------------------


def item(content_id: str, i: int, md5: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": content_id,
        "author_id": f"author-{content_id}",  # one item per author: no strike adds an account decision
        "country": "FR",
        "reach": 100 + i % 1000,
        "text": TEXTS[i % len(TEXTS)],
    }
    if md5 is not None:
        body["media"] = [{"id": "m1", "mime_type": "video/mp4", "md5": md5}]
    return body


@dataclass(frozen=True, slots=True)
class Request:
    subject: str  # the content item whose webhook ends the measurement
    path: str
    body: bytes
    headers: dict[str, str]


@dataclass(frozen=True, slots=True)
class Sample:
    subject: str
    sent: float
    answered: float
    status: int
    body: dict[str, Any]


def fire(client: httpx.Client, requests: Sequence[Request], concurrency: int) -> list[Sample]:
    """Every request, ``concurrency`` in flight; each one's clock starts as it is sent."""

    def send(request: Request) -> Sample:
        sent = time.monotonic()
        response = client.post(request.path, content=request.body, headers=request.headers)
        answered = time.monotonic()
        return Sample(request.subject, sent, answered, response.status_code, response.json())

    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        return list(pool.map(send, requests))


def percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[int(share * (len(ordered) - 1))]


@dataclass(frozen=True, slots=True)
class Row:
    items: int
    http: list[float]  # seconds, per request
    to_webhook: list[float]  # seconds, request sent -> webhook arrived
    after_response: list[float]  # seconds, response received -> webhook arrived (may be negative)
    responded: float  # seconds, first request sent -> last response received
    burst: float  # seconds, first request sent -> last webhook arrived
    cpu_seconds: float | None


def measure(
    client: httpx.Client,
    receiver: Receiver,
    server: Server,
    requests: Sequence[Request],
    concurrency: int,
    check: Callable[[Sample], str],
) -> tuple[Row, list[Sample]]:
    """Send ``requests`` at once and wait for each item's webhook; ``check`` names the decision the
    response reports for its item (and raises when the response is wrong)."""
    cpu_before = process_cpu_seconds(server.pid)
    started = time.monotonic()
    samples = fire(client, requests, concurrency)
    decisions = {s.subject: check(s) for s in samples}
    subjects = [s.subject for s in samples]
    receiver.wait_for(subjects, WEBHOOK_TIMEOUT)
    cpu_after = process_cpu_seconds(server.pid)
    firsts = {s: receiver.arrivals[s][0] for s in subjects}
    for subject, arrival in firsts.items():
        if arrival.decision_id != decisions[subject]:
            raise RuntimeError(
                f"{subject}: the webhook carries {arrival.decision_id}, the response {decisions[subject]}"
            )
    row = Row(
        len(samples),
        [s.answered - s.sent for s in samples],
        [firsts[s.subject].at - s.sent for s in samples],
        [firsts[s.subject].at - s.answered for s in samples],
        max(s.answered for s in samples) - started,
        max(a.at for a in firsts.values()) - started,
        cpu_after - cpu_before if cpu_before is not None and cpu_after is not None else None,
    )
    return row, samples


def order_requests(setup: Setup, run: str, ids: Sequence[str]) -> list[Request]:
    requests = []
    for n, content_id in enumerate(ids):
        document = removal_order(setup.authority, f"{run}/TCO/{n:05d}", content_id)
        body, headers = setup.authority.signed(document, setup.authority_key)
        requests.append(Request(content_id, "/v1/orders", body, headers))
    return requests


def content_requests(setup: Setup, ids: Sequence[str], md5s: Sequence[str], first: int) -> list[Request]:
    return [
        Request(cid, "/v1/content", json.dumps(item(cid, first + n, md5)).encode(), setup.platform_headers)
        for n, (cid, md5) in enumerate(zip(ids, md5s, strict=True))
    ]


def order_executed(sample: Sample) -> str:
    # the answer is read after the order's transaction: a webhook delivered in between has already
    # let the order watch answer it
    if sample.status != 201 or sample.body.get("state") not in ("executed", "answered"):
        raise RuntimeError(
            f"order for {sample.subject}: HTTP {sample.status} {json.dumps(sample.body)[:500]}"
        )
    [target] = sample.body["effect"]["targets"]
    if target["status"] != "executed" or target["content_id"] != sample.subject:
        raise RuntimeError(f"order for {sample.subject}: target {target}")
    return str(target["decision_id"])


def content_removed(sample: Sample) -> str:
    if sample.status != 200 or "remove" not in sample.body.get("decision", {}).get("actions", []):
        raise RuntimeError(f"{sample.subject}: HTTP {sample.status} {json.dumps(sample.body)[:500]}")
    return str(sample.body["decision_id"])


def answered_orders(client: httpx.Client, setup: Setup, order_ids: set[str], seconds: float) -> list[float]:
    """Waits until every order is answered; returns each one's ``answered_at - received_at``."""
    deadline = time.monotonic() + seconds
    while True:
        answered: dict[str, dict[str, Any]] = {}
        offset = 0
        while True:
            page = _ok(
                client.get(
                    "/v1/orders",
                    params={"state": "answered", "limit": 500, "offset": offset},
                    headers=setup.authority_headers,
                ),
                200,
            )
            answered.update({o["id"]: o for o in page if o["id"] in order_ids})
            if len(page) < 500:
                break
            offset += 500
        if len(answered) == len(order_ids):
            break
        if time.monotonic() > deadline:
            raise RuntimeError(f"{len(order_ids) - len(answered)} orders not answered within {seconds:.0f} s")
        time.sleep(0.5)
    late = [o["id"] for o in answered.values() if o["late"] is not False]
    if late:
        raise RuntimeError(f"{len(late)} orders answered late, e.g. {late[0]}")
    for order_id in random.Random(0).sample(sorted(order_ids), min(20, len(order_ids))):
        one = _ok(client.get(f"/v1/orders/{order_id}", headers=setup.authority_headers), 200)
        if one["state"] != "answered" or one["effect_confirmed_at"] is None:
            raise RuntimeError(f"GET /v1/orders/{order_id}: {json.dumps(one)[:500]}")
    return [
        (datetime.fromisoformat(o["answered_at"]) - datetime.fromisoformat(o["received_at"])).total_seconds()
        for o in answered.values()
    ]


def check_once_each(receiver: Receiver, expected: set[str]) -> None:
    """Exactly one enforcement webhook per item sent, and none for anything else."""
    counts = receiver.counts()
    twice = {s: n for s, n in counts.items() if n != 1}
    unexpected = set(counts) - expected
    missing = expected - set(counts)
    if twice or unexpected or missing:
        raise RuntimeError(
            f"webhooks: {len(twice)} items had more than one (e.g. {next(iter(twice.items()), None)}),"
            f" {len(unexpected)} unexpected subjects, {len(missing)} items had none"
        )


# --------------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------------


def metrics(row: Row) -> list[tuple[str, float]]:
    """The report's lines for one row: (label, value); HTTP in ms, everything else in seconds."""
    cpu = row.cpu_seconds if row.cpu_seconds is not None else float("nan")
    return [
        ("HTTP latency, median ms", statistics.median(row.http) * 1000),
        ("HTTP latency, p95 ms", percentile(row.http, 0.95) * 1000),
        ("HTTP latency, worst ms", max(row.http) * 1000),
        ("receipt -> webhook, median s", statistics.median(row.to_webhook)),
        ("receipt -> webhook, p95 s", percentile(row.to_webhook, 0.95)),
        ("receipt -> webhook, worst s", max(row.to_webhook)),
        ("response -> webhook, median s", statistics.median(row.after_response)),
        ("first request -> last response s", row.responded),
        ("first request -> last webhook s", row.burst),
        ("server CPU per item, ms", cpu / row.items * 1000),
    ]


def print_report(rows: Sequence[Row], answered: Sequence[float], concurrency: int, log_lines: int) -> None:
    orders, baseline = rows
    table = Table(
        title=f"Receipt to webhook on SQLite, {orders.items:,} items each, {concurrency} requests in flight"
    )
    for column in ("", "removal orders", "baseline: content decisions", "orders / baseline"):
        table.add_column(column, justify="right" if column else "left")
    for (label, mine), (_, theirs) in zip(metrics(orders), metrics(baseline), strict=True):
        style = ".0f" if label.startswith("HTTP") or label.startswith("server") else ".2f"
        # response -> webhook is negative where webhooks beat the responses: no ratio then
        ratio = f"{mine / theirs:.2f}x" if mine > 0 and theirs > 0 else "-"
        table.add_row(label, f"{mine:{style}}", f"{theirs:{style}}", ratio)
    Console(width=110).print(table)
    print(
        f"orders, receipt -> answered (server clock; the order watch polls every second):"
        f" median {statistics.median(answered):.2f} s, worst {max(answered):.2f} s; none late"
    )
    print(
        "checks: every order 201 and executed (or answered already), every content decision a removal,"
        " exactly one webhook per item carrying the decision of its response, every order answered"
    )
    if log_lines:
        print(f"note: vigil serve logged {log_lines} lines (webhook failures or errors); see above")
    passed = orders.burst < TARGET_SECONDS
    print(
        f"target: all {orders.items:,} orders through to the webhook under {TARGET_SECONDS:.0f} s:"
        f" {'PASS' if passed else 'FAIL'} ({orders.burst:.1f} s from the first order sent to the last"
        f" webhook; worst single order {max(orders.to_webhook):.1f} s)"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--orders", type=int, default=1000, help="orders, and baseline items, per row")
    parser.add_argument("--concurrency", type=int, default=32, help="requests in flight")
    args = parser.parse_args(argv)
    n, concurrency = args.orders, args.concurrency
    if n < 1 or concurrency < 1:
        parser.error("--orders and --concurrency must be at least 1")
    run = "o" + secrets.token_hex(4)
    print(
        f"run {run}: python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average {load_average()}",
        flush=True,
    )
    order_ids = [f"{run}-ordered-{i:05d}" for i in range(WARM_UP + n)]
    bank_ids = [f"{run}-banked-{i:05d}" for i in range(WARM_UP + n)]
    md5s = [hashlib.md5(f"{run} propaganda video {i}".encode()).hexdigest() for i in range(WARM_UP + n)]
    receiver = Receiver()
    receiver.start()
    with tempfile.TemporaryDirectory(prefix="vigil-bench-orders-") as tmp:
        started = time.perf_counter()
        with (
            vigil_serve(Path(tmp)) as server,
            httpx.Client(
                base_url=server.base,
                timeout=300,
                limits=httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency),
            ) as client,
        ):
            print(f"vigil serve up in {time.perf_counter() - started:.1f} s", flush=True)
            setup = set_up(client, server, receiver, run, md5s)
            for start in range(0, len(order_ids), 500):  # the items the orders name: untimed
                chunk = order_ids[start : start + 500]
                batch = {"items": [item(cid, start + i) for i, cid in enumerate(chunk)]}
                results = _ok(
                    client.post("/v1/content/batch", json=batch, headers=setup.platform_headers), 200
                )
                acted = [r["content_id"] for r in results["results"] if r["decision"]["actions"]]
                if acted:
                    raise RuntimeError(
                        f"{len(acted)} of the items to order were acted on already: {acted[0]}"
                    )
            print(f"{len(order_ids):,} items to order submitted", flush=True)

            baseline_requests = content_requests(setup, bank_ids, md5s, 0)
            orders = order_requests(setup, run, order_ids)
            # warm up both paths, untimed
            measure(client, receiver, server, baseline_requests[:WARM_UP], 1, content_removed)
            measure(client, receiver, server, orders[:WARM_UP], 1, order_executed)

            baseline, _ = measure(
                client, receiver, server, baseline_requests[WARM_UP:], concurrency, content_removed
            )
            print(f"baseline done: last webhook {baseline.burst:.1f} s after the first request", flush=True)
            time.sleep(SETTLE_SECONDS)
            ordered, samples = measure(
                client, receiver, server, orders[WARM_UP:], concurrency, order_executed
            )
            print(f"orders done: last webhook {ordered.burst:.1f} s after the first order", flush=True)
            time.sleep(SETTLE_SECONDS)
            check_once_each(receiver, set(order_ids) | set(bank_ids))
            answered = answered_orders(client, setup, {s.body["id"] for s in samples}, seconds=120)
            log_lines = server.log.read_text(errors="replace").splitlines()
        noise = [line for line in log_lines if "listening on" not in line]
        for line in noise[:20]:
            print(f"vigil serve: {line}")
    receiver.stop()
    if receiver.other_events:
        print(f"other events delivered: {receiver.other_events}")
    print()
    print_report([ordered, baseline], answered, concurrency, len(noise))
    return 0


if __name__ == "__main__":
    sys.exit(main())
