"""Concurrent changes of one policy: exactly one version is in force, versions have no gaps, and a
change that loses the race is refused with 409 ``policy_conflict`` (never a 500)."""

from __future__ import annotations

import json
import os
import subprocess
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

import httpx
import pytest
from alembic import command
from sqlalchemy import text

from tests.integration.live import VIGIL, Vigil, start_all, wait_for
from vigil.pipeline.admin import Admin
from vigil.policy.loader import PolicyDefinition, parse_policies
from vigil.store import policies as policy_store
from vigil.store.db import Store, alembic_config

POLICY_ID = "crypto-giveaway"
CHANGES = 20


def policy_text(description: str) -> str:
    return f"""id: {POLICY_ID}
description: {description}
mode: shadow
when: >
  content.audience == 'public' && content.text.matches('(?i)double your (btc|bitcoin)')
category: fraud
ground:
  type: incompatible_content
  reference: "Terms of Service § 4.3 (fraud and scams)"
  explanation: "The post advertises a crypto giveaway, a common advance-fee scam."
actions: [remove]
review: after
"""


def definition(description: str) -> PolicyDefinition:
    (parsed,) = parse_policies(policy_text(description), file="test.yaml")
    return parsed


def assert_one_version_in_force_numbered_without_gaps(store: Store) -> list[policy_store.StoredPolicy]:
    with store.transaction() as session:
        history = policy_store.policy_history(session, POLICY_ID)
        in_force = [p for p in policy_store.list_policies(session) if p.id == POLICY_ID]
    assert [p.version for p in history] == list(range(1, len(history) + 1))
    assert [p.version for p in history if p.active] == [history[-1].version]
    assert [p.version for p in in_force] == [history[-1].version]
    return history


def waiting_for_a_lock(store: Store) -> bool:
    """Whether some other connection to this PostgreSQL database waits for a lock."""
    with store.engine.connect() as connection:
        waiting = connection.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
            )
        ).scalar_one()
    return int(waiting) > 0


# ---- in process, on SQLite and PostgreSQL -----------------------------------------------------------


def test_twenty_concurrent_changes_leave_exactly_one_version_in_force(store: Store) -> None:
    admin = Admin(store)
    admin.apply_policies([definition("first")], "admin:alice")
    start = threading.Barrier(CHANGES)

    def change(i: int) -> str:
        start.wait()
        try:
            (result,) = admin.apply_policies([definition(f"change {i}")], f"admin:{i}")
        except policy_store.PolicyChangeConflict as exc:
            return exc.code
        assert result.changed
        return "applied"

    with ThreadPoolExecutor(CHANGES) as pool:
        outcomes = list(pool.map(change, range(CHANGES)))

    assert set(outcomes) <= {"applied", "policy_conflict"}
    history = assert_one_version_in_force_numbered_without_gaps(store)
    assert len(history) == 1 + outcomes.count("applied")
    assert outcomes.count("applied") >= 1


@pytest.mark.postgres
@pytest.mark.parametrize("store", ["postgres"], indirect=True)
def test_a_change_that_waited_for_another_is_refused_and_leaves_nothing(store: Store, now: datetime) -> None:
    Admin(store).apply_policies([definition("first")], "admin:alice")
    outcome: list[object] = []

    def late_change() -> None:
        try:
            outcome.append(Admin(store).apply_policies([definition("late")], "admin:bob"))
        except policy_store.PolicyChangeConflict as exc:
            outcome.append(exc)

    with store.transaction() as session:
        policy_store.apply_policies(session, [definition("early")], "admin:carol", now)
        late = threading.Thread(target=late_change)
        late.start()
        wait_for(lambda: waiting_for_a_lock(store))
    late.join(timeout=30)

    (refusal,) = outcome
    assert isinstance(refusal, policy_store.PolicyChangeConflict)
    assert "version 2 is now in force" in refusal.message
    history = assert_one_version_in_force_numbered_without_gaps(store)
    assert [(p.version, p.created_by) for p in history] == [(1, "admin:alice"), (2, "admin:carol")]


@pytest.mark.postgres
@pytest.mark.parametrize("store", ["postgres"], indirect=True)
def test_the_same_text_applied_while_waiting_is_unchanged(store: Store, now: datetime) -> None:
    Admin(store).apply_policies([definition("first")], "admin:alice")
    outcome: list[list[policy_store.ApplyResult]] = []
    same = threading.Thread(
        target=lambda: outcome.append(Admin(store).apply_policies([definition("same")], "admin:bob"))
    )

    with store.transaction() as session:
        policy_store.apply_policies(session, [definition("same")], "admin:carol", now)
        same.start()
        wait_for(lambda: waiting_for_a_lock(store))
    same.join(timeout=30)

    assert outcome == [[policy_store.ApplyResult(POLICY_ID, 2, changed=False)]]


# ---- the migration repairs what the race left ---------------------------------------------------------


