"""``vigil report``: daily figures and the periodic transparency report."""

from __future__ import annotations

import os
import sys
from dataclasses import asdict, fields
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from vigil.cli.shared import CLI_ACTOR, JsonOption, _fail, _print_json, _store, out
from vigil.config import Settings
from vigil.domain.ids import utcnow
from vigil.intake.contact import ContactConfigError, load_contact
from vigil.transparency import daily as daily_figures
from vigil.transparency import periodic

report_app = typer.Typer(help="Transparency figures.", no_args_is_help=True)


@report_app.command("daily")
def report_daily(
    day: Annotated[str, typer.Option("--date", help="the UTC day, YYYY-MM-DD")],
    rebuild: Annotated[
        bool,
        typer.Option(
            "--rebuild",
            help="first recompute the day's counters from the decisions, notices, orders and appeals"
            " (a repair after a bug; audited)",
        ),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Print a day's transparency figures (UTC), as published at /v1/transparency/daily."""
    try:
        parsed = daily_figures.parse_day(day)
    except ValueError as exc:
        _fail(f"--date: {exc}")
    now = utcnow()
    if rebuild and parsed > now.date():
        _fail(f"--date {parsed.isoformat()} has not begun yet (UTC): there is nothing to rebuild")
    with _store().transaction() as session:
        if rebuild:
            figures = daily_figures.rebuild(session, parsed, CLI_ACTOR, now)
        else:
            figures = daily_figures.figures_of_day(session, parsed)
    if as_json:
        _print_json(figures.to_json())
        return
    summary = Table("figure", "value", title=f"Vigil daily figures, {parsed.isoformat()} (UTC)")
    for name, value in asdict(figures.summary).items():
        if isinstance(value, dict):  # the median's bucket
            value = value["label"]
        summary.add_row(name.replace("_", " "), "-" if value is None else str(value))
    out.print(summary)
    for name, rows in figures.breakdowns.items():
        if rows:
            columns = [f.name for f in fields(rows[0])]
            table = Table(*(c.replace("_", " ") for c in columns), title=name.replace("_", " "))
            for row in rows:
                table.add_row(*(str(getattr(row, c)) for c in columns))
            out.print(table)


@report_app.command("periodic")
def report_periodic(
    first: Annotated[str, typer.Option("--from", help="the first UTC day of the period, YYYY-MM-DD")],
    last: Annotated[str, typer.Option("--to", help="the last UTC day of the period, YYYY-MM-DD (included)")],
    output: Annotated[
        Path,
        typer.Option("--output", help="the folder to write the CSV files and report.html into (created)"),
    ],
    recipients: Annotated[
        Path | None,
        typer.Option(
            "--recipients",
            help="CSV of average monthly active recipients, lines country,count (an EU member state or EU);"
            " without it they are reported as not known to Vigil",
        ),
    ] = None,
) -> None:
    """Write the periodic transparency report (DSA Art. 15, 24): one CSV file per section of the
    harmonised templates and a readable report.html, for the UTC days --from to --to."""
    from vigil.web.public import periodic_report_html  # the web layer, loaded only when needed

    try:
        period = periodic.Period.of(daily_figures.parse_day(first), daily_figures.parse_day(last))
    except ValueError as exc:
        _fail(f"--from/--to: {exc}")
    given = None
    if recipients is not None:
        try:
            given = periodic.read_recipients(recipients)
        except OSError as exc:
            _fail(f"--recipients: cannot read {recipients}: {exc.strerror}")
        except ValueError as exc:
            _fail(f"--recipients: {exc}")
    store = _store()
    try:
        output.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        _fail(f"--output: cannot create the folder {output}: {exc.strerror or exc}")
    if not os.access(output, os.W_OK | os.X_OK):  # found before the work, not after it
        _fail(f"--output: cannot write into {output}: permission denied")
    with store.transaction() as session:
        report = periodic.periodic_report(session, period, given, utcnow())
    try:
        operator = load_contact(Settings().contact_file).operator.name
    except ContactConfigError as exc:
        _fail(str(exc))
    html = periodic_report_html(report, operator)
    try:
        written = periodic.write_report(report, output, html)
    except OSError as exc:
        _fail(f"--output: cannot write into {output}: {exc.strerror or exc}")
    # plain lines, never wrapped: scripts read the paths
    sys.stdout.write(
        f"periodic report {period.first.isoformat()} to {period.last.isoformat()} written to {output}:\n"
    )
    sys.stdout.writelines(f"  {path}\n" for path in written)
