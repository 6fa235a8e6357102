"""``/v1/transparency/daily``: the figures of a day, public, as JSON or CSV.

No key is needed: these are the published figures. They are counts broken down by closed
vocabularies (category, action, source, territory, automation, order type, refusal ground,
outcome) and nothing else: no id, no name, no text ever reaches them (``vigil.transparency.daily``).
"""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Depends, Query, Response

from vigil.api.deps import get_store
from vigil.api.errors import ApiError
from vigil.store.db import Store
from vigil.transparency.daily import DailyFigures, figures_of_day, parse_day, to_csv

router = APIRouter(tags=["transparency"])

# a day's figures grow until it ends; a minute's public cache spares the database a crowd of readers
CACHE_CONTROL = "public, max-age=60"

DateQuery = Query(
    alias="date",
    min_length=10,
    max_length=10,
    description="the UTC day, YYYY-MM-DD",
    examples=["2026-03-14"],
)


def _day(text: str) -> date:
    try:
        return parse_day(text)
    except ValueError as exc:
        raise ApiError(422, "invalid_date", str(exc)) from None


def _figures(store: Store, text: str) -> DailyFigures:
    day = _day(text)
    with store.transaction() as session:
        return figures_of_day(session, day)


@router.get(
    "/transparency/daily",
    response_model=DailyFigures,
    summary="The figures of one UTC day: items actioned, notices, orders, appeals (public, no key needed)",
)
def daily_figures(
    response: Response, day: str = DateQuery, store: Store = Depends(get_store)
) -> DailyFigures:
    """Counts only: restrictive decisions by category, action, source, territory and automation;
    accounts suspended and channels banned; restrictions lifted; notices received and decided (with
    the bucket of the median time to decision); orders received, executed, refused and answered late,
    by country and type; appeals filed and decided by outcome. ``docs/transparency.md`` says what each
    figure counts."""
    figures = _figures(store, day)
    response.headers["Cache-Control"] = CACHE_CONTROL
    return figures


@router.get(
    "/transparency/daily.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}, "description": "one row per count"}},
    summary="The figures of one UTC day as CSV (public, no key needed)",
)
def daily_figures_csv(day: str = DateQuery, store: Store = Depends(get_store)) -> Response:
    """The breakdowns of ``GET /v1/transparency/daily``, one row per count, each row with the
    columns its figure is broken down by."""
    figures = _figures(store, day)
    return Response(
        to_csv(figures),
        media_type="text/csv; charset=utf-8",
        headers={
            "Cache-Control": CACHE_CONTROL,
            "Content-Disposition": f'attachment; filename="vigil-daily-{figures.day.isoformat()}.csv"',
        },
    )
