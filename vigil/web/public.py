"""Public pages: what anyone may read without a key: ``/contact`` and ``/transparency``.

The single points of contact (DSA Art. 11, 12, 13; TCO Art. 15) must be easy to find, so the page is
plain server-rendered HTML that a search engine indexes and a phone shows without help: no
JavaScript, no external fonts or images. It carries the same data as schema.org JSON-LD, which is
data, not script: browsers never execute a ``<script type="application/ld+json">``, so the
Content-Security-Policy forbids every script and crawlers still read it.

The pages show configuration text, which an operator (or whoever can edit the file) controls, so it is
escaped like hostile content: the templates autoescape, and the JSON-LD escapes ``<``, ``>`` and
``&`` so that no text can end its ``<script>`` element. The only inline code is the stylesheet of
``public_base.html`` (and, on the transparency page, that of ``transparency.html``), allowed by its
SHA-256 hash.

The transparency page publishes a day's figures (``vigil.transparency.daily``) with charts drawn on
the server (``vigil.web.charts``): counts by closed vocabularies, never personal data. Its day is
picked with a plain HTML form (``GET /transparency?date=``), which works without script; its policy
allows that form to submit to the page itself and nothing else. The periodic report's HTML summary
(:func:`periodic_report_html`) is drawn with the same look and the same charts, as a file that opens
on its own.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup

from vigil.api.deps import get_store
from vigil.api.routes.contact import get_contact
from vigil.domain.ids import utcnow
from vigil.intake.contact import (
    EU_MEMBER_STATES,
    LANGUAGE_NAMES,
    NATIVE_NAMES,
    PublishedContact,
    publish,
)
from vigil.store.db import Store
from vigil.transparency.daily import (
    DailyFigures,
    Summary,
    TimeBucket,
    TrendDay,
    figures_of_day,
    parse_day,
    restrictive_trend,
)
from vigil.transparency.periodic import ALL, NOT_KNOWN, PeriodicReport, Section
from vigil.web.charts import Bar, TrendPoint, bar_chart, count, percent, trend_chart
from vigil.web.render import TEMPLATES, duration, render


def _style_hash(template: str) -> str:
    """The CSP source of a template's inline stylesheet, hashed as the browser hashes it: the text
    between ``<style>`` and ``</style>`` (the block holds no template code, so it is served as
    written)."""
    source = (TEMPLATES / template).read_text(encoding="utf-8")
    found = re.search(r"<style>(.*?)</style>", source, re.DOTALL)
    if found is None:
        raise RuntimeError(f"{template} has no <style> element")
    digest = hashlib.sha256(found.group(1).encode()).digest()
    return f"'sha256-{base64.b64encode(digest).decode()}'"


def _content_security_policy(templates: Iterable[str], form_action: str) -> str:
    styles = " ".join(_style_hash(t) for t in templates)
    return (
        f"default-src 'none'; script-src 'none'; style-src {styles}; img-src data:; "
        f"base-uri 'none'; form-action {form_action}; frame-ancestors 'none'"
    )


CONTENT_SECURITY_POLICY = _content_security_policy(["public_base.html"], "'none'")
HEADERS: dict[str, str] = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    # public and unchanging until a restart: caches may keep it a few minutes
    "Cache-Control": "public, max-age=300",
}
_JSON_IN_HTML = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026"})
_EVERY_DAY = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]

router = APIRouter(include_in_schema=False)


def mount_public_pages(app: FastAPI) -> None:
    """Serve the public pages on ``app``, each with :data:`HEADERS`."""
    app.include_router(router)


def public_page(
    template: str, context: dict[str, Any], status: int = 200, headers: Mapping[str, str] = HEADERS
) -> HTMLResponse:
    """``template`` rendered with ``context``, with the public pages' security headers (``headers``:
    those of a page whose policy differs, such as :data:`TRANSPARENCY_HEADERS`)."""
    return HTMLResponse(render(template, context), status_code=status, headers=dict(headers))


def script_json(data: Any) -> Markup:
    """``data`` as JSON that can sit inside a ``<script>`` element: ``<``, ``>`` and ``&`` are written
    as ``\\u003c``, ``\\u003e``, ``\\u0026``, which JSON reads back as the same characters but HTML
    never sees as markup, so no string can close the element or open a comment."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":")).translate(_JSON_IN_HTML)
    return Markup(text)  # noqa: S704 (safe: the translation above leaves no markup character)


# --- /contact --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LanguageLabel:
    """A language as the page lists it: English name, its own name for EU languages, and the code."""

    code: str
    name: str
    native: str | None


def _labels(codes: tuple[str, ...]) -> list[LanguageLabel]:
    return [
        LanguageLabel(code, LANGUAGE_NAMES.get(code, code), NATIVE_NAMES.get(code) if code != "en" else None)
        for code in codes
    ]


def _country_name(code: str) -> str:
    member = EU_MEMBER_STATES.get(code)
    return f"{member[0]} ({code})" if member else code


def _languages_ld(codes: tuple[str, ...]) -> list[dict[str, str]]:
    return [{"@type": "Language", "name": LANGUAGE_NAMES.get(c, c), "alternateName": c} for c in codes]


