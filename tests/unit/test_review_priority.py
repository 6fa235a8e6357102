"""Case priority: harm, audience, who is waiting and how soon it is due, added up to 0..1000."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from vigil.domain.cases import CaseReason, PriorityFacts
from vigil.domain.decisions import Source
from vigil.domain.taxonomy import Category
from vigil.review.priority import SEVERITY, priority, standing_priority

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def case(
    category: Category | None = None,
    source: Source = Source.VOLUNTARY,
    reason: CaseReason = CaseReason.REVIEW_BEFORE,
    reach: int = 0,
    due_in: timedelta | None = None,
) -> PriorityFacts:
    return PriorityFacts(
        category=category,
        source=source.value,
        reason=reason,
        reach=reach,
        deadline=None if due_in is None else NOW + due_in,
    )


def severity(category: Category | None) -> int:
    return -1 if category is None else SEVERITY[category]


categories = st.sampled_from([None, *Category])
reaches = st.integers(min_value=-1000, max_value=10**15)
time_left = st.timedeltas(min_value=timedelta(days=-400), max_value=timedelta(days=400))
cases = st.builds(
    PriorityFacts,
    category=categories,
    source=st.sampled_from([s.value for s in Source]) | st.text(max_size=20),
    reason=st.sampled_from(CaseReason),
    reach=reaches,
    deadline=st.none() | time_left.map(lambda left: NOW + left),
)


# --- the documented table ------------------------------------------------------------------------


def test_severity_covers_every_category_with_child_abuse_highest_and_spam_lowest() -> None:
    assert set(SEVERITY) == set(Category)
    ranked = sorted(SEVERITY, key=SEVERITY.__getitem__, reverse=True)
    assert ranked == [
        Category.CSAM,
        Category.GROOMING,
        Category.TERRORISM,
        Category.NCII,
        Category.HATE_SPEECH,
        Category.DRUGS,
        Category.FRAUD,
        Category.ADULT_NUDITY,
        Category.SPAM,
    ]
    assert SEVERITY[Category.CSAM] == SEVERITY[Category.GROOMING]
    assert priority(case(Category.SPAM), NOW) > priority(case(None), NOW) == 0


@pytest.mark.parametrize(
    ("due_in", "points"),
    [
        (timedelta(days=1), 23),
        (timedelta(hours=6), 75),
        (timedelta(hours=2), 150),
        (timedelta(hours=1), 200),
        (timedelta(minutes=30), 240),
        (timedelta(0), 300),
        (timedelta(days=-3), 300),
    ],
)
def test_the_deadline_adds_points_along_the_documented_curve(due_in: timedelta, points: int) -> None:
    assert priority(case(due_in=due_in), NOW) == points


@pytest.mark.parametrize(("reach", "points"), [(0, 0), (9, 25), (999, 75), (999_999, 150), (10**12, 150)])
def test_reach_adds_25_points_for_every_tenfold_audience_up_to_a_million(reach: int, points: int) -> None:
    assert priority(case(reach=reach), NOW) == points


def test_sources_rank_authority_order_then_trusted_flagger_then_notice_then_voluntary() -> None:
    ranked = [
        priority(case(source=source), NOW)
        for source in (Source.AUTHORITY_ORDER, Source.TRUSTED_FLAGGER, Source.NOTICE, Source.VOLUNTARY)
    ]
    assert ranked == [250, 150, 80, 0]


def test_an_appeal_counts_as_a_user_notice_whatever_brought_the_content() -> None:
    notice = priority(case(Category.FRAUD, Source.NOTICE, CaseReason.NOTICE, reach=500), NOW)
    for source in Source:
        assert priority(case(Category.FRAUD, source, CaseReason.APPEAL, reach=500), NOW) == notice


def test_a_one_hour_terrorist_removal_order_starts_far_above_any_detection() -> None:
    order = priority(case(Category.TERRORISM, Source.AUTHORITY_ORDER, due_in=timedelta(hours=1)), NOW)
    worst_detection = priority(case(Category.CSAM, reach=10**9), NOW)

    assert (order, worst_detection) == (710, 450)


def test_a_user_report_of_abuse_material_outranks_an_authority_order_about_spam_until_it_is_nearly_due() -> (
    None
):
    abuse_report = priority(case(Category.CSAM, Source.NOTICE, CaseReason.NOTICE), NOW)

    def spam_order(due_in: timedelta) -> int:
        return priority(case(Category.SPAM, Source.AUTHORITY_ORDER, CaseReason.NOTICE, due_in=due_in), NOW)

    assert abuse_report > spam_order(timedelta(days=1))
    assert abuse_report > spam_order(timedelta(hours=5))
    assert abuse_report < spam_order(timedelta(hours=4))


def test_unknown_sources_count_as_voluntary() -> None:
    unknown = PriorityFacts(Category.DRUGS, "carrier pigeon", CaseReason.NOTICE, 10, None)
    assert priority(unknown, NOW) == priority(case(Category.DRUGS, reach=10), NOW)


def test_naive_times_are_refused() -> None:
    naive = datetime(2026, 3, 1, 12, 0)
    with pytest.raises(ValueError, match="now must be a timezone-aware"):
        priority(case(), naive)
    with pytest.raises(ValueError, match="deadline must be a timezone-aware"):
        priority(replace(case(), deadline=naive), NOW)


def test_time_zones_do_not_change_the_priority() -> None:
    berlin = timezone(timedelta(hours=1))
    facts = case(Category.NCII, Source.NOTICE, reach=40, due_in=timedelta(hours=3))
    assert priority(facts, NOW.astimezone(berlin)) == priority(facts, NOW)


# --- properties ----------------------------------------------------------------------------------


@given(cases)
def test_priority_is_between_0_and_1000(facts: PriorityFacts) -> None:
    assert 0 <= priority(facts, NOW) <= 1000


@given(cases, categories, categories)
def test_priority_never_falls_as_severity_rises(
    facts: PriorityFacts, a: Category | None, b: Category | None
) -> None:
    lower, higher = sorted((a, b), key=severity)
    assert priority(replace(facts, category=lower), NOW) <= priority(replace(facts, category=higher), NOW)


@given(cases, reaches, reaches)
def test_priority_never_falls_as_reach_grows(facts: PriorityFacts, a: int, b: int) -> None:
    smaller, larger = sorted((a, b))
    assert priority(replace(facts, reach=smaller), NOW) <= priority(replace(facts, reach=larger), NOW)


@given(cases, time_left, time_left)
def test_priority_never_falls_as_the_deadline_comes_closer(
    facts: PriorityFacts, a: timedelta, b: timedelta
) -> None:
    sooner, later = sorted((a, b))
    assert priority(replace(facts, deadline=NOW + later), NOW) <= priority(
        replace(facts, deadline=NOW + sooner), NOW
    )
    assert priority(replace(facts, deadline=None), NOW) <= priority(replace(facts, deadline=NOW + later), NOW)


@given(cases, st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=400)), time_left)
def test_an_overdue_case_ranks_at_least_as_high_as_one_due_later(
    facts: PriorityFacts, overdue_by: timedelta, left: timedelta
) -> None:
    overdue = replace(facts, deadline=NOW - overdue_by)
    assert priority(overdue, NOW) >= priority(replace(facts, deadline=NOW + left), NOW)


@given(
    order_category=categories,
    order_reach=reaches,
    due_in=st.timedeltas(min_value=timedelta(0), max_value=timedelta(minutes=30)),
    finding_category=categories,
    finding_reach=reaches,
    finding_reason=st.sampled_from([r for r in CaseReason if r is not CaseReason.APPEAL]),
)
# the closest call: an uncategorised order with no audience, against a widely seen child-abuse finding
@example(
    order_category=None,
    order_reach=0,
    due_in=timedelta(minutes=30),
    finding_category=Category.CSAM,
    finding_reach=10**9,
    finding_reason=CaseReason.REVIEW_BEFORE,
)
def test_an_authority_order_due_within_30_minutes_outranks_every_voluntary_finding(
    order_category: Category | None,
    order_reach: int,
    due_in: timedelta,
    finding_category: Category | None,
    finding_reach: int,
    finding_reason: CaseReason,
) -> None:
    order = case(order_category, Source.AUTHORITY_ORDER, CaseReason.NOTICE, order_reach, due_in)
    finding = case(finding_category, Source.VOLUNTARY, finding_reason, finding_reach)

    assert priority(order, NOW) > priority(finding, NOW)


@given(cases)
def test_sources_rank_in_the_documented_order_whatever_else_is_true(facts: PriorityFacts) -> None:
    not_an_appeal = replace(facts, reason=CaseReason.NOTICE)
    ranked = [
        priority(replace(not_an_appeal, source=source.value), NOW)
        for source in (Source.VOLUNTARY, Source.NOTICE, Source.TRUSTED_FLAGGER, Source.AUTHORITY_ORDER)
    ]
    assert ranked == sorted(ranked)


@given(
    category=st.sampled_from([None, *Category]),
    source=st.sampled_from(["voluntary", "notice", "trusted_flagger", "authority_order"]),
    reason=st.sampled_from(list(CaseReason)),
    reach=st.integers(min_value=0, max_value=10**12),
)
def test_the_stored_standing_priority_is_the_priority_of_a_case_without_a_deadline(
    category: Category | None, source: str, reason: CaseReason, reach: int
) -> None:
    facts = PriorityFacts(category, source, reason, reach, None)
    assert standing_priority(facts) == priority(facts, datetime(2026, 11, 23, tzinfo=UTC))
