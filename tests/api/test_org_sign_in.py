"""Organisation sign-in to the console over HTTP, against a real OpenID Connect provider the test
starts (``tests/oidc_provider.py``): the code flow with PKCE, the roles file's groups, the audit
chain's names for the person, and every refusal (state, nonce, a tampered or expired ID token, a
swapped code challenge, a replayed callback, no mapped group) with a clear page and nobody signed in.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.api.cli import run
from tests.console_forms import Clock, csrf_token
from tests.oidc_provider import (
    CLIENT_ID,
    CLIENT_SECRET,
    QUIET_PROVIDER,
    Provider,
    authorize,
    running_provider,
)
from tests.review_fixtures import SCAM
from vigil.api.app import create_app
from vigil.config import Settings
from vigil.domain.roles import Role
from vigil.pipeline.admin import Admin
from vigil.policy.loader import DEFAULT_PACK, load_policy_paths
from vigil.store.db import Store

pytestmark = QUIET_PROVIDER

ROLES = """\
claim: groups
roles:                        # first match wins
  - group: ts-leads
    role: senior_reviewer
  - group: trust-safety
    role: reviewer
  - group: internal-audit
    role: auditor
"""


@dataclass
class Org:
    """Vigil with organisation sign-in, the provider, and a browser's two halves: the TestClient
    holds Vigil's cookies, ``browser`` the provider's."""

    client: TestClient
    store: Store
    provider: Provider
    clock: Clock
    admin: dict[str, str]

    def start(self) -> httpx.Response:
        started = self.client.get("/console/login/oidc", follow_redirects=False)
        assert started.status_code == 303, started.text
        return started

    def at_provider(self, authorize_url: str, sub: str) -> str:
        with httpx.Client(timeout=10) as browser:
            return authorize(browser, authorize_url, sub)

    def sign_in(self, sub: str) -> httpx.Response:
        """The whole flow for ``sub``: start, sign in at the provider, come back; the callback's answer."""
        back = self.at_provider(self.start().headers["location"], sub)
        return self.client.get(back, follow_redirects=False)

    def signed_in(self) -> bool:
        queues = self.client.get("/console/queues", follow_redirects=False)
        return queues.status_code == 200

    def audit(self, action: str) -> list[dict[str, Any]]:
        events = self.client.get("/v1/audit/events", params={"limit": 1000}, headers=self.admin).json()
        return [e for e in events if e["action"] == action]


@pytest.fixture(scope="module")
def provider() -> Iterator[Provider]:
    with running_provider() as running:
        running.add_user("ada", ["trust-safety"], name="Ada Lovelace", email="ada@example.org")
        running.add_user("grace", ["trust-safety", "ts-leads"], name="Grace Hopper")
        running.add_user("mallory", ["marketing"], name="Mallory")
        running.add_user("alan", ["internal-audit"], name="Alan")
        yield running


def _settings(tmp_path: Path, provider: Provider, **changes: Any) -> Settings:
    roles = tmp_path / "roles.yaml"
    roles.write_text(ROLES)
    values: dict[str, Any] = {
        "database_url": f"sqlite:///{tmp_path / 'vigil.db'}",
        "webhook_deliver": False,
        "retro_matching": False,
        "order_watch": False,
        "qa_sample_rate": 0.0,
        "text_classifier": False,
        "oidc_issuer": provider.issuer,
        "oidc_client_id": CLIENT_ID,
        "oidc_client_secret": CLIENT_SECRET,
        "oidc_roles_file": str(roles),
        "oidc_provider_name": "Example Org",
        **changes,
    }
    return Settings(**values)


@pytest.fixture
def org(tmp_path: Path, provider: Provider, request: pytest.FixtureRequest) -> Iterator[Org]:
    changes: dict[str, Any] = getattr(request, "param", {})
    settings = _settings(tmp_path, provider, **changes)
    store = Store(settings.database_url)
    store.migrate()
    admin = Admin(store)
    admin.apply_policies(load_policy_paths([DEFAULT_PACK]), "test")
    _, admin_key = admin.create_key(Role.ADMIN, "test admin", None, "test")
    app = create_app(settings, store)
    clock = Clock(datetime.now(UTC))
    app.state.desk.clock = clock
    with TestClient(app) as client:
        yield Org(client, store, provider, clock, {"Authorization": f"Bearer {admin_key}"})
    store.dispose()


