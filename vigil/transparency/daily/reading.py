"""The figures read back from the counters: of a day, of a period (added up in the database), and the
trend of restrictive decisions."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import asdict
from datetime import date, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.orm import Session

from vigil.domain.decisions import (
    AutomatedDecision,
)
from vigil.store import daily as counter_store
from vigil.store.daily import CounterRow
from vigil.store.tables import DailyCounter
from vigil.transparency.daily.figures import (
    AccountMeasures,
    AppealsDecided,
    AppealsFiled,
    Breakdowns,
    DailyFigures,
    Lifted,
    NoticesDecided,
    NoticesReceived,
    Orders,
    OrdersAnswered,
    OrdersRefused,
    PeriodFigures,
    Restrictive,
    RestrictiveInTerritory,
    TrendDay,
)
from vigil.transparency.daily.increments import _BUCKET_ORDER, Figure

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
