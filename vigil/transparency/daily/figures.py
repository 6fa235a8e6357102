"""The figures as published: one row type per breakdown, a day's and a period's totals, a day of the
trend."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import date
from typing import Any

from pydantic import TypeAdapter

from vigil.domain.decisions import (
    AutomatedDecision,
)
from vigil.transparency.daily.increments import TimeBucket, median_bucket


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


@dataclass(frozen=True, slots=True)
class PeriodFigures:
    """The figures of the UTC days ``first`` to ``last`` (both included): every counter of those
    days added up. Counts add up over days and so do the buckets of the time to decision, so the
    period's median bucket is read from them as a day's is."""

    first: date
    last: date
    summary: Summary
    breakdowns: Breakdowns


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
