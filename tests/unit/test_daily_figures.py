"""The daily figures' pure core: what each event adds to its day, and how a day reads back."""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from vigil.domain.content import Subject, SubjectType
from vigil.domain.decisions import Action, AutomatedDecision, Decision, Source
from vigil.domain.jurisdictions import GLOBAL, TerritorialScope
from vigil.domain.orders import OrderState
from vigil.domain.taxonomy import Category
from vigil.store.daily import CounterRow, Increment, summed
from vigil.transparency.daily import (
    TIME_BUCKETS,
    TimeBucket,
    appeal_increments,
    day_of,
    decision_increments,
    figures_from_counters,
    median_bucket,
    notice_decided_increments,
    notice_received_increments,
    order_increments,
    parse_day,
    time_bucket,
    to_csv,
)

NOTHING = Decision.no_action(Subject(SubjectType.CONTENT, "post-1"), Source.VOLUNTARY, True)


def restricting(
    *actions: Action,
    category: Category | None = Category.HATE_SPEECH,
    scope: TerritorialScope = GLOBAL,
    source: Source = Source.VOLUNTARY,
    automated: AutomatedDecision = AutomatedDecision.FULLY,
) -> Decision:
    return replace(
        NOTHING,
        actions=frozenset(actions),
        category=category,
        territorial_scope=scope,
        source=source,
        automated_decision=automated,
    )


def by_metric(increments: list[Increment]) -> dict[str, list[Increment]]:
    found: dict[str, list[Increment]] = {}
    for increment in increments:
        found.setdefault(increment.metric, []).append(increment)
    return found


def test_a_first_restriction_counts_once_by_outcome_and_once_in_each_territory() -> None:
    geo = restricting(
        Action.GEO_RESTRICT,
        Action.NOTIFY_USER,
        scope=TerritorialScope.of(["DE", "AT"]),
        source=Source.AUTHORITY_ORDER,
        automated=AutomatedDecision.NOT_AUTOMATED,
    )

    found = by_metric(decision_increments(geo, None))

    assert found["restrictive"] == [
        Increment("restrictive", "hate_speech", "geo_restrict", "authority_order", "", "not_automated")
    ]
    assert [i.territory for i in found["restrictive_territory"]] == ["AT", "DE"]
    assert set(found) == {"restrictive", "restrictive_territory"}


def test_a_removal_everywhere_counts_in_the_global_territory() -> None:
    found = by_metric(decision_increments(restricting(Action.REMOVE), None))
    assert [(i.territory, i.action) for i in found["restrictive_territory"]] == [("global", "remove")]


def test_decisions_that_restrict_nothing_add_nothing() -> None:
    held = replace(NOTHING, held_actions=frozenset({Action.REMOVE}))  # waiting for review before acting
    told = restricting(Action.NOTIFY_USER, Action.PRESERVE_EVIDENCE)  # no restriction of the content

    assert decision_increments(NOTHING, None) == []
    assert decision_increments(held, None) == []
    assert decision_increments(told, None) == []


def test_a_reviewer_confirming_a_restriction_counts_nothing_new() -> None:
    automated = restricting(Action.REMOVE)
    confirmed = replace(automated, automated_decision=AutomatedDecision.NOT_AUTOMATED, source=Source.REVIEWER)
    assert decision_increments(confirmed, automated) == []


def test_a_changed_restriction_counts_again_under_its_new_outcome() -> None:
    removed = restricting(Action.REMOVE)
    narrowed = restricting(Action.GEO_RESTRICT, scope=TerritorialScope.of(["FR"]))
    wider = restricting(Action.GEO_RESTRICT, scope=TerritorialScope.of(["FR", "BE"]))

    assert [i.action for i in by_metric(decision_increments(narrowed, removed))["restrictive"]] == [
        "geo_restrict"
    ]
    assert [
        i.territory for i in by_metric(decision_increments(wider, narrowed))["restrictive_territory"]
    ] == [
        "BE",
        "FR",
    ]


def test_lifting_a_restriction_counts_under_what_was_lifted_and_who_lifted_it() -> None:
    removed = restricting(Action.REMOVE, category=Category.TERRORISM)
    lifted = replace(NOTHING, automated_decision=AutomatedDecision.NOT_AUTOMATED)

    assert decision_increments(lifted, removed) == [
        Increment("restrictions_lifted", "terrorism", automated="not_automated")
    ]
    assert decision_increments(NOTHING, NOTHING) == []  # nothing was in force


