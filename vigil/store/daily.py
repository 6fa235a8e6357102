"""The daily counters: added to as things happen, read back a day at a time.

One counter is one figure of one day for one combination of what it is broken down by (see
:class:`~vigil.store.tables.DailyCounter`). Counters only grow, by an upsert that adds to the value
in place (``INSERT ... ON CONFLICT DO UPDATE SET value = value + excluded.value``), so two
transactions counting the same thing never lose an increment. What each event adds is decided in
``vigil.transparency.daily``; this module only stores it.

No lock serialises the transactions that count, and they rarely wait on each other's rows:

- a figure is spread over ``SHARDS`` rows; a transaction adds to one shard, drawn at random, and
  readers add the shards up;
- a transaction's increments are gathered and written at its commit, in one statement per day in key
  order, so its counter rows are locked only for the moment before it commits, always in the same
  order (two transactions on the same shard cannot deadlock on them);
- to count, a transaction takes the day's lock *shared*; a rebuild of the day (``replace_day``)
  takes it exclusive. Counting transactions never wait on each other, and no increment can fall
  between a rebuild's reading of the source tables and its replacing of the counters.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import bindparam, delete, event, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session

from vigil.store.db import upsert_insert
from vigil.store.locks import LockSpace, lock
from vigil.store.tables import DailyCounter

# the columns that name a counter besides its day; an empty string is "not broken down by this"
KEY_COLUMNS = ("metric", "category", "action", "source", "territory", "automated")
# rows per statement when a whole day is written at once (a rebuild): well under SQLite's limit of
# 32,766 bound parameters with 8 a row
_ROWS_PER_STATEMENT = 2000
# rows one figure may be spread over: with a few dozen concurrent writers, two of them rarely draw
# the same shard, and a reader sums at most this many rows a figure
SHARDS = 16
_PENDING = "vigil.daily_pending"


@dataclass(frozen=True, slots=True)
class Increment:
    """What one event adds to one counter of its day."""

    metric: str
    category: str = ""
    action: str = ""
    source: str = ""
    territory: str = ""
    automated: str = ""
    value: int = 1

    @property
    def key(self) -> tuple[str, str, str, str, str, str]:
        return (self.metric, self.category, self.action, self.source, self.territory, self.automated)


@dataclass(frozen=True, slots=True)
class CounterRow:
    """A counter as stored: its key and its value."""

    metric: str
    category: str
    action: str
    source: str
    territory: str
    automated: str
    value: int


def summed(increments: Iterable[Increment]) -> list[Increment]:
    """The increments with equal keys added together, in key order.

    One statement may not update a row twice (PostgreSQL refuses), and a stable order means that
    two transactions lock the rows they share in the same order.
    """
    totals: Counter[tuple[str, str, str, str, str, str]] = Counter()
    for increment in increments:
        totals[increment.key] += increment.value
    return [Increment(*key, value=value) for key, value in sorted(totals.items()) if value]


_COLUMNS = ("day", *KEY_COLUMNS, "shard", "value")
# compiled statements by (dialect, parameter style, rows): a decision adds a handful of rows, so a
# few dozen shapes cover every statement the hooks send
_COMPILED: dict[tuple[str, str, int], tuple[str, tuple[str, ...] | None]] = {}
_CACHED_ROWS = 64


def _upsert(dialect: Dialect, rows: int) -> postgresql.Insert | sqlite.Insert:
    """``INSERT ... VALUES (row 0), (row 1) ... ON CONFLICT (the key) DO UPDATE SET value = value +
    excluded.value``, in the dialect's own construct, its values bound as ``<column>_<row>``."""
    statement = upsert_insert(dialect.name, DailyCounter, "daily counters").values(
        [{c: bindparam(f"{c}_{i}") for c in _COLUMNS} for i in range(rows)]
    )
    return statement.on_conflict_do_update(
        index_elements=["day", *KEY_COLUMNS, "shard"],
        set_={"value": DailyCounter.value + statement.excluded.value},
    )


def _compiled(dialect: Dialect, rows: int) -> tuple[str, tuple[str, ...] | None]:
    """The SQL of the upsert of ``rows`` rows and, for a positional parameter style, the order of its
    parameters. Compiled once per shape and sent to the driver as it is: SQLAlchemy does not cache
    the compilation of multi-row VALUES, which would otherwise cost a millisecond a decision."""
    key = (dialect.name, dialect.paramstyle, rows)
    found = _COMPILED.get(key)
    if found is None:
        compiled = _upsert(dialect, rows).compile(dialect=dialect)
        found = (compiled.string, tuple(compiled.positiontup or ()) if compiled.positional else None)
        if rows <= _CACHED_ROWS:
            _COMPILED[key] = found
    return found


