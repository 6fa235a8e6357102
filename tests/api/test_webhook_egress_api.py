"""Webhook registration and delivery against the egress policy, in process, with a resolver the
test controls (DNS rebinding) and a network backend that never leaves loopback."""

from __future__ import annotations

import ipaddress
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, cast

import pytest
from fastapi import FastAPI
from sqlalchemy import update

from tests.api.conftest import Api
from tests.egress_fixtures import LoopbackOnly
from tests.integration.live import Receiver, free_port
from vigil.enforce.egress import EgressPolicy, IPAddress
from vigil.enforce.outbox import DeliveryLoop, RetryPolicy
from vigil.store.tables import WebhookDelivery


class Names:
    """DNS as the test says: name -> addresses, changeable between registration and delivery."""

    def __init__(self) -> None:
        self.answers: dict[str, list[str]] = {}

    def __call__(self, host: str, _port: int) -> list[IPAddress]:
        return [ipaddress.ip_address(a) for a in self.answers.get(host, [])]


@pytest.fixture
def names(api: Api) -> Names:
    resolver = Names()
    cast(FastAPI, api.client.app).state.egress = EgressPolicy(resolver=resolver)
    return resolver


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver(free_port())
    server.start()
    yield server
    server.stop()


def decide_a_removal(api: Api, content_id: str = "p1") -> None:
    """A known-hash match: a decision that sends an enforcement event."""
    api.client.post("/v1/banks", json={"name": "csam-list", "category": "csam"}, headers=api.admin)
    api.client.post(
        "/v1/banks/csam-list/hashes",
        json={"hashes": [{"type": "sha256", "value": "ab" * 32}]},
        headers=api.admin,
    )
    item = {"id": content_id, "author_id": "u", "media": [{"id": "m", "sha256": "AB" * 32}]}
    assert (
        api.client.post("/v1/content", json=item, headers=api.admin).json()["decision"]["outcome"] == "remove"
    )


def test_a_name_rebound_to_a_metadata_address_after_registration_is_not_delivered(
    api: Api, names: Names, receiver: Receiver
) -> None:
    names.answers["hook.invalid"] = ["127.0.0.1"]
    created = api.client.post(
        "/v1/webhooks", json={"url": f"http://hook.invalid:{receiver.port}/vigil-hook"}, headers=api.admin
    )
    assert created.status_code == 201
    names.answers["hook.invalid"] = ["169.254.169.254"]  # the name's owner rebinds it
    decide_a_removal(api)
    now = datetime.now(UTC)
    clock = [now]
    network = LoopbackOnly()
    egress = cast(FastAPI, api.client.app).state.egress
    loop = DeliveryLoop(
        api.store, RetryPolicy(base_seconds=1.0), 1.0, 0.1, lambda: clock[0], egress=egress, network=network
    )
    try:
        assert loop.run_once() == 1
        (refused,) = api.client.get("/v1/webhooks/deliveries", headers=api.admin).json()
        assert (refused["state"], refused["attempts"], refused["last_error"]) == (
            "pending",
            1,
            "refused_by_policy",
        )
        assert network.connects == []  # refused before any connection
        assert receiver.received == []

        # the name points back at loopback: the retry is delivered, to the address just checked
        # (hook.invalid is in no DNS), with the name in the Host header
        names.answers["hook.invalid"] = ["127.0.0.1"]
        clock[0] = now + timedelta(seconds=5)
        assert loop.run_once() == 1
    finally:
        loop.stop()
    (delivered,) = api.client.get("/v1/webhooks/deliveries", headers=api.admin).json()
    assert (delivered["state"], delivered["attempts"], delivered["last_error"]) == ("delivered", 2, "")
    assert network.connects == [("127.0.0.1", receiver.port)]
    assert [headers["Host"] for headers, _ in receiver.received] == [f"hook.invalid:{receiver.port}"]


