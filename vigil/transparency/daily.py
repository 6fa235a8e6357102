"""The daily public figures, kept as counters while things happen.

A day (UTC) is published as counts only: how many items were actioned, accounts suspended, channels
banned, restrictions lifted, notices received and decided, orders received and answered, appeals
filed and decided, broken down by closed vocabularies (category, action, source, territory,
automation, order type, refusal ground, outcome). Never an id, a name or a text: the figures are
public.

Summing a day's decisions when someone asks would mean scanning a million rows; so every event adds
to its day's counters in its own transaction instead (``vigil.store.daily``), and a day is read back
from a few hundred counters. What an event adds is decided here, by pure functions of the event
(:func:`decision_increments`, :func:`notice_decided_increments` ...); the same functions applied to
the source tables give :func:`recompute`, which checks the counters and repairs them after a bug
(``vigil report daily --rebuild``).

How the figures lie in :class:`~vigil.store.tables.DailyCounter`: each figure is a metric, and its
breakdown uses the columns that bear its name (for orders, ``territory`` is the issuing authority's
country and ``action`` the order type). What a figure is broken down by beyond those columns (a
notice's time to decision, a refusal's ground, whether an answer was late, an appeal's outcome)
follows the metric's name after a colon: ``orders_refused:manifest_error``. ``docs/transparency.md``
says exactly what each figure counts.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, fields
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from itertools import chain
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session

from vigil.domain.decisions import (
    OUTCOME_ACTIONS,
    Action,
    AutomatedDecision,
    Decision,
    decision_from_json,
)
from vigil.domain.jurisdictions import TerritorialScope
from vigil.domain.orders import OrderState
from vigil.store import daily as counter_store
from vigil.store.audit import AuditLog
from vigil.store.content import NewDecision, StoredDecision
from vigil.store.daily import CounterRow, Increment
from vigil.store.tables import Appeal, DailyCounter, DecisionRecord, Notice, Order, OrderEvent

# a figure broken down by category, for what has none (an order to provide information, say)
UNSPECIFIED = "unspecified"
GLOBAL_TERRITORY = "global"
_RESTRICTIONS = frozenset(OUTCOME_ACTIONS)


class Figure(StrEnum):
    """The figures of a day, as the metrics their counters are kept under."""

    RESTRICTIVE = "restrictive"
    RESTRICTIVE_TERRITORY = "restrictive_territory"
    ACCOUNTS_SUSPENDED = "accounts_suspended"
    CHANNELS_BANNED = "channels_banned"
    RESTRICTIONS_LIFTED = "restrictions_lifted"
    NOTICES_RECEIVED = "notices_received"
    NOTICES_DECIDED = "notices_decided"  # :time bucket
    ORDERS_RECEIVED = "orders_received"
    ORDERS_EXECUTED = "orders_executed"
    ORDERS_PARTIALLY_EXECUTED = "orders_partially_executed"
    ORDERS_REFUSED = "orders_refused"  # :refusal ground
    ORDERS_ANSWERED = "orders_answered"  # :late or :on_time
    APPEALS_FILED = "appeals_filed"
    APPEALS_DECIDED = "appeals_decided"  # :outcome


def _metric(figure: Figure, detail: str) -> str:
    return f"{figure.value}:{detail}"


# --- time to decision -----------------------------------------------------------------------------

# Medians do not add up: the median of a week is not computed from the medians of its days. So each
# notice decided is counted in a bucket of its time to decision, on a roughly logarithmic scale
# (finer where the deadlines are: a trusted flagger's 24 hours, anyone's 72), and the median is
# reported as the bucket that holds it. Bucket counts add up over any period and read in constant
# time; the price is that the median is known to the bucket, not to the second.
TIME_BUCKETS: tuple[tuple[str, int | None], ...] = (
    ("lt_5m", 5 * 60),
    ("lt_15m", 15 * 60),
    ("lt_1h", 3600),
    ("lt_3h", 3 * 3600),
    ("lt_6h", 6 * 3600),
    ("lt_12h", 12 * 3600),
    ("lt_24h", 24 * 3600),
    ("lt_48h", 48 * 3600),
    ("lt_72h", 72 * 3600),
    ("lt_7d", 7 * 86400),
    ("lt_30d", 30 * 86400),
    ("ge_30d", None),
)
_BUCKET_ORDER = {label: i for i, (label, _) in enumerate(TIME_BUCKETS)}


@dataclass(frozen=True, slots=True)
class TimeBucket:
    """A range of times to decision: from ``from_seconds`` (included) to ``to_seconds`` (excluded;
    None: no upper bound)."""

    label: str
    from_seconds: int
    to_seconds: int | None


def time_bucket(waited: timedelta) -> str:
    """The label of the bucket ``waited`` falls in (a negative time, from clock skew, in the first)."""
    seconds = waited.total_seconds()
    for label, upper in TIME_BUCKETS:
        if upper is None or seconds < upper:
            return label
    raise AssertionError("the last bucket has no upper bound")


def median_bucket(counts: Mapping[str, int]) -> TimeBucket | None:
    """The bucket that holds the median of the counted times (for an even count, the lower of the two
    middle ones); None when nothing was counted."""
    total = sum(counts.values())
    if total == 0:
        return None
    middle = (total + 1) // 2
    seen, lower = 0, 0
    for label, upper in TIME_BUCKETS:
        seen += counts.get(label, 0)
        if seen >= middle:
            return TimeBucket(label, lower, upper)
        lower = upper or lower
    raise AssertionError("the buckets cover every count")


# --- what each event adds (pure) ----------------------------------------------------------------


_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def parse_day(text: str) -> date:
    """A day written ``YYYY-MM-DD``; ValueError, saying what is accepted, for anything else."""
    if _DAY.fullmatch(text):
        try:
            return date.fromisoformat(text)
        except ValueError:
            pass
    raise ValueError(f"a day is a calendar date written YYYY-MM-DD, not {text[:40]!r}")


def day_of(moment: datetime) -> str:
    """The UTC day an event counts on, as the counters name it (``YYYY-MM-DD``)."""
    return moment.astimezone(UTC).date().isoformat()


def _category(value: str | None) -> str:
    return str(value) if value else UNSPECIFIED  # a Category's text, not the enum member


def _restrictions(decision: Decision | None) -> frozenset[Action]:
    return decision.actions & _RESTRICTIONS if decision is not None else frozenset()


def _territories(scope: TerritorialScope) -> list[str]:
    return [GLOBAL_TERRITORY] if scope.countries is None else sorted(scope.countries)


def decision_increments(decision: Decision, previous: Decision | None) -> list[Increment]:
    """What a decision adds to its day, given the decision it replaces on the item (if any).

    A decision is *restrictive* (an item actioned) when it puts restrictions in force that differ
    from those in force before: the first restriction of an item, or a different one (other actions,
    or another territory). A reviewer confirming a restriction changes nothing and adds nothing. It
    counts once under its outcome (the most telling action) and once in each territory it applies
    in. Accounts suspended and channels banned count when the suspension or ban is new. A decision
    that leaves no restriction where one was in force *lifts* it, counted under the category of
    what was lifted.
    """
    after, before = _restrictions(decision), _restrictions(previous)
    automated = decision.automated_decision.value
    increments: list[Increment] = []
    changed = previous is None or after != before or previous.territorial_scope != decision.territorial_scope
    if after and changed:
        category, action, source = _category(decision.category), decision.outcome, decision.source.value
        increments.append(Increment(Figure.RESTRICTIVE.value, category, action, source, "", automated))
        increments += [
            Increment(Figure.RESTRICTIVE_TERRITORY.value, category, action, source, territory, automated)
            for territory in _territories(decision.territorial_scope)
        ]
        for measure, figure in (
            (Action.SUSPEND_ACCOUNT, Figure.ACCOUNTS_SUSPENDED),
            (Action.BAN_CHANNEL, Figure.CHANNELS_BANNED),
        ):
            if measure in after - before:
                increments.append(Increment(figure.value, category, "", source, "", automated))
    if before and not after:
        assert previous is not None
        increments.append(
            Increment(Figure.RESTRICTIONS_LIFTED.value, _category(previous.category), automated=automated)
        )
    return increments


def notice_received_increments(category: str, source: str) -> list[Increment]:
    """A notice received: by the category alleged and its source (``notice`` or ``trusted_flagger``)."""
    return [Increment(Figure.NOTICES_RECEIVED.value, category, source=source)]


def notice_decided_increments(
    category: str, source: str, outcome: str, automated: str, waited: timedelta
) -> list[Increment]:
    """A notice answered: by the category alleged, its source, the outcome of the decision that
    answered it, how automated that decision was, and the bucket of its time to decision."""
    metric = _metric(Figure.NOTICES_DECIDED, time_bucket(waited))
    return [Increment(metric, category, outcome, source, automated=automated)]


def order_increments(
    state: OrderState,
    country: str,
    order_type: str,
    category: str | None,
    refusal_ground: str | None,
    late: bool | None,
) -> list[Increment]:
    """What an order entering ``state`` adds: received, executed, partially executed, refused (by
    ground) or answered (late or on time), by the authority's country, the order type and the category
    of illegal content it names. The states in between add nothing."""
    metric = {
        OrderState.RECEIVED: Figure.ORDERS_RECEIVED.value,
        OrderState.EXECUTED: Figure.ORDERS_EXECUTED.value,
        OrderState.PARTIALLY_EXECUTED: Figure.ORDERS_PARTIALLY_EXECUTED.value,
        OrderState.REFUSED: _metric(Figure.ORDERS_REFUSED, refusal_ground or UNSPECIFIED),
        OrderState.ANSWERED: _metric(Figure.ORDERS_ANSWERED, "late" if late else "on_time"),
    }.get(state)
    if metric is None:
        return []
    return [Increment(metric, _category(category), order_type, territory=country)]


def appeal_increments(
    outcome: str | None, appealed_category: str | None, appealed_automated: str
) -> list[Increment]:
    """An appeal filed (``outcome`` None) or decided (``upheld``, ``overturned``, ``changed``), by the
    category of the decision appealed and how automated that decision was (so that the share of
    automated decisions overturned on appeal can be read)."""
    metric = Figure.APPEALS_FILED.value if outcome is None else _metric(Figure.APPEALS_DECIDED, outcome)
    return [Increment(metric, _category(appealed_category), automated=appealed_automated)]


# --- counting, in the event's own transaction -------------------------------------------------------


def count_decision(
    session: Session, new: NewDecision, previous: StoredDecision | None, actor: str, now: datetime
) -> None:
    """The decision hook (``vigil.pipeline.accountability``): adds the decision to the day it was
    taken, in one statement, or does nothing when it adds nothing (most decisions find nothing)."""
    increments = decision_increments(new.decision, previous.decision if previous is not None else None)
    if increments:
        counter_store.add(session, day_of(now), increments)


def count_notice_received(session: Session, notice: Notice) -> None:
    """Count a notice on the day it was received."""
    counter_store.add(
        session, day_of(notice.received_at), notice_received_increments(notice.category, notice.source)
    )


def count_notice_decided(session: Session, notice: Notice, decision: Decision) -> None:
    """Count a notice on the day it was answered (``decided_at`` and ``outcome`` already set)."""
    assert notice.decided_at is not None
    assert notice.outcome is not None
    counter_store.add(
        session,
        day_of(notice.decided_at),
        notice_decided_increments(
            notice.category,
            notice.source,
            notice.outcome,
            decision.automated_decision.value,
            notice.decided_at - notice.received_at,
        ),
    )


def count_order(session: Session, order: Order, now: datetime) -> None:
    """Count what the order's new state adds (call it each time the state changes, and at receipt)."""
    increments = order_increments(
        OrderState(order.state), order.country, order.type, order.category, order.refusal_ground, order.late
    )
    if increments:
        counter_store.add(session, day_of(now), increments)


