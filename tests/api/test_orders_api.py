"""Authority orders over HTTP: the door (registry, signature, competence, replay), execution with
geo-restriction where the law is local, safeguards, clarification, disclosure, and who sees what."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.api.conftest import Api
from tests.order_fixtures import SigningAuthority, order_to_act, removal_order
from vigil.domain.decisions import DecisionContext
from vigil.domain.enforcement import ENFORCEMENT_EVENT
from vigil.domain.jurisdictions import EU_MEMBER_STATES
from vigil.domain.roles import Role
from vigil.intake.orders import OrderDesk
from vigil.store import audit as audit_store
from vigil.store.tables import AuditRecord, DecisionRecord, Order, OutboxEvent, PreservationHold

LAWFUL_POST = "Photos from our weekend by the sea, the weather was lovely."


@pytest.fixture
def paris(api: Api) -> SigningAuthority:
    authority = SigningAuthority("fr-ocrv", "FR", ["tco_removal", "dsa_art9", "dsa_art10"], "OCRV Paris")
    assert (
        api.client.post("/v1/authorities", json=authority.registration(), headers=api.admin).status_code
        == 201
    )
    return authority


@pytest.fixture
def berlin(api: Api) -> SigningAuthority:
    authority = SigningAuthority("de-bka", "DE", ["tco_removal"], "BKA")
    assert (
        api.client.post("/v1/authorities", json=authority.registration(), headers=api.admin).status_code
        == 201
    )
    return authority


def post(api: Api, content_id: str, text: str = LAWFUL_POST, **extra: Any) -> None:
    item = {"id": content_id, "author_id": "user-1", "channel_id": "chan-1", "text": text, **extra}
    response = api.client.post("/v1/content", json=item, headers=api.admin)
    assert response.status_code == 200, response.text


def send(api: Api, authority: SigningAuthority, key: str, document: dict[str, Any]) -> Any:
    body, headers = authority.signed(document, key)
    return api.client.post("/v1/orders", content=body, headers=headers)


def count(api: Api, table: type[Any]) -> int:
    with api.store.transaction() as session:
        return int(session.scalar(select(func.count()).select_from(table)) or 0)


def rejections(api: Api) -> list[dict[str, Any]]:
    with api.store.transaction() as session:
        audit_store.seal_for_reading(session)
        rows = session.scalars(select(AuditRecord).where(AuditRecord.action == "order.rejected"))
        return [json.loads(r.payload) for r in rows]


def desk(api: Api) -> OrderDesk:
    found: OrderDesk = api.client.app.state.orders  # type: ignore[attr-defined]
    return found


def test_a_removal_order_is_executed_at_once_in_every_member_state_and_the_content_preserved(
    api: Api, paris: SigningAuthority
) -> None:
    post(api, "post-1")
    key = api.key(Role.AUTHORITY, paris.id)

    response = send(api, paris, key, removal_order(paris, "TCO-2026-1", "post-1"))

    assert response.status_code == 201, response.text
    order = response.json()
    assert order["state"] == "executed"
    assert order["statutory_deadline"] is True
    [target] = order["effect"]["targets"]
    assert target["status"] == "executed"
    assert target["actions"] == ["geo_restrict", "notify_user", "preserve_evidence"]
    assert target["territorial_scope"] == sorted(EU_MEMBER_STATES)  # illegal in the Union, not beyond
    assert order["effect"]["preservation"] is not None
    # an authority sees the effect, not the legal file
    assert order["safeguards"] is None
    assert order["events"] is None
    with api.store.transaction() as session:
        [hold] = session.scalars(select(PreservationHold)).all()
        assert hold.content_id == "post-1"
        assert (hold.until - hold.preserved_at).days >= 182  # six months (TCO Art. 6)
        assert hold.snapshot["content"]["text"] == LAWFUL_POST
        [event] = session.scalars(
            select(OutboxEvent).where(OutboxEvent.event_type == ENFORCEMENT_EVENT)
        ).all()
        assert json.loads(event.payload)["actions"] == ["geo_restrict", "notify_user"]

    # no webhook endpoint is registered, so there is nothing to wait for: the next pass answers
    desk(api).watch()
    answered = api.client.get(f"/v1/orders/{order['id']}", headers=api.as_(key)).json()
    assert answered["state"] == "answered"
    assert answered["late"] is False
    assert answered["answered_at"] is not None


def test_content_that_also_breaks_the_terms_is_removed_everywhere(api: Api, paris: SigningAuthority) -> None:
    api.client.post("/v1/banks", json={"name": "gifct", "category": "terrorism"}, headers=api.admin)
    md5 = "0" * 31 + "1"
    api.client.post(
        "/v1/banks/gifct/hashes", json={"hashes": [{"type": "md5", "value": md5}]}, headers=api.admin
    )
    post(api, "post-2", text="", media=[{"id": "m1", "md5": md5}])

    order = send(
        api, paris, api.key(Role.AUTHORITY, paris.id), removal_order(paris, "TCO-2", "post-2")
    ).json()

    [target] = order["effect"]["targets"]
    assert target["territorial_scope"] == "global"
    assert "remove" in target["actions"]


def test_an_order_to_act_on_a_post_lawful_elsewhere_is_geo_restricted_in_the_authority_s_country(
    api: Api, paris: SigningAuthority
) -> None:
    post(api, "post-3", text="Un avis sur l'histoire de la guerre.")
    authority_key = api.key(Role.AUTHORITY, paris.id)
    legal = api.as_(api.key(Role.LEGAL))

    order = send(api, paris, authority_key, order_to_act(paris, "A9-1", "post-3", "global")).json()

    assert order["state"] == "in_legal_review"  # orders to act are read by legal staff first
    assert count(api, DecisionRecord) == 1  # only the content's own decision: nothing done yet
    done = api.client.post(f"/v1/orders/{order['id']}/execute", json={}, headers=legal).json()
    assert done["state"] == "partially_executed"  # the whole world was asked; France is what the law reaches
    [target] = done["effect"]["targets"]
    assert target["actions"] == ["geo_restrict", "notify_user"]
    assert target["territorial_scope"] == ["FR"]
    flags = {f["flag"] for f in done["safeguards"]["findings"]}
    assert "scope_narrowed" in flags
    stored = api.client.get("/v1/content/post-3", headers=api.admin).json()
    assert stored["decision"]["territorial_scope"] == ["FR"]
    assert stored["decision"]["source"] == "authority_order"
    assert stored["decision"]["source_identity"] == "OCRV Paris"


def test_an_order_touching_protest_reporting_waits_for_senior_legal_review(
    api: Api, paris: SigningAuthority
) -> None:
    post(api, "post-4", text="Our journalist reports live from the protest at the square tonight.")
    order = send(
        api, paris, api.key(Role.AUTHORITY, paris.id), removal_order(paris, "TCO-4", "post-4")
    ).json()

    assert order["state"] == "in_legal_review"  # never auto-executed, even under the one-hour rule
    staff = api.client.get(f"/v1/orders/{order['id']}", headers=api.admin).json()
    assert staff["senior_review"] is True
    assert "protected_speech" in {f["flag"] for f in staff["safeguards"]["findings"]}
    assert count(api, DecisionRecord) == 1

    refused = api.client.post(
        f"/v1/orders/{order['id']}/execute", json={}, headers=api.as_(api.key(Role.LEGAL))
    )
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "senior_review_required"
    assert count(api, DecisionRecord) == 1

    senior = api.as_(api.key(Role.SENIOR_LEGAL))
    done = api.client.post(
        f"/v1/orders/{order['id']}/refuse",
        json={"ground": "fundamental_rights", "explanation": "Press reporting on a demonstration."},
        headers=senior,
    ).json()
    assert done["state"] == "answered"
    assert done["refusal_ground"] == "fundamental_rights"
    assert count(api, DecisionRecord) == 1


def test_a_flagged_jurisdiction_is_never_auto_executed(api: Api) -> None:
    # the default configuration sends every order from outside the EEA to a senior lawyer
    authority = SigningAuthority("xx-police", "RU", ["preservation"], "Police")
    api.client.post("/v1/authorities", json=authority.registration(), headers=api.admin)
    post(api, "post-5")
    document = {
        "authority_id": authority.id,
        "reference": "P-1",
        "type": "preservation",
        "issued_at": removal_order(authority, "x", "x")["issued_at"],
        "language": "en",
        "legal_basis": "Criminal procedure code",
        "statement_of_reasons": "Investigation.",
        "targets": [{"content_id": "post-5"}],
    }

    order = send(api, authority, api.key(Role.AUTHORITY, authority.id), document).json()

    assert order["state"] == "in_legal_review"
    assert count(api, PreservationHold) == 0


def test_competence_under_eu_law_is_refused_to_an_authority_outside_the_eea(api: Api) -> None:
    authority = SigningAuthority("xx-ministry", "RU", ["tco_removal"])
    response = api.client.post("/v1/authorities", json=authority.registration(), headers=api.admin)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_authority"


@pytest.mark.parametrize(
    ("case", "status", "code"),
    [
        ("bad_signature", 401, "signature_invalid"),
        ("no_signature", 401, "signature_missing"),
        ("unregistered", 403, "authority_not_registered"),
        ("outside_competence", 403, "outside_competence"),
        ("other_authority", 403, "authority_mismatch"),
        ("replayed", 409, "order_replayed"),
        ("language", 422, "language_not_accepted"),
        ("not_an_order", 422, "invalid_order"),
    ],
)
def test_an_order_that_fails_verification_is_refused_audited_and_changes_nothing(
    api: Api, paris: SigningAuthority, berlin: SigningAuthority, case: str, status: int, code: str
) -> None:
    post(api, "post-6")
    key = api.key(Role.AUTHORITY, paris.id)
    document = removal_order(paris, "TCO-6", "post-6")
    body, headers = paris.signed(document, key)
    if case == "replayed":
        assert api.client.post("/v1/orders", content=body, headers=headers).status_code == 201
    elif case == "bad_signature":
        headers["Vigil-Signature"] = berlin.sign(body)  # a real signature, by the wrong key
    elif case == "no_signature":
        del headers["Vigil-Signature"]
    elif case == "unregistered":
        api.client.post(f"/v1/authorities/{paris.id}/deactivate", json={"reason": "test"}, headers=api.admin)
    elif case == "outside_competence":
        body, headers = berlin.signed(
            order_to_act(berlin, "A9", "post-6", ["DE"]), api.key(Role.AUTHORITY, berlin.id)
        )
    elif case == "other_authority":
        body, headers = paris.signed({**document, "authority_id": berlin.id}, key)
    elif case == "language":
        body, headers = paris.signed({**document, "language": "ja"}, key)
    elif case == "not_an_order":
        body, headers = paris.signed({**document, "targets": []}, key)
    orders_before, decisions_before = count(api, Order), count(api, DecisionRecord)

    response = api.client.post("/v1/orders", content=body, headers=headers)

    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code
    assert count(api, Order) == orders_before
    assert count(api, DecisionRecord) == decisions_before
    assert count(api, PreservationHold) == (1 if case == "replayed" else 0)
    assert [r["code"] for r in rejections(api)] == [code]


def test_clarification_stops_the_clock_and_the_answer_starts_it_afresh(
    api: Api, paris: SigningAuthority
) -> None:
    key = api.key(Role.AUTHORITY, paris.id)
    order = send(api, paris, key, removal_order(paris, "TCO-7", "no-such-post")).json()
    assert order["state"] == "in_legal_review"  # the location names nothing Vigil knows
    legal = api.as_(api.key(Role.LEGAL))

    asked = api.client.post(
        f"/v1/orders/{order['id']}/clarification-request", json={"question": "Which post?"}, headers=legal
    ).json()
    assert asked["state"] == "awaiting_clarification"
    assert asked["deadline"] is None
    seen = api.client.get(f"/v1/orders/{order['id']}", headers=api.as_(key)).json()
    assert seen["clarification_question"] == "Which post?"
    assert seen["clarification_question_id"].startswith("clq_")

    post(api, "post-7")
    body, headers = paris.signed(
        {
            "order_id": order["id"],
            "question_id": seen["clarification_question_id"],
            "answer": "This one.",
            "targets": [{"url": "https://example.social/p/post-7"}],
        },
        key,
    )
    unsigned = api.client.post(
        f"/v1/orders/{order['id']}/clarification",
        content=body,
        headers={**headers, "Vigil-Signature": "AAAA"},
    )
    assert unsigned.status_code == 401
    answered = api.client.post(
        f"/v1/orders/{order['id']}/clarification", content=body, headers=headers
    ).json()
    assert answered["state"] == "in_legal_review"
    assert answered["deadline"] is not None
    assert answered["clock_started_at"] > order["received_at"]

    done = api.client.post(f"/v1/orders/{order['id']}/execute", json={}, headers=legal).json()
    assert done["state"] == "executed"
    assert done["effect"]["targets"][0]["content_id"] == "post-7"


def test_a_disclosure_needs_two_people_and_discloses_only_what_the_order_asks(
    api: Api, paris: SigningAuthority
) -> None:
    post(api, "post-8", text="hello there")
    document = {
        "authority_id": paris.id,
        "reference": "A10-1",
        "type": "dsa_art10",
        "issued_at": removal_order(paris, "x", "x")["issued_at"],
        "language": "fr",
        "legal_basis": "Code de procédure pénale, art. 60-1",
        "statement_of_reasons": "Enquête sur une escroquerie.",
        "accounts": ["user-1"],
        "information": ["channels", "subscriber_identity"],
        "redress": "Recours devant le juge des libertés.",
    }
    order = send(api, paris, api.key(Role.AUTHORITY, paris.id), document).json()
    assert order["state"] == "in_legal_review"
    first, second = api.as_(api.key(Role.LEGAL)), api.as_(api.key(Role.LEGAL))

    once = api.client.post(f"/v1/orders/{order['id']}/approve", json={"note": "ok"}, headers=first).json()
    assert once["state"] == "in_legal_review"
    again = api.client.post(f"/v1/orders/{order['id']}/approve", json={}, headers=first)
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "already_approved"
    done = api.client.post(f"/v1/orders/{order['id']}/approve", json={}, headers=second).json()

    assert done["state"] == "executed"
    disclosure = done["effect"]["disclosure"]
    assert disclosure["records"] == {"user-1": {"channels": ["chan-1"]}}  # no texts: not asked for
    assert disclosure["platform_fields"] == ["subscriber_identity"]
    with api.store.transaction() as session:
        [event] = session.scalars(
            select(OutboxEvent).where(OutboxEvent.event_type == "order.disclosure")
        ).all()
        payload = json.loads(event.payload)
    assert payload["fields"] == ["subscriber_identity"]
    assert payload["accounts"] == ["user-1"]
    # the envelope of every event; ``event_id`` stays one more release (CHANGELOG.md)
    assert (payload["id"], payload["type"]) == (event.id, "order.disclosure")
    assert payload["event_id"] == payload["id"]
    assert "created_at" in payload


def test_an_authority_sees_only_its_own_orders(
    api: Api, paris: SigningAuthority, berlin: SigningAuthority
) -> None:
    post(api, "post-9")
    paris_key, berlin_key = api.key(Role.AUTHORITY, paris.id), api.key(Role.AUTHORITY, berlin.id)
    order = send(api, paris, paris_key, removal_order(paris, "TCO-9", "post-9")).json()

    assert api.client.get(f"/v1/orders/{order['id']}", headers=api.as_(berlin_key)).status_code == 404
    assert api.client.get("/v1/orders", headers=api.as_(berlin_key)).json() == []
    assert [o["id"] for o in api.client.get("/v1/orders", headers=api.as_(paris_key)).json()] == [order["id"]]
    for role in (
        Role.PLATFORM,
        Role.REVIEWER,
        Role.SENIOR_REVIEWER,
        Role.CHILD_SAFETY_REVIEWER,
        Role.TRUSTED_FLAGGER,
    ):
        headers = api.as_(api.key(role, "hotline" if role is Role.TRUSTED_FLAGGER else None))
        assert api.client.get(f"/v1/orders/{order['id']}", headers=headers).status_code == 403
        assert api.client.get("/v1/orders", headers=headers).status_code == 403
    for route in ("execute", "refuse", "approve", "clarification-request"):
        response = api.client.post(f"/v1/orders/{order['id']}/{route}", json={}, headers=api.as_(paris_key))
        assert response.status_code == 403
    # an authority cannot answer a clarification on another authority's order either
    body, headers = berlin.signed(
        {"order_id": order["id"], "question_id": "clq_x", "answer": "x"}, berlin_key
    )
    assert (
        api.client.post(f"/v1/orders/{order['id']}/clarification", content=body, headers=headers).status_code
        == 404
    )
    for role in (Role.LEGAL, Role.SENIOR_LEGAL, Role.ADMIN, Role.AUDITOR):
        assert api.client.get(f"/v1/orders/{order['id']}", headers=api.as_(api.key(role))).status_code == 200
    # the registry is the administrators' and legal staff's, not the authorities'
    assert api.client.get("/v1/authorities", headers=api.as_(paris_key)).status_code == 403
    assert api.client.get(f"/v1/authorities/{berlin.id}", headers=api.as_(paris_key)).status_code == 403


def test_only_administrators_register_authorities(api: Api, paris: SigningAuthority) -> None:
    other = SigningAuthority("it-polizia", "IT", ["tco_removal"])
    for role in (Role.LEGAL, Role.AUTHORITY, Role.PLATFORM):
        key = api.key(role, paris.id if role is Role.AUTHORITY else None)
        response = api.client.post("/v1/authorities", json=other.registration(), headers=api.as_(key))
        assert response.status_code == 403
    duplicate = api.client.post("/v1/authorities", json=paris.registration(), headers=api.admin)
    assert duplicate.status_code == 409
    not_ed25519 = "A" * 44  # 33 bytes
    bad_key = api.client.post(
        "/v1/authorities", json={**other.registration(), "public_key": not_ed25519}, headers=api.admin
    )
    assert bad_key.status_code == 422


def test_a_rotated_key_makes_old_signatures_worthless(api: Api, paris: SigningAuthority) -> None:
    post(api, "post-10")
    key = api.key(Role.AUTHORITY, paris.id)
    successor = SigningAuthority(paris.id, "FR", paris.competence)
    rotated = api.client.post(
        f"/v1/authorities/{paris.id}/public-key", json={"public_key": successor.public_key}, headers=api.admin
    )
    assert rotated.status_code == 200

    old = send(api, paris, key, removal_order(paris, "TCO-10", "post-10"))
    new = send(api, successor, key, removal_order(paris, "TCO-10", "post-10"))

    assert old.status_code == 401
    assert new.status_code == 201


def test_an_order_closes_the_open_case_on_its_content_and_answers_the_notices_waiting_on_it(
    api: Api, paris: SigningAuthority
) -> None:
    post(api, "post-11")
    notice = {
        "content_id": "post-11",
        "category": "terrorism",
        "explanation": "This account shares the propaganda videos of a terrorist group.",
        "reporter": {"name": "Ana Example", "email": "ana@example.org"},
        "good_faith": True,
    }
    receipt = api.client.post("/v1/notices", json=notice, headers=api.as_(api.key(Role.PLATFORM))).json()
    reviewer = api.as_(api.key(Role.REVIEWER))
    assert api.client.get(f"/v1/cases/{receipt['case_id']}", headers=reviewer).json()["state"] == "open"

    order = send(
        api, paris, api.key(Role.AUTHORITY, paris.id), removal_order(paris, "TCO-11", "post-11")
    ).json()

    case = api.client.get(f"/v1/cases/{receipt['case_id']}", headers=reviewer).json()
    assert case["state"] == "closed"  # a later verdict on the older decision cannot lift the order's effect
    assert case["events"][-1]["kind"] == "closed_by_order"
    assert case["events"][-1]["detail"]["order_id"] == order["id"]
    answered = api.client.get(f"/v1/notices/{receipt['id']}", headers=api.admin).json()
    assert (answered["state"], answered["outcome"]) == ("decided", "geo_restrict")
    assert answered["decision_id"] == order["effect"]["targets"][0]["decision_id"]


def test_a_machine_s_re_decision_may_add_to_an_order_s_restriction_but_never_lift_it(
    api: Api, paris: SigningAuthority
) -> None:
    spam, propaganda = "1" * 32, "2" * 32
    post(api, "post-12", media=[{"id": "m1", "md5": spam}, {"id": "m2", "md5": propaganda}])
    order = send(
        api, paris, api.key(Role.AUTHORITY, paris.id), removal_order(paris, "TCO-12", "post-12")
    ).json()
    pipeline = api.client.app.state.pipeline  # type: ignore[attr-defined]

    def bank(name: str, category: str, md5: str) -> None:
        api.client.post("/v1/banks", json={"name": name, "category": category}, headers=api.admin)
        hashes = {"hashes": [{"type": "md5", "value": md5}]}
        api.client.post(f"/v1/banks/{name}/hashes", json=hashes, headers=api.admin)

    bank("spam-list", "spam", spam)  # a spam match would only demote: it must not replace the order
    assert pipeline.redecide(["post-12"], DecisionContext(), "retro") == []
    in_force = api.client.get("/v1/content/post-12", headers=api.admin).json()
    assert in_force["decision_id"] == order["effect"]["targets"][0]["decision_id"]

    bank("gifct", "terrorism", propaganda)  # known propaganda removes it everywhere: more, not less
    [outcome] = pipeline.redecide(["post-12"], DecisionContext(), "retro")
    assert outcome.decision.outcome == "remove"
