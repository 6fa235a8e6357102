"""API keys in the store: a token authenticates until revoked, and the token itself is never stored."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import text

from vigil.domain.roles import Role
from vigil.store import keys as key_store
from vigil.store.db import Store
from vigil.store.keys import KeyInfo


def create(
    store: Store, now: datetime, role: Role = Role.REVIEWER, bound_to: str | None = None
) -> tuple[KeyInfo, str]:
    with store.transaction() as session:
        return key_store.create_key(session, role, "ops laptop", bound_to, now)


def authenticate(store: Store, token: str) -> KeyInfo | None:
    with store.transaction() as session:
        return key_store.authenticate(session, token)


def test_a_new_key_authenticates_with_its_token(store: Store, now: datetime) -> None:
    info, token = create(store, now, Role.TRUSTED_FLAGGER, bound_to="org:hotline-de")

    found = authenticate(store, token)

    assert found == info
    assert found is not None
    assert (found.role, found.label, found.bound_to, found.created_at) == (
        Role.TRUSTED_FLAGGER,
        "ops laptop",
        "org:hotline-de",
        now,
    )
    assert found.active


def test_each_key_authenticates_as_itself(store: Store, now: datetime) -> None:
    admin, admin_token = create(store, now, Role.ADMIN)
    auditor, auditor_token = create(store, now, Role.AUDITOR)

    assert authenticate(store, admin_token) == admin
    assert authenticate(store, auditor_token) == auditor


def test_a_token_with_the_right_id_but_a_wrong_secret_is_refused(store: Store, now: datetime) -> None:
    info, token = create(store, now)
    prefix, key_id, secret = token.split("_", 2)
    wrong = secret[:-1] + ("A" if secret[-1] != "A" else "B")

    assert (prefix, key_id) == ("vgl", info.id)
    assert authenticate(store, f"{prefix}_{key_id}_{wrong}") is None
    assert authenticate(store, f"{prefix}_{key_id}_") is None
    assert authenticate(store, token + "x") is None


@pytest.mark.parametrize(
    "token",
    ["", "vgl", "vgl_", "vgl__", "nonsense", "Bearer vgl_abc_def", "xyz_abc_def", "vgl_000000000000_secret"],
)
def test_a_malformed_or_unknown_token_is_refused(store: Store, now: datetime, token: str) -> None:
    create(store, now)

    assert authenticate(store, token) is None


def test_a_revoked_key_no_longer_authenticates(store: Store, now: datetime) -> None:
    info, token = create(store, now)
    kept, kept_token = create(store, now)
    revoked_at = now + timedelta(days=3)

    with store.transaction() as session:
        revoked = key_store.revoke_key(session, info.id, revoked_at)

    assert revoked is not None
    assert (revoked.revoked_at, revoked.active) == (revoked_at, False)
    assert authenticate(store, token) is None
    assert authenticate(store, kept_token) == kept


def test_revoking_again_keeps_the_first_revocation_time(store: Store, now: datetime) -> None:
    info, _ = create(store, now)
    with store.transaction() as session:
        key_store.revoke_key(session, info.id, now)

    with store.transaction() as session:
        again = key_store.revoke_key(session, info.id, now + timedelta(days=1))
        missing = key_store.revoke_key(session, "nosuchkey", now)

    assert again is not None
    assert again.revoked_at == now
    assert missing is None


def test_the_stored_key_row_never_contains_the_token_or_its_secret(store: Store, now: datetime) -> None:
    info, token = create(store, now)
    secret = token.split("_", 2)[2]

    with store.transaction() as session:
        rows = session.execute(text("SELECT * FROM api_keys")).all()

    assert len(rows) == 1
    stored = " ".join(str(value) for value in rows[0])
    assert token not in stored
    assert secret not in stored
    assert info.id in stored


def test_keys_are_listed_without_secrets(store: Store, now: datetime) -> None:
    first, _ = create(store, now, Role.ADMIN)
    second, _ = create(store, now + timedelta(seconds=1), Role.REVIEWER)

    with store.transaction() as session:
        listed = key_store.list_keys(session)
        fetched = key_store.get_key(session, second.id)

    assert listed == [first, second]
    assert fetched == second
    assert not any(hasattr(k, "secret_hash") or hasattr(k, "token") for k in listed)
