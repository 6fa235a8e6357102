"""What `vigil demo` prints when it stops: the run in numbers, and where to look further."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from vigil.demo.runner import DemoSummary

# the day's published totals the closing table repeats (docs/transparency.md says what each counts)
PUBLISHED = (
    "restrictive_decisions",
    "accounts_suspended",
    "notices_received",
    "notices_received_from_trusted_flaggers",
    "orders_received",
    "orders_executed",
    "orders_answered",
    "orders_answered_late",
    "appeals_filed",
)


def print_summary(summary: DemoSummary, out: Console) -> None:
    """The closing table of a demo run."""
    table = Table(title=f"Vigil demo: {summary.posts} posts in {summary.seconds:.0f} s", show_header=False)
    table.add_column()
    table.add_column()
    table.add_row("decisions by outcome", ", ".join(f"{k} {v}" for k, v in summary.outcomes.items()))
    table.add_row("languages", ", ".join(summary.languages))
    table.add_row(
        "notices, appeals",
        f"{summary.user_notices} from users, {summary.flagger_notices} from the trusted flagger, "
        f"{summary.appeals} appeals",
    )
    for order in summary.orders:
        answered = "" if order["answered_at"] is None else (" late" if order["late"] else " in time")
        table.add_row(f"order {order['reference']}", f"{order['type']}: {order['state']}{answered}")
    table.add_row("taken down by the platform", str(summary.taken_down))
    totals = summary.transparency.get("summary", {})
    table.add_row(
        "today's transparency figures", ", ".join(f"{name} {totals.get(name, 0)}" for name in PUBLISHED)
    )
    out.print(table)
    out.print(
        f"The database stays at {summary.database}: "
        f"VIGIL_DATABASE_URL=sqlite:///{summary.database} vigil serve  shows it again.",
        highlight=False,
        soft_wrap=True,
    )
