"""``/transparency``: a day's figures for anyone to read, with charts drawn on the server, the 30
days' trend, and what each figure counts."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup

from vigil.api.deps import get_store
from vigil.api.routes.contact import get_contact
from vigil.domain.ids import utcnow
from vigil.intake.contact import (
    publish,
)
from vigil.store.db import Store
from vigil.transparency.daily import (
    DailyFigures,
    Summary,
    TrendDay,
    figures_of_day,
    parse_day,
    restrictive_trend,
)
from vigil.web.charts import TrendPoint, bar_chart, count, percent, trend_chart
from vigil.web.public.page import HEADERS, _content_security_policy, public_page
from vigil.web.public.words import ACTION_LABELS, CATEGORY_LABELS, SOURCE_LABELS, _bars, _sums, bucket_words

router = APIRouter(include_in_schema=False)


FIRST_DAY = date(2000, 1, 1)  # no platform ran Vigil before; earlier days are refused, not zeros
TREND_DAYS = 30
TRANSPARENCY_HEADERS: dict[str, str] = {
    **HEADERS,
    # the day form submits to the page itself
    "Content-Security-Policy": _content_security_policy(["public_base.html", "transparency.html"], "'self'"),
    # as /v1/transparency/daily: a day's figures grow until it ends
    "Cache-Control": "public, max-age=60",
}


@dataclass(frozen=True, slots=True)
class KeyFigure:
    """A figure as the page shows it: its definition's anchor, its name, its value and a detail."""

    anchor: str
    name: str
    value: str
    detail: str = ""


def key_figures(s: Summary) -> list[KeyFigure]:
    """The day's totals, in the order the page shows them."""
    return [
        KeyFigure("restrictive", "Items actioned", count(s.restrictive_decisions), "restrictive decisions"),
        KeyFigure(
            "automated",
            "Fully automated",
            percent(s.automated_share),
            f"{count(s.fully_automated_restrictive_decisions)} of the items actioned",
        ),
        KeyFigure("accounts-suspended", "Accounts suspended", count(s.accounts_suspended)),
        KeyFigure("channels-banned", "Channels banned", count(s.channels_banned)),
        KeyFigure("restrictions-lifted", "Restrictions lifted", count(s.restrictions_lifted)),
        KeyFigure(
            "notices-received",
            "Notices received",
            count(s.notices_received),
            f"{count(s.notices_received_from_trusted_flaggers)} from trusted flaggers",
        ),
        KeyFigure(
            "notices-decided",
            "Notices decided",
            count(s.notices_decided),
            f"median time: {bucket_words(s.median_time_to_decision)}",
        ),
        KeyFigure("orders-received", "Authority orders received", count(s.orders_received)),
        KeyFigure(
            "orders-executed",
            "Orders executed",
            count(s.orders_executed + s.orders_partially_executed),
            f"{count(s.orders_partially_executed)} of them partially",
        ),
        KeyFigure("orders-refused", "Orders refused", count(s.orders_refused)),
        KeyFigure(
            "orders-answered",
            "Orders answered",
            count(s.orders_answered),
            f"{count(s.orders_answered_late)} after their deadline",
        ),
        KeyFigure("appeals-filed", "Appeals filed", count(s.appeals_filed)),
        KeyFigure(
            "appeals-decided",
            "Appeals decided",
            count(s.appeals_decided),
            f"{count(s.appeals_overturned)} overturned ({percent(s.overturn_rate)})",
        ),
    ]


# What each figure counts, as docs/transparency.md ("Daily figures") says it.
DEFINITIONS: tuple[tuple[str, str, str], ...] = (
    (
        "restrictive",
        "Items actioned",
        "Decisions that put restrictions in force on a content item other than those in force before:"
        " removal, withholding in some countries, age restriction, demotion, label, account suspension,"
        " channel ban. A first restriction counts, and so does a changed one; a reviewer confirming what"
        " is in force, or a decision held back for review before acting, counts nothing. Each counts"
        " once, under its most severe restriction.",
    ),
    (
        "automated",
        "Fully automated",
        "The share of the items actioned whose decision was taken by automated means alone, without a"
        " person (n/a on a day without any).",
    ),
    (
        "accounts-suspended",
        "Accounts suspended",
        "Decisions that newly suspend the author's account, for what was posted or for repeated"
        " infringements.",
    ),
    (
        "channels-banned",
        "Channels banned",
        "Decisions that newly ban a channel or group, for what was posted in it or for repeated"
        " infringements.",
    ),
    (
        "restrictions-lifted",
        "Restrictions lifted",
        "Decisions that leave no restriction on an item that had one: a reviewer's or an appeal's"
        " reversal, or a re-decision after a rule changed.",
    ),
    (
        "notices-received",
        "Notices received",
        "Reports of illegal content from users and trusted flaggers (DSA Art. 16 and 22) that were"
        " accepted; refused reports are not notices.",
    ),
    (
        "notices-decided",
        "Notices decided",
        "Notices answered that day, and the range that holds the median time from receipt to answer:"
        " the times are counted in ranges, so the median is known to its range.",
    ),
    (
        "orders-received",
        "Authority orders received",
        "Orders of public authorities (removal orders for terrorist content, orders to act against"
        " illegal content, to provide information, to preserve content, emergency disclosures) that"
        " were recorded; one refused at the door (a bad signature, say) is not an order.",
    ),
    (
        "orders-executed",
        "Orders executed",
        "Orders given effect, in full or in part (targets not found or excluded, or the scope narrowed).",
    ),
    ("orders-refused", "Orders refused", "Orders refused by the legal team, with their grounds."),
    (
        "orders-answered",
        "Orders answered",
        "Orders whose answer reached the authority (the effect given, or the refusal), and how many of"
        " them after their legal deadline.",
    ),
    ("appeals-filed", "Appeals filed", "Complaints against a decision (DSA Art. 20)."),
    (
        "appeals-decided",
        "Appeals decided",
        "Appeals decided by a person other than the one who took the decision appealed: upheld, changed"
        " or overturned (no restriction left), and the share overturned.",
    ),
)


