"""Webhook URLs against a live `vigil serve`: what registration refuses (issue 12, findings 2 and 4),
that one bad endpoint cannot stall the others' deliveries, and what the deliveries list shows.

Every connection these tests cause goes to 127.0.0.1: the forbidden addresses are only registered
(and refused), never sent to; the one private network accepted is deactivated at once, before any
event exists to send.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.integration.live import Receiver, Vigil, free_port, start_platform, wait_for
from vigil.store.db import Store
from vigil.store.tables import WebhookEndpoint

pytestmark = pytest.mark.e2e

DOCS = Path(__file__).parents[2] / "docs"
MEDIA = b"frame bytes of a known terrorist propaganda video"


def docs_examples() -> list[tuple[str, int, str | None]]:
    """The table of URLs in docs/webhooks.md#endpoint-urls: (url, status, error code or None)."""
    section = (DOCS / "webhooks.md").read_text().split("## Endpoint URLs", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `([^`]+)` \| `(\d{3})(?: (\w+))?`", section, re.MULTILINE)
    assert len(rows) > 20, "the examples table of docs/webhooks.md was not found"
    return [(url, int(status), code or None) for url, status, code in rows]


def docs_block_after(document: str, marker: str, language: str) -> str:
    """The first fenced block in ``language`` after ``marker`` in a docs page."""
    text = (DOCS / document).read_text()
    after = text[text.index(marker) :]
    return re.search(rf"```{language}\n(.*?)```", after, re.DOTALL)[1]  # type: ignore[index]


def remove_known_media(client: httpx.Client, admin: dict[str, str], content_id: str) -> dict[str, Any]:
    """A decision that sends an enforcement event to every active endpoint."""
    if client.get("/v1/banks", headers=admin).json() == []:
        client.post("/v1/banks", json={"name": "gifct", "category": "terrorism"}, headers=admin)
        md5 = hashlib.md5(MEDIA).hexdigest()
        client.post("/v1/banks/gifct/hashes", json={"hashes": [{"type": "md5", "value": md5}]}, headers=admin)
    post = {
        "id": content_id,
        "author_id": "user-7",
        "media": [{"id": "v1", "mime_type": "video/mp4", "data_base64": base64.b64encode(MEDIA).decode()}],
    }
    decided: dict[str, Any] = client.post("/v1/content", json=post, headers=admin).json()
    assert decided["decision"]["outcome"] == "remove"
    return decided


def register(client: httpx.Client, admin: dict[str, str], url: str) -> httpx.Response:
    return client.post("/v1/webhooks", json={"url": url}, headers=admin)


# --- finding 2: CR/LF and other malformed URLs --------------------------------------------------


def test_a_url_with_cr_lf_is_refused_at_registration_and_nothing_is_stored(
    tmp_path: Path, env: dict[str, str], vigil: Vigil
) -> None:
    platform = start_platform(tmp_path, env, vigil)
    client, admin = platform.client, platform.admin
    before = client.get("/v1/webhooks", headers=admin).json()

    refused = register(client, admin, "http://127.0.0.1:9/\r\nX-Injected: 1")

    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "webhook_url_invalid"
    assert "control characters" in refused.json()["error"]["message"]
    assert "X-Injected" not in refused.text
    assert client.get("/v1/webhooks", headers=admin).json() == before
    audit = client.get("/v1/audit/events", params={"limit": 1000}, headers=admin).json()
    assert [e["action"] for e in audit].count("webhook.created") == len(before)


def test_endpoints_stored_with_bad_urls_fail_alone_and_the_healthy_one_is_delivered_once(
    tmp_path: Path, env: dict[str, str], vigil: Vigil
) -> None:
    platform = start_platform(tmp_path, env, vigil)
    client, admin, receiver = platform.client, platform.admin, platform.receiver
    # rows a Vigil without URL checks accepted, written straight into the server's database
    bad_urls = {
        "wh_crlf": "http://127.0.0.1:9/\r\nX-Injected: 1",
        "wh_credentials": f"http://alice:s3cret@127.0.0.1:{receiver.port}/vigil-hook",
        "wh_backslash": f"http://127.0.0.1:{receiver.port}\\@example.com/",
    }
    store = Store(env["VIGIL_DATABASE_URL"])
    with store.transaction() as session:
        for endpoint_id, url in bad_urls.items():
            session.add(
                WebhookEndpoint(
                    id=endpoint_id,
                    url=url,
                    secret="whsec_old",
                    description="registered before the fix",
                    active=True,
                    created_at=datetime.now(UTC),
                )
            )
    store.dispose()

    decided = remove_known_media(client, admin, "post-1")

    def deliveries() -> dict[str, dict[str, Any]]:
        listed = client.get("/v1/webhooks/deliveries", headers=admin).json()
        return {d["endpoint_id"]: d for d in listed if d["event_id"] in event_ids}

    event_ids = {d["event_id"] for d in client.get("/v1/content/post-1", headers=admin).json()["deliveries"]}
    wait_for(lambda: len(deliveries()) == 4 and all(d["state"] != "pending" for d in deliveries().values()))
    time.sleep(1.0)  # several more polls: a stalled batch would be sent again by now
    found = deliveries()
    healthy = next(d for endpoint, d in found.items() if endpoint not in bad_urls)
    assert (healthy["state"], healthy["attempts"], healthy["last_error"]) == ("delivered", 1, "")
    assert len(receiver.received) == 1  # once, and never to the credentials row at the same port
    assert json.loads(receiver.received[0][1])["decision_id"] == decided["decision_id"]
    for endpoint_id in bad_urls:
        assert (
            found[endpoint_id]["state"],
            found[endpoint_id]["attempts"],
            found[endpoint_id]["last_error"],
        ) == (
            "dead",
            1,
            "url_invalid",
        )
    listed = client.get("/v1/webhooks", headers=admin).text
    assert "s3cret" not in listed  # the old row's password is not shown back
    assert "***@127.0.0.1" in listed


# --- finding 4: SSRF --------------------------------------------------------------------------


def test_the_documented_urls_get_the_documented_answers(
    tmp_path: Path, env: dict[str, str], vigil: Vigil
) -> None:
    platform = start_platform(tmp_path, env, vigil)
    client, admin = platform.client, platform.admin
    before = client.get("/v1/webhooks", headers=admin).json()

    answers = {}
    for url, _status, _code in docs_examples():
        response = register(client, admin, url)
        answers[url] = (response.status_code, response.json().get("error", {}).get("code"))
        if response.status_code == 201:  # nothing will be sent to it
            client.delete(f"/v1/webhooks/{response.json()['id']}", headers=admin)

    assert answers == {url: (status, code) for url, status, code in docs_examples()}
    registered = [e for e in client.get("/v1/webhooks", headers=admin).json() if e not in before]
    assert "http://localhost:9000/" in [e["url"] for e in registered]  # HTTP://LocalHost:9000, stored
    assert len(registered) == 3

    # the curl example of the same section, with its exact answer
    curl = docs_block_after("webhooks.md", "## Endpoint URLs", "sh")
    url = json.loads(re.search(r"-d '(.*)'", curl)[1])["url"]  # type: ignore[index]
    shown = json.loads(docs_block_after("webhooks.md", "## Endpoint URLs", "json"))
    assert register(client, admin, url).json() == shown


def test_vigils_own_port_is_refused(tmp_path: Path, env: dict[str, str], vigil: Vigil) -> None:
    platform = start_platform(tmp_path, env, vigil)
    for url in (
        f"http://127.0.0.1:{vigil.port}/v1/keys",
        f"http://127.0.0.2:{vigil.port}/",
        f"http://localhost:{vigil.port}/v1/content",
        f"http://[::ffff:127.0.0.1]:{vigil.port}/",
    ):
        refused = register(platform.client, platform.admin, url)
        assert refused.status_code == 422, url
        assert refused.json()["error"] == {
            "code": "webhook_address_forbidden",
            "message": f"url: port {vigil.port} on this machine is Vigil's own API",
        }


def test_credentials_in_a_url_are_refused_and_never_shown_back(
    tmp_path: Path, env: dict[str, str], vigil: Vigil
) -> None:
    platform = start_platform(tmp_path, env, vigil)
    client, admin = platform.client, platform.admin

    refused = register(client, admin, f"http://alice:s3cret@127.0.0.1:{platform.receiver.port}/vigil-hook")

    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "webhook_url_invalid"
    assert "credentials" in refused.json()["error"]["message"]
    assert "s3cret" not in refused.text
    assert "s3cret" not in client.get("/v1/webhooks", headers=admin).text
    assert "s3cret" not in client.get("/v1/audit/events", params={"limit": 1000}, headers=admin).text


def test_a_private_network_is_accepted_only_when_the_operator_allows_it(
    tmp_path: Path, env: dict[str, str], vigil: Vigil
) -> None:
    documented = docs_block_after("deployment.md", "## Outbound requests", "sh")
    name, _, value = documented.strip().removeprefix("export ").partition("=")
    assert name == "VIGIL_WEBHOOK_ALLOWED_NETWORKS"
    vigil.env = env | {name: value}  # 127.0.0.0/8,::1/128,10.20.0.0/16
    platform = start_platform(tmp_path, vigil.env, vigil)
    client, admin = platform.client, platform.admin

    accepted = register(client, admin, "http://10.20.30.40/vigil")
    assert accepted.status_code == 201
    # deactivated before any event exists: nothing is ever sent outside loopback
    assert client.delete(f"/v1/webhooks/{accepted.json()['id']}", headers=admin).status_code == 200
    for url, kind in (
        ("http://10.21.0.1/vigil", "private"),
        ("http://192.168.1.20/vigil", "private"),
        ("http://169.254.169.254/latest/meta-data/", "cloud metadata"),
        ("http://[::ffff:169.254.169.254]/", "cloud metadata"),
    ):
        refused = register(client, admin, url)
        assert refused.status_code == 422, url
        assert refused.json()["error"]["code"] == "webhook_address_forbidden"
        assert kind in refused.json()["error"]["message"]


def test_the_deliveries_list_shows_a_category_never_the_connection_error(
    tmp_path: Path, env: dict[str, str], vigil: Vigil
) -> None:
    platform = start_platform(tmp_path, env, vigil)
    client, admin = platform.client, platform.admin
    down = Receiver(free_port())  # never started: connections to it are refused
    assert register(client, admin, down.url).status_code == 201
    remove_known_media(client, admin, "post-1")

    def failed() -> list[dict[str, Any]]:
        listed = client.get("/v1/webhooks/deliveries", headers=admin).json()
        return [d for d in listed if d["state"] == "pending" and d["attempts"] >= 1]

    wait_for(lambda: bool(failed()))
    listed = client.get("/v1/webhooks/deliveries", headers=admin)
    assert failed()[0]["last_error"] == "connection_failed"
    assert failed()[0]["last_status"] is None
    for raw in ("Errno", "refused", "ConnectError", "127.0.0.1"):
        assert raw not in listed.text
    # the documented dead letter has the same fields and the same kind of error
    example = json.loads(docs_block_after("webhooks.md", "### Dead letters", "json"))[0]
    assert example.keys() == failed()[0].keys()
    assert example["last_error"] == failed()[0]["last_error"]
    # and the operator's log has the detail, in the documented form
    vigil.process.terminate()  # type: ignore[union-attr]
    log = vigil.process.communicate(timeout=10)[1].decode()  # type: ignore[union-attr]
    documented = docs_block_after("webhooks.md", "Each failure is logged by `vigil serve`", "").splitlines()[
        0
    ]
    event_id = re.search(r"evt_[0-9a-f]+", documented)[0]  # type: ignore[index]
    delay = re.search(r"retrying in ([0-9.]+)s", documented)[1]  # type: ignore[index]
    pattern = (
        re.escape(documented)
        .replace(event_id, r"evt_[0-9a-f]+")
        .replace(re.escape("http://127.0.0.1:9/down"), re.escape(down.url))
        .replace(re.escape(delay), r"[0-9.]+")
    )
    assert re.search(pattern, log), log