def _automation(decision: Mapping[str, Any]) -> str:
    return str(decision["automated_decision"])


def _count_appeal(session: Session, appeal: Appeal, outcome: str | None, at: datetime) -> None:
    appealed = session.get(DecisionRecord, appeal.decision_id)
    assert appealed is not None  # an appeal names a recorded decision (a foreign key)
    counter_store.add(
        session, day_of(at), appeal_increments(outcome, appealed.category, _automation(appealed.decision))
    )


def count_appeal_filed(session: Session, appeal: Appeal) -> None:
    """Count an appeal on the day it was filed."""
    _count_appeal(session, appeal, None, appeal.received_at)


def count_appeal_decided(session: Session, appeal: Appeal) -> None:
    """Count an appeal on the day it was decided (``outcome`` and ``decided_at`` already set)."""
    assert appeal.outcome is not None
    assert appeal.decided_at is not None
    _count_appeal(session, appeal, appeal.outcome, appeal.decided_at)


# --- the figures of a day -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Restrictive:
    """Restrictive decisions (items actioned), by their outcome."""

    category: str
    action: str
    source: str
    automated: str
    count: int


@dataclass(frozen=True, slots=True)
class RestrictiveInTerritory:
    """Restrictive decisions in one territory: ``global`` or a country of a geo-restriction."""

    territory: str
    category: str
    action: str
    source: str
    automated: str
    count: int


