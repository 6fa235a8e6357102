"""`vigil serve` as an operator runs it: JSON logs a log shipper can read, and a SIGTERM that lets the
request in flight finish, says it is no longer ready meanwhile, and ends with exit status 0."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.integration.live import VIGIL, Vigil

pytestmark = pytest.mark.e2e


def environment(workdir: Path, **settings: str) -> dict[str, str]:
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("VIGIL_")},
        "VIGIL_DATABASE_URL": f"sqlite:///{workdir / 'vigil.db'}",
        "VIGIL_QA_SAMPLE_RATE": "0",
        **settings,
    }


def initialised(workdir: Path, env: dict[str, str]) -> dict[str, str]:
    init = subprocess.run([*VIGIL, "init", "--json"], cwd=workdir, env=env, capture_output=True, check=True)
    return {"Authorization": f"Bearer {json.loads(init.stdout)['admin_key']}"}


def test_json_logs_are_one_object_per_line_with_uvicorn_s_lines_among_them(tmp_path: Path) -> None:
    env = environment(tmp_path, VIGIL_LOG_FORMAT="json", VIGIL_LOG_LEVEL="info")
    admin = initialised(tmp_path, env)
    vigil = Vigil(tmp_path, env)
    vigil.start()
    assert vigil.process is not None
    try:
        secret_text = "a private message that must never reach a log"
        item = {"id": "p-1", "author_id": "u-1", "text": secret_text}
        assert httpx.post(f"{vigil.base}/v1/content", json=item, headers=admin, timeout=30).status_code == 200
        httpx.get(f"{vigil.base}/v1/audit/events?after=0&limit=1", headers=admin, timeout=10)
    finally:
        vigil.process.send_signal(signal.SIGTERM)
        _, stderr = vigil.process.communicate(timeout=60)
    lines = [line for line in stderr.decode().splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]  # every line parses: nothing else is written

    assert records
    for record in records:
        assert {"time", "level", "logger", "message", "pid"} <= record.keys()
        assert record["pid"] == vigil.process.pid
    loggers = {r["logger"] for r in records}
    assert "uvicorn.error" in loggers  # the server's own lines ("Started server process" ...)
    access = [r["message"] for r in records if r["logger"] == "uvicorn.access"]
    assert any("POST /v1/content HTTP/1.1" in m and "200" in m for m in access), access
    assert any("/v1/audit/events HTTP/1.1" in m for m in access), access
    assert not any("after=0" in m for m in access)  # query strings are left out
    assert secret_text not in stderr.decode()
    assert admin["Authorization"].removeprefix("Bearer ") not in stderr.decode()
    assert vigil.process.returncode == 0


def test_sigterm_lets_the_batch_in_flight_finish_and_exits_0(tmp_path: Path) -> None:
    # two seconds of draining: /readyz says 503 while the listener is still open
    env = environment(tmp_path, VIGIL_SHUTDOWN_DRAIN_SECONDS="2", VIGIL_SHUTDOWN_GRACE_SECONDS="60")
    admin = initialised(tmp_path, env)
    vigil = Vigil(tmp_path, env)
    vigil.start()
    assert vigil.process is not None
    items = [
        {
            "id": f"post-{i}",
            "author_id": f"user-{i % 17}",
            "text": f"Post number {i}: the ferry was late again.",
        }
        for i in range(500)
    ]
    answer: dict[str, object] = {}

    def send_batch() -> None:
        response = httpx.post(
            f"{vigil.base}/v1/content/batch", json={"items": items}, headers=admin, timeout=120
        )
        answer["status"], answer["body"], answer["at"] = (
            response.status_code,
            response.json(),
            time.monotonic(),
        )

    sender = threading.Thread(target=send_batch)
    sender.start()
    time.sleep(0.5)  # the batch is being decided (it takes seconds)
    terminated_at = time.monotonic()
    vigil.process.send_signal(signal.SIGTERM)
    time.sleep(0.3)
    draining = httpx.get(f"{vigil.base}/readyz", timeout=10)
    sender.join(timeout=120)
    exit_status = vigil.process.wait(timeout=60)

    assert draining.status_code == 503
    assert draining.json()["checks"]["shutdown"] == "shutting down"
    assert answer["status"] == 200, answer
    assert float(answer["at"]) > terminated_at  # type: ignore[arg-type]  # it was in flight at SIGTERM
    body = answer["body"]
    assert isinstance(body, dict)
    assert [r["content_id"] for r in body["results"]] == [i["id"] for i in items]
    assert all(r["decision_id"] for r in body["results"])
    assert exit_status == 0
    # and the decisions are all recorded: a fresh server on the same database has every one of them
    again = Vigil(tmp_path, env)
    again.start()
    try:
        assert again.process is not None
        repeat = httpx.post(
            f"{again.base}/v1/content/batch", json={"items": items[:50]}, headers=admin, timeout=60
        )
        assert all(r["duplicate"] for r in repeat.json()["results"])
    finally:
        assert again.process is not None
        again.process.send_signal(signal.SIGTERM)
        assert again.process.wait(timeout=60) == 0
