"""The console's sign-in limit over HTTP: wrong API keys from one address, or for one key id, are
refused with 429 and ``Retry-After`` once over the limit, a correct key included, until the window
ends on the console's clock; other addresses and other keys are not affected."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.console_forms import Clock, csrf_token
from vigil.api.app import create_app
from vigil.config import Settings
from vigil.domain.roles import Role
from vigil.pipeline.admin import Admin
from vigil.store.db import Store

CONSOLE_DOC = Path(__file__).parents[2] / "docs" / "console.md"
WINDOW_START = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)  # a window's first second (300 s windows)


@dataclass
class Limited:
    """An app with the default limits (10 failures per client, 20 per key, in 300 s) and its clock."""

    app: FastAPI
    store: Store
    clock: Clock
    clients: list[TestClient]

    def key(self, role: Role = Role.REVIEWER) -> str:
        _, token = Admin(self.store).create_key(role, f"test {role.value}", None, "test")
        return token

    def browser(self, address: str) -> Callable[..., httpx.Response]:
        """``sign_in(key, json=False)`` from a browser at ``address``: the form's token, then the post."""
        client = TestClient(self.app, client=(address, 50000))
        self.clients.append(client)

        def sign_in(key: str, json: bool = False) -> httpx.Response:
            token = csrf_token(client.get("/console/login").text)
            headers = {"Accept": "application/json"} if json else {}
            return client.post(
                "/console/login",
                data={"csrf": token, "api_key": key},
                headers=headers,
                follow_redirects=False,
            )

        return sign_in


@pytest.fixture
def limited(tmp_path: Path) -> Iterator[Limited]:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'vigil.db'}",
        webhook_deliver=False,
        retro_matching=False,
        order_watch=False,
        text_classifier=False,
    )
    store = Store(settings.database_url)
    store.migrate()
    app = create_app(settings, store)
    clock = Clock(WINDOW_START + timedelta(seconds=100))
    app.state.desk.clock = clock
    found = Limited(app, store, clock, [])
    yield found
    for client in found.clients:
        client.close()
    store.dispose()


def wrong(key: str, n: int = 0) -> str:
    """A wrong secret for the real key ``key`` (same public id)."""
    prefix, _, _ = key.rpartition("_")
    return f"{prefix}_wrong{n}"


def test_ten_wrong_keys_from_one_address_then_sign_in_is_refused_with_429_and_retry_after(
    limited: Limited,
) -> None:
    sign_in = limited.browser("198.51.100.7")

    answers = [sign_in(f"vgl_{n:012x}_not-a-key") for n in range(10)]
    refused = sign_in("vgl_00000000000a_not-a-key")

    assert [a.status_code for a in answers] == [401] * 10
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "200"  # the window ends 200 s after the clock's time
    assert "Too many failed sign-ins from this address or for this key" in refused.text
    assert "for 200 more seconds" in refused.text
    assert 'id="back"' in refused.text


def test_a_script_over_the_limit_gets_the_apis_error_shape(limited: Limited) -> None:
    sign_in = limited.browser("198.51.100.8")
    for n in range(10):
        assert sign_in(f"not a key {n}", json=True).status_code == 401

    refused = sign_in("not a key either", json=True)

    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "200"
    [documented] = re.findall(r"```json\n(.*?)```", CONSOLE_DOC.read_text(), re.DOTALL)
    assert refused.json() == json.loads(documented)  # the answer docs/console.md shows


def test_a_correct_key_over_the_limit_is_refused_until_the_window_has_passed(limited: Limited) -> None:
    sign_in = limited.browser("198.51.100.9")
    good = limited.key()
    for n in range(10):
        assert sign_in(f"wrong {n}").status_code == 401

    assert sign_in(good).status_code == 429
    limited.clock.at = WINDOW_START + timedelta(seconds=299)
    assert sign_in(good).status_code == 429
    limited.clock.at = WINDOW_START + timedelta(seconds=300)
    signed = sign_in(good)

    assert (signed.status_code, signed.headers["location"]) == (303, "/console/queues")


def test_a_correct_key_does_not_count_and_other_addresses_are_not_limited(limited: Limited) -> None:
    guesser, colleague = limited.browser("203.0.113.5"), limited.browser("203.0.113.6")
    good = limited.key()
    for n in range(9):
        assert guesser(f"wrong {n}").status_code == 401
    assert guesser(good).status_code == 303  # the ninth failure is not followed by a tenth
    assert guesser("wrong 9").status_code == 401  # the tenth

    assert guesser(good).status_code == 429
    assert colleague(good).status_code == 303
    assert [colleague(f"typo {n}").status_code for n in range(10)] == [401] * 10
    assert colleague("typo 10").status_code == 429


def test_wrong_keys_for_one_key_id_from_many_addresses_lock_that_key_alone(limited: Limited) -> None:
    target, other = limited.key(), limited.key()
    browsers = [limited.browser(f"192.0.2.{n}") for n in (1, 2, 3)]  # 7, 7 and 6 tries: under 10 each
    failures = [browsers[n % 3](wrong(target, n)) for n in range(20)]
    newcomer = limited.browser("192.0.2.99")

    assert [f.status_code for f in failures] == [401] * 20
    assert newcomer(target).status_code == 429  # the 21st try at this key id, a correct one
    assert newcomer(other).status_code == 303  # another key, from the same fresh address


def test_ipv6_clients_are_counted_by_their_64_network(limited: Limited) -> None:
    for n in range(10):
        assert limited.browser(f"2001:db8:1:2::{n + 1:x}")(f"wrong {n}").status_code == 401

    assert limited.browser("2001:db8:1:2:ffff::1")(limited.key()).status_code == 429
    assert limited.browser("2001:db8:1:3::1")(limited.key()).status_code == 303