@dataclass(frozen=True, slots=True)
class AccountMeasures:
    """Accounts suspended or channels banned."""

    category: str
    source: str
    automated: str
    count: int


@dataclass(frozen=True, slots=True)
class Lifted:
    """Restrictions lifted, by the category of what was lifted and the automation of the decision
    that lifted it."""

    category: str
    automated: str
    count: int


@dataclass(frozen=True, slots=True)
class NoticesReceived:
    category: str
    source: str
    count: int


@dataclass(frozen=True, slots=True)
class NoticesDecided:
    category: str
    source: str
    outcome: str
    automated: str
    time_to_decision: str
    count: int


@dataclass(frozen=True, slots=True)
class Orders:
    """Orders received, executed or partially executed."""

    country: str
    type: str
    category: str
    count: int


@dataclass(frozen=True, slots=True)
class OrdersRefused:
    country: str
    type: str
    category: str
    ground: str
    count: int


@dataclass(frozen=True, slots=True)
class OrdersAnswered:
    country: str
    type: str
    category: str
    late: bool
    count: int


@dataclass(frozen=True, slots=True)
class AppealsFiled:
    """Appeals filed, by the category and automation of the decision appealed."""

    category: str
    automated: str
    count: int


@dataclass(frozen=True, slots=True)
class AppealsDecided:
    category: str
    automated: str
    outcome: str
    count: int