def contact_json_ld(contact: PublishedContact) -> dict[str, Any]:
    """The contact points as a schema.org Organization with one ContactPoint per point of contact."""
    operator, authorities, tco = contact.operator, contact.authorities, contact.removal_orders
    round_the_clock = {
        "@type": "OpeningHoursSpecification",
        "dayOfWeek": _EVERY_DAY,
        "opens": "00:00",
        "closes": "23:59",
    }
    points: list[dict[str, Any]] = [
        {
            "@type": "ContactPoint",
            "contactType": "single point of contact for authorities (DSA Art. 11)",
            "email": authorities.email,
            "telephone": authorities.phone,
            "url": authorities.orders_endpoint,
            "availableLanguage": _languages_ld(authorities.accepted_languages),
            "hoursAvailable": round_the_clock,
        },
        {
            "@type": "ContactPoint",
            "contactType": "TCO removal orders (Regulation (EU) 2021/784, Art. 15)",
            "email": tco.email,
            "url": tco.endpoint,
            "availableLanguage": _languages_ld(authorities.accepted_languages),
            "hoursAvailable": round_the_clock,
        },
        {
            "@type": "ContactPoint",
            "contactType": "single point of contact for users (DSA Art. 12)",
            "email": contact.users.email,
            "url": contact.users.report_url,
            "availableLanguage": _languages_ld(contact.users.languages),
        },
    ]
    representative = contact.legal_representative
    if representative is not None:
        # a PostalAddress is a ContactPoint with an address, which is what a representative is
        points.append(
            {
                "@type": "PostalAddress",
                "contactType": "legal representative in the EU (DSA Art. 13)",
                "name": representative.name,
                "streetAddress": representative.address,
                "addressCountry": representative.country,
                "email": representative.email,
                "telephone": representative.phone,
            }
        )
    organization: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "Organization",
        "name": operator.name,
        "legalName": operator.legal_name,
        "address": {
            "@type": "PostalAddress",
            "streetAddress": operator.address,
            "addressCountry": operator.establishment_country,
        },
        "contactPoint": points,
    }
    if operator.registration:
        organization["identifier"] = operator.registration
    return organization


@router.get("/contact", response_class=HTMLResponse)
def contact_page(request: Request) -> HTMLResponse:
    """The single points of contact for authorities and users, as a page anyone can read."""
    contact = publish(get_contact(request))
    return public_page(
        "contact.html",
        {
            "contact": contact,
            "json_ld": script_json(contact_json_ld(contact)),
            "accepted_languages": _labels(contact.authorities.accepted_languages),
            "user_languages": _labels(contact.users.languages),
            "country_name": _country_name,
        },
    )


# --- /transparency -------------------------------------------------------------------------------

FIRST_DAY = date(2000, 1, 1)  # no platform ran Vigil before; earlier days are refused, not zeros
TREND_DAYS = 30
TRANSPARENCY_HEADERS: dict[str, str] = {
    **HEADERS,
    # the day form submits to the page itself
    "Content-Security-Policy": _content_security_policy(["public_base.html", "transparency.html"], "'self'"),
    # as /v1/transparency/daily: a day's figures grow until it ends
    "Cache-Control": "public, max-age=60",
}

# the closed vocabularies of the figures in words; a key not listed is shown as it is (escaped)
CATEGORY_LABELS: Mapping[str, str] = {
    "csam": "child sexual abuse material",
    "grooming": "grooming of children",
    "terrorism": "terrorist content",
    "ncii": "non-consensual intimate images",
    "hate_speech": "hate speech",
    "drugs": "drugs",
    "fraud": "fraud and scams",
    "spam": "spam",
    "adult_nudity": "adult nudity",
    "unspecified": "not specified",
}
ACTION_LABELS: Mapping[str, str] = {
    "remove": "removed",
    "geo_restrict": "withheld in some countries",
    "age_restrict": "age-restricted",
    "demote": "demoted",
    "label": "labelled",
    "suspend_account": "account suspended",
    "ban_channel": "channel banned",
}
SOURCE_LABELS: Mapping[str, str] = {
    "voluntary": "own automated detection",
    "notice": "notices from users",
    "trusted_flagger": "trusted flaggers",
    "authority_order": "authority orders",
    "reviewer": "reviewers' own initiative",
}
BASIS_LABELS: Mapping[str, str] = {"law": "illegal (law)", "terms": "terms and conditions"}
OUTCOME_LABELS: Mapping[str, str] = {
    "upheld": "upheld",
    "overturned": "overturned",
    "changed": "changed",
}


def _words(labels: Mapping[str, str], key: str) -> str:
    return labels.get(key, key)


def _bars(counts: Mapping[str, float], labels: Mapping[str, str]) -> list[Bar]:
    """Bars of ``counts`` by key, largest first (then by key, so equal bars keep a stable order)."""
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return [Bar(_words(labels, key), value) for key, value in ordered if value]


def _sums(rows: Iterable[Any], key: str) -> Counter[str]:
    totals: Counter[str] = Counter()
    for row in rows:
        totals[getattr(row, key)] += row.count
    return totals


def _span(seconds: int) -> str:
    days, rest = divmod(seconds, 86400)
    if days and not rest:
        return f"{days} day" + ("s" if days > 1 else "")
    hours, rest = divmod(seconds, 3600)
    if hours and not rest:
        return f"{hours} hour" + ("s" if hours > 1 else "")
    return f"{seconds // 60} minutes"


def bucket_words(bucket: TimeBucket | None) -> str:
    """A bucket of the time to decision in words: ``1 hour to 3 hours``, ``under 5 minutes``."""
    if bucket is None:
        return "none decided"
    if bucket.to_seconds is None:
        return f"{_span(bucket.from_seconds)} or more"
    if bucket.from_seconds == 0:
        return f"under {_span(bucket.to_seconds)}"
    return f"{_span(bucket.from_seconds)} to {_span(bucket.to_seconds)}"


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


# --- the periodic report's HTML -------------------------------------------------------------------


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
