"""Console sessions and reviewer wellness in the database, on SQLite and on a real PostgreSQL: the
store keeps only a digest of the session token, sessions end by time, by signing out and by revoking
their key on every process at once, and two real ``vigil serve`` processes on one PostgreSQL share
a reviewer's session, their messages and their exposure count."""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from tests.conftest import PostgresServer
from tests.console_forms import csrf_token, sign_in_with_key
from tests.integration.live import VIGIL, Vigil, start_all
from tests.review_fixtures import ABUSE
from vigil.api.auth import Identity, Principal
from vigil.domain.roles import Role
from vigil.pipeline.admin import Admin
from vigil.store.db import Store
from vigil.store.tables import ConsoleSessionRecord
from vigil.web.exposure import Wellness
from vigil.web.sessions import IDLE, LIFETIME, Flash, SessionStore


def _rows(store: Store) -> list[ConsoleSessionRecord]:
    with store.transaction() as db:
        rows = list(db.scalars(select(ConsoleSessionRecord)))
        db.expunge_all()
    return rows


def test_the_store_keeps_a_digest_of_the_session_token_never_the_token(store: Store, now: datetime) -> None:
    sessions = SessionStore(store)
    person = Identity("https://login.example.org", "248289761001", "Ana", "ana@example.org")

    started = sessions.start(Principal(None, Role.REVIEWER, None, person), now)

    (row,) = _rows(store)
    assert row.token_digest == hashlib.sha256(started.id.encode()).hexdigest()
    assert started.id not in {str(value) for value in vars(row).values()}
    found = sessions.get(started.id, now + timedelta(minutes=5))
    assert found is not None
    assert (found.principal, found.csrf) == (started.principal, started.csrf)


def test_a_session_ends_after_an_idle_hour_or_twelve_hours_and_is_purged(store: Store, now: datetime) -> None:
    sessions = SessionStore(store)
    reviewer = Principal("abc123", Role.REVIEWER, None)
    idle = sessions.start(reviewer, now)
    busy = sessions.start(reviewer, now)

    for minutes in range(50, 12 * 60, 50):  # a request every 50 minutes keeps it alive, for a while
        assert sessions.get(busy.id, now + timedelta(minutes=minutes)) is not None
    assert sessions.get(idle.id, now + IDLE + timedelta(seconds=1)) is None
    assert sessions.get(busy.id, now + LIFETIME + timedelta(seconds=1)) is None

    assert _rows(store) == []  # both deleted as they were found expired
    sessions.start(reviewer, now)
    sessions.start(reviewer, now + LIFETIME + timedelta(seconds=1))  # purges the first
    assert len(_rows(store)) == 1


def test_signing_out_or_revoking_the_key_ends_the_session_on_every_process(
    store: Store, now: datetime
) -> None:
    other = Store(store.url)  # a second process's engine
    try:
        here, there = SessionStore(store), SessionStore(other)
        admin = Admin(store, lambda: now)
        key, _ = admin.create_key(Role.REVIEWER, "Ana", None, "test")
        signed_out = here.start(Principal(key.id, Role.REVIEWER, None), now)
        revoked = here.start(Principal(key.id, Role.REVIEWER, None), now)

        there.set_flash(signed_out.id, Flash("ok", "Note added."))
        assert here.take_flash(signed_out.id) == Flash("ok", "Note added.")
        assert there.take_flash(signed_out.id) is None  # shown once, wherever
        there.end(signed_out.id)
        assert here.get(signed_out.id, now) is None

        assert here.get(revoked.id, now) is not None
        admin.revoke_key(key.id, "test")
        assert there.get(revoked.id, now) is None
        assert _rows(store) == []
    finally:
        other.dispose()


def test_a_sensitive_case_counts_once_per_reviewer_per_day_on_every_process(
    store: Store, now: datetime
) -> None:
    other = Store(store.url)
    try:
        here, there = Wellness(store), Wellness(other)
        today, tomorrow = now.date(), (now + timedelta(days=1)).date()

        assert here.record("key:abc123", "case-1", today) == 1
        assert there.record("key:abc123", "case-1", today) == 1  # the same case again
        assert there.record("key:abc123", "case-2", today) == 2
        assert here.count("key:abc123", today) == 2
        assert here.count("key:def456", today) == 0
        assert here.count("key:abc123", tomorrow) == 0

        here.set_reveal("key:abc123", True, today)
        sessions = SessionStore(other)
        started = sessions.start(Principal("abc123", Role.REVIEWER, None), now)
        assert started.reveal_sensitive
        tomorrows = sessions.start(Principal("abc123", Role.REVIEWER, None), now + timedelta(days=1))
        assert not tomorrows.reveal_sensitive  # a new day starts blurred
    finally:
        other.dispose()