@dataclass(frozen=True, slots=True)
class Summary:
    """A day's totals and the shares derived from them (None where there is nothing to divide by)."""

    restrictive_decisions: int
    fully_automated_restrictive_decisions: int
    automated_share: float | None
    accounts_suspended: int
    channels_banned: int
    restrictions_lifted: int
    notices_received: int
    notices_received_from_trusted_flaggers: int
    notices_decided: int
    median_time_to_decision: TimeBucket | None
    orders_received: int
    orders_executed: int
    orders_partially_executed: int
    orders_refused: int
    orders_answered: int
    orders_answered_late: int
    appeals_filed: int
    appeals_decided: int
    appeals_overturned: int
    overturn_rate: float | None


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _total(rows: Iterable[Any]) -> int:
    return sum(row.count for row in rows)


@dataclass(frozen=True, slots=True)
class Breakdowns:
    """Every figure of a day, broken down; the counts of a breakdown add up to the figure's total."""

    restrictive: tuple[Restrictive, ...]
    restrictive_by_territory: tuple[RestrictiveInTerritory, ...]
    accounts_suspended: tuple[AccountMeasures, ...]
    channels_banned: tuple[AccountMeasures, ...]
    restrictions_lifted: tuple[Lifted, ...]
    notices_received: tuple[NoticesReceived, ...]
    notices_decided: tuple[NoticesDecided, ...]
    orders_received: tuple[Orders, ...]
    orders_executed: tuple[Orders, ...]
    orders_partially_executed: tuple[Orders, ...]
    orders_refused: tuple[OrdersRefused, ...]
    orders_answered: tuple[OrdersAnswered, ...]
    appeals_filed: tuple[AppealsFiled, ...]
    appeals_decided: tuple[AppealsDecided, ...]

    def items(self) -> list[tuple[str, tuple[Any, ...]]]:
        """Each breakdown with its published name, in order."""
        return [(f.name, getattr(self, f.name)) for f in fields(self)]


