"""Records read off table rows by field name, so that a record's fields are written once.

A store module returns records (frozen dataclasses), never ORM rows. Where a record's fields are
columns of its row under the same names, ``from_row`` reads them; the few that differ on purpose (a
renamed column, a count from another table, a joined value) are passed by name at the call, where a
reader sees them. Columns the record leaves out (a key's secret digest) are simply never read.
"""

from __future__ import annotations

from dataclasses import fields
from enum import Enum
from functools import cache
from typing import TYPE_CHECKING, Any, TypeVar, get_type_hints

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

R = TypeVar("R", bound="DataclassInstance")


def from_row(record: type[R], row: object, **differing: Any) -> R:
    """A ``record`` whose fields are ``row``'s attributes of the same names, except those in ``differing``.

    A field typed as an enum gets the member for the text the column holds; any other field gets the
    value as the row holds it. The record's module must import its field types at run time (not under
    ``TYPE_CHECKING``): they are read from its annotations.
    """
    values = {
        name: enum(getattr(row, name)) if enum is not None else getattr(row, name)
        for name, enum in _fields(record)
        if name not in differing
    }
    return record(**values, **differing)


@cache
def _fields(record: type[DataclassInstance]) -> tuple[tuple[str, type[Enum] | None], ...]:
    """Each field's name, with its enum type where it has one (resolved once per record type)."""
    hints = get_type_hints(record)
    return tuple(
        (f.name, hint if isinstance(hint, type) and issubclass(hint, Enum) else None)
        for f in fields(record)
        for hint in (hints[f.name],)
    )
