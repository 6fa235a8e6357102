"""The audit chain: any change to the recorded past is found, at the first event it touches."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vigil.domain.audit import GENESIS_HASH, AuditEvent, canonical_json, event_hash, verify_chain


def chain(*payloads: dict[str, Any], genesis: str = GENESIS_HASH) -> list[AuditEvent]:
    """Events recorded one after another, each linked to the one before, as the store writes them."""
    events: list[AuditEvent] = []
    prev_hash = genesis
    for seq, payload in enumerate(payloads, start=1):
        at = f"2026-03-01T12:00:{seq % 60:02d}.000000Z"
        actor, action, subject_type, subject_id = f"reviewer-{seq}", "decision.made", "content", f"post-{seq}"
        digest = event_hash(prev_hash, seq, at, actor, action, subject_type, subject_id, payload)
        events.append(
            AuditEvent(seq, at, actor, action, subject_type, subject_id, payload, prev_hash, digest)
        )
        prev_hash = digest
    return events


def five_events() -> list[AuditEvent]:
    return chain(*({"outcome": "remove", "n": n} for n in range(1, 6)))


def test_untouched_chain_is_intact() -> None:
    events = five_events()

    verdict = verify_chain(events)

    assert verdict.intact
    assert verdict.broken is None
    assert verdict.events_checked == 5
    assert verdict.head_hash == events[-1].hash


def test_empty_chain_is_intact_at_the_genesis_hash() -> None:
    verdict = verify_chain([])

    assert verdict.intact
    assert verdict.events_checked == 0
    assert verdict.head_hash == GENESIS_HASH


_TAMPERED_FIELDS = {
    "at": "2020-01-01T00:00:00.000000Z",
    "actor": "someone-else",
    "action": "decision.reverted",
    "subject_type": "account",
    "subject_id": "post-999",
    "payload": {"outcome": "no_action", "n": 3},
    "hash": "f" * 64,
}


@pytest.mark.parametrize("field", sorted(_TAMPERED_FIELDS))
@pytest.mark.parametrize("index", [0, 2, 4])
def test_changing_any_field_of_any_event_breaks_the_chain_at_that_event(field: str, index: int) -> None:
    events = five_events()
    events[index] = dataclasses.replace(events[index], **{field: _TAMPERED_FIELDS[field]})

    verdict = verify_chain(events)

    assert verdict.broken is not None
    assert verdict.broken.seq == index + 1
    assert verdict.broken.reason == "content does not match its hash"
    assert verdict.events_checked == index
    assert not verdict.intact


def test_changing_an_events_link_breaks_the_chain_at_that_event() -> None:
    events = five_events()
    events[2] = dataclasses.replace(events[2], prev_hash=events[0].hash)

    verdict = verify_chain(events)

    assert verdict.broken is not None
    assert verdict.broken.seq == 3
    assert verdict.broken.reason == "does not link to the previous event"


def test_renumbering_an_event_is_found_where_the_numbering_goes_wrong() -> None:
    events = five_events()
    events[2] = dataclasses.replace(events[2], seq=7)

    verdict = verify_chain(events)

    assert verdict.broken is not None
    assert verdict.broken.seq == 7
    assert verdict.broken.reason == "expected event 3"
    assert verdict.events_checked == 2


def test_rehashing_a_forged_event_is_caught_by_the_next_event() -> None:
    events = five_events()
    forged = events[1]
    forged_payload = {"outcome": "no_action", "n": 2}
    forged_hash = event_hash(
        forged.prev_hash,
        forged.seq,
        forged.at,
        forged.actor,
        forged.action,
        forged.subject_type,
        forged.subject_id,
        forged_payload,
    )
    events[1] = dataclasses.replace(forged, payload=forged_payload, hash=forged_hash)

    verdict = verify_chain(events)

    assert verdict.broken is not None
    assert verdict.broken.seq == 3
    assert verdict.broken.reason == "does not link to the previous event"


def test_removing_a_middle_event_breaks_the_chain_at_the_event_after_the_gap() -> None:
    events = five_events()
    del events[2]

    verdict = verify_chain(events)

    assert verdict.broken is not None
    assert verdict.broken.seq == 4
    assert verdict.broken.reason == "expected event 3"
    assert verdict.events_checked == 2


def test_reordering_events_breaks_the_chain_where_the_order_changes() -> None:
    events = five_events()
    events[1], events[2] = events[2], events[1]

    verdict = verify_chain(events)

    assert verdict.broken is not None
    assert verdict.broken.seq == 3
    assert verdict.broken.reason == "expected event 2"


def test_chain_not_starting_at_the_genesis_hash_breaks_at_the_first_event() -> None:
    events = chain({"a": 1}, {"a": 2}, genesis="1" * 64)

    verdict = verify_chain(events)

    assert verdict.broken is not None
    assert verdict.broken.seq == 1
    assert verdict.broken.reason == "does not link to the previous event"
    assert verdict.events_checked == 0
    assert verdict.head_hash == GENESIS_HASH


def test_dropping_the_latest_events_shows_only_as_an_earlier_head_hash() -> None:
    # The chain alone cannot tell a truncated log from a shorter one: keep the head hash elsewhere.
    events = five_events()

    verdict = verify_chain(events[:3])

    assert verdict.intact
    assert verdict.head_hash == events[2].hash != events[-1].hash


def test_canonical_json_does_not_depend_on_key_order() -> None:
    one = {"b": 1, "a": {"y": [1, 2], "x": "é"}}
    other = {"a": {"x": "é", "y": [1, 2]}, "b": 1}

    assert canonical_json(one) == canonical_json(other) == '{"a":{"x":"é","y":[1,2]},"b":1}'


def test_event_hash_does_not_depend_on_payload_key_order() -> None:
    args = ("0" * 64, 1, "2026-03-01T12:00:00.000000Z", "admin", "policy.applied", "policy", "spam")

    assert event_hash(*args, {"version": 2, "id": "spam"}) == event_hash(*args, {"id": "spam", "version": 2})


# --- property: whatever is recorded and whichever event is changed, the break is found there ------

_json_scalars = st.none() | st.booleans() | st.integers(-1000, 1000) | st.text(max_size=8)
_payloads = st.dictionaries(st.text(max_size=6), _json_scalars, max_size=4)


@settings(max_examples=50, deadline=None)
@given(data=st.data(), payloads=st.lists(_payloads, min_size=1, max_size=8))
def test_first_broken_event_is_the_tampered_one(data: st.DataObject, payloads: list[dict[str, Any]]) -> None:
    events = chain(*payloads)
    index = data.draw(st.integers(0, len(events) - 1), label="tampered index")
    original = events[index]
    tampered_payload = {**original.payload, "tampered": True}
    events[index] = dataclasses.replace(original, payload=tampered_payload)

    verdict = verify_chain(events)

    assert verdict.broken is not None
    assert verdict.broken.seq == index + 1
    assert verdict.events_checked == index