def summarise(b: Breakdowns) -> Summary:
    """The totals of the breakdowns, and the shares derived from them."""
    restrictive = _total(b.restrictive)
    fully = _total(r for r in b.restrictive if r.automated == AutomatedDecision.FULLY.value)
    times: Counter[str] = Counter()
    for notice in b.notices_decided:
        times[notice.time_to_decision] += notice.count
    decided = _total(b.appeals_decided)
    overturned = _total(a for a in b.appeals_decided if a.outcome == "overturned")
    return Summary(
        restrictive_decisions=restrictive,
        fully_automated_restrictive_decisions=fully,
        automated_share=_share(fully, restrictive),
        accounts_suspended=_total(b.accounts_suspended),
        channels_banned=_total(b.channels_banned),
        restrictions_lifted=_total(b.restrictions_lifted),
        notices_received=_total(b.notices_received),
        notices_received_from_trusted_flaggers=_total(
            n for n in b.notices_received if n.source == "trusted_flagger"
        ),
        notices_decided=_total(b.notices_decided),
        median_time_to_decision=median_bucket(times),
        orders_received=_total(b.orders_received),
        orders_executed=_total(b.orders_executed),
        orders_partially_executed=_total(b.orders_partially_executed),
        orders_refused=_total(b.orders_refused),
        orders_answered=_total(b.orders_answered),
        orders_answered_late=_total(o for o in b.orders_answered if o.late),
        appeals_filed=_total(b.appeals_filed),
        appeals_decided=decided,
        appeals_overturned=overturned,
        overturn_rate=_share(overturned, decided),
    )


@dataclass(frozen=True, slots=True)
class DailyFigures:
    """The published figures of one UTC day: its totals and every breakdown."""

    day: date
    summary: Summary
    breakdowns: Breakdowns

    @classmethod
    def of(cls, day: date, breakdowns: Breakdowns) -> DailyFigures:
        return cls(day, summarise(breakdowns), breakdowns)

    def to_json(self) -> dict[str, Any]:
        """The figures as JSON-ready data, exactly as ``GET /v1/transparency/daily`` publishes them."""
        data: dict[str, Any] = _AS_JSON.dump_python(self, mode="json")
        return data


_AS_JSON = TypeAdapter(DailyFigures)