def _refused(org: Org, answer: httpx.Response, status: int, words: str) -> None:
    """The callback refused with ``status`` and a page saying ``words``; nobody is signed in."""
    assert answer.status_code == status, answer.text
    assert words in answer.text
    assert 'id="back"' in answer.text  # the way back to the sign-in page
    assert "vigil_session" not in answer.headers.get("set-cookie", "")
    assert not org.signed_in()
    assert org.audit("console.signed_in") == []


def _with_query(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    return urlunsplit(parts._replace(query=urlencode({**query, **changes})))


# --- signing in ----------------------------------------------------------------------------------


def test_a_reviewer_signs_in_through_the_provider_with_pkce_and_works_with_the_mapped_role(org: Org) -> None:
    login = org.client.get("/console/login")
    assert 'href="/console/login/oidc"' in login.text
    assert "Sign in with Example Org" in login.text
    assert 'id="api_key"' in login.text  # keys still sign in

    started = org.start()
    request = parse_qs(urlsplit(started.headers["location"]).query)
    cookie = started.headers["set-cookie"]
    assert started.headers["location"].startswith(f"{org.provider.issuer}/oauth2/authorize?")
    assert request["code_challenge_method"] == ["S256"]
    assert len(request["code_challenge"][0]) == 43  # base64url of a SHA-256
    assert request["client_id"] == [CLIENT_ID]
    assert request["redirect_uri"] == ["http://testserver/console/login/oidc/callback"]
    assert len(request["state"][0]) == len(request["nonce"][0]) == 43  # 256 random bits each
    assert request["state"] != request["nonce"]
    assert f"vigil_oidc={request['state'][0]}" in cookie
    assert {"HttpOnly", "SameSite=lax", "Path=/console/login/oidc", "Max-Age=600"} <= {
        part.strip() for part in cookie.split(";")
    }

    back = org.at_provider(started.headers["location"], "ada")
    welcome = org.client.get(back, follow_redirects=False)

    assert welcome.status_code == 200, welcome.text
    assert "Signed in as Ada Lovelace (reviewer) through Example Org." in welcome.text
    assert "vigil_oidc=" in welcome.headers["set-cookie"]  # the flow cookie is cleared
    queues = org.client.get("/console/queues", follow_redirects=False)
    assert queues.status_code == 200
    assert '<span class="role">reviewer</span>' in queues.text
    assert "Ada Lovelace" in queues.text
    assert org.provider.pkce_refusals == 0
    host = urlsplit(org.provider.issuer).netloc
    [event] = org.audit("console.signed_in")
    assert event["actor"] == f"oidc:{host}:ada"
    assert (event["subject_type"], event["subject_id"]) == ("person", f"oidc:{host}:ada")
    assert event["payload"] == {
        "method": "oidc",
        "role": "reviewer",
        "group": "trust-safety",
        "issuer": org.provider.issuer,
        "subject": "ada",
        "name": "Ada Lovelace",
        "email": "ada@example.org",
    }


def test_the_first_listed_group_decides_the_role_of_a_person_in_several(org: Org) -> None:
    welcome = org.sign_in("grace")  # in trust-safety and ts-leads; ts-leads is listed first

    assert welcome.status_code == 200, welcome.text
    assert "(senior reviewer)" in welcome.text
    assert org.audit("console.signed_in")[0]["payload"]["group"] == "ts-leads"


def test_a_person_in_no_mapped_group_is_refused(org: Org) -> None:
    answer = org.sign_in("mallory")

    _refused(org, answer, 403, "none of your groups (groups) is given a Vigil role")


def test_a_person_whose_role_has_no_queues_is_refused(org: Org) -> None:
    answer = org.sign_in("alan")

    _refused(org, answer, 403, "your role, auditor, has no queues")


def test_the_persons_console_actions_and_sign_out_are_attributed_to_them_in_the_audit_chain(org: Org) -> None:
    org.client.post("/v1/banks", json={"name": "kits", "category": "fraud"}, headers=org.admin)
    md5 = hashlib.md5(SCAM).hexdigest()
    org.client.post(
        "/v1/banks/kits/hashes", json={"hashes": [{"type": "md5", "value": md5}]}, headers=org.admin
    )
    item = {
        "id": "scam-1",
        "author_id": "u",
        "media": [{"id": "m", "data_base64": base64.b64encode(SCAM).decode()}],
    }
    assert org.client.post("/v1/content", json=item, headers=org.admin).status_code == 200
    _, senior_key = Admin(org.store).create_key(Role.SENIOR_REVIEWER, "a senior reviewer", None, "test")
    senior = {"Authorization": f"Bearer {senior_key}"}
    listed = org.client.get("/v1/cases", params={"queue": "general"}, headers=senior)
    assert listed.status_code == 200, listed.text
    [case] = listed.json()
    assert org.sign_in("ada").status_code == 200
    page = f"/console/cases/{case['id']}"

    def form(path: str, **fields: str) -> httpx.Response:
        token = csrf_token(org.client.get(page).text)
        return org.client.post(path, data={"csrf": token, **fields}, follow_redirects=False)

    assert form(f"{page}/claim").status_code == 303
    assert form(f"{page}/decide", note="not a scam after all").status_code == 303
    assert form("/console/logout").status_code == 303

    actor = f"oidc:{urlsplit(org.provider.issuer).netloc}:ada"
    detail = org.client.get(f"/v1/cases/{case['id']}", headers=senior).json()
    assert [(e["kind"], e["actor"]) for e in detail["events"]][1:] == [("claimed", actor), ("decided", actor)]
    events = org.client.get("/v1/audit/events", params={"limit": 1000}, headers=org.admin).json()
    mine = [e["action"] for e in events if e["actor"] == actor]
    assert mine[0] == "console.signed_in"
    assert {"decision.created", "case.decided"} <= set(mine)  # the verdict is the person's decision
    assert mine[-1] == "console.signed_out"
    since = next(e["seq"] for e in events if e["action"] == "console.signed_in")
    assert {e["actor"] for e in events if e["seq"] > since and e["action"].startswith("case.")} == {actor}
    assert not org.signed_in()


# --- refusals --------------------------------------------------------------------------------------


def test_an_answer_carrying_another_state_is_refused(org: Org) -> None:
    back = org.at_provider(org.start().headers["location"], "ada")

    answer = org.client.get(_with_query(back, state="forged-state"), follow_redirects=False)

    _refused(org, answer, 400, "does not belong to the sign-in this browser started (state)")


def test_an_answer_in_a_browser_that_did_not_start_the_sign_in_is_refused(org: Org) -> None:
    back = org.at_provider(org.start().headers["location"], "ada")
    org.client.cookies.clear()  # another browser: the victim of a forged link, say

    answer = org.client.get(back, follow_redirects=False)

    _refused(org, answer, 400, "not started in this browser")


def test_an_id_token_for_another_nonce_is_refused(org: Org) -> None:
    authorize_url = _with_query(org.start().headers["location"], nonce="a-nonce-vigil-never-sent")
    back = org.at_provider(authorize_url, "ada")

    answer = org.client.get(back, follow_redirects=False)

    _refused(org, answer, 401, "does not belong to this sign-in (nonce)")


def test_an_id_token_with_a_tampered_signature_is_refused(org: Org) -> None:
    back = org.at_provider(org.start().headers["location"], "ada")
    org.provider.tamper_next_id_token()

    answer = org.client.get(back, follow_redirects=False)

    _refused(org, answer, 401, "signature does not verify against the sign-in provider")


def test_an_expired_id_token_is_refused(org: Org) -> None:
    org.clock.at = datetime.now(UTC) + timedelta(hours=2)  # the provider's tokens last an hour
    back = org.at_provider(org.start().headers["location"], "ada")

    answer = org.client.get(back, follow_redirects=False)

    _refused(org, answer, 401, "The ID token has expired")


def test_a_code_whose_challenge_was_swapped_is_refused_by_the_provider(org: Org) -> None:
    # an attacker who got the code cannot redeem it without the verifier, nor can a swapped challenge
    swapped = _with_query(org.start().headers["location"], code_challenge="A" * 43)
    back = org.at_provider(swapped, "ada")

    answer = org.client.get(back, follow_redirects=False)

    _refused(org, answer, 401, "refused to complete the sign-in (invalid_grant: PKCE verification failed)")
    assert org.provider.pkce_refusals == 1


def test_a_callback_is_used_once(org: Org) -> None:
    started = org.start()
    back = org.at_provider(started.headers["location"], "ada")
    assert org.client.get(back, follow_redirects=False).status_code == 200
    org.client.cookies.clear()
    org.client.cookies.set(
        "vigil_oidc", parse_qs(urlsplit(back).query)["state"][0], path="/console/login/oidc"
    )

    replayed = org.client.get(back, follow_redirects=False)

    assert replayed.status_code == 400
    assert "expired or was already completed" in replayed.text
    assert not org.signed_in()
    assert len(org.audit("console.signed_in")) == 1


def test_a_sign_in_not_finished_within_ten_minutes_is_refused(org: Org) -> None:
    back = org.at_provider(org.start().headers["location"], "ada")
    org.clock.at += timedelta(minutes=11)

    answer = org.client.get(back, follow_redirects=False)

    _refused(org, answer, 400, "expired or was already completed")


@pytest.mark.parametrize("org", [{"sign_in_client_failures": 3}], indirect=True)
def test_refused_callbacks_count_against_the_clients_sign_in_limit(org: Org) -> None:
    for _ in range(3):
        back = org.at_provider(org.start().headers["location"], "mallory")
        assert org.client.get(back, follow_redirects=False).status_code == 403

    answer = org.sign_in("ada")  # a good sign-in, from a client over its limit

    assert answer.status_code == 429
    assert 1 <= int(answer.headers["retry-after"]) <= 300
    assert "Too many failed sign-ins" in answer.text
    assert not org.signed_in()


@pytest.mark.parametrize("org", [{"oidc_issuer": "http://127.0.0.1:1"}], indirect=True)
def test_a_provider_that_cannot_be_reached_is_said_so_and_vigil_keeps_running(org: Org) -> None:
    started = org.client.get("/console/login/oidc", follow_redirects=False)

    assert started.status_code == 502
    assert "The sign-in provider could not be reached for its configuration" in started.text
    assert 'id="back"' in started.text
    assert org.client.get("/console/login").status_code == 200


def test_organisation_sign_in_is_not_offered_when_it_is_not_configured(api: Any) -> None:
    login = api.client.get("/console/login")

    assert "/console/login/oidc" not in login.text
    assert api.client.get("/console/login/oidc", follow_redirects=False).status_code == 404


# --- configuration -----------------------------------------------------------------------------------


def test_serve_refuses_a_broken_roles_file_in_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, database: Path
) -> None:
    run(capsys, "init")
    roles = database.parent / "roles.yaml"
    roles.write_text("roles:\n  - group: partners\n    role: platform\n")
    monkeypatch.setenv("VIGIL_OIDC_ISSUER", "https://login.example.org")
    monkeypatch.setenv("VIGIL_OIDC_CLIENT_ID", "vigil")
    monkeypatch.setenv("VIGIL_OIDC_ROLES_FILE", str(roles))

    code, _, err = run(capsys, "serve")

    assert code == 2
    assert err.startswith(f"vigil: VIGIL_OIDC_ROLES_FILE: {roles}: line 3: roles.0.role: role 'platform'")
    assert "is not held by people" in err
    assert err.count("\n") == 1


def test_serve_refuses_organisation_sign_in_without_a_roles_file(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, database: Path
) -> None:
    run(capsys, "init")
    monkeypatch.setenv("VIGIL_OIDC_ISSUER", "https://login.example.org")
    monkeypatch.setenv("VIGIL_OIDC_CLIENT_ID", "vigil")

    code, _, err = run(capsys, "serve")

    assert code == 2
    assert err.startswith("vigil: VIGIL_OIDC_ISSUER is set but VIGIL_OIDC_ROLES_FILE is not")
    assert err.count("\n") == 1
