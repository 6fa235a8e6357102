"""Webhook signatures a platform can trust, and retries that back off without hammering it."""

from __future__ import annotations

import pytest

from vigil.enforce.outbox import RetryPolicy
from vigil.enforce.webhooks import (
    DEFAULT_TOLERANCE_SECONDS,
    SignatureError,
    signature,
    signature_header,
    verify_signature,
)

SECRET = "whsec_current"
OLD_SECRET = "whsec_previous"
SENT_AT = 1_767_225_600  # 2026-01-01T00:00:00Z
BODY = b'{"event":"decision.made","subject":{"type":"content","id":"post-1"},"actions":["remove"]}'


def test_signed_request_verifies_and_gives_its_timestamp() -> None:
    header = signature_header(SECRET, SENT_AT, BODY)

    assert header.startswith(f"t={SENT_AT},v1=")
    assert verify_signature(SECRET, header, BODY, now=SENT_AT + 5) == SENT_AT


def test_signature_is_hmac_sha256_over_timestamp_dot_body() -> None:
    # what a receiver with any HMAC library computes
    import hashlib
    import hmac

    expected = hmac.new(SECRET.encode(), f"{SENT_AT}.".encode() + BODY, hashlib.sha256).hexdigest()

    assert signature(SECRET, SENT_AT, BODY) == expected


def test_altered_body_is_refused() -> None:
    header = signature_header(SECRET, SENT_AT, BODY)
    altered = BODY.replace(b"remove", b"label")

    with pytest.raises(SignatureError, match="signature does not match"):
        verify_signature(SECRET, header, altered, now=SENT_AT)


def test_request_signed_with_another_secret_is_refused() -> None:
    header = signature_header("whsec_attacker", SENT_AT, BODY)

    with pytest.raises(SignatureError, match="signature does not match"):
        verify_signature(SECRET, header, BODY, now=SENT_AT)


def test_moving_the_signature_to_another_timestamp_is_refused() -> None:
    genuine = signature(SECRET, SENT_AT, BODY)

    with pytest.raises(SignatureError, match="signature does not match"):
        verify_signature(SECRET, f"t={SENT_AT + 60},v1={genuine}", BODY, now=SENT_AT + 60)


@pytest.mark.parametrize(
    "header",
    [
        "",
        f"v1={signature(SECRET, SENT_AT, BODY)}",
        f"t=yesterday,v1={signature(SECRET, SENT_AT, BODY)}",
    ],
    ids=["empty", "no-t", "t-not-a-number"],
)
def test_header_without_a_usable_timestamp_is_refused(header: str) -> None:
    with pytest.raises(SignatureError, match="no timestamp in signature header"):
        verify_signature(SECRET, header, BODY, now=SENT_AT)


def test_header_without_a_signature_is_refused() -> None:
    with pytest.raises(SignatureError, match="signature does not match"):
        verify_signature(SECRET, f"t={SENT_AT}", BODY, now=SENT_AT)


@pytest.mark.parametrize(
    "received_after",
    [-DEFAULT_TOLERANCE_SECONDS - 1, DEFAULT_TOLERANCE_SECONDS + 1, 86_400],
    ids=["from-the-future", "just-too-old", "a-day-old-replay"],
)
def test_timestamp_outside_the_replay_window_is_refused(received_after: int) -> None:
    header = signature_header(SECRET, SENT_AT, BODY)

    with pytest.raises(SignatureError, match="outside the 300 s replay window"):
        verify_signature(SECRET, header, BODY, now=SENT_AT + received_after)


@pytest.mark.parametrize("received_after", [-DEFAULT_TOLERANCE_SECONDS, 0, DEFAULT_TOLERANCE_SECONDS])
def test_timestamp_at_the_edge_of_the_replay_window_is_accepted(received_after: int) -> None:
    header = signature_header(SECRET, SENT_AT, BODY)

    assert verify_signature(SECRET, header, BODY, now=SENT_AT + received_after) == SENT_AT


def test_receiver_can_choose_a_narrower_replay_window() -> None:
    header = signature_header(SECRET, SENT_AT, BODY)

    with pytest.raises(SignatureError, match="outside the 30 s replay window"):
        verify_signature(SECRET, header, BODY, now=SENT_AT + 31, tolerance=30)


def test_during_secret_rotation_either_signature_is_accepted() -> None:
    header = f"t={SENT_AT}, v1={signature(OLD_SECRET, SENT_AT, BODY)}, v1={signature(SECRET, SENT_AT, BODY)}"

    assert verify_signature(SECRET, header, BODY, now=SENT_AT) == SENT_AT
    assert verify_signature(OLD_SECRET, header, BODY, now=SENT_AT) == SENT_AT
    with pytest.raises(SignatureError):
        verify_signature("whsec_unrelated", header, BODY, now=SENT_AT)


# --- retries ---------------------------------------------------------------------------------------


def lowest() -> float:
    return 0.0


def highest() -> float:
    return 1.0


def test_retry_delays_grow_exponentially_within_the_jitter_band() -> None:
    retry = RetryPolicy(max_attempts=10, base_seconds=2.0, cap_seconds=3600.0)

    for attempt in range(1, 10):
        step = 2.0 * 2 ** (attempt - 1)
        assert retry.delay(attempt, rand=lowest) == step / 2
        assert retry.delay(attempt, rand=highest) == step
        assert step / 2 <= (retry.delay(attempt, rand=lambda: 0.37) or 0) <= step


def test_retry_delay_is_half_fixed_half_random() -> None:
    retry = RetryPolicy(base_seconds=2.0)

    # attempt 3: step 8 s -> 4 s fixed plus up to 4 s of jitter
    assert retry.delay(3, rand=lambda: 0.25) == 5.0
    assert retry.delay(3, rand=lambda: 0.5) == 6.0


def test_retry_delay_is_capped() -> None:
    retry = RetryPolicy(max_attempts=30, base_seconds=2.0, cap_seconds=60.0)

    assert retry.delay(5, rand=highest) == 32.0
    for attempt in range(6, 30):  # 64 s and beyond would exceed the cap
        assert retry.delay(attempt, rand=highest) == 60.0
        assert retry.delay(attempt, rand=lowest) == 30.0


def test_retry_gives_up_after_max_attempts() -> None:
    retry = RetryPolicy(max_attempts=4)

    gave_up = [retry.delay(attempt, rand=lowest) is None for attempt in range(1, 7)]

    assert gave_up == [False] * 3 + [True] * 3


def test_default_retry_policy_waits_longer_after_each_failure_and_stops_at_the_fifteenth() -> None:
    retry = RetryPolicy()

    delays = [retry.delay(a, rand=highest) for a in range(1, 16)]

    assert delays[-1] is None
    waits = [d for d in delays[:-1] if d is not None]
    assert len(waits) == 14
    assert waits == sorted(waits)
    assert sum(waits) > 2 * 3600  # a platform outage of two hours loses nothing
