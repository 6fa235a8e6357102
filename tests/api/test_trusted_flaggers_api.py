"""The trusted-flagger registry over HTTP (DSA Art. 22, 23): registration, who reads what, the
statistics a coordinator would be sent, suspension and reinstatement, and keys bound to flaggers."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from tests.api.conftest import Api
from tests.api.test_notices_api import _decide, _item, _notice_body, _register, _send, _submit
from vigil.domain.ids import utcnow
from vigil.domain.roles import Role
from vigil.intake.flaggers import UNFOUNDED_MIN_DECIDED, UNFOUNDED_WINDOW, flagger_statistics
from vigil.store import audit as audit_store
from vigil.store.notices import NoticeTiming
from vigil.store.tables import AuditRecord

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


class Clock:
    """A clock the test moves by hand, given to the desks that take decisions and notices."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def _controlled(api: Api) -> Clock:
    # it starts at the real time: content the platform sends is decided on the pipeline's own clock,
    # and the decisions taken later must be later
    clock = Clock(utcnow())
    state = api.client.app.state  # type: ignore[attr-defined]
    state.desk.clock = state.notices.clock = state.notices.flaggers.clock = clock
    return clock


def _flagger(api: Api, flagger_id: str, headers: dict[str, str]) -> dict[str, Any]:
    response = api.client.get(f"/v1/trusted-flaggers/{flagger_id}", headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_an_admin_registers_a_trusted_flagger_that_overseers_can_list(api: Api) -> None:
    _register(api, "hassmelder")

    listed = api.client.get("/v1/trusted-flaggers", headers=api.as_(api.key(Role.LEGAL))).json()
    again = api.client.post(
        "/v1/trusted-flaggers",
        json={
            "id": "hassmelder",
            "name": "Other",
            "country": "AT",
            "expertise": ["fraud"],
            "coordinator": "KommAustria",
            "contact_email": "x@example.org",
        },
        headers=api.admin,
    )

    [flagger] = listed
    assert (flagger["id"], flagger["name"], flagger["country"], flagger["state"]) == (
        "hassmelder",
        "Hassmelder e.V.",
        "DE",
        "active",
    )
    assert flagger["expertise"] == ["hate_speech", "terrorism"]
    assert again.status_code == 409
    assert [e["action"] for e in _audit(api, "flagger.registered")] == ["flagger.registered"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("id", "Has Spaces"),
        ("id", "x"),
        ("country", "XX"),
        ("expertise", []),
        ("expertise", ["rudeness"]),
        ("contact_email", "nobody"),
        ("coordinator", ""),
    ],
)
def test_a_registration_with_a_bad_field_is_refused_naming_it(api: Api, field: str, value: object) -> None:
    body = {
        "id": "hassmelder",
        "name": "Hassmelder e.V.",
        "country": "DE",
        "expertise": ["hate_speech"],
        "coordinator": "Bundesnetzagentur",
        "contact_email": "notices@hassmelder.example",
        field: value,
    }
    response = api.client.post("/v1/trusted-flaggers", json=body, headers=api.admin)

    assert response.status_code == 422
    assert field in response.json()["error"]["message"]