def _execute(session: Session, day: str, shard: int, rows: Sequence[Increment]) -> None:
    connection = session.connection()
    sql, order = _compiled(connection.dialect, len(rows))
    values: dict[str, str | int] = {}
    for i, row in enumerate(rows):
        fields: tuple[str | int, ...] = (day, *row.key, shard, row.value)
        values.update((f"{column}_{i}", value) for column, value in zip(_COLUMNS, fields, strict=True))
    connection.exec_driver_sql(sql, values if order is None else tuple(values[name] for name in order))


def _day_key(day: str) -> int:
    """The day as the second key of its advisory lock: 2026-12-08 is 20261208."""
    return int(day.replace("-", ""))


def lock_day(session: Session, day: str) -> None:
    """Take ``day``'s counters for a rebuild, until the caller's transaction ends: waits for the
    transactions counting into that day to commit, and holds back those that would count into it.

    Take it before reading what the rebuild derives the counters from.
    """
    lock(session, LockSpace.DAILY_COUNTERS, _day_key(day))


def add(session: Session, day: str, increments: Iterable[Increment]) -> None:
    """Add ``increments`` to ``day``'s counters in the caller's transaction.

    They are written at commit (or before this transaction reads or rebuilds counters), together with
    every other increment of the transaction: see the module's docstring for why.
    """
    pending: dict[str, Counter[tuple[str, str, str, str, str, str]]] = session.info.setdefault(_PENDING, {})
    totals = pending.setdefault(day, Counter())
    for increment in increments:
        totals[increment.key] += increment.value


def _flush(session: Session) -> None:
    """Write the transaction's gathered increments: per day in order, under the day's shared lock,
    into one shard drawn for this transaction."""
    pending: dict[str, Counter[tuple[str, str, str, str, str, str]]] | None = session.info.pop(_PENDING, None)
    if not pending:
        return
    # spreads PostgreSQL's concurrent writers over rows (nothing secret); SQLite has one writer at a
    # time, so there more rows would only cost inserts and reads
    shard = random.randrange(SHARDS) if session.get_bind().dialect.name == "postgresql" else 0  # noqa: S311
    for day in sorted(pending):
        rows = [Increment(*key, value=value) for key, value in sorted(pending[day].items()) if value]
        if not rows:
            continue
        lock(session, LockSpace.DAILY_COUNTERS, _day_key(day), shared=True)
        # statements of at most _CACHED_ROWS rows, whose compiled forms are kept: a batch of a
        # thousand decisions gathers hundreds of counters, and compiling a statement of that many
        # rows afresh each time cost more than writing them
        for start in range(0, len(rows), _CACHED_ROWS):
            _execute(session, day, shard, rows[start : start + _CACHED_ROWS])


@event.listens_for(Session, "before_commit")
def _write_pending(session: Session) -> None:
    _flush(session)


@event.listens_for(Session, "after_rollback")
def _forget_pending(session: Session) -> None:
    session.info.pop(_PENDING, None)


def replace_day(session: Session, day: str, increments: Iterable[Increment]) -> int:
    """Make ``increments`` the whole of ``day``'s counters (a rebuild); returns how many counters
    the day now has. Takes the day's lock (``lock_day``) if the caller has not already."""
    rows = summed(increments)
    _flush(session)
    lock_day(session, day)
    session.execute(delete(DailyCounter).where(DailyCounter.day == day))
    for start in range(0, len(rows), _ROWS_PER_STATEMENT):
        _execute(session, day, 0, rows[start : start + _ROWS_PER_STATEMENT])
    return len(rows)


def counters_of_day(session: Session, day: str) -> list[CounterRow]:
    """Every counter of ``day``, its shards added up (a few hundred rows however many decisions the
    day had); the caller's own increments so far are written first, so they are included."""
    _flush(session)
    key = [getattr(DailyCounter, c) for c in KEY_COLUMNS]
    rows = session.execute(
        select(*key, func.sum(DailyCounter.value))
        .where(DailyCounter.day == day)
        .group_by(*key)
        .order_by(*key)
    )
    # PostgreSQL sums a bigint to a numeric
    return [CounterRow(r[0], r[1], r[2], r[3], r[4], r[5], int(r[6])) for r in rows]
