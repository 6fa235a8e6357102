"""The legal clock of an order: UTC instants to the second, whatever the wall clocks do."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vigil.domain.orders import (
    ORDER_RULES,
    TRANSITIONS,
    OrderState,
    OrderTransitionError,
    OrderType,
    Urgency,
    answered_late,
    check_transition,
    order_deadline,
    time_left,
    urgency,
)

HOUR = timedelta(hours=1)
PARIS = ZoneInfo("Europe/Paris")


def test_a_removal_order_received_at_23_30_utc_is_due_at_00_30_the_next_day() -> None:
    received = datetime(2026, 12, 31, 23, 30, tzinfo=UTC)

    deadline = order_deadline(received, ORDER_RULES[OrderType.TERRORIST_REMOVAL].period)

    assert deadline == datetime(2027, 1, 1, 0, 30, tzinfo=UTC)


def test_when_paris_springs_forward_the_hour_is_still_sixty_minutes() -> None:
    # 01:30 in Paris on 29 March 2026; at 02:00 the clocks jump to 03:00
    received = datetime(2026, 3, 29, 1, 30, tzinfo=PARIS)

    deadline = order_deadline(received, HOUR)

    assert deadline == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    assert deadline.astimezone(PARIS).hour == 3  # 03:30 on the wall, not a non-existent 02:30
    assert deadline - received == HOUR


def test_when_paris_falls_back_the_repeated_hour_is_not_counted_twice() -> None:
    # 02:30 CEST on 25 October 2026; at 03:00 CEST the clocks go back to 02:00 CET
    received = datetime(2026, 10, 25, 2, 30, tzinfo=PARIS, fold=0)

    deadline = order_deadline(received, HOUR)

    assert deadline == datetime(2026, 10, 25, 1, 30, tzinfo=UTC)
    assert deadline.astimezone(PARIS).strftime("%H:%M %Z") == "02:30 CET"  # the same wall time, an hour later


def test_a_date_set_by_the_authority_can_only_bring_the_deadline_nearer() -> None:
    received = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)
    sooner = datetime(2026, 5, 4, 9, 20, tzinfo=UTC)
    later = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)

    assert order_deadline(received, HOUR, sooner) == sooner
    assert order_deadline(received, HOUR, later) == received + HOUR


def test_an_order_given_effect_at_the_deadline_is_on_time_and_a_second_later_is_late() -> None:
    deadline = datetime(2026, 1, 1, 0, 30, tzinfo=UTC)

    assert not answered_late(deadline, deadline)
    assert answered_late(deadline, deadline + timedelta(seconds=1))
    assert not answered_late(deadline, deadline.astimezone(PARIS))  # the same instant in another zone


def test_naive_times_are_refused_rather_than_read_in_the_server_s_zone() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        order_deadline(datetime(2026, 1, 1, 23, 30), HOUR)  # naive: the point of the test


@pytest.mark.parametrize(
    ("left", "expected"),
    [
        (timedelta(minutes=50), Urgency.ON_TRACK),
        (timedelta(minutes=15), Urgency.DUE_SOON),
        (timedelta(minutes=6), Urgency.CRITICAL),
        (timedelta(0), Urgency.OVERDUE),
        (timedelta(minutes=-3), Urgency.OVERDUE),
    ],
)
def test_urgency_rises_as_the_hour_runs_out(left: timedelta, expected: Urgency) -> None:
    deadline = datetime(2026, 1, 1, 1, 0, tzinfo=UTC)
    assert urgency(deadline, HOUR, deadline - left) is expected


@given(
    received=st.datetimes(
        min_value=datetime(2000, 1, 1),
        max_value=datetime(2100, 1, 1),
        timezones=st.sampled_from([UTC, PARIS]),
    ),
    minutes=st.integers(min_value=1, max_value=60 * 24 * 30),
)
def test_the_deadline_is_always_exactly_the_period_after_receipt(received: datetime, minutes: int) -> None:
    period = timedelta(minutes=minutes)
    deadline = order_deadline(received, period)
    assert deadline.tzinfo is UTC
    assert time_left(deadline, received) == period


def test_the_state_machine_allows_the_documented_paths_only() -> None:
    check_transition(OrderState.RECEIVED, OrderState.VERIFIED)
    check_transition(OrderState.VERIFIED, OrderState.EXECUTED)  # auto-execution
    check_transition(OrderState.IN_LEGAL_REVIEW, OrderState.AWAITING_CLARIFICATION)
    check_transition(OrderState.AWAITING_CLARIFICATION, OrderState.IN_LEGAL_REVIEW)
    check_transition(OrderState.REFUSED, OrderState.ANSWERED)
    for forbidden in (
        (OrderState.RECEIVED, OrderState.EXECUTED),  # never without verification
        (OrderState.VERIFIED, OrderState.REFUSED),  # refusal is a person's decision
        (OrderState.REFUSED, OrderState.EXECUTED),
        (OrderState.ANSWERED, OrderState.IN_LEGAL_REVIEW),
    ):
        with pytest.raises(OrderTransitionError):
            check_transition(*forbidden)
    assert TRANSITIONS[OrderState.ANSWERED] == frozenset()