# --- two `vigil serve` processes on one PostgreSQL ------------------------------------------------


def _page(client: httpx.Client, path: str) -> httpx.Response:
    page = client.get(path)
    assert page.status_code == 200, (path, page.status_code, page.text[:500])
    return page


@pytest.mark.postgres
@pytest.mark.e2e
def test_a_console_session_signed_in_on_one_process_works_and_ends_on_another(
    tmp_path: Path, env: dict[str, str], request: pytest.FixtureRequest
) -> None:
    server: PostgresServer = request.getfixturevalue("postgres_server")
    database = server.create_database()
    env = {**env, "VIGIL_DATABASE_URL": server.database_url(database)}
    first, second = Vigil(tmp_path, env), Vigil(tmp_path, env)
    try:
        init = subprocess.run(
            [*VIGIL, "init", "--json"], cwd=tmp_path, env=env, capture_output=True, check=True
        )
        admin = {"Authorization": f"Bearer {json.loads(init.stdout)['admin_key']}"}
        start_all([first, second])
        with httpx.Client(base_url=first.base, timeout=30) as api:
            made = api.post("/v1/keys", headers=admin, json={"role": "child_safety_reviewer", "label": "Ana"})
            assert made.status_code == 201, made.text
            key = made.json()["key"]
            bank = api.post("/v1/banks", headers=admin, json={"name": "internal-csam", "category": "csam"})
            assert bank.status_code == 201, bank.text
            digest = hashlib.md5(ABUSE).hexdigest()
            hashes = {"hashes": [{"type": "md5", "value": digest}]}
            assert api.post("/v1/banks/internal-csam/hashes", headers=admin, json=hashes).status_code == 200
            media = [{"id": "m1", "data_base64": base64.b64encode(ABUSE).decode()}]
            item = {"id": "abuse-1", "author_id": "user-7", "text": "", "media": media}
            assert api.post("/v1/content", headers=admin, json=item).status_code == 200
            reviewer = {"Authorization": f"Bearer {key}"}
            cases = api.get("/v1/cases?queue=child_safety", headers=reviewer).json()
            (case_id,) = [c["id"] for c in cases if c["subject"]["id"] == "abuse-1"]

        with (
            httpx.Client(base_url=first.base, timeout=30) as on_a,
            httpx.Client(base_url=second.base, timeout=30) as on_b,
        ):
            # sign in through A, with the sign-in form's CSRF flow
            sign_in_with_key(on_a, key)
            cookie = on_a.cookies["vigil_session"]
            on_b.cookies.set("vigil_session", cookie, domain="127.0.0.1", path="/console")

            # the cookie works on B, and A's count of a sensitive case opened there is B's too
            assert 'id="exposure-count">0<' in _page(on_b, "/console/queues").text
            assert "child_safety" in _page(on_b, "/console/queues/child_safety").text
            _page(on_a, f"/console/cases/{case_id}")
            queues = _page(on_b, "/console/queues").text
            assert 'id="exposure-count">1<' in queues

            # a setting changed through A, and its message, are seen through B
            changed = on_a.post(
                "/console/settings", data={"csrf": csrf_token(queues), "reveal_sensitive": "on"}
            )
            assert changed.status_code == 303
            assert "Sensitive previews are shown unblurred." in _page(on_b, "/console/queues").text

            # signing out on B ends the session on A too
            queues = _page(on_b, "/console/queues").text
            out = on_b.post("/console/logout", data={"csrf": csrf_token(queues)})
            assert (out.status_code, out.headers["location"]) == (303, "/console/login")
            refused = on_a.get("/console/queues")
            assert (refused.status_code, refused.headers["location"]) == (303, "/console/login")
    finally:
        for process in (first, second):
            if process.process is not None and process.process.poll() is None:
                process.process.terminate()
                process.process.wait(timeout=10)
        server.drop_database(database)
