"""Odd input answered with a 4xx, through `vigil serve` (issue 12): instants that cannot be written in
UTC, integers past 64 bits, structures nested past any parser, and ids holding control, bidirectional
or invisible characters. Each of these was a 500, a hung request or a silently stored id before."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.integration.live import VIGIL, Vigil
from tests.order_fixtures import SigningAuthority, removal_order

pytestmark = pytest.mark.e2e

# the UTC instants of these are in the years 10000 and 0
OUTSIDE_UTC = ("9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00")
PAST_64_BITS = ("9223372036854775808", str(10**30), "-9223372036854775809")
# C1 controls (NEL, CSI), line and paragraph separators, bidi overrides and isolates, zero-width
REFUSED_IN_IDS = ("\u0085", "\u009b", "\u2028", "\u2029", "\u202e", "\u2066", "\u200b", "\ufeff")


@dataclass
class Live:
    client: httpx.Client
    admin: dict[str, str]
    platform: dict[str, str]
    authority: SigningAuthority
    authority_key: str


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    """One server for the module: every test here only reads, or is refused before it writes."""
    workdir = tmp_path_factory.mktemp("odd-input")
    env = {
        **os.environ,
        "VIGIL_DATABASE_URL": f"sqlite:///{workdir / 'vigil.db'}",
        "VIGIL_WEBHOOK_DELIVER": "false",
        "VIGIL_QA_SAMPLE_RATE": "0",
    }
    init = subprocess.run([*VIGIL, "init", "--json"], cwd=workdir, env=env, capture_output=True, check=True)
    admin = {"Authorization": f"Bearer {json.loads(init.stdout)['admin_key']}"}
    vigil = Vigil(workdir, env)
    vigil.start()
    client = httpx.Client(base_url=vigil.base, timeout=20)
    platform_key = client.post("/v1/keys", json={"role": "platform"}, headers=admin).json()["key"]
    paris = SigningAuthority("fr-odd", "FR", ["tco_removal"], "OCRV Paris")
    assert client.post("/v1/authorities", json=paris.registration(), headers=admin).status_code == 201
    minted = client.post("/v1/keys", json={"role": "authority", "bound_to": paris.id}, headers=admin)
    item = {"id": "odd/target", "author_id": "user-1", "text": "a post"}
    assert client.post("/v1/content", json=item, headers=admin).status_code == 200
    yield Live(client, admin, {"Authorization": f"Bearer {platform_key}"}, paris, minted.json()["key"])
    client.close()
    assert vigil.process is not None
    vigil.process.terminate()
    vigil.process.wait(timeout=10)


def _refused(response: httpx.Response, status: int, code: str, *words: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error: dict[str, Any] = response.json()["error"]
    assert error["code"] == code, error
    for word in words:
        assert word in error["message"], (word, error["message"])
    return error


def _item(content_id: str, **fields: Any) -> dict[str, Any]:
    return {"id": content_id, "author_id": "user-1", "text": "hello", **fields}


def _not_stored(live: Live, content_id: str) -> None:
    assert live.client.get(f"/v1/content/{content_id}", headers=live.admin).status_code == 404


# --- instants ----------------------------------------------------------------------------------------


def test_an_item_created_at_an_instant_outside_utc_is_refused_and_nothing_is_kept(live: Live) -> None:
    for n, moment in enumerate(OUTSIDE_UTC):
        one = live.client.post(
            "/v1/content", json=_item(f"odd/instant-{n}", created_at=moment), headers=live.platform
        )
        _refused(one, 422, "validation_error", "created_at", "between 1970-01-01T00:00:00Z")
        batch = live.client.post(
            "/v1/content/batch",
            json={"items": [_item(f"odd/fine-{n}"), _item(f"odd/batch-{n}", created_at=moment)]},
            headers=live.platform,
        )
        _refused(batch, 422, "validation_error", "items.1.created_at")
        notice = live.client.post(
            "/v1/notices",
            json={
                "content_id": f"odd/noticed-{n}",
                "category": "hate_speech",
                "explanation": "this post insults a group of people for their religion",
                "reporter": {"name": "A. Person", "email": "a.person@example.org"},
                "good_faith": True,
                "content": _item(f"odd/noticed-{n}", created_at=moment),
            },
            headers=live.platform,
        )
        _refused(notice, 422, "validation_error", "content.created_at")
        for content_id in (f"odd/instant-{n}", f"odd/fine-{n}", f"odd/batch-{n}", f"odd/noticed-{n}"):
            _not_stored(live, content_id)


def test_an_item_created_at_an_ordinary_instant_in_any_offset_is_accepted(live: Live) -> None:
    sent = _item("odd/kathmandu", created_at="2026-03-01T12:00:00+05:45")
    assert live.client.post("/v1/content", json=sent, headers=live.platform).status_code == 200


def test_an_order_with_an_instant_outside_utc_is_refused_and_the_refusal_audited(live: Live) -> None:
    for n, moment in enumerate(OUTSIDE_UTC):
        for field in ("issued_at", "respond_by", "withhold_user_notice_until"):
            order = removal_order(live.authority, f"ODD-{n}-{field}", "odd/target")
            if field == "withhold_user_notice_until":
                order["withhold_user_notice"] = True
            order[field] = moment
            body, headers = live.authority.signed(order, live.authority_key)
            answer = live.client.post("/v1/orders", content=body, headers=headers)
            _refused(answer, 422, "invalid_order", field, "between 1970-01-01T00:00:00Z")
    audit = live.client.get("/v1/audit/events", params={"limit": 1000}, headers=live.admin).json()
    rejected = [
        e
        for e in audit
        if e["action"] == "order.rejected" and "between 1970-01-01T00:00:00Z" in e["payload"]["reason"]
    ]
    assert len(rejected) == len(OUTSIDE_UTC) * 3
    assert live.client.get("/v1/orders", headers=live.admin).json() == []


def test_a_hash_list_dated_outside_utc_is_refused_and_the_bank_left_as_it_was(live: Live) -> None:
    assert (
        live.client.post(
            "/v1/banks", json={"name": "odd-dates", "category": "terrorism"}, headers=live.admin
        ).status_code
        == 201
    )
    for moment in OUTSIDE_UTC:
        rows = (
            "hash_type,hash_value,category,source,source_id,added_at,note\n"
            + f"md5,{'a' * 32},terrorism,gifct,1,{moment},\n"
        )
        answer = live.client.post(
            "/v1/banks/odd-dates/import", json={"format": "csv", "content": rows}, headers=live.admin
        )
        error = _refused(answer, 422, "rows_refused")
        assert "added_at must be an instant between 1970-01-01T00:00:00Z" in error["details"][0]["message"]
    bank = live.client.get("/v1/banks/odd-dates", headers=live.admin).json()
    assert (bank["hash_count"], bank["version"]) == (0, 1)


# --- integers ----------------------------------------------------------------------------------------


def test_integers_past_64_bits_in_paths_and_queries_are_refused(live: Live) -> None:
    for number in PAST_64_BITS:
        for method, url in (
            ("GET", f"/v1/audit/events?after={number}"),
            ("GET", f"/v1/sor/submissions?after={number}"),
            ("POST", f"/v1/webhooks/deliveries/{number}/retry"),
            ("POST", f"/v1/sor/submissions/{number}/retry"),
        ):
            answer = live.client.request(method, url, headers=live.admin)
            _refused(answer, 422, "validation_error")
    # the largest 64-bit number is a well-formed id that names nothing
    largest = live.client.post("/v1/webhooks/deliveries/9223372036854775807/retry", headers=live.admin)
    _refused(largest, 404, "not_found")
    page = live.client.get("/v1/audit/events?after=9223372036854775807", headers=live.admin)
    assert page.status_code == 200
    assert page.json() == []


# --- nesting -----------------------------------------------------------------------------------------

DEEP_FLOW = "[" * 1000 + "]" * 1000
DEEP_BLOCK = "- " * 1000 + "x"  # block sequences, one inside the next
# nine anchors of nine aliases each: 9**9 values once expanded, in 400 bytes
LAUGHS = "\n".join(
    ["id: laughs", "when: 'true'", "category: spam", "a0: &a0 [" + ", ".join(["lol"] * 9) + "]"]
    + [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 9)]
    + ["mode: *a8"]
)


def test_policies_nested_past_any_parser_are_refused_without_a_change(live: Live) -> None:
    before = live.client.get("/v1/policies", headers=live.admin).json()
    for source, reason in (
        (DEEP_FLOW, "nested more than 32 levels deep"),
        (DEEP_BLOCK, "nested more than 32 levels deep"),
        (LAUGHS, "values once its aliases are expanded"),
    ):
        for route in ("/v1/policies/validate", "/v1/policies"):
            answer = live.client.post(route, json={"source": source}, headers=live.admin, timeout=10)
            _refused(answer, 422, "invalid_policy", reason)
    assert live.client.get("/v1/policies", headers=live.admin).json() == before


def test_json_nested_past_the_parser_is_a_4xx_in_the_error_shape(live: Live) -> None:
    deep = b"[" * 100_000
    for route in ("/v1/policies/validate", "/v1/content", "/v1/content/batch", "/v1/hashes/match"):
        answer = live.client.post(
            route, content=deep, headers={**live.admin, "Content-Type": "application/json"}
        )
        _refused(answer, 400, "bad_request")
    body, headers = live.authority.signed({"nested": json.loads("[" * 500 + "]" * 500)}, live.authority_key)
    _refused(live.client.post("/v1/orders", content=body, headers=headers), 422, "invalid_order")
    vpdq = "[" * 5000 + "]" * 5000  # a vPDQ hash is a JSON list of strings, read as JSON
    media = [{"id": "v1", "mime_type": "video/mp4", "vpdq": vpdq}]
    answer = live.client.post("/v1/content", json=_item("odd/deep-vpdq", media=media), headers=live.platform)
    _refused(answer, 422, "validation_error", "vpdq")
    _not_stored(live, "odd/deep-vpdq")
    query = {"hashes": [{"type": "vpdq", "value": vpdq}]}
    _refused(live.client.post("/v1/hashes/match", json=query, headers=live.platform), 422, "validation_error")


# --- identifiers -------------------------------------------------------------------------------------


def test_ids_with_control_bidi_or_invisible_characters_are_refused_and_nothing_is_kept(live: Live) -> None:
    for n, character in enumerate(REFUSED_IN_IDS):
        shown = f"U+{ord(character):04X}"
        content_id = f"odd/id{character}{n}"
        as_id = live.client.post("/v1/content", json=_item(content_id), headers=live.platform)
        _refused(as_id, 422, "validation_error", "id", shown)
        _not_stored(live, content_id)
        author = live.client.post(
            "/v1/content",
            json={**_item(f"odd/author-{n}"), "author_id": f"user{character}"},
            headers=live.platform,
        )
        _refused(author, 422, "validation_error", "author_id", shown)
        _not_stored(live, f"odd/author-{n}")
        appeal = {"decision_id": "dec_unknown", "appellant": f"user{character}", "statement": "this was fine"}
        _refused(
            live.client.post("/v1/appeals", json=appeal, headers=live.platform),
            422,
            "validation_error",
            shown,
        )
        bank = {"name": f"bank{character}{n}", "category": "terrorism"}
        _refused(live.client.post("/v1/banks", json=bank, headers=live.admin), 422, "validation_error", shown)
        order, headers = live.authority.signed(
            removal_order(live.authority, f"REF{character}{n}", "odd/target"), live.authority_key
        )
        _refused(live.client.post("/v1/orders", content=order, headers=headers), 422, "invalid_order", shown)
    assert all(
        not b["name"].startswith("bank") for b in live.client.get("/v1/banks", headers=live.admin).json()
    )
    assert live.client.get("/v1/orders", headers=live.admin).json() == []


def test_one_line_labels_refuse_line_breaks_and_controls_and_nothing_is_kept(live: Live) -> None:
    keys_before = len(live.client.get("/v1/keys", headers=live.admin).json())
    for character in ("\n", "\r", *REFUSED_IN_IDS):
        shown = f"U+{ord(character):04X}"
        label = {"role": "platform", "label": f"key:admin{character}forged"}
        _refused(live.client.post("/v1/keys", json=label, headers=live.admin), 422, "validation_error", shown)
        hook = {"url": "http://127.0.0.1:9/hook", "description": f"receiver{character}x"}
        _refused(
            live.client.post("/v1/webhooks", json=hook, headers=live.platform), 422, "validation_error", shown
        )
    assert len(live.client.get("/v1/keys", headers=live.admin).json()) == keys_before
    assert live.client.get("/v1/webhooks", headers=live.platform).json() == []


def test_ids_in_any_script_with_joiners_and_emoji_are_kept(live: Live) -> None:
    for content_id in (
        "odd/\u0645\u0631\u062d\u0628\u0627",  # Arabic
        "odd/\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645",  # Persian, with a zero-width non-joiner
        "odd/\U0001f469\u200d\U0001f469\u200d\U0001f467",  # an emoji family, joined by zero-width joiners
        "odd/\u65e5\u672c",
    ):
        answer = live.client.post("/v1/content", json=_item(content_id), headers=live.platform)
        assert answer.status_code == 200, answer.text
        assert live.client.get(f"/v1/content/{content_id}", headers=live.admin).status_code == 200
