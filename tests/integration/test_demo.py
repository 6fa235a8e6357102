"""`vigil demo`: one command serves Vigil and plays a platform against it, and what the newcomer is
promised happens within the run: decisions of each automatic outcome, notices, appeals, an order
executed and answered within its clock, takedowns applied by the platform, figures published."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.integration.live import VIGIL, free_port

pytestmark = pytest.mark.e2e


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("VIGIL_")}


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    workdir = tmp_path_factory.mktemp("demo")
    done = subprocess.run(
        [*VIGIL, "demo", "--duration", "40", "--rate", "15", "--port", str(free_port()), "--json"],
        cwd=workdir,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stderr
    summary: dict[str, Any] = json.loads(done.stdout)
    summary["stderr"] = done.stderr
    return summary


def test_the_platform_posts_in_many_languages_and_vigil_decides_every_post(run: dict[str, Any]) -> None:
    assert len(run["languages"]) >= 8
    assert run["posts"] >= 300
    assert sum(run["outcomes"].values()) == run["posts"]


def test_every_automatic_outcome_is_seen_at_least_three_times(run: dict[str, Any]) -> None:
    for outcome in ("no_action", "remove", "demote", "review"):
        assert run["outcomes"].get(outcome, 0) >= 3, (outcome, run["outcomes"])


def test_the_removal_order_is_executed_and_answered_within_its_hour(run: dict[str, Any]) -> None:
    removal = [o for o in run["orders"] if o["type"] == "tco_removal"]
    assert removal, run["orders"]
    assert removal[0]["answered_at"] is not None
    assert removal[0]["late"] is False
    # the prosecutor's Art. 9 order waits for a lawyer: the demo never decides for the people watching
    assert [o["state"] for o in run["orders"] if o["type"] == "dsa_art9"] == ["in_legal_review"]


def test_notices_appeals_and_takedowns_happen(run: dict[str, Any]) -> None:
    assert run["user_notices"] >= 2
    assert run["flagger_notices"] >= 2
    assert run["appeals"] >= 2
    assert run["webhook_events"].get("enforcement.requested", 0) >= 3
    assert run["taken_down"] >= 3


def test_the_days_transparency_figures_are_published(run: dict[str, Any]) -> None:
    totals = run["transparency"]["summary"]
    assert totals["restrictive_decisions"] >= 3
    assert totals["notices_received_from_trusted_flaggers"] >= 2
    assert totals["orders_received"] == 2
    assert totals["orders_executed"] >= 1


def test_the_console_keys_are_printed(run: dict[str, Any]) -> None:
    assert "/console" in run["stderr"]
    for role in ("reviewer", "legal"):
        assert any(line.startswith(role) and "vgl_" in line for line in run["stderr"].splitlines()), role


def test_ctrl_c_stops_the_demo_cleanly_and_frees_its_port(tmp_path: Path) -> None:
    port = free_port()
    process = subprocess.Popen(
        [*VIGIL, "demo", "--port", str(port), "--rate", "5"],
        cwd=tmp_path,
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if (
                    httpx.get(f"http://127.0.0.1:{port}/v1/transparency/daily?date=2026-01-01").status_code
                    == 200
                ):
                    break
            except httpx.TransportError:
                time.sleep(0.5)
        time.sleep(3)
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 0, stderr
    assert "posts in" in stdout
    assert "The database stays at var/demo.db" in stdout
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))  # the port is free again


def test_a_port_in_use_is_one_line_and_status_2(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [*VIGIL, "demo", "--port", str(port), "--duration", "5"],
            cwd=tmp_path,
            env=_env(),
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"vigil: port {port} on 127.0.0.1 is in use (is `make run` running?); give --port"
    ]
