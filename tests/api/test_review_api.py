"""Human review over HTTP: cases opened by decisions, queues by role, exclusive claims, verdicts that
go through the decision path (and tell the platform), escalation."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

from fastapi.testclient import TestClient

from tests.api.conftest import Api
from tests.review_fixtures import ABUSE, HELD_CSAM, SCAM
from vigil.api.app import create_app
from vigil.config import Settings
from vigil.domain.roles import Role
from vigil.pipeline.admin import Admin
from vigil.policy.loader import DEFAULT_PACK, load_policy_paths
from vigil.store import outbox as outbox_store
from vigil.store.db import Store
from vigil.store.tables import OutboxEvent


def _bank(api: Api, name: str, category: str, data: bytes) -> None:
    api.client.post("/v1/banks", json={"name": name, "category": category}, headers=api.admin)
    md5 = hashlib.md5(data).hexdigest()
    added = api.client.post(
        f"/v1/banks/{name}/hashes", json={"hashes": [{"type": "md5", "value": md5}]}, headers=api.admin
    )
    assert added.json()["added"] == 1


def _submit(api: Api, content_id: str, data: bytes) -> dict[str, object]:
    item = {
        "id": content_id,
        "author_id": "user-7",
        "text": "look",
        "media": [{"id": "m", "data_base64": base64.b64encode(data).decode()}],
    }
    response = api.client.post("/v1/content", json=item, headers=api.admin)
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


def _only_case(api: Api, queue: str, headers: dict[str, str]) -> dict[str, object]:
    response = api.client.get("/v1/cases", params={"queue": queue}, headers=headers)
    assert response.status_code == 200, response.text
    [case] = response.json()
    result: dict[str, object] = case
    return result


def test_a_decision_asking_for_review_opens_a_case_that_a_reviewer_sees_in_its_queue(api: Api) -> None:
    _bank(api, "phishing-kits", "fraud", SCAM)
    submitted = _submit(api, "scam-1", SCAM)
    reviewer = api.as_(api.key(Role.REVIEWER))

    queues = {q["name"]: q for q in api.client.get("/v1/queues", headers=reviewer).json()}
    case = _only_case(api, "general", reviewer)
    detail = api.client.get(f"/v1/cases/{case['id']}", headers=reviewer).json()

    assert "child_safety" not in queues  # a plain reviewer is not shown it at all
    assert queues["general"]["open_cases"] == 1
    assert (case["reason"], case["category"], case["decision_id"]) == (
        "review_after",
        "fraud",
        submitted["decision_id"],
    )
    assert detail["decision"]["outcome"] == "remove"
    assert [s["bank"] for s in detail["signals"]] == ["phishing-kits"]
    assert detail["text"] == "look"
    assert [e["kind"] for e in detail["events"]] == ["opened"]
    # the author's other content: none decided yet
    assert (detail["author"]["id"], detail["author"]["items_decided"], detail["channel"]) == (
        "user-7",
        0,
        None,
    )


def test_of_two_reviewers_claiming_one_case_one_gets_it_and_the_other_a_conflict(api: Api) -> None:
    _bank(api, "phishing-kits", "fraud", SCAM)
    _submit(api, "scam-2", SCAM)
    first, second = api.as_(api.key(Role.REVIEWER)), api.as_(api.key(Role.REVIEWER))
    case_id = _only_case(api, "general", first)["id"]

    won = api.client.post(f"/v1/cases/{case_id}/claim", headers=first)
    lost = api.client.post(f"/v1/cases/{case_id}/claim", headers=second)
    decided_without_claim = api.client.post(
        f"/v1/cases/{case_id}/decision", json={"actions": []}, headers=second
    )

    assert won.status_code == 200
    assert won.json()["lease_expires_at"] is not None
    assert lost.status_code == 409
    assert lost.json()["error"] == {
        "code": "conflict",
        "message": f"case {case_id} is being reviewed by someone else",
    }
    assert decided_without_claim.status_code == 409


def test_a_reviewer_overturning_a_removal_tells_the_platform_to_lift_it(api: Api) -> None:
    _bank(api, "phishing-kits", "fraud", SCAM)
    original = _submit(api, "scam-3", SCAM)
    reviewer = api.as_(api.key(Role.REVIEWER))
    case_id = _only_case(api, "general", reviewer)["id"]
    api.client.post(f"/v1/cases/{case_id}/claim", headers=reviewer)

    verdict = api.client.post(
        f"/v1/cases/{case_id}/decision",
        json={"actions": [], "note": "a security researcher's write-up, not a kit"},
        headers=reviewer,
    ).json()

    assert verdict["decision"]["outcome"] == "no_action"
    assert verdict["decision"]["automated_decision"] == "not_automated"
    in_force = api.client.get("/v1/content/scam-3", headers=api.admin).json()
    assert in_force["decision_id"] == verdict["decision_id"]
    with api.store.transaction() as session:
        [event_id] = outbox_store.events_for_decision(session, verdict["decision_id"])
        event = session.get(OutboxEvent, event_id)
        assert event is not None
        payload = json.loads(event.payload)
    assert (payload["actions"], payload["supersedes"]) == ([], original["decision_id"])
    assert api.client.get("/v1/cases", params={"queue": "general"}, headers=reviewer).json() == []
    closed = api.client.get(f"/v1/cases/{case_id}", headers=reviewer).json()
    assert (closed["state"], closed["closing_decision_id"]) == ("closed", verdict["decision_id"])
    assert [e["kind"] for e in closed["events"]] == ["opened", "claimed", "decided"]


def test_child_safety_cases_and_their_evidence_are_only_for_the_roles_trained_for_them(api: Api) -> None:
    assert api.client.post("/v1/policies", json={"source": HELD_CSAM}, headers=api.admin).status_code == 201
    _bank(api, "internal-csam", "csam", ABUSE)
    submitted = _submit(api, "abuse-1", ABUSE)
    reviewer = api.as_(api.key(Role.REVIEWER))
    trained = api.as_(api.key(Role.CHILD_SAFETY_REVIEWER))

    case = _only_case(api, "child_safety", trained)

    # known abuse material is removed at once (csam-known-media); the case is opened all the same
    assert submitted["decision"]["outcome"] == "remove"
    assert (case["reason"], case["category"]) == ("review_before", "csam")
    assert api.client.get("/v1/cases", params={"queue": "child_safety"}, headers=reviewer).status_code == 403
    assert api.client.get(f"/v1/cases/{case['id']}", headers=reviewer).status_code == 403
    assert api.client.post(f"/v1/cases/{case['id']}/claim", headers=reviewer).status_code == 403
    api.client.post(f"/v1/cases/{case['id']}/claim", headers=trained)
    upheld = api.client.post(
        f"/v1/cases/{case['id']}/decision",
        json={
            "actions": ["remove", "preserve_evidence", "report_hotline"],
            "policy_id": "csam-held-for-review",
        },
        headers=trained,
    ).json()
    assert upheld["decision"]["outcome"] == "remove"
    assert upheld["decision"]["category"] == "csam"
    assert upheld["decision"]["policies"] == ["csam-held-for-review@1"]


def test_a_restriction_needs_a_policy_in_force(api: Api) -> None:
    _bank(api, "phishing-kits", "fraud", SCAM)
    _submit(api, "scam-4", SCAM)
    reviewer = api.as_(api.key(Role.REVIEWER))
    case_id = _only_case(api, "general", reviewer)["id"]
    api.client.post(f"/v1/cases/{case_id}/claim", headers=reviewer)

    missing = api.client.post(f"/v1/cases/{case_id}/decision", json={"actions": ["remove"]}, headers=reviewer)
    unknown = api.client.post(
        f"/v1/cases/{case_id}/decision", json={"actions": ["remove"], "policy_id": "nope"}, headers=reviewer
    )

    assert (missing.status_code, missing.json()["error"]["code"]) == (422, "invalid_verdict")
    assert unknown.json()["error"]["message"] == "no policy 'nope' is in force"
    assert api.client.get(f"/v1/cases/{case_id}", headers=reviewer).json()["state"] == "open"


def test_an_escalated_case_moves_to_senior_review_with_its_note(api: Api) -> None:
    _bank(api, "phishing-kits", "fraud", SCAM)
    _submit(api, "scam-5", SCAM)
    reviewer = api.as_(api.key(Role.REVIEWER))
    senior = api.as_(api.key(Role.SENIOR_REVIEWER))
    case_id = _only_case(api, "general", reviewer)["id"]
    api.client.post(f"/v1/cases/{case_id}/claim", headers=reviewer)
    api.client.post(
        f"/v1/cases/{case_id}/notes", json={"text": "looks like a bank's own page"}, headers=reviewer
    )

    moved = api.client.post(
        f"/v1/cases/{case_id}/escalate", json={"note": "need a second look"}, headers=reviewer
    )

    assert moved.json() == {"queue": "escalations"}
    assert api.client.get("/v1/cases", params={"queue": "escalations"}, headers=reviewer).status_code == 403
    case = _only_case(api, "escalations", senior)
    assert (case["id"], case["escalated"], case["assignee"]) == (case_id, True, None)
    detail = api.client.get(f"/v1/cases/{case_id}", headers=senior).json()
    assert [e["kind"] for e in detail["events"]] == ["opened", "claimed", "noted", "escalated"]
    assert detail["events"][2]["detail"] == {"text": "looks like a bank's own page"}


def test_an_unknown_queue_or_case_is_not_found(api: Api) -> None:
    reviewer = api.as_(api.key(Role.REVIEWER))
    assert api.client.get("/v1/cases", params={"queue": "nope"}, headers=reviewer).status_code == 404
    assert api.client.get("/v1/cases/case_nope", headers=reviewer).status_code == 404
    platform = api.as_(api.key(Role.PLATFORM))
    assert api.client.get("/v1/queues", headers=platform).status_code == 403


def test_an_appeal_is_decided_by_another_reviewer_who_can_overturn_and_lift_the_removal(api: Api) -> None:
    _bank(api, "phishing-kits", "fraud", SCAM)
    _submit(api, "scam-6", SCAM)
    first = api.as_(api.key(Role.REVIEWER))
    second = api.as_(api.key(Role.REVIEWER))
    platform = api.as_(api.key(Role.PLATFORM))
    case_id = _only_case(api, "general", first)["id"]
    api.client.post(f"/v1/cases/{case_id}/claim", headers=first)
    upheld = api.client.post(
        f"/v1/cases/{case_id}/decision",
        json={"actions": ["remove"], "policy_id": "fraud-scam"},
        headers=first,
    ).json()

    filed = api.client.post(
        "/v1/appeals",
        json={
            "decision_id": upheld["decision_id"],
            "appellant": "user-7",
            "statement": "it is my bank's page",
        },
        headers=platform,
    )
    again = api.client.post(
        "/v1/appeals", json={"decision_id": upheld["decision_id"], "appellant": "user-7"}, headers=platform
    )
    appeal = filed.json()
    appeal_case = _only_case(api, "appeals", second)

    assert (filed.status_code, again.status_code, again.json()["id"]) == (201, 200, appeal["id"])
    assert (appeal_case["id"], appeal_case["reason"]) == (appeal["case_id"], "appeal")
    refused = api.client.post(f"/v1/cases/{appeal['case_id']}/claim", headers=first)
    assert refused.status_code == 403
    assert "another reviewer decides the appeal" in refused.json()["error"]["message"]

    api.client.post(f"/v1/cases/{appeal['case_id']}/claim", headers=second)
    overturned = api.client.post(
        f"/v1/cases/{appeal['case_id']}/decision",
        json={"actions": [], "note": "genuine bank page"},
        headers=second,
    ).json()

    ended = api.client.get(f"/v1/appeals/{appeal['id']}", headers=platform).json()
    assert (ended["state"], ended["outcome"], ended["result_decision_id"]) == (
        "decided",
        "overturned",
        overturned["decision_id"],
    )
    with api.store.transaction() as session:
        [event_id] = outbox_store.events_for_decision(session, overturned["decision_id"])
        event = session.get(OutboxEvent, event_id)
        assert event is not None
        payload = json.loads(event.payload)
    assert (payload["actions"], payload["supersedes"]) == ([], upheld["decision_id"])


def test_an_appeal_must_name_the_decision_in_force(api: Api) -> None:
    _bank(api, "phishing-kits", "fraud", SCAM)
    original = _submit(api, "scam-7", SCAM)
    reviewer = api.as_(api.key(Role.REVIEWER))
    platform = api.as_(api.key(Role.PLATFORM))
    case_id = _only_case(api, "general", reviewer)["id"]
    api.client.post(f"/v1/cases/{case_id}/claim", headers=reviewer)
    newer = api.client.post(f"/v1/cases/{case_id}/decision", json={"actions": []}, headers=reviewer).json()

    stale = api.client.post(
        "/v1/appeals", json={"decision_id": original["decision_id"], "appellant": "u"}, headers=platform
    )
    unknown = api.client.post(
        "/v1/appeals", json={"decision_id": "dec_nope", "appellant": "u"}, headers=platform
    )

    assert (stale.status_code, stale.json()["error"]["code"]) == (422, "appeal_refused")
    assert stale.json()["error"]["message"].endswith(f"replaced by {newer['decision_id']}; appeal that one")
    assert unknown.status_code == 404
    assert (
        api.client.post(
            "/v1/appeals", json={"decision_id": "x", "appellant": "u"}, headers=reviewer
        ).status_code
        == 403
    )


def test_sampled_automated_decisions_measure_how_often_people_agree(tmp_path: Path) -> None:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'qa.db'}",
        webhook_deliver=False,
        retro_matching=False,
        qa_sample_rate=1.0,  # every restriction a machine decided alone is checked
    )
    store = Store(settings.database_url)
    store.migrate()
    admin = Admin(store)
    admin.apply_policies(load_policy_paths([DEFAULT_PACK]), "test")
    _, admin_key = admin.create_key(Role.ADMIN, "admin", None, "test")
    with TestClient(create_app(settings, store)) as client:
        api = Api(client, store, admin_key)
        _bank(api, "gifct", "terrorism", SCAM)
        senior = api.as_(api.key(Role.SENIOR_REVIEWER))
        reviewer = api.as_(api.key(Role.REVIEWER))
        kept = {"actions": ["remove", "preserve_evidence"], "policy_id": "terrorism-known-media"}
        decided = []
        for content_id, verdict in (("t-1", kept), ("t-2", {"actions": []})):
            assert _submit(api, content_id, SCAM)["decision"]["outcome"] == "remove"
            case = _only_case(api, "qa", senior)
            assert case["reason"] == "qa_sample"
            api.client.post(f"/v1/cases/{case['id']}/claim", headers=senior)
            decided.append(
                api.client.post(f"/v1/cases/{case['id']}/decision", json=verdict, headers=senior).json()
            )
        appeal = api.client.post(
            "/v1/appeals",
            json={"decision_id": decided[0]["decision_id"], "appellant": "u"},
            headers=api.as_(api.key(Role.PLATFORM)),
        ).json()
        api.client.post(f"/v1/cases/{appeal['case_id']}/claim", headers=reviewer)
        api.client.post(f"/v1/cases/{appeal['case_id']}/decision", json=kept, headers=reviewer)

        rates = api.client.get("/v1/review/agreement", headers=senior).json()
        refused = api.client.get("/v1/review/agreement", headers=reviewer)
    store.dispose()

    assert rates == [
        {
            "category": "terrorism",
            "automation_vs_reviewer": {"compared": 2, "agreed": 1, "rate": 0.5},
            "reviewer_vs_reviewer": {"compared": 1, "agreed": 1, "rate": 1.0},
        }
    ]
    assert refused.status_code == 403