# how each stored counter becomes a row of a breakdown: (figure, row from the counter and its detail)
_Reader = Callable[[CounterRow, str], Any]
_READERS: dict[str, tuple[str, _Reader]] = {
    Figure.RESTRICTIVE: (
        "restrictive",
        lambda c, _: Restrictive(c.category, c.action, c.source, c.automated, c.value),
    ),
    Figure.RESTRICTIVE_TERRITORY: (
        "restrictive_by_territory",
        lambda c, _: RestrictiveInTerritory(
            c.territory, c.category, c.action, c.source, c.automated, c.value
        ),
    ),
    Figure.ACCOUNTS_SUSPENDED: (
        "accounts_suspended",
        lambda c, _: AccountMeasures(c.category, c.source, c.automated, c.value),
    ),
    Figure.CHANNELS_BANNED: (
        "channels_banned",
        lambda c, _: AccountMeasures(c.category, c.source, c.automated, c.value),
    ),
    Figure.RESTRICTIONS_LIFTED: (
        "restrictions_lifted",
        lambda c, _: Lifted(c.category, c.automated, c.value),
    ),
    Figure.NOTICES_RECEIVED: (
        "notices_received",
        lambda c, _: NoticesReceived(c.category, c.source, c.value),
    ),
    Figure.NOTICES_DECIDED: (
        "notices_decided",
        lambda c, bucket: NoticesDecided(c.category, c.source, c.action, c.automated, bucket, c.value),
    ),
    Figure.ORDERS_RECEIVED: (
        "orders_received",
        lambda c, _: Orders(c.territory, c.action, c.category, c.value),
    ),
    Figure.ORDERS_EXECUTED: (
        "orders_executed",
        lambda c, _: Orders(c.territory, c.action, c.category, c.value),
    ),
    Figure.ORDERS_PARTIALLY_EXECUTED: (
        "orders_partially_executed",
        lambda c, _: Orders(c.territory, c.action, c.category, c.value),
    ),
    Figure.ORDERS_REFUSED: (
        "orders_refused",
        lambda c, ground: OrdersRefused(c.territory, c.action, c.category, ground, c.value),
    ),
    Figure.ORDERS_ANSWERED: (
        "orders_answered",
        lambda c, late: OrdersAnswered(c.territory, c.action, c.category, late == "late", c.value),
    ),
    Figure.APPEALS_FILED: ("appeals_filed", lambda c, _: AppealsFiled(c.category, c.automated, c.value)),
    Figure.APPEALS_DECIDED: (
        "appeals_decided",
        lambda c, outcome: AppealsDecided(c.category, c.automated, outcome, c.value),
    ),
}


def _sort_key(row: Any) -> tuple[Any, ...]:
    values = asdict(row)
    if "time_to_decision" in values:
        values["time_to_decision"] = _BUCKET_ORDER.get(values["time_to_decision"], len(_BUCKET_ORDER))
    return tuple(v for k, v in values.items() if k != "count")


def figures_from_counters(day: date, counters: Iterable[CounterRow]) -> DailyFigures:
    """A day's figures from its counters (a metric this version does not know is left out)."""
    rows: dict[str, list[Any]] = {name: [] for name, _ in _READERS.values()}
    for counter in counters:
        figure, _, detail = counter.metric.partition(":")
        reader = _READERS.get(figure)
        if reader is not None and counter.value:
            name, read = reader
            rows[name].append(read(counter, detail))
    return DailyFigures.of(
        day, Breakdowns(**{name: tuple(sorted(found, key=_sort_key)) for name, found in rows.items()})
    )


def figures_of_day(session: Session, day: date) -> DailyFigures:
    """The day's figures, read from its counters."""
    return figures_from_counters(day, counter_store.counters_of_day(session, day.isoformat()))


# --- periods: the counters of several days added up ------------------------------------------------


@dataclass(frozen=True, slots=True)
class PeriodFigures:
    """The figures of the UTC days ``first`` to ``last`` (both included): every counter of those
    days added up. Counts add up over days and so do the buckets of the time to decision, so the
    period's median bucket is read from them as a day's is."""

    first: date
    last: date
    summary: Summary
    breakdowns: Breakdowns


def _days(first: date, last: date) -> ColumnElement[bool]:
    # the days are ISO strings, which sort as the dates do
    return and_(DailyCounter.day >= first.isoformat(), DailyCounter.day <= last.isoformat())


def figures_of_period(session: Session, first: date, last: date) -> PeriodFigures:
    """The figures of the days ``first`` to ``last``, added up in the database (one query, over the
    counters' primary key, which starts with the day)."""
    key = [getattr(DailyCounter, column) for column in counter_store.KEY_COLUMNS]
    rows = session.execute(
        select(*key, func.sum(DailyCounter.value)).where(_days(first, last)).group_by(*key)
    )
    # PostgreSQL sums a bigint to a numeric
    counters = (CounterRow(r[0], r[1], r[2], r[3], r[4], r[5], int(r[6])) for r in rows)
    figures = figures_from_counters(first, counters)
    return PeriodFigures(first, last, figures.summary, figures.breakdowns)


