"""Charts drawn on the server as inline SVG: pure functions from numbers to markup.

The public pages run no script (their Content-Security-Policy forbids it), and they fetch nothing
from anywhere, so a chart is SVG markup written into the page: no library, no font, no image. The
same functions draw the charts of the periodic report, a file that must open anywhere on its own.

Every label comes from data and is escaped (:func:`markupsafe.escape`) before it enters the markup;
ids are checked against a closed pattern; numbers are formatted here. Nothing else reaches the SVG,
so no label can open an element or an attribute.

Each chart is an ``<svg role="img">`` named by its ``<title>`` and described by its ``<desc>``,
which lists every value in words, so a screen reader reads the numbers the eye reads from the bars.
Every bar carries its value as text beside it, and the trend tells its two series apart by shape
(bars, and a dashed line with round markers) and by a legend in words: colour never carries meaning
alone. Colours are presentation attributes, which a strict ``style-src`` does not govern.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from markupsafe import Markup, escape

MAX_BARS = 20  # a longer chart reads worse than a table; the rest is named in the description
MAX_POINTS = 120  # a trend of more days than this is drawn by a caller that groups them first
_LABEL_CHARS = 28  # a longer label is cut on the chart (its bar's tooltip holds it whole)
_ID = re.compile(r"[a-z][a-z0-9-]{0,47}")

INK = "#1c2430"
MUTED = "#5b6675"
BAR = "#1d5fbf"
LINE = "#b3261e"
GRID = "#d7dde5"
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'DejaVu Sans', sans-serif"


@dataclass(frozen=True, slots=True)
class Bar:
    """One bar: its label, the value its length shows, and the text written beside it (the value
    itself when None)."""

    label: str
    value: float
    text: str | None = None

    @property
    def shown(self) -> str:
        return self.text if self.text is not None else count(self.value)


@dataclass(frozen=True, slots=True)
class TrendPoint:
    """One day of a trend: a count (drawn as a bar) and a share from 0 to 1 (drawn as a line; None
    where the share is undefined, a day with nothing counted)."""

    day: date
    count: int
    share: float | None


def count(value: float) -> str:
    """A number as the charts write it: whole numbers with thousands separators."""
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.2f}"


def percent(share: float | None) -> str:
    """A share from 0 to 1 as a percentage (``n/a`` when undefined: nothing to divide by)."""
    if share is None:
        return "n/a"
    return f"{share * 100:.1f}%" if 0 < share < 0.1 else f"{share * 100:.0f}%"


def compact(value: int) -> str:
    """A count short enough to sit above a narrow bar: ``950``, ``12k``, ``1.2M``."""
    for size, suffix in ((1_000_000_000, "G"), (1_000_000, "M"), (1_000, "k")):
        if value >= size:
            scaled = value / size
            return f"{scaled:.1f}{suffix}" if scaled < 10 else f"{scaled:.0f}{suffix}"
    return str(value)


def _n(value: float) -> str:
    """A coordinate: one decimal is finer than a pixel."""
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _checked_id(chart_id: str) -> str:
    if not _ID.fullmatch(chart_id):
        raise ValueError(f"a chart id is a lower-case letter then letters, digits or '-', not {chart_id!r}")
    return chart_id


def _short(label: str) -> str:
    return label if len(label) <= _LABEL_CHARS else label[: _LABEL_CHARS - 1] + "…"


def _open(chart_id: str, title: str, desc: str, width: int, height: int) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" id="{chart_id}"'
        f' viewBox="0 0 {width} {height}" width="{width}" height="{height}"'
        f' aria-labelledby="{chart_id}-title {chart_id}-desc" font-family="{escape(FONT)}" font-size="13">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(desc)}</desc>',
    ]


def _text(x: float, y: float, content: str, *, anchor: str = "start", size: int = 13, fill: str = INK) -> str:
    return (
        f'<text x="{_n(x)}" y="{_n(y)}" text-anchor="{anchor}" font-size="{size}" fill="{fill}">'
        f"{escape(content)}</text>"
    )


def _described(description: str, parts: Iterable[str]) -> str:
    listed = "; ".join(parts)
    return f"{description} {listed}." if listed else description


def bar_chart(
    chart_id: str, title: str, description: str, bars: Sequence[Bar], empty: str = "Nothing counted."
) -> Markup:
    """Horizontal bars, one per label, in the order given, each with its value written beside it.

    Bars beyond :data:`MAX_BARS` are left off the drawing and counted in the description.
    ``chart_id`` names the SVG element (``[a-z][a-z0-9-]*``), and must be unique in its page.
    """
    chart_id = _checked_id(chart_id)
    drawn = list(bars[:MAX_BARS])
    hidden = len(bars) - len(drawn)
    width, label_width, bar_room, row, top = 640, 200, 330, 26, 8
    parts = [f"{bar.label}: {bar.shown}" for bar in drawn]
    if hidden:
        parts.append(f"and {hidden} more not drawn")
    if not drawn:
        svg = _open(chart_id, title, f"{description} {empty}", width, 40)
        svg.append(_text(8, 25, empty, fill=MUTED))
        return Markup("".join([*svg, "</svg>"]))  # noqa: S704 (every text above is escaped)
    height = top * 2 + row * (len(drawn) + (1 if hidden else 0))
    svg = _open(chart_id, title, _described(description, parts), width, height)
    largest = max((max(bar.value, 0.0) for bar in drawn), default=0.0)
    for i, bar in enumerate(drawn):
        y = top + i * row
        length = bar_room * max(bar.value, 0.0) / largest if largest > 0 else 0.0
        svg += [
            "<g>",
            f"<title>{escape(bar.label)}: {escape(bar.shown)}</title>",
            _text(label_width - 8, y + 17, _short(bar.label), anchor="end"),
            f'<rect x="{label_width}" y="{_n(y + 4)}" width="{_n(max(length, 1.0))}" height="16"'
            f' fill="{BAR}"/>',
            _text(label_width + length + 6, y + 17, bar.shown),
            "</g>",
        ]
    if hidden:
        svg.append(_text(label_width, top + len(drawn) * row + 17, f"and {hidden} more", fill=MUTED))
    svg.append("</svg>")
    return Markup("".join(svg))  # noqa: S704 (every text above is escaped)


def _nice_ceiling(value: int) -> int:
    """The smallest of 1, 2 or 5 times a power of ten not below ``value`` (at least 1): a round top
    for an axis."""
    if value <= 1:
        return 1
    power: int = 10 ** int(math.log10(value))
    for step in (1, 2, 5, 10):
        if step * power >= value:
            return step * power
    raise AssertionError("ten times the power of ten is above the value")


def trend_chart(
    chart_id: str,
    title: str,
    description: str,
    points: Sequence[TrendPoint],
    count_label: str,
    share_label: str,
) -> Markup:
    """A count per day as bars (left axis) with a share per day as a dashed line with round markers
    (right axis, 0 to 100 %), a legend naming both, each bar's count written above it, and each day's
    values in its tooltip and in the description.

    At most :data:`MAX_POINTS` days; ``chart_id`` as for :func:`bar_chart`.
    """
    chart_id = _checked_id(chart_id)
    if len(points) > MAX_POINTS:
        raise ValueError(f"a trend shows at most {MAX_POINTS} days, not {len(points)}")
    width, height = 720, 290
    left, right, top, bottom = 52, 56, 40, 36
    plot_w, plot_h = width - left - right, height - top - bottom
    parts = [f"{p.day.isoformat()}: {count(p.count)} {count_label}, {percent(p.share)}" for p in points]
    desc = _described(f"{description} Per day, {count_label} and {share_label}:", parts)
    svg = _open(chart_id, title, desc, width, height)
    ceiling = _nice_ceiling(max((p.count for p in points), default=0))
    base = top + plot_h
    # the grid and both axes' labels: counts on the left, shares on the right
    for fraction in (0.0, 0.5, 1.0):
        y = base - plot_h * fraction
        svg.append(f'<line x1="{left}" y1="{_n(y)}" x2="{left + plot_w}" y2="{_n(y)}" stroke="{GRID}"/>')
        if (ceiling * fraction).is_integer():  # an axis of 1 has no half-way count
            svg.append(_text(left - 6, y + 4, count(ceiling * fraction), anchor="end", size=11, fill=MUTED))
        svg.append(_text(left + plot_w + 6, y + 4, percent(fraction), size=11, fill=MUTED))
    # the legend, in words, with the shape each series is drawn in
    svg += [
        f'<rect x="{left}" y="8" width="14" height="14" fill="{BAR}"/>',
        _text(left + 20, 20, f"{count_label} (bars, left axis)", size=12),
        f'<line x1="{left + 330}" y1="15" x2="{left + 358}" y2="15" stroke="{LINE}" stroke-width="2"'
        ' stroke-dasharray="5 3"/>',
        f'<circle cx="{left + 344}" cy="15" r="3.5" fill="#ffffff" stroke="{LINE}" stroke-width="2"/>',
        _text(left + 364, 20, f"{share_label} (line, right axis)", size=12),
    ]
    slot = plot_w / max(len(points), 1)
    label_every = max(1, math.ceil(len(points) / 8))
    line: list[list[str]] = [[]]
    markers: list[str] = []
    for i, point in enumerate(points):
        x = left + slot * i
        height_of_bar = plot_h * point.count / ceiling
        svg += [
            "<g>",
            f"<title>{escape(point.day.isoformat())}: {escape(count(point.count))} {escape(count_label)};"
            f" {escape(share_label)} {escape(percent(point.share))}</title>",
            f'<rect x="{_n(x + slot * 0.15)}" y="{_n(base - height_of_bar)}" width="{_n(slot * 0.7)}"'
            f' height="{_n(height_of_bar)}" fill="{BAR}"/>',
        ]
        if point.count and len(points) <= 45:
            svg.append(
                _text(x + slot / 2, base - height_of_bar - 3, compact(point.count), anchor="middle", size=9)
            )
        svg.append("</g>")
        if (len(points) - 1 - i) % label_every == 0:  # counted back from the last day, always labelled
            svg.append(_text(x + slot / 2, base + 16, point.day.strftime("%m-%d"), anchor="middle", size=11))
        if point.share is None:
            line.append([])  # no share that day: the line breaks rather than invent one
            continue
        y = base - plot_h * min(max(point.share, 0.0), 1.0)
        line[-1].append(f"{_n(x + slot / 2)},{_n(y)}")
        markers.append(
            f'<circle cx="{_n(x + slot / 2)}" cy="{_n(y)}" r="3" fill="#ffffff" stroke="{LINE}" stroke-width="2"/>'
        )
    for segment in line:
        if len(segment) > 1:
            svg.append(
                f'<polyline points="{" ".join(segment)}" fill="none" stroke="{LINE}" stroke-width="2"'
                ' stroke-dasharray="5 3"/>'
            )
    svg += markers
    svg.append(_text(left, height - 4, "UTC day (month-day)", size=11, fill=MUTED))
    svg.append("</svg>")
    return Markup("".join(svg))  # noqa: S704 (every text above is escaped)
