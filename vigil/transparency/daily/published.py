"""A day's figures as CSV, as ``GET /v1/transparency/daily.csv`` publishes them."""

from __future__ import annotations

import csv
import io
from dataclasses import asdict

from vigil.transparency.daily.figures import DailyFigures

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