def test_a_name_with_any_forbidden_address_is_refused_without_showing_the_address(
    api: Api, names: Names
) -> None:
    names.answers["mixed.invalid"] = ["127.0.0.1", "10.0.0.7"]
    refused = api.client.post("/v1/webhooks", json={"url": "http://mixed.invalid/hook"}, headers=api.admin)

    assert refused.status_code == 422
    error = refused.json()["error"]
    assert error["code"] == "webhook_address_forbidden"
    assert "private" in error["message"]
    assert "VIGIL_WEBHOOK_ALLOWED_NETWORKS" in error["message"]
    assert "10.0.0.7" not in refused.text  # the operator's internal DNS is not mapped for the caller
    assert api.client.get("/v1/webhooks", headers=api.admin).json() == []


def test_a_name_that_does_not_resolve_is_refused(api: Api, names: Names) -> None:
    refused = api.client.post("/v1/webhooks", json={"url": "https://nowhere.invalid/hook"}, headers=api.admin)
    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "webhook_host_unresolved"
    assert api.client.get("/v1/webhooks", headers=api.admin).json() == []


class Unavailable(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        body = b"upstream db.internal:5432 is down"
        self.send_response(503)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: Any) -> None:
        pass


def test_failed_attempts_show_a_category_never_the_error_text(api: Api) -> None:
    unavailable = ThreadingHTTPServer(("127.0.0.1", 0), Unavailable)
    threading.Thread(target=unavailable.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    closed = free_port()  # nothing listens there
    for url in (f"http://127.0.0.1:{unavailable.server_address[1]}/hook", f"http://127.0.0.1:{closed}/hook"):
        assert api.client.post("/v1/webhooks", json={"url": url}, headers=api.admin).status_code == 201
    decide_a_removal(api)
    loop = DeliveryLoop(api.store, RetryPolicy(), 1.0, 0.1, lambda: datetime.now(UTC))
    try:
        assert loop.run_once() == 2
    finally:
        loop.stop()
        unavailable.shutdown()
        unavailable.server_close()
    listed = api.client.get("/v1/webhooks/deliveries", headers=api.admin)
    shown = sorted((d["last_status"] or 0, d["last_error"]) for d in listed.json())
    assert shown == [(0, "connection_failed"), (503, "http_status")]
    for raw in ("Errno", "refused", "ConnectError", "db.internal", "HTTP 503"):
        assert raw not in listed.text


def test_errors_recorded_before_the_categories_are_shown_as_categories(api: Api) -> None:
    created = api.client.post("/v1/webhooks", json={"url": "http://127.0.0.1:9/hook"}, headers=api.admin)
    assert created.status_code == 201
    decide_a_removal(api)
    shown = {}
    for recorded in (
        "ConnectError: [Errno 111] Connection refused",
        "ConnectError: [Errno -2] Name or service not known (db.internal)",
        "ReadTimeout: timed out",
        "endpoint answered HTTP 502",
        "endpoint deactivated",
    ):
        with api.store.transaction() as session:
            session.execute(update(WebhookDelivery).values(last_error=recorded))
        (delivery,) = api.client.get("/v1/webhooks/deliveries", headers=api.admin).json()
        shown[recorded] = delivery["last_error"]

    assert list(shown.values()) == [
        "connection_failed",
        "connection_failed",
        "timeout",
        "http_status",
        "endpoint_deactivated",
    ]


def test_an_unexpected_failure_of_one_delivery_is_recorded_as_its_own(api: Api, receiver: Receiver) -> None:
    for url in (receiver.url, "http://8.8.8.8/hook"):
        assert api.client.post("/v1/webhooks", json={"url": url}, headers=api.admin).status_code == 201
    decide_a_removal(api)
    # a public address passes the policy; the test's backstop then raises AssertionError, an
    # exception no sender expects (and no socket is opened)
    network = LoopbackOnly()
    loop = DeliveryLoop(api.store, RetryPolicy(), 1.0, 0.1, lambda: datetime.now(UTC), network=network)
    try:
        assert loop.run_once() == 2
        assert loop.run_once() == 0  # both attempts were recorded: nothing is due again
    finally:
        loop.stop()

    shown = {d["state"]: d for d in api.client.get("/v1/webhooks/deliveries", headers=api.admin).json()}
    assert (shown["delivered"]["attempts"], shown["pending"]["attempts"]) == (1, 1)
    assert shown["pending"]["last_error"] == "internal_error"
    assert len(receiver.received) == 1
    assert ("8.8.8.8", 80) in network.connects
