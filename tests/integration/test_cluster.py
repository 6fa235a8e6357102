"""`vigil cluster up`: a real local cluster (embedded PostgreSQL, NATS JetStream, one API process and N
workers) that decides what a platform publishes, starts again a worker that dies, and stops cleanly."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import httpx
import psutil
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.integration.live import VIGIL, run_coroutine, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]


async def _publish(url: str, items: list[dict[str, object]]) -> None:
    import nats

    connection = await nats.connect(url)
    stream = connection.jetstream()
    for item in items:
        await stream.publish("vigil.items.test", json.dumps(item).encode())
    await connection.drain()


def _item(n: int) -> dict[str, object]:
    return {
        "id": f"cluster/post-{n}",
        "kind": "post",
        "audience": "public",
        "author_id": f"user-{n % 7}",
        "text": f"Lovely walk by the river this morning, number {n}.",
    }


def test_a_local_cluster_decides_published_items_and_restarts_a_killed_worker(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "PYTHONUNBUFFERED": "1",
        "VIGIL_TEXT_SECOND_STAGE": "false",
        # what the server handed to the killed worker's open pull request comes back after this long
        "VIGIL_STREAM_ACK_WAIT_SECONDS": "3",
    }
    cluster = subprocess.Popen(
        [*VIGIL, "cluster", "up", "--workers", "2", "--dir", str(tmp_path / "cluster"), "--json"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert cluster.stdout is not None
        line = cluster.stdout.readline()
        assert line, cluster.stderr.read().decode() if cluster.stderr else "no output"
        info = json.loads(line)
        assert set(info["processes"]) == {"api", "worker-1", "worker-2"}
        admin = {"Authorization": f"Bearer {Path(info['admin_key_file']).read_text().strip()}"}
        assert oct(Path(info["admin_key_file"]).stat().st_mode & 0o777) == "0o600"
        client = httpx.Client(base_url=info["api_url"], headers=admin, timeout=10)
        assert client.get("/readyz").json()["status"] == "ready"

        run_coroutine(_publish(info["nats_url"], [_item(n) for n in range(20)]))

        def all_decided(count: int) -> bool:
            return all(client.get(f"/v1/content/cluster/post-{n}").status_code == 200 for n in range(count))

        wait_for(lambda: all_decided(20), seconds=90)
        # each worker serves its own metrics: the stream's items are counted there, not by the API
        streamed = 0.0
        for name in ("worker-1", "worker-2"):
            for family in text_string_to_metric_families(httpx.get(info["metrics"][name]).text):
                streamed += sum(
                    s.value
                    for s in family.samples
                    if s.name == "vigil_items_total" and s.labels["path"] == "stream"
                )
        assert streamed == 20

        # a worker killed outright is started again by the cluster, and the stream goes on
        os.kill(info["processes"]["worker-1"], signal.SIGKILL)
        run_coroutine(_publish(info["nats_url"], [_item(n) for n in range(20, 40)]))
        wait_for(lambda: all_decided(40), seconds=90)
        assert client.get("/readyz").json()["checks"]["nats"] == "ok"
        children = psutil.Process(cluster.pid).children(recursive=True)
        assert len([c for c in children if "worker" in c.cmdline()]) == 2
    finally:
        running = psutil.Process(cluster.pid).children(recursive=True)
        cluster.send_signal(signal.SIGTERM)
        code = cluster.wait(timeout=90)
        stderr = cluster.stderr.read().decode() if cluster.stderr else ""
    assert code == 0, stderr
    assert "worker-1 exited" in stderr
    # nothing is left running: the Vigil processes, NATS and PostgreSQL all stopped
    time.sleep(0.5)
    assert [p.pid for p in running if p.is_running() and p.status() != psutil.STATUS_ZOMBIE] == []