def test_who_may_read_register_and_suspend_which_trusted_flagger(api: Api) -> None:
    _register(api, "hassmelder")
    _register(api, "jugendschutz")
    first = api.as_(api.key(Role.TRUSTED_FLAGGER, "hassmelder"))
    reason = {"reason": "manifestly unfounded notices, after a warning"}
    roles = {
        "admin": api.admin,
        "legal": api.as_(api.key(Role.LEGAL)),
        "senior_legal": api.as_(api.key(Role.SENIOR_LEGAL)),
        "auditor": api.as_(api.key(Role.AUDITOR)),
        "flagger": first,
        "platform": api.as_(api.key(Role.PLATFORM)),
        "reviewer": api.as_(api.key(Role.REVIEWER)),
        "authority": api.as_(api.key(Role.AUTHORITY, "some-authority")),
    }
    # (method, path, body) -> the status each role gets
    expected: dict[tuple[str, str, Any], dict[str, int]] = {
        ("GET", "/v1/trusted-flaggers", None): {
            "admin": 200,
            "legal": 200,
            "senior_legal": 200,
            "auditor": 200,
            "flagger": 403,
            "platform": 403,
            "reviewer": 403,
            "authority": 403,
        },
        ("GET", "/v1/trusted-flaggers/hassmelder", None): {
            "admin": 200,
            "legal": 200,
            "senior_legal": 200,
            "auditor": 200,
            "flagger": 200,  # its own
            "platform": 403,
            "reviewer": 403,
            "authority": 403,
        },
        ("GET", "/v1/trusted-flaggers/jugendschutz", None): {
            "admin": 200,
            "legal": 200,
            "senior_legal": 200,
            "auditor": 200,
            "flagger": 404,  # another's: not even whether it exists
            "platform": 403,
            "reviewer": 403,
            "authority": 403,
        },
        ("GET", "/v1/trusted-flaggers/me", None): {
            "admin": 403,
            "legal": 403,
            "senior_legal": 403,
            "auditor": 403,
            "flagger": 200,
            "platform": 403,
            "reviewer": 403,
            "authority": 403,
        },
        ("POST", "/v1/trusted-flaggers/jugendschutz/reinstate", None): {
            "admin": 409,  # allowed, but it is active
            "legal": 403,
            "senior_legal": 403,
            "auditor": 403,
            "flagger": 403,
            "platform": 403,
            "reviewer": 403,
            "authority": 403,
        },
    }
    for (method, path, body), statuses in expected.items():
        for role, status in statuses.items():
            response = api.client.request(method, path, json=body, headers=roles[role])
            assert response.status_code == status, (role, method, path, response.text)
    for role, headers in roles.items():
        if role != "admin":
            refused = api.client.post(
                "/v1/trusted-flaggers/jugendschutz/suspend", json=reason, headers=headers
            )
            assert refused.status_code == 403, role
    own = api.client.get("/v1/trusted-flaggers/me", headers=first).json()
    assert (own["id"], own["statistics"]["notices"]) == ("hassmelder", 0)
    assert api.client.get("/v1/trusted-flaggers/nobody", headers=api.admin).status_code == 404


def test_the_statistics_count_outcomes_and_the_median_time_to_decision(api: Api) -> None:
    clock = _controlled(api)
    start = clock.now
    _register(api, "hassmelder")
    flagger = api.as_(api.key(Role.TRUSTED_FLAGGER, "hassmelder"))
    for content_id in ("post-1", "post-2", "post-3"):
        _submit(api, _item(content_id))
    sent = [_send(api, flagger, _notice_body(c, reporter=None)) for c in ("post-1", "post-2", "post-3")]

    clock.now = start + timedelta(hours=1)
    _decide(api, sent[0]["case_id"], {"actions": ["demote"], "policy_id": "hate-speech-suspected"})
    clock.now = start + timedelta(hours=5)
    _decide(api, sent[1]["case_id"], {"actions": []})
    # a fourth notice on content already restricted: answered at once, in no time
    _send(api, flagger, _notice_body("post-1", reporter=None))

    statistics = _flagger(api, "hassmelder", api.as_(api.key(Role.AUDITOR)))["statistics"]

    assert {k: statistics[k] for k in ("notices", "decided", "open", "actioned", "unfounded")} == {
        "notices": 4,
        "decided": 3,
        "open": 1,
        "actioned": 2,
        "unfounded": 1,
    }
    assert statistics["share_actioned"] == pytest.approx(2 / 3)
    assert statistics["share_unfounded"] == pytest.approx(1 / 3)
    assert statistics["median_seconds_to_decision"] == 3600.0  # of 0 s, 1 h and 5 h
    assert (statistics["window_decided"], statistics["repeatedly_unfounded"]) == (3, False)
    assert statistics == api.client.get("/v1/trusted-flaggers/me", headers=flagger).json()["statistics"]


def test_a_flagger_with_many_unfounded_notices_is_flagged_for_the_coordinator_not_suspended(
    api: Api,
) -> None:
    _register(api, "hassmelder")
    flagger = api.as_(api.key(Role.TRUSTED_FLAGGER, "hassmelder"))
    for i in range(UNFOUNDED_MIN_DECIDED):
        _submit(api, _item(f"post-{i}"))
        sent = _send(api, flagger, _notice_body(f"post-{i}", reporter=None))
        actions = {"actions": ["demote"], "policy_id": "hate-speech-suspected"} if i % 2 else {"actions": []}
        _decide(api, sent["case_id"], actions)

    found = _flagger(api, "hassmelder", api.admin)

    assert (found["statistics"]["window_decided"], found["statistics"]["window_unfounded"]) == (20, 10)
    assert found["statistics"]["repeatedly_unfounded"] is True
    assert found["state"] == "active"  # a person decides on suspension, case by case


