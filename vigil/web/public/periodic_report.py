"""The periodic report's HTML summary (``vigil report periodic``): every section's totals, charts and
rows, with the same look and charts as the transparency page, as a file that opens on its own."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

from markupsafe import Markup

from vigil.transparency.periodic import ALL, NOT_KNOWN, PeriodicReport, Section
from vigil.web.charts import Bar, bar_chart, count, percent
from vigil.web.public.words import (
    ACTION_LABELS,
    BASIS_LABELS,
    CATEGORY_LABELS,
    OUTCOME_LABELS,
    _bars,
    _country_name,
    _words,
)
from vigil.web.render import duration, render


def _value_words(figure: str, value: object) -> str:
    if value is None:
        return "n/a"
    if value == NOT_KNOWN:
        return "not known to Vigil"
    if isinstance(value, float):
        return percent(value)
    if isinstance(value, int):
        return duration(value) if figure.startswith("median_seconds") else count(value)
    return str(value)


@dataclass(frozen=True, slots=True)
class SectionView:
    """A section of the periodic report as its HTML shows it."""

    section: Section
    csv: str
    totals: list[tuple[str, str]]
    charts: list[Markup]
    rows: list[list[str]]


def _additive(figure: str) -> bool:
    return not figure.startswith(("median_", "average_")) and not figure.endswith(("_share", "_rate"))


def _totals(section: Section) -> list[tuple[str, str]]:
    """Each figure of the section once: its value over everything where the section has that row (a
    median, a share), else the sum of its counts."""
    totals = []
    for figure in dict.fromkeys(row.figure for row in section.rows):
        overall = section.value(figure)
        if overall is not None:
            shown = _value_words(figure, overall)
        elif _additive(figure):
            shown = count(section.total(figure))
        else:  # medians, shares and averages of the parts do not add up to one of the whole
            shown = "by row, below"
        totals.append((figure.replace("_", " "), shown))
    return totals


def _section_bars(section: Section, figure: str, column: str, labels: Mapping[str, str]) -> list[Bar]:
    at = section.columns.index(column)
    counts: Counter[str] = Counter()
    for row in section.rows:
        if row.figure == figure and isinstance(row.value, int) and row.dims[at] != ALL:
            counts[row.dims[at]] += row.value
    return _bars(counts, labels)


def _country_labels(section: Section) -> dict[str, str]:
    at = section.columns.index("country")
    return {row.dims[at]: _country_name(row.dims[at]) for row in section.rows}


def _report_charts(section: Section) -> list[Markup]:
    """The charts of a section of the periodic report (none for a section too small to need one)."""
    key = section.key

    def chart(figure: str, column: str, labels: Mapping[str, str], title: str) -> Markup:
        return bar_chart(
            f"s{section.number}-{figure.replace('_', '-')}-{column.replace('_', '-')}",
            title,
            f"{section.title}: {figure.replace('_', ' ')} by {column.replace('_', ' ')}.",
            _section_bars(section, figure, column, labels),
        )

    if key == "orders":
        return [
            chart("received", "country", _country_labels(section), "Orders received by member state"),
            chart("received", "type", {}, "Orders received by type"),
        ]
    if key == "notices":
        return [
            chart("received", "category", CATEGORY_LABELS, "Notices received by category alleged"),
            chart("actioned", "basis", BASIS_LABELS, "Notices actioned, by basis"),
        ]
    if key == "own_initiative":
        return [
            chart("measures", "category", CATEGORY_LABELS, "Own-initiative measures by category"),
            chart("measures", "action", ACTION_LABELS, "Own-initiative measures by restriction"),
        ]
    if key == "complaints":
        return [chart("decided", "outcome", OUTCOME_LABELS, "Complaints decided by outcome")]
    if key == "automated_means":
        at = section.columns.index("category")
        shares = [
            Bar(_words(CATEGORY_LABELS, row.dims[at]), row.value, percent(row.value))
            for row in section.rows
            if row.figure == "fully_automated_share" and row.dims[at] != ALL and isinstance(row.value, float)
        ]
        return [
            bar_chart(
                "s5-fully-automated-share",
                "Share of restrictive decisions taken fully by automated means, by category",
                "The fully automated share of restrictive decisions per category.",
                sorted(shares, key=lambda bar: (-bar.value, bar.label)),
            )
        ]
    if key == "suspensions":
        return [chart("accounts_suspended", "category", CATEGORY_LABELS, "Accounts suspended by category")]
    return []


def periodic_report_html(report: PeriodicReport, operator: str | None = None) -> str:
    """The report as one self-contained HTML page: every section's totals, charts, notes and rows
    (the rows of its CSV file), escaped, with nothing to fetch."""
    views = [
        SectionView(
            section,
            section.file_name,
            _totals(section),
            _report_charts(section),
            [[row.figure, *row.dims, _value_words(row.figure, row.value)] for row in section.rows],
        )
        for section in report.sections
    ]
    return render(
        "periodic_report.html",
        {
            "report": report,
            "operator": operator,
            "first": report.period.first.isoformat(),
            "last": report.period.last.isoformat(),
            "generated": report.generated_at.strftime("%Y-%m-%d %H:%M:%S UTC"),
            "sections": views,
        },
    )
