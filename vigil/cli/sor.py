"""``vigil sor``: export statements of reasons (DSA Art. 17)."""

from __future__ import annotations

import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer

from vigil.cli.shared import _fail, _store
from vigil.store import statements as statement_store
from vigil.transparency.sor import ExportFormat, export_lines

sor_app = typer.Typer(help="Statements of reasons (DSA Art. 17).", no_args_is_help=True)


def _export_day(option: str, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        if len(value) != 10:
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError:
        _fail(f"{option}: {value!r} is not a day (expected YYYY-MM-DD)")


@sor_app.command("export")
def sor_export(
    fmt: Annotated[
        ExportFormat, typer.Option("--format", help="jsonl (one statement a line) or csv (a column a field)")
    ] = ExportFormat.JSONL,
    first: Annotated[str | None, typer.Option("--from", help="first UTC day issued, YYYY-MM-DD")] = None,
    last: Annotated[str | None, typer.Option("--to", help="last UTC day issued, YYYY-MM-DD")] = None,
    output: Annotated[Path | None, typer.Option("--output", help="write to this file, not stdout")] = None,
) -> None:
    """Write the stored statements of reasons in the DSA Transparency Database's fields."""
    start, end = _export_day("--from", first), _export_day("--to", last)
    if start is not None and end is not None and start > end:
        _fail(f"--from {start.isoformat()} is after --to {end.isoformat()}")
    since = datetime.combine(start, datetime.min.time(), UTC) if start else None
    until = datetime.combine(end + timedelta(days=1), datetime.min.time(), UTC) if end else None
    try:
        target = output.open("w", encoding="utf-8", newline="") if output else sys.stdout
    except OSError as exc:
        _fail(f"--output: cannot write {output}: {exc.strerror}")
    try:
        with _store().transaction() as session:
            target.writelines(export_lines(statement_store.export(session, since, until), fmt))
    finally:
        if output:
            target.close()