def test_suspensions_and_bans_count_when_they_are_new() -> None:
    removed = restricting(Action.REMOVE, category=Category.CSAM)
    suspended = restricting(Action.REMOVE, Action.SUSPEND_ACCOUNT, category=Category.CSAM)
    banned = restricting(Action.REMOVE, Action.SUSPEND_ACCOUNT, Action.BAN_CHANNEL, category=Category.CSAM)

    first = by_metric(decision_increments(suspended, removed))
    then = by_metric(decision_increments(banned, suspended))

    assert first["accounts_suspended"] == [
        Increment("accounts_suspended", "csam", "", "voluntary", "", "fully")
    ]
    assert "channels_banned" not in first
    assert "accounts_suspended" not in then
    assert then["channels_banned"] == [Increment("channels_banned", "csam", "", "voluntary", "", "fully")]
    # the item's own restriction is still a removal: the outcome names what happens to the item
    assert [i.action for i in then["restrictive"]] == ["remove"]


def test_a_restriction_without_a_category_is_counted_as_unspecified() -> None:
    found = by_metric(decision_increments(restricting(Action.REMOVE, category=None), None))
    assert found["restrictive"][0].category == "unspecified"


@pytest.mark.parametrize(
    ("waited", "bucket"),
    [
        (timedelta(seconds=-3), "lt_5m"),  # clock skew
        (timedelta(minutes=4, seconds=59), "lt_5m"),
        (timedelta(minutes=5), "lt_15m"),
        (timedelta(minutes=59), "lt_1h"),
        (timedelta(hours=1), "lt_3h"),
        (timedelta(hours=23, minutes=59), "lt_24h"),
        (timedelta(hours=72), "lt_7d"),
        (timedelta(days=29), "lt_30d"),
        (timedelta(days=400), "ge_30d"),
    ],
)
def test_times_to_decision_fall_in_log_scale_buckets(waited: timedelta, bucket: str) -> None:
    assert time_bucket(waited) == bucket


def test_the_median_is_the_bucket_that_holds_the_middle_notice() -> None:
    assert median_bucket({}) is None
    assert median_bucket({"lt_1h": 1}) == TimeBucket("lt_1h", 900, 3600)
    # five notices: the third is in lt_3h
    assert median_bucket({"lt_5m": 2, "lt_3h": 1, "lt_7d": 2}) == TimeBucket("lt_3h", 3600, 10800)
    # four: the lower of the two middle ones (the second) decides
    assert median_bucket({"lt_5m": 2, "ge_30d": 2}) == TimeBucket("lt_5m", 0, 300)
    assert median_bucket({"ge_30d": 3}) == TimeBucket("ge_30d", 30 * 86400, None)
    assert TIME_BUCKETS[-1] == ("ge_30d", None)


def test_notices_count_by_category_source_outcome_automation_and_time_bucket() -> None:
    assert notice_received_increments("csam", "trusted_flagger") == [
        Increment("notices_received", "csam", source="trusted_flagger")
    ]
    assert notice_decided_increments(
        "fraud", "notice", "no_action", "not_automated", timedelta(hours=30)
    ) == [Increment("notices_decided:lt_48h", "fraud", "no_action", "notice", automated="not_automated")]


@pytest.mark.parametrize(
    ("state", "metric"),
    [
        (OrderState.RECEIVED, "orders_received"),
        (OrderState.EXECUTED, "orders_executed"),
        (OrderState.PARTIALLY_EXECUTED, "orders_partially_executed"),
        (OrderState.REFUSED, "orders_refused:fundamental_rights"),
        (OrderState.ANSWERED, "orders_answered:late"),
    ],
)
def test_orders_count_by_country_type_and_category_as_they_move(state: OrderState, metric: str) -> None:
    assert order_increments(state, "FR", "dsa_art9", "hate_speech", "fundamental_rights", True) == [
        Increment(metric, "hate_speech", "dsa_art9", territory="FR")
    ]


def test_orders_in_between_states_add_nothing_and_answers_in_time_are_on_time() -> None:
    for state in (OrderState.VERIFIED, OrderState.IN_LEGAL_REVIEW, OrderState.AWAITING_CLARIFICATION):
        assert order_increments(state, "DE", "tco_removal", "terrorism", None, None) == []
    assert order_increments(OrderState.ANSWERED, "DE", "dsa_art10", None, None, False) == [
        Increment("orders_answered:on_time", "unspecified", "dsa_art10", territory="DE")
    ]


def test_appeals_count_by_the_appealed_decision_and_their_outcome() -> None:
    assert appeal_increments(None, "spam", "fully") == [Increment("appeals_filed", "spam", automated="fully")]
    assert appeal_increments("overturned", None, "not_automated") == [
        Increment("appeals_decided:overturned", "unspecified", automated="not_automated")
    ]


def test_an_event_counts_on_its_utc_day() -> None:
    assert day_of(datetime(2026, 3, 14, 23, 30, tzinfo=UTC)) == "2026-03-14"
    # half past midnight in Paris is still the evening before in UTC
    assert day_of(datetime(2026, 3, 15, 0, 30, tzinfo=ZoneInfo("Europe/Paris"))) == "2026-03-14"


