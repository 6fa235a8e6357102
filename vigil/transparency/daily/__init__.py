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

One job a module: ``increments`` (what each event adds, pure), ``counting`` (the hooks that add
it, in the event's transaction), ``figures`` (the published types), ``reading`` (the figures from the
counters), ``recompute`` (the figures from the source tables) and ``published`` (CSV).
"""

from __future__ import annotations

from vigil.transparency.daily.counting import (
    count_appeal_decided,
    count_appeal_filed,
    count_decision,
    count_notice_decided,
    count_notice_received,
    count_order,
)
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
    Summary,
    TrendDay,
    summarise,
)
from vigil.transparency.daily.increments import (
    GLOBAL_TERRITORY,
    TIME_BUCKETS,
    UNSPECIFIED,
    Figure,
    TimeBucket,
    appeal_increments,
    day_of,
    decision_increments,
    median_bucket,
    notice_decided_increments,
    notice_received_increments,
    order_increments,
    parse_day,
    time_bucket,
)
from vigil.transparency.daily.published import CSV_COLUMNS, to_csv
from vigil.transparency.daily.reading import (
    figures_from_counters,
    figures_of_day,
    figures_of_period,
    restrictive_trend,
)
from vigil.transparency.daily.recompute import day_bounds, rebuild, recompute, recomputed_figures

__all__ = [
    "CSV_COLUMNS",
    "GLOBAL_TERRITORY",
    "TIME_BUCKETS",
    "UNSPECIFIED",
    "AccountMeasures",
    "AppealsDecided",
    "AppealsFiled",
    "Breakdowns",
    "DailyFigures",
    "Figure",
    "Lifted",
    "NoticesDecided",
    "NoticesReceived",
    "Orders",
    "OrdersAnswered",
    "OrdersRefused",
    "PeriodFigures",
    "Restrictive",
    "RestrictiveInTerritory",
    "Summary",
    "TimeBucket",
    "TrendDay",
    "appeal_increments",
    "count_appeal_decided",
    "count_appeal_filed",
    "count_decision",
    "count_notice_decided",
    "count_notice_received",
    "count_order",
    "day_bounds",
    "day_of",
    "decision_increments",
    "figures_from_counters",
    "figures_of_day",
    "figures_of_period",
    "median_bucket",
    "notice_decided_increments",
    "notice_received_increments",
    "order_increments",
    "parse_day",
    "rebuild",
    "recompute",
    "recomputed_figures",
    "restrictive_trend",
    "summarise",
    "time_bucket",
    "to_csv",
]