def _trend_points(days: Iterable[TrendDay]) -> list[TrendPoint]:
    return [TrendPoint(d.day, d.restrictive_decisions, d.automated_share) for d in days]


def transparency_charts(figures: DailyFigures, trend: list[TrendDay]) -> dict[str, Markup]:
    """The page's charts of the day (items actioned by category, by restriction, by source; notices
    by category) and the trend of the days up to it."""
    b = figures.breakdowns
    day = figures.day.isoformat()
    first, last = trend[0].day.isoformat(), trend[-1].day.isoformat()
    return {
        "category": bar_chart(
            "by-category",
            f"Items actioned by category, {day}",
            "Restrictive decisions by the category of the content.",
            _bars(_sums(b.restrictive, "category"), CATEGORY_LABELS),
        ),
        "action": bar_chart(
            "by-action",
            f"Items actioned by restriction, {day}",
            "Restrictive decisions by their most severe restriction.",
            _bars(_sums(b.restrictive, "action"), ACTION_LABELS),
        ),
        "source": bar_chart(
            "by-source",
            f"Items actioned by what brought them to a decision, {day}",
            "Restrictive decisions by their source.",
            _bars(_sums(b.restrictive, "source"), SOURCE_LABELS),
        ),
        "notices": bar_chart(
            "notices-by-category",
            f"Notices received by category alleged, {day}",
            "Notices received by the category of illegal content they allege.",
            _bars(_sums(b.notices_received, "category"), CATEGORY_LABELS),
        ),
        "trend": trend_chart(
            "trend",
            f"Items actioned per day, {first} to {last}",
            f"Restrictive decisions on each of the {len(trend)} days up to {day}, and the share of them"
            " taken fully by automated means.",
            _trend_points(trend),
            "items actioned",
            "share fully automated",
        ),
    }


def _page_problem(text: str | None, today: date) -> tuple[date | None, str | None]:
    """The day asked for (yesterday when none), or what is wrong with it."""
    if not text:
        return today - timedelta(days=1), None
    try:
        day = parse_day(text)
    except ValueError as exc:
        reason = str(exc)
        return None, f"{reason[:1].upper()}{reason[1:]}."
    if day < FIRST_DAY or day > today:
        return None, (
            f"Figures are published for the days from {FIRST_DAY.isoformat()} to today"
            f" ({today.isoformat()}, UTC, still being counted), and {day.isoformat()} is not one of them."
        )
    return day, None


@router.get("/transparency", response_class=HTMLResponse)
def transparency_page(
    request: Request,
    day_text: str | None = Query(None, alias="date", description="the UTC day, YYYY-MM-DD"),
    store: Store = Depends(get_store),
) -> HTMLResponse:
    """A day's figures for anyone to read: key figures, charts, the 30 days' trend, the CSV and JSON,
    and what each figure counts. Yesterday (UTC) unless ``?date=`` names another day."""
    today = utcnow().date()
    operator = publish(get_contact(request)).operator.name
    day, problem = _page_problem(day_text, today)
    context: dict[str, Any] = {
        "operator": operator,
        "first_day": FIRST_DAY.isoformat(),
        "today": today.isoformat(),
        "definitions": DEFINITIONS,
    }
    if day is None:
        context.update(error=problem, day=(today - timedelta(days=1)).isoformat())
        return public_page("transparency.html", context, 422, TRANSPARENCY_HEADERS)
    trend_start = max(FIRST_DAY, day - timedelta(days=TREND_DAYS - 1))
    with store.transaction() as session:
        figures = figures_of_day(session, day)
        trend = restrictive_trend(session, trend_start, day)
    iso = day.isoformat()
    context.update(
        error=None,
        day=iso,
        incomplete=day == today,
        figures=key_figures(figures.summary),
        charts=transparency_charts(figures, trend),
        csv_url=f"/v1/transparency/daily.csv?date={iso}",
        json_url=f"/v1/transparency/daily?date={iso}",
        previous=(day - timedelta(days=1)).isoformat() if day > FIRST_DAY else None,
        next=(day + timedelta(days=1)).isoformat() if day < today else None,
    )
    return public_page("transparency.html", context, 200, TRANSPARENCY_HEADERS)
