"""The daily counters: added to as things happen, read back a day at a time.

One counter is one figure of one day for one combination of what it is broken down by (see
:class:`~vigil.store.tables.DailyCounter`). Counters only grow, by an upsert that adds to the value
in place (``INSERT ... ON CONFLICT DO UPDATE SET value = value + excluded.value``), so two
transactions counting the same thing never lose an increment. What each event adds is decided in
``vigil.transparency.daily``; this module only stores it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import bindparam, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session

from vigil.store.audit import AuditLog
from vigil.store.db import upsert_insert
from vigil.store.tables import DailyCounter

# the columns that name a counter besides its day; an empty string is "not broken down by this"
KEY_COLUMNS = ("metric", "category", "action", "source", "territory", "automated")
# rows per statement when a whole day is written at once (a rebuild): well under SQLite's limit of
# 32,766 bound parameters with 8 a row
_ROWS_PER_STATEMENT = 2000


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


_COLUMNS = ("day", *KEY_COLUMNS, "value")
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
        index_elements=["day", *KEY_COLUMNS], set_={"value": DailyCounter.value + statement.excluded.value}
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


def _execute(session: Session, day: str, rows: Sequence[Increment]) -> None:
    connection = session.connection()
    sql, order = _compiled(connection.dialect, len(rows))
    values: dict[str, str | int] = {}
    for i, row in enumerate(rows):
        fields: tuple[str | int, ...] = (day, *row.key, row.value)
        values.update((f"{column}_{i}", value) for column, value in zip(_COLUMNS, fields, strict=True))
    connection.exec_driver_sql(sql, values if order is None else tuple(values[name] for name in order))


def add(session: Session, day: str, increments: Iterable[Increment]) -> None:
    """Add ``increments`` to ``day``'s counters in the caller's transaction, in one statement.

    The store's writer lock is taken first (every transaction that counts something also audits
    it, so it takes that lock anyway): counter rows are then only ever locked under it, and two
    transactions can never deadlock on them.
    """
    rows = summed(increments)
    if not rows:
        return
    AuditLog(session).hold()
    _execute(session, day, rows)


def replace_day(session: Session, day: str, increments: Iterable[Increment]) -> int:
    """Make ``increments`` the whole of ``day``'s counters (a rebuild); returns how many counters
    the day now has."""
    rows = summed(increments)
    AuditLog(session).hold()
    session.execute(delete(DailyCounter).where(DailyCounter.day == day))
    for start in range(0, len(rows), _ROWS_PER_STATEMENT):
        _execute(session, day, rows[start : start + _ROWS_PER_STATEMENT])
    return len(rows)


def counters_of_day(session: Session, day: str) -> list[CounterRow]:
    """Every counter of ``day`` (a few hundred rows however many decisions the day had)."""
    rows = session.execute(
        select(
            DailyCounter.metric,
            DailyCounter.category,
            DailyCounter.action,
            DailyCounter.source,
            DailyCounter.territory,
            DailyCounter.automated,
            DailyCounter.value,
        )
        .where(DailyCounter.day == day)
        .order_by(*(getattr(DailyCounter, c) for c in KEY_COLUMNS))
    )
    return [CounterRow(*row) for row in rows]
