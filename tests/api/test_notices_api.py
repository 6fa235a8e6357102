"""Notices over HTTP (DSA Art. 16, 22): what a notice must contain, the receipt, the case it opens or
joins, the answer with the redress available, private messages, and who may read which notice."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from tests.api.conftest import Api
from tests.review_fixtures import SCAM
from vigil.domain.roles import Role
from vigil.store import audit as audit_store
from vigil.store.tables import AuditRecord, OutboxEvent

BENIGN = "Sunday walk by the river with friends, then coffee and cake."
EXPLANATION = "The post insults people for their religion and calls for violence against them."
REPORTER = {"name": "Ana Example", "email": "ana@example.org"}
TF_LIMIT = timedelta(hours=24)
USER_LIMIT = timedelta(hours=72)


def _item(content_id: str, text: str = BENIGN, **extra: Any) -> dict[str, Any]:
    return {"id": content_id, "author_id": "user-9", "text": text, **extra}


def _submit(api: Api, item: dict[str, Any]) -> dict[str, Any]:
    response = api.client.post("/v1/content", json=item, headers=api.admin)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _notice_body(content_id: str, category: str = "hate_speech", **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "content_id": content_id,
        "category": category,
        "explanation": EXPLANATION,
        "reporter": REPORTER,
        "good_faith": True,
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not None}


def _send(api: Api, headers: dict[str, str], body: dict[str, Any], status: int = 201) -> dict[str, Any]:
    response = api.client.post("/v1/notices", json=body, headers=headers)
    assert response.status_code == status, response.text
    result: dict[str, Any] = response.json()
    return result


def _register(api: Api, flagger_id: str, expertise: tuple[str, ...] = ("hate_speech", "terrorism")) -> None:
    response = api.client.post(
        "/v1/trusted-flaggers",
        json={
            "id": flagger_id,
            "name": f"{flagger_id.title()} e.V.",
            "country": "de",
            "expertise": list(expertise),
            "coordinator": "Bundesnetzagentur",
            "contact_email": f"notices@{flagger_id}.example",
        },
        headers=api.admin,
    )
    assert response.status_code == 201, response.text


def _flagger(api: Api, flagger_id: str) -> dict[str, str]:
    _register(api, flagger_id)
    return api.as_(api.key(Role.TRUSTED_FLAGGER, flagger_id))


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _events(api: Api, event_type: str) -> list[dict[str, Any]]:
    with api.store.transaction() as session:
        rows = session.scalars(
            select(OutboxEvent).where(OutboxEvent.event_type == event_type).order_by(OutboxEvent.created_at)
        )
        return [json.loads(r.payload) for r in rows]


def _audited(api: Api, action: str) -> list[dict[str, Any]]:
    with api.store.transaction() as session:
        audit_store.seal_for_reading(session)
        rows = session.scalars(
            select(AuditRecord).where(AuditRecord.action == action).order_by(AuditRecord.seq)
        )
        return [json.loads(r.payload) for r in rows]


def _cases(api: Api, queue: str, headers: dict[str, str]) -> list[dict[str, Any]]:
    response = api.client.get("/v1/cases", params={"queue": queue}, headers=headers)
    assert response.status_code == 200, response.text
    cases: list[dict[str, Any]] = response.json()
    return cases


def _decide(api: Api, case_id: str, verdict: dict[str, Any], role: Role = Role.REVIEWER) -> dict[str, Any]:
    reviewer = api.as_(api.key(role))
    assert api.client.post(f"/v1/cases/{case_id}/claim", headers=reviewer).status_code == 200
    response = api.client.post(f"/v1/cases/{case_id}/decision", json=verdict, headers=reviewer)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


# --- what a notice must contain (Art. 16(2)) --------------------------------------------------


@pytest.mark.parametrize(
    ("change", "element"),
    [
        ({"explanation": None}, "(a)"),
        ({"explanation": "illegal"}, "(a)"),
        ({"explanation": "          x          "}, "(a)"),
        ({"content_id": None}, "(b)"),
        ({"reporter": None}, "(c)"),
    ],
)
def test_a_notice_lacking_an_element_of_art_16_is_refused_naming_it(
    api: Api, change: dict[str, Any], element: str
) -> None:
    _submit(api, _item("post-1"))
    body = _notice_body("post-1", **{k: v for k, v in change.items() if v is not None})
    for key, value in change.items():
        if value is None:
            body.pop(key)

    refused = _send(api, api.admin, body, status=422)

    assert refused["error"]["code"] == "incomplete_notice"
    assert element in refused["error"]["message"]
    assert "Art. 16(2)" in refused["error"]["message"]


@pytest.mark.parametrize("good_faith", [False, None])
def test_a_notice_without_the_statement_of_good_faith_is_refused(api: Api, good_faith: bool | None) -> None:
    _submit(api, _item("post-1"))

    refused = _send(api, api.admin, _notice_body("post-1", good_faith=good_faith), status=422)

    assert refused["error"]["code"] == "good_faith_required"
    assert "(d)" in refused["error"]["message"]


def test_anonymous_notices_are_possible_for_child_sexual_abuse_and_for_nothing_else(api: Api) -> None:
    _submit(api, _item("post-1"))
    platform = api.as_(api.key(Role.PLATFORM))

    abuse = _send(api, platform, _notice_body("post-1", category="csam", reporter=None))
    grooming = _send(api, platform, _notice_body("post-1", category="grooming", reporter=None))
    hate = _send(api, platform, _notice_body("post-1", category="hate_speech", reporter=None), status=422)

    assert abuse["state"] == grooming["state"] == "received"
    # detection found nothing, yet the allegation takes the case to the reviewers trained for it
    [case] = _cases(api, "child_safety", api.as_(api.key(Role.CHILD_SAFETY_REVIEWER)))
    assert case["id"] == abuse["case_id"] == grooming["case_id"]
    assert case["category"] == "csam"
    assert hate["error"]["code"] == "incomplete_notice"
    assert "(c)" in hate["error"]["message"]
    assert "csam, grooming" in hate["error"]["message"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("url", "javascript:alert(1)"),
        ("url", "ftp://example.org/post"),
        ("url", "https://" + "a" * 2000),
        ("reporter", {"name": "Ana", "email": "not-an-address"}),
        ("reporter", {"name": "", "email": "ana@example.org"}),
        ("explanation", "x" * 10_001),
        ("category", "rudeness"),
        ("colour", "red"),
    ],
)
def test_malformed_notice_fields_are_named(api: Api, field: str, value: object) -> None:
    refused = _send(api, api.admin, {**_notice_body("post-1"), field: value}, status=422)

    assert refused["error"]["code"] == "validation_error"
    assert field in refused["error"]["message"]


# --- receipt, and the case a notice opens -------------------------------------------------


def test_a_notice_is_confirmed_with_its_deadline_and_a_receipt_event_without_contact_details(
    api: Api,
) -> None:
    _submit(api, _item("post-1"))
    platform = api.as_(api.key(Role.PLATFORM))

    receipt = _send(api, platform, _notice_body("post-1", url="https://social.example/p/1"))

    assert receipt["state"] == "received"
    assert _at(receipt["deadline"]) - _at(receipt["received_at"]) == USER_LIMIT
    assert receipt["id"] in receipt["receipt"]
    assert "redress" in receipt["receipt"]
    assert (receipt["source"], receipt["flagger_id"], receipt["reporter"]) == ("notice", None, None)
    [event] = _events(api, "notice.received")
    assert (event["type"], event["notice_id"], event["content_id"]) == (
        "notice.received",
        receipt["id"],
        "post-1",
    )
    assert _at(event["received_at"]) == _at(receipt["received_at"])
    assert REPORTER["email"] not in json.dumps(event)
    [audited] = _audited(api, "notice.received")
    assert audited["notice_id"] == receipt["id"]
    assert REPORTER["email"] not in json.dumps(audited)


@pytest.mark.parametrize(("category", "queue"), [("hate_speech", "general"), ("terrorism", "terrorism")])
def test_a_user_notice_opens_a_case_in_the_queue_of_its_allegation_due_in_72_hours(
    api: Api, category: str, queue: str
) -> None:
    _submit(api, _item("post-1"))
    reviewer = api.as_(api.key(Role.REVIEWER))

    receipt = _send(api, api.as_(api.key(Role.PLATFORM)), _notice_body("post-1", category=category))

    [case] = _cases(api, queue, reviewer)
    assert (case["id"], case["reason"], case["source"], case["category"]) == (
        receipt["case_id"],
        "notice",
        "notice",
        category,
    )
    assert _at(case["deadline"]) == _at(receipt["deadline"])


def test_a_trusted_flaggers_notice_goes_to_the_trusted_flagger_lane_due_in_24_hours(api: Api) -> None:
    _submit(api, _item("post-1"))
    flagger = _flagger(api, "hassmelder")

    receipt = _send(api, flagger, _notice_body("post-1", reporter=None))

    [case] = _cases(api, "trusted_flaggers", api.as_(api.key(Role.REVIEWER)))
    assert (receipt["source"], receipt["flagger_id"]) == ("trusted_flagger", "hassmelder")
    assert _at(receipt["deadline"]) - _at(receipt["received_at"]) == TF_LIMIT
    assert (case["id"], case["source"], _at(case["deadline"])) == (
        receipt["case_id"],
        "trusted_flagger",
        _at(receipt["deadline"]),
    )


def test_a_trusted_flaggers_notice_outside_its_expertise_is_an_ordinary_notice(api: Api) -> None:
    _submit(api, _item("post-1"))
    flagger = _flagger(api, "hassmelder")  # hate speech and terrorism

    receipt = _send(api, flagger, _notice_body("post-1", category="fraud", reporter=None))

    assert (receipt["source"], receipt["flagger_id"]) == ("notice", "hassmelder")
    assert _at(receipt["deadline"]) - _at(receipt["received_at"]) == USER_LIMIT
    assert _cases(api, "trusted_flaggers", api.as_(api.key(Role.REVIEWER))) == []


def test_a_second_notice_joins_the_open_case_and_brings_its_earlier_deadline_and_priority(api: Api) -> None:
    _submit(api, _item("post-1"))
    reviewer = api.as_(api.key(Role.REVIEWER))
    user = _send(api, api.as_(api.key(Role.PLATFORM)), _notice_body("post-1"))
    [before] = _cases(api, "general", reviewer)

    flagged = _send(api, _flagger(api, "hassmelder"), _notice_body("post-1", reporter=None))

    [after] = _cases(api, "trusted_flaggers", reviewer)
    assert user["case_id"] == flagged["case_id"] == after["id"]
    assert _cases(api, "general", reviewer) == []  # the case moved to the trusted-flagger lane
    assert _at(after["deadline"]) == _at(flagged["deadline"]) < _at(user["deadline"])
    assert after["source"] == "trusted_flagger"
    assert after["priority"] > before["priority"]
    detail = api.client.get(f"/v1/cases/{after['id']}", headers=reviewer).json()
    assert [e["kind"] for e in detail["events"]] == ["opened", "noticed"]


def test_trusted_flaggers_notices_come_before_users_notices_in_a_queue(api: Api) -> None:
    for content_id in ("post-user", "post-flagged"):
        _submit(api, _item(content_id))
    platform, flagger = api.as_(api.key(Role.PLATFORM)), _flagger(api, "hassmelder")
    _send(api, platform, _notice_body("post-user", category="terrorism"))
    _send(api, flagger, _notice_body("post-flagged", category="terrorism", reporter=None))

    ranked = _cases(api, "terrorism", api.as_(api.key(Role.REVIEWER)))

    assert [c["content_id"] for c in ranked] == ["post-flagged", "post-user"]
    assert ranked[0]["priority"] > ranked[1]["priority"]


# --- answers ----------------------------------------------------------------------------------


def test_the_reviewers_decision_answers_every_notice_with_the_outcome_and_the_redress(api: Api) -> None:
    _submit(api, _item("post-1"))
    user = _send(api, api.as_(api.key(Role.PLATFORM)), _notice_body("post-1"))
    flagger = _flagger(api, "hassmelder")
    flagged = _send(api, flagger, _notice_body("post-1", reporter=None))

    verdict = _decide(api, user["case_id"], {"actions": ["demote"], "policy_id": "hate-speech-suspected"})

    # the decision names the trusted flagger that brought the content (never a user)
    assert (verdict["decision"]["source"], verdict["decision"]["source_identity"]) == (
        "trusted_flagger",
        "Hassmelder e.V.",
    )
    for notice_id, headers in ((user["id"], api.admin), (flagged["id"], flagger)):
        answered = api.client.get(f"/v1/notices/{notice_id}", headers=headers).json()
        assert (answered["state"], answered["outcome"], answered["automated"]) == ("decided", "demote", False)
        assert answered["decision_id"] == verdict["decision_id"]
        assert answered["decided_at"] is not None
        assert any("Art. 20" in r for r in answered["redress"])
        assert any("Art. 21" in r for r in answered["redress"])
    events = _events(api, "notice.decided")
    assert sorted(e["notice_id"] for e in events) == sorted([user["id"], flagged["id"]])
    for event in events:
        assert (event["outcome"], event["category"], event["automated"], event["decision_id"]) == (
            "demote",
            "hate_speech",
            False,
            verdict["decision_id"],
        )
        assert event["ground"]["type"] == "illegal_content"
        assert event["territorial_scope"] == "global"
        assert len(event["redress"]) == 3
        assert REPORTER["email"] not in json.dumps(event)
    assert sorted(a["notice_id"] for a in _audited(api, "notice.decided")) == sorted(
        [user["id"], flagged["id"]]
    )


def test_a_notice_found_unfounded_is_told_so_and_a_users_name_never_becomes_the_source(api: Api) -> None:
    _submit(api, _item("post-1"))
    user = _send(api, api.as_(api.key(Role.PLATFORM)), _notice_body("post-1"))

    verdict = _decide(api, user["case_id"], {"actions": [], "note": "satire, not incitement"})

    answered = api.client.get(f"/v1/notices/{user['id']}", headers=api.admin).json()
    assert (answered["state"], answered["outcome"]) == ("decided", "no_action")
    assert (verdict["decision"]["source"], verdict["decision"]["source_identity"]) == ("notice", None)
    [event] = _events(api, "notice.decided")
    assert (event["outcome"], event["category"], event["ground"]) == ("no_action", None, None)


def test_a_notice_on_content_already_restricted_is_answered_at_once(api: Api) -> None:
    api.client.post("/v1/banks", json={"name": "kits", "category": "fraud"}, headers=api.admin)
    api.client.post(
        "/v1/banks/kits/hashes",
        json={"hashes": [{"type": "md5", "value": hashlib.md5(SCAM).hexdigest()}]},
        headers=api.admin,
    )
    media = [{"id": "m", "data_base64": base64.b64encode(SCAM).decode()}]
    removed = _submit(api, _item("scam-1", text="look", media=media))
    assert removed["decision"]["outcome"] == "remove"

    receipt = _send(api, api.as_(api.key(Role.PLATFORM)), _notice_body("scam-1", category="fraud"))

    assert (receipt["state"], receipt["outcome"], receipt["automated"]) == ("decided", "remove", True)
    assert (receipt["decision_id"], receipt["case_id"]) == (removed["decision_id"], None)
    assert "already restricted" in receipt["receipt"]
    [event] = _events(api, "notice.decided")
    assert (event["notice_id"], event["outcome"], event["automated"]) == (receipt["id"], "remove", True)


def test_a_notice_about_content_vigil_has_not_seen_must_carry_it(api: Api) -> None:
    platform = api.as_(api.key(Role.PLATFORM))

    unknown = _send(api, platform, _notice_body("post-new"), status=422)
    mismatch = _send(api, platform, _notice_body("post-new", content=_item("post-other")), status=422)
    carried = _send(api, platform, _notice_body("post-new", content=_item("post-new")))

    assert unknown["error"]["code"] == "unknown_content"
    assert "`content`" in unknown["error"]["message"]
    assert mismatch["error"]["code"] == "content_mismatch"
    assert carried["state"] == "received"
    stored = api.client.get("/v1/content/post-new", headers=api.admin).json()
    assert stored["decision"]["source"] == "notice"


# --- private messages ---------------------------------------------------------------------


def test_private_messages_are_refused_as_content_and_taken_only_inside_a_participants_notice(
    api: Api,
) -> None:
    message = _item("dm-1", kind="message", audience="private_reported")
    platform = api.as_(api.key(Role.PLATFORM))

    alone = api.client.post("/v1/content", json=message, headers=platform)
    batched = api.client.post("/v1/content/batch", json={"items": [_item("p"), message]}, headers=platform)
    reported = _send(api, platform, _notice_body("dm-1", content=message))

    assert alone.status_code == batched.status_code == 422
    assert alone.json()["error"]["code"] == batched.json()["error"]["code"] == "private_via_notice"
    assert "items.1" in batched.json()["error"]["message"]
    assert api.client.get("/v1/content/p", headers=api.admin).status_code == 404  # nothing of the batch
    assert (reported["state"], reported["content_id"]) == ("received", "dm-1")
    [case] = _cases(api, "general", api.as_(api.key(Role.REVIEWER)))
    assert case["content_id"] == "dm-1"


# --- who reads which notice ---------------------------------------------------------------


def test_each_role_sees_only_the_notices_it_may_and_the_notifier_only_where_needed(api: Api) -> None:
    for content_id in ("post-1", "post-2", "post-3"):
        _submit(api, _item(content_id))
    platform = api.as_(api.key(Role.PLATFORM))
    first, second = _flagger(api, "hassmelder"), _flagger(api, "jugendschutz")
    by_user = _send(api, platform, _notice_body("post-1"))
    by_first = _send(api, first, _notice_body("post-2", reporter=None))
    by_second = _send(api, second, _notice_body("post-3", reporter=None))
    everyone = {by_user["id"], by_first["id"], by_second["id"]}

    expected = {
        "platform": (platform, {by_user["id"]}),
        "first flagger": (first, {by_first["id"]}),
        "second flagger": (second, {by_second["id"]}),
        "reviewer": (api.as_(api.key(Role.REVIEWER)), everyone),
        "legal": (api.as_(api.key(Role.LEGAL)), everyone),
        "auditor": (api.as_(api.key(Role.AUDITOR)), everyone),
        "admin": (api.admin, everyone),
    }
    for who, (headers, visible) in expected.items():
        listed = api.client.get("/v1/notices", headers=headers).json()
        assert {n["id"] for n in listed} == visible, who
        for notice_id in everyone:
            status = api.client.get(f"/v1/notices/{notice_id}", headers=headers).status_code
            assert status == (200 if notice_id in visible else 404), (who, notice_id)

    authority = api.as_(api.key(Role.AUTHORITY, "some-authority"))
    assert api.client.get("/v1/notices", headers=authority).status_code == 403
    assert api.client.get(f"/v1/notices/{by_user['id']}", headers=authority).status_code == 403
    assert api.client.post("/v1/notices", json=_notice_body("post-1"), headers=authority).status_code == 403
    reviewer_view = api.client.get(f"/v1/notices/{by_user['id']}", headers=expected["reviewer"][0]).json()
    platform_view = api.client.get(f"/v1/notices/{by_user['id']}", headers=platform).json()
    legal_view = api.client.get(f"/v1/notices/{by_user['id']}", headers=expected["legal"][0]).json()
    assert reviewer_view["reporter"] is None
    assert platform_view["reporter"] is None
    assert legal_view["reporter"] == REPORTER
    assert reviewer_view["explanation"] == EXPLANATION  # what a reviewer needs to judge the case
    # the trusted flagger was named as the notifier from its registration
    own = api.client.get(f"/v1/notices/{by_first['id']}", headers=api.admin).json()
    assert own["reporter"] == {"name": "Hassmelder e.V.", "email": "notices@hassmelder.example"}


def test_notices_are_listed_newest_first_a_page_at_a_time(api: Api) -> None:
    _submit(api, _item("post-1"))
    platform = api.as_(api.key(Role.PLATFORM))
    sent = [_send(api, platform, _notice_body("post-1"))["id"] for _ in range(3)]

    first_page = api.client.get("/v1/notices", params={"limit": 2}, headers=api.admin).json()
    second_page = api.client.get("/v1/notices", params={"limit": 2, "offset": 2}, headers=api.admin).json()
    too_many = api.client.get("/v1/notices", params={"limit": 100_000}, headers=api.admin)

    assert [n["id"] for n in first_page + second_page] == sent[::-1]
    assert too_many.status_code == 422


# --- trusted flaggers' standing -----------------------------------------------------------


def test_a_suspended_trusted_flaggers_notices_are_refused_and_the_refusal_recorded(api: Api) -> None:
    _submit(api, _item("post-1"))
    flagger = _flagger(api, "hassmelder")
    suspended = api.client.post(
        "/v1/trusted-flaggers/hassmelder/suspend",
        json={"reason": "most notices this quarter were manifestly unfounded"},
        headers=api.admin,
    )
    assert suspended.status_code == 200, suspended.text

    refused = _send(api, flagger, _notice_body("post-1", reporter=None), status=403)
    api.client.post("/v1/trusted-flaggers/hassmelder/reinstate", headers=api.admin)
    accepted = _send(api, flagger, _notice_body("post-1", reporter=None))

    assert refused["error"]["code"] == "flagger_suspended"
    assert [(a["code"], a["content_id"]) for a in _audited(api, "notice.refused")] == [
        ("flagger_suspended", "post-1")
    ]
    assert accepted["source"] == "trusted_flagger"


def test_a_key_for_an_unregistered_organisation_cannot_send_notices(api: Api) -> None:
    _submit(api, _item("post-1"))
    stray = api.as_(api.key(Role.TRUSTED_FLAGGER, "nobody-registered-this"))

    refused = _send(api, stray, _notice_body("post-1", reporter=None), status=403)

    assert refused["error"]["code"] == "unregistered_flagger"


def test_a_trusted_flagger_cannot_supply_content_and_its_notice_waits_for_the_platforms_item(
    api: Api,
) -> None:
    hotline = _flagger(api, "hotline")

    forged = _send(api, hotline, _notice_body("post-tf", content=_item("post-tf")), status=403)
    assert forged["error"]["code"] == "content_from_platform_only"
    assert api.client.get("/v1/content/post-tf", headers=api.admin).status_code == 404

    waiting = _send(api, hotline, _notice_body("post-tf", url="https://social.example/p/tf", reporter=None))
    assert (waiting["state"], waiting["case_id"]) == ("awaiting_content", None)
    assert api.client.get("/v1/content/post-tf", headers=api.admin).status_code == 404
    [asked] = _events(api, "content.requested")
    assert (asked["notice_id"], asked["content_id"], asked["url"]) == (
        waiting["id"],
        "post-tf",
        "https://social.example/p/tf",
    )
    assert EXPLANATION not in json.dumps(asked)

    submitted = _submit(api, _item("post-tf"))
    assert (submitted["duplicate"], submitted["decision"]["source"]) == (False, "voluntary")
    notice = api.client.get(f"/v1/notices/{waiting['id']}", headers=hotline).json()
    assert notice["state"] == "received"
    [case] = _cases(api, "trusted_flaggers", api.as_(api.key(Role.REVIEWER)))
    assert (case["id"], case["source"], _at(case["deadline"])) == (
        notice["case_id"],
        "trusted_flagger",
        _at(waiting["deadline"]),
    )
    # the reviewer's decision names the flagger that brought the item, as before
    verdict = _decide(api, case["id"], {"actions": ["demote"], "policy_id": "hate-speech-suspected"})
    assert (verdict["decision"]["source"], verdict["decision"]["source_identity"]) == (
        "trusted_flagger",
        "Hotline e.V.",
    )


def test_the_reviewer_reads_what_the_notifier_alleges_but_not_who_they_are(api: Api) -> None:
    _submit(api, _item("post-1"))
    receipt = _send(api, api.as_(api.key(Role.PLATFORM)), _notice_body("post-1", legal_ground="StGB § 130"))

    case = api.client.get(f"/v1/cases/{receipt['case_id']}", headers=api.as_(api.key(Role.REVIEWER))).json()

    [notice] = case["notices"]
    assert (notice["id"], notice["source"], notice["category"], notice["legal_ground"]) == (
        receipt["id"],
        "notice",
        "hate_speech",
        "StGB § 130",
    )
    assert notice["explanation"] == EXPLANATION
    assert REPORTER["email"] not in str(case)
    assert REPORTER["name"] not in str(case)