@dataclass(frozen=True, slots=True)
class TrendDay:
    """One day of the trend of restrictive decisions."""

    day: date
    restrictive_decisions: int
    fully_automated: int

    @property
    def automated_share(self) -> float | None:
        """The share of the day's restrictive decisions taken fully by automated means (None: none)."""
        return _share(self.fully_automated, self.restrictive_decisions)


def restrictive_trend(session: Session, first: date, last: date) -> list[TrendDay]:
    """Each day from ``first`` to ``last``, in order, with its restrictive decisions and how many of
    them were fully automated (a day without any has zeros), in one query."""
    rows = session.execute(
        select(DailyCounter.day, DailyCounter.automated, func.sum(DailyCounter.value))
        .where(_days(first, last), DailyCounter.metric == Figure.RESTRICTIVE.value)
        .group_by(DailyCounter.day, DailyCounter.automated)
    )
    restrictive: Counter[str] = Counter()
    fully: Counter[str] = Counter()
    for day, automated, value in rows:
        restrictive[day] += int(value)
        if automated == AutomatedDecision.FULLY.value:
            fully[day] += int(value)
    days = (first + timedelta(days=n) for n in range((last - first).days + 1))
    return [TrendDay(d, restrictive[d.isoformat()], fully[d.isoformat()]) for d in days]


# --- the same figures from the source tables ----------------------------------------------------------


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """The day's first instant and the next day's, in UTC."""
    start = datetime.combine(day, time(), tzinfo=UTC)
    return start, start + timedelta(days=1)


def _decision_increments_of_day(session: Session, start: datetime, end: datetime) -> Iterable[Increment]:
    """Every decision of the day with the decision before it on the same item (which may be older)."""
    in_day = and_(DecisionRecord.created_at >= start, DecisionRecord.created_at < end)
    items = select(DecisionRecord.content_id).where(in_day, DecisionRecord.content_id.is_not(None))
    rows = session.execute(
        select(DecisionRecord.content_id, DecisionRecord.created_at, DecisionRecord.decision)
        .where(
            or_(
                and_(DecisionRecord.content_id.in_(items), DecisionRecord.created_at < end),
                and_(in_day, DecisionRecord.content_id.is_(None)),
            )
        )
        .order_by(DecisionRecord.content_id, DecisionRecord.created_at, DecisionRecord.id)
        .execution_options(yield_per=5000)
    )
    item: str | None = None
    previous: Decision | dict[str, Any] | None = None
    for content_id, created_at, raw in rows:
        if content_id is None or content_id != item:
            item, previous = content_id, None
        if created_at >= start:
            if isinstance(previous, dict):
                previous = decision_from_json(previous)
            decision = decision_from_json(raw)
            yield from decision_increments(decision, previous)
            previous = decision
        else:  # parsed only if a decision of the day follows it
            previous = raw


def _notice_increments_of_day(session: Session, start: datetime, end: datetime) -> Iterable[Increment]:
    received = session.execute(
        select(Notice.category, Notice.source).where(Notice.received_at >= start, Notice.received_at < end)
    )
    for category, source in received:
        yield from notice_received_increments(category, source)
    decided = session.execute(
        select(
            Notice.category,
            Notice.source,
            Notice.outcome,
            Notice.received_at,
            Notice.decided_at,
            DecisionRecord.decision,
        )
        .join(DecisionRecord, DecisionRecord.id == Notice.decision_id)
        .where(Notice.decided_at >= start, Notice.decided_at < end)
    )
    for category, source, outcome, received_at, decided_at, decision in decided:
        yield from notice_decided_increments(
            category, source, outcome, _automation(decision), decided_at - received_at
        )