def test_the_migration_keeps_only_the_highest_of_several_versions_in_force(
    unmigrated_store: Store, now: datetime
) -> None:
    command.upgrade(alembic_config(unmigrated_store.engine), "0013")
    with unmigrated_store.engine.begin() as connection:
        for policy_id, version, active in [
            ("a", 1, False),
            ("a", 2, True),
            ("a", 3, True),
            ("a", 4, True),
            ("b", 1, True),
            ("c", 1, True),
            ("c", 2, False),
        ]:
            connection.execute(
                text(
                    "INSERT INTO policy_versions (policy_id, version, mode, source, digest, active,"
                    " created_at, created_by) VALUES (:p, :v, 'enforce', 'src', 'd', :a, :t, 'test')"
                ),
                {"p": policy_id, "v": version, "a": active, "t": now.replace(tzinfo=None)},
            )

    command.upgrade(alembic_config(unmigrated_store.engine), "0014")

    with unmigrated_store.engine.connect() as connection:
        in_force = connection.execute(
            text("SELECT policy_id, version FROM policy_versions WHERE active ORDER BY policy_id")
        ).all()
    assert [tuple(row) for row in in_force] == [("a", 4), ("b", 1), ("c", 1)]


# ---- three `vigil serve` processes on one PostgreSQL --------------------------------------------------


@pytest.fixture
def cluster(tmp_path: Path, store: Store) -> Iterator[tuple[list[Vigil], dict[str, str]]]:
    """Three `vigil serve` processes on the test's PostgreSQL database, and the admin's headers."""
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("VIGIL_")},
        "VIGIL_DATABASE_URL": store.url,
        "VIGIL_QA_SAMPLE_RATE": "0",
    }
    init = subprocess.run([*VIGIL, "init", "--json"], cwd=tmp_path, env=env, capture_output=True, check=True)
    headers = {"Authorization": f"Bearer {json.loads(init.stdout)['admin_key']}"}
    servers = [Vigil(tmp_path, env) for _ in range(3)]
    try:
        start_all(servers)
        yield servers, headers
    finally:
        for server in servers:
            if server.process is not None and server.process.poll() is None:
                server.process.terminate()
                server.process.wait(timeout=10)


def apply_over_http(server: Vigil, headers: dict[str, str], description: str) -> httpx.Response:
    return httpx.post(
        f"{server.base}/v1/policies",
        json={"source": policy_text(description), "file": "test.yaml"},
        headers=headers,
        timeout=60,
    )


@pytest.mark.postgres
@pytest.mark.e2e
@pytest.mark.parametrize("store", ["postgres"], indirect=True)
def test_twenty_concurrent_changes_through_three_servers_get_201_or_409_and_one_version_in_force(
    store: Store, cluster: tuple[list[Vigil], dict[str, str]]
) -> None:
    servers, headers = cluster
    assert apply_over_http(servers[0], headers, "first").status_code == 201
    start = threading.Barrier(CHANGES)

    def change(i: int) -> httpx.Response:
        start.wait()
        return apply_over_http(servers[i % len(servers)], headers, f"change {i}")

    with ThreadPoolExecutor(CHANGES) as pool:
        answers = list(pool.map(change, range(CHANGES)))

    statuses = [a.status_code for a in answers]
    assert set(statuses) <= {201, 409}, [a.text for a in answers if a.status_code not in (201, 409)]
    for answer in answers:
        if answer.status_code == 409:
            assert answer.json()["error"]["code"] == "policy_conflict"
        else:
            assert answer.json() == [
                {"id": POLICY_ID, "version": answer.json()[0]["version"], "changed": True}
            ]
    history = assert_one_version_in_force_numbered_without_gaps(store)
    assert len(history) == 1 + statuses.count(201)
    applied = sorted(a.json()[0]["version"] for a in answers if a.status_code == 201)
    assert applied == list(range(2, len(history) + 1))
    for server in servers:
        listed = httpx.get(f"{server.base}/v1/policies", headers=headers, timeout=10).json()
        assert [p["version"] for p in listed if p["id"] == POLICY_ID] == [history[-1].version]


@pytest.mark.postgres
@pytest.mark.e2e
@pytest.mark.parametrize("store", ["postgres"], indirect=True)
def test_a_change_that_loses_the_race_is_answered_409_over_http_and_by_the_cli_in_one_line(
    tmp_path: Path, store: Store, now: datetime, cluster: tuple[list[Vigil], dict[str, str]]
) -> None:
    servers, headers = cluster
    assert apply_over_http(servers[0], headers, "first").status_code == 201
    policy_file = tmp_path / "crypto.yaml"
    policy_file.write_text(policy_text("from the command line"))

    def while_another_change_holds_the_policy(winner: str, request: Callable[[], object]) -> object:
        answer: list[object] = []
        waiting = threading.Thread(target=lambda: answer.append(request()))
        with store.transaction() as session:
            policy_store.apply_policies(session, [definition(winner)], "admin:carol", now)
            waiting.start()
            wait_for(lambda: waiting_for_a_lock(store))
        waiting.join(timeout=60)
        (result,) = answer
        return result

    refused = while_another_change_holds_the_policy(
        "winner 1", lambda: apply_over_http(servers[1], headers, "loser")
    )
    assert isinstance(refused, httpx.Response)
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "policy_conflict"
    assert "version 2 is now in force" in refused.json()["error"]["message"]

    cli_env = servers[0].env
    cli = while_another_change_holds_the_policy(
        "winner 2",
        lambda: subprocess.run(
            [*VIGIL, "policy", "apply", str(policy_file)],
            cwd=tmp_path,
            env=cli_env,
            capture_output=True,
            text=True,
        ),
    )
    assert isinstance(cli, subprocess.CompletedProcess)
    assert cli.returncode == 2
    assert cli.stderr.count("\n") == 1
    assert cli.stderr.startswith("vigil: policy 'crypto-giveaway' was changed by another request")
    assert_one_version_in_force_numbered_without_gaps(store)
