"""The demo's live terminal dashboard (Rich): traffic, decisions, open cases, orders on their clocks."""

from __future__ import annotations

from collections import Counter

from rich.columns import Columns
from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from vigil.demo.receiver import PlatformState
from vigil.demo.tally import OrderClock, Tally

OUTCOME_STYLE = {
    "remove": "bold red",
    "geo_restrict": "red",
    "suspend_account": "bold magenta",
    "ban_channel": "bold magenta",
    "age_restrict": "yellow",
    "demote": "yellow",
    "label": "cyan",
    "review": "blue",
    "no_action": "green",
}


def _counts(title: str, counts: Counter[str], styles: dict[str, str] | None = None) -> Table:
    table = Table(title=title, title_style="bold", show_header=False, box=None, padding=(0, 1))
    table.add_column(min_width=16)
    table.add_column(justify="right", min_width=5)
    for name, count in counts.most_common():
        table.add_row(Text(name, style=(styles or {}).get(name, "")), str(count))
    if not counts:
        table.add_row(Text("none yet", style="dim"), "")
    return table


def _clock(order: OrderClock) -> Text:
    if order.answered_at is not None:
        return Text(
            "answered late" if order.late else "answered in time", style="red" if order.late else "green"
        )
    if order.seconds_left is None:
        return Text("clock stopped", style="yellow")
    minutes, seconds = divmod(max(order.seconds_left, 0), 60)
    hours, minutes = divmod(minutes, 60)
    style = "red" if order.seconds_left < 600 else "yellow" if order.seconds_left < 1800 else ""
    return Text(f"{hours}:{minutes:02d}:{seconds:02d} left", style=style)


def _orders(orders: list[OrderClock]) -> Table:
    table = Table(title="Authority orders", title_style="bold", box=None, padding=(0, 1))
    for column in ("reference", "type", "state", "clock"):
        table.add_column(column, style="dim" if column == "reference" else "")
    for order in orders:
        table.add_row(order.reference, order.type, order.state, _clock(order))
    if not orders:
        table.add_row(Text("none yet", style="dim"), "", "", "")
    return table


def render(tally: Tally, platform: PlatformState, header: str, footer: list[str]) -> RenderableType:
    """One frame of the dashboard, from the tally and what the platform's receiver applied."""
    traffic = Table(title="Traffic", title_style="bold", show_header=False, box=None, padding=(0, 1))
    traffic.add_column(min_width=22)
    traffic.add_column(justify="right", min_width=7)
    traffic.add_row("items per second", f"{tally.items_per_second():.1f}")
    traffic.add_row("posts decided", str(tally.posts))
    traffic.add_row("languages", str(len(tally.languages)))
    traffic.add_row("with a picture", str(tally.pictures))
    traffic.add_row("user notices", str(tally.user_notices))
    traffic.add_row("trusted flagger notices", str(tally.flagger_notices))
    traffic.add_row("appeals filed", str(tally.appeals))
    traffic.add_row("webhook events applied", str(sum(platform.event_counts().values())))
    traffic.add_row("taken down by the platform", str(platform.taken_down()))
    if tally.refused:
        traffic.add_row(Text("refused by Vigil", style="red"), str(tally.refused))
    cases = Counter({name: count for name, count in tally.open_cases.items() if count})
    top = Columns(
        [
            traffic,
            _counts("Decisions by outcome", tally.outcomes, OUTCOME_STYLE),
            _counts("Decisions by category", tally.categories),
            _counts("Open cases by queue", cases),
        ],
        padding=(0, 4),
    )
    return Panel(
        Group(top, Text(""), _orders(tally.orders), Text(""), Text("\n".join(footer), style="dim")),
        title=header,
        title_align="left",
    )