def _timing(days_ago: float, outcome: str) -> NoticeTiming:
    decided = NOW - timedelta(days=days_ago)
    return NoticeTiming(decided - timedelta(hours=2), decided, outcome)


@pytest.mark.parametrize(
    ("timings", "flagged"),
    [
        ([_timing(1, "no_action")] * (UNFOUNDED_MIN_DECIDED - 1), False),  # too few to judge
        ([_timing(1, "no_action")] * 10 + [_timing(1, "remove")] * 10, True),  # half
        ([_timing(1, "no_action")] * 9 + [_timing(1, "remove")] * 11, False),  # under half
        # unfounded long ago, well founded lately: the window forgets the past
        ([_timing(UNFOUNDED_WINDOW.days + 1, "no_action")] * 30 + [_timing(1, "remove")] * 20, False),
    ],
)
def test_the_repeatedly_unfounded_flag_needs_enough_recent_decisions_and_half_unfounded(
    timings: list[NoticeTiming], flagged: bool
) -> None:
    assert flagger_statistics(timings, NOW).repeatedly_unfounded is flagged


def test_suspension_keeps_the_statistics_and_reason_visible_and_is_audited(api: Api) -> None:
    _register(api, "hassmelder")
    reason = "many inaccurate notices on satire; warned on 2026-10-01; coordinator informed"

    suspended = api.client.post(
        "/v1/trusted-flaggers/hassmelder/suspend", json={"reason": reason}, headers=api.admin
    )
    twice = api.client.post(
        "/v1/trusted-flaggers/hassmelder/suspend", json={"reason": reason}, headers=api.admin
    )
    unknown = api.client.post(
        "/v1/trusted-flaggers/nobody/suspend", json={"reason": reason}, headers=api.admin
    )
    too_short = api.client.post(
        "/v1/trusted-flaggers/hassmelder/suspend", json={"reason": "no"}, headers=api.admin
    )
    reinstated = api.client.post("/v1/trusted-flaggers/hassmelder/reinstate", headers=api.admin)

    assert suspended.status_code == 200
    assert (suspended.json()["state"], suspended.json()["suspension_reason"]) == ("suspended", reason)
    assert suspended.json()["statistics"]["notices"] == 0
    assert (twice.status_code, unknown.status_code, too_short.status_code) == (409, 404, 422)
    assert reinstated.json()["state"] == "active"
    assert reinstated.json()["suspension_reason"] == reason  # the last suspension stays on record
    assert [e["action"] for e in _audit(api, "flagger.suspended", "flagger.reinstated")] == [
        "flagger.suspended",
        "flagger.reinstated",
    ]
    assert _audit(api, "flagger.suspended")[0]["payload"] == {"reason": reason}


def test_bound_keys_must_name_a_registered_organisation(api: Api) -> None:
    def create(role: str, bound_to: str) -> Any:
        return api.client.post("/v1/keys", json={"role": role, "bound_to": bound_to}, headers=api.admin)

    stray_flagger = create("trusted_flagger", "hassmelder")
    stray_authority = create("authority", "bka-de")
    _register(api, "hassmelder")
    bound = create("trusted_flagger", "hassmelder")

    assert stray_flagger.status_code == stray_authority.status_code == 422
    assert (
        stray_flagger.json()["error"]["code"] == stray_authority.json()["error"]["code"] == "unknown_binding"
    )
    assert bound.status_code == 201
    key = {"Authorization": f"Bearer {bound.json()['key']}"}
    assert api.client.get("/v1/trusted-flaggers/me", headers=key).json()["id"] == "hassmelder"


def _audit(api: Api, *actions: str) -> list[dict[str, Any]]:
    with api.store.transaction() as session:
        audit_store.seal_for_reading(session)
        rows = session.scalars(
            select(AuditRecord).where(AuditRecord.action.in_(actions)).order_by(AuditRecord.seq)
        )
        return [{"action": r.action, "payload": json.loads(r.payload)} for r in rows]