def _order_increments_of_day(session: Session, start: datetime, end: datetime) -> Iterable[Increment]:
    received = session.execute(
        select(Order.country, Order.type, Order.category).where(
            Order.received_at >= start, Order.received_at < end
        )
    )
    for country, order_type, category in received:
        yield from order_increments(OrderState.RECEIVED, country, order_type, category, None, None)
    # an answered order's state says only "answered": how it was given effect is in its events
    moved = session.execute(
        select(OrderEvent.kind, Order.country, Order.type, Order.category, Order.refusal_ground)
        .join(Order, Order.id == OrderEvent.order_id)
        .where(
            OrderEvent.kind.in_(
                [OrderState.EXECUTED.value, OrderState.PARTIALLY_EXECUTED.value, OrderState.REFUSED.value]
            ),
            OrderEvent.at >= start,
            OrderEvent.at < end,
        )
    )
    for kind, country, order_type, category, ground in moved:
        yield from order_increments(OrderState(kind), country, order_type, category, ground, None)
    answered = session.execute(
        select(Order.country, Order.type, Order.category, Order.late).where(
            Order.answered_at >= start, Order.answered_at < end
        )
    )
    for country, order_type, category, late in answered:
        yield from order_increments(OrderState.ANSWERED, country, order_type, category, None, late)


def _appeal_increments_of_day(session: Session, start: datetime, end: datetime) -> Iterable[Increment]:
    appealed = (DecisionRecord.category, DecisionRecord.decision)
    filed = session.execute(
        select(*appealed)
        .join(Appeal, Appeal.decision_id == DecisionRecord.id)
        .where(Appeal.received_at >= start, Appeal.received_at < end)
    )
    for category, decision in filed:
        yield from appeal_increments(None, category, _automation(decision))
    decided = session.execute(
        select(Appeal.outcome, *appealed)
        .join(DecisionRecord, Appeal.decision_id == DecisionRecord.id)
        .where(Appeal.decided_at >= start, Appeal.decided_at < end)
    )
    for outcome, category, decision in decided:
        yield from appeal_increments(outcome, category, _automation(decision))


def recompute(session: Session, day: date) -> list[Increment]:
    """The day's counters derived from the decisions, notices, orders and appeals tables, by the
    same rules as the counting (slow: it reads every row of the day)."""
    start, end = day_bounds(day)
    return counter_store.summed(
        chain.from_iterable(
            source(session, start, end)
            for source in (
                _decision_increments_of_day,
                _notice_increments_of_day,
                _order_increments_of_day,
                _appeal_increments_of_day,
            )
        )
    )


def recomputed_figures(session: Session, day: date) -> DailyFigures:
    """The day's figures derived from the source tables, without touching its counters."""
    return figures_from_counters(day, (CounterRow(*i.key, value=i.value) for i in recompute(session, day)))


def rebuild(session: Session, day: date, actor: str, now: datetime) -> DailyFigures:
    """Replace the day's counters by what the source tables say (a repair after a bug), audited, in
    the caller's transaction; returns the day's figures as they now stand."""
    # the writer lock first: no event can then be counted between the reading and the replacing
    AuditLog(session).hold()
    before = {
        (c.metric, c.category, c.action, c.source, c.territory, c.automated): c.value
        for c in counter_store.counters_of_day(session, day.isoformat())
    }
    increments = recompute(session, day)
    after = {i.key: i.value for i in increments}
    counter_store.replace_day(session, day.isoformat(), increments)
    AuditLog(session).append(
        actor,
        "daily_figures.rebuilt",
        "daily_figures",
        day.isoformat(),
        {
            "counters_before": len(before),
            "counters_after": len(after),
            "counters_corrected": sum(
                1 for key in before.keys() | after.keys() if before.get(key) != after.get(key)
            ),
        },
        now,
    )
    return figures_of_day(session, day)


# --- as published --------------------------------------------------------------------------------

CSV_COLUMNS: tuple[str, ...] = (
    "date",
    "figure",
    "category",
    "action",
    "outcome",
    "source",
    "territory",
    "country",
    "type",
    "ground",
    "late",
    "time_to_decision",
    "automated",
    "count",
)


def to_csv(figures: DailyFigures) -> str:
    """The day's breakdowns as CSV, one row per count, each with the columns its figure is broken
    down by (the others empty); the totals are the sums of ``count`` per ``figure``."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for name, rows in figures.breakdowns.items():
        for row in rows:
            values = asdict(row)
            if "late" in values:
                values["late"] = "yes" if values["late"] else "no"
            writer.writerow({"date": figures.day.isoformat(), "figure": name, **values})
    return buffer.getvalue()