def test_days_are_read_only_as_yyyy_mm_dd() -> None:
    assert parse_day("2026-03-14") == date(2026, 3, 14)
    for bad in ("2026-02-30", "20260314", "2026-W11-6", "14/03/2026", "", "2026-03-14T00:00"):
        with pytest.raises(ValueError, match="YYYY-MM-DD"):
            parse_day(bad)


def counters(increments: list[Increment]) -> list[CounterRow]:
    return [CounterRow(*i.key, value=i.value) for i in summed(increments)]


def test_a_day_reads_back_with_its_totals_shares_median_and_overturn_rate() -> None:
    events = [
        *decision_increments(restricting(Action.REMOVE), None),
        *decision_increments(restricting(Action.REMOVE), None),
        *decision_increments(restricting(Action.REMOVE, automated=AutomatedDecision.PARTIALLY), None),
        *decision_increments(restricting(Action.DEMOTE, automated=AutomatedDecision.NOT_AUTOMATED), None),
        *notice_received_increments("csam", "trusted_flagger"),
        *notice_received_increments("fraud", "notice"),
        *notice_decided_increments("csam", "trusted_flagger", "remove", "fully", timedelta(minutes=2)),
        *notice_decided_increments("fraud", "notice", "no_action", "not_automated", timedelta(hours=50)),
        *notice_decided_increments("fraud", "notice", "no_action", "not_automated", timedelta(hours=51)),
        *order_increments(OrderState.ANSWERED, "FR", "tco_removal", "terrorism", None, True),
        *order_increments(OrderState.ANSWERED, "FR", "tco_removal", "terrorism", None, False),
        *order_increments(OrderState.REFUSED, "PL", "dsa_art9", "hate_speech", "not_illegal", None),
        *appeal_increments("overturned", "spam", "fully"),
        *appeal_increments("upheld", "spam", "fully"),
        *appeal_increments("upheld", "spam", "not_automated"),
        *appeal_increments("changed", "fraud", "fully"),
    ]

    figures = figures_from_counters(date(2026, 3, 14), counters(events))
    summary = figures.summary

    assert summary.restrictive_decisions == 4
    assert summary.fully_automated_restrictive_decisions == 2
    assert summary.automated_share == 0.5
    assert (summary.notices_received, summary.notices_received_from_trusted_flaggers) == (2, 1)
    assert summary.notices_decided == 3
    assert summary.median_time_to_decision == TimeBucket("lt_72h", 48 * 3600, 72 * 3600)
    assert (summary.orders_answered, summary.orders_answered_late, summary.orders_refused) == (2, 1, 1)
    assert [(r.country, r.ground) for r in figures.breakdowns.orders_refused] == [("PL", "not_illegal")]
    assert (summary.appeals_decided, summary.appeals_overturned, summary.overturn_rate) == (4, 1, 0.25)
    # the breakdown is ordered by its columns, the time buckets by time, not by name
    assert [n.time_to_decision for n in figures.breakdowns.notices_decided] == ["lt_5m", "lt_72h"]


def test_an_empty_day_has_no_shares_rather_than_a_division_by_zero() -> None:
    summary = figures_from_counters(date(2026, 3, 14), []).summary
    assert (summary.automated_share, summary.overturn_rate, summary.median_time_to_decision) == (
        None,
        None,
        None,
    )
    assert summary.restrictive_decisions == 0


def test_a_metric_this_version_does_not_know_is_left_out() -> None:
    known = counters(notice_received_increments("csam", "notice"))
    figures = figures_from_counters(
        date(2026, 3, 14), [*known, CounterRow("from_the_future", "", "", "", "", "", 9)]
    )
    assert figures.summary.notices_received == 1


def test_the_csv_has_one_row_per_count_with_the_columns_of_its_figure() -> None:
    events = [
        *decision_increments(restricting(Action.GEO_RESTRICT, scope=TerritorialScope.of(["DE"])), None),
        *order_increments(OrderState.ANSWERED, "FR", "tco_removal", "terrorism", None, True),
    ]
    rows = list(
        csv.DictReader(io.StringIO(to_csv(figures_from_counters(date(2026, 3, 14), counters(events)))))
    )

    assert [(r["figure"], r["count"]) for r in rows] == [
        ("restrictive", "1"),
        ("restrictive_by_territory", "1"),
        ("orders_answered", "1"),
    ]
    assert rows[1]["territory"] == "DE"
    assert (rows[2]["country"], rows[2]["type"], rows[2]["late"], rows[2]["territory"]) == (
        "FR",
        "tco_removal",
        "yes",
        "",
    )
    assert {r["date"] for r in rows} == {"2026-03-14"}
