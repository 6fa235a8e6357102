"""What each event adds to its day's counters: the figures' metrics, the buckets of the time to
decision, and one pure function per kind of event. No I/O."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum

from vigil.domain.decisions import (
    OUTCOME_ACTIONS,
    Action,
    Decision,
)
from vigil.domain.jurisdictions import TerritorialScope
from vigil.domain.orders import OrderState
from vigil.store.daily import Increment

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
