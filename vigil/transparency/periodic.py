"""The periodic transparency report: the quantitative sections of the harmonised templates (DSA
Art. 15 and 24; Commission Implementing Regulation (EU) 2024/2835) for a period of UTC days.

Each section is a table of rows ``figure, <its columns>, value``, written as one CSV file (the
columns of every file are listed in ``docs/transparency.md``) and summarised in a readable HTML page
(``vigil.web.public.periodic_report_html``). The sections, and where their figures come from:

1. orders from member-state authorities, 2. notices, 4. complaints: from their own tables. These
   are few next to decisions, and their medians need each time (medians do not add up over days).
   The figures are those of what was *received* in the period and what became of it by the period's
   end, read from the times recorded, so the report of a past period is the same whenever it is
   made, and each cohort adds up: received = given effect + refused + pending.
3. own-initiative measures, 5. automated means, 6. account suspensions: from the daily counters
   added up over the period (``vigil.transparency.daily.figures_of_period``), the same counters as
   the daily public figures, so the two can never disagree. Trusted flaggers suspended come from
   their registry.
7. average monthly active recipients: Vigil does not know them. The operator gives them
   (``--recipients``), or the report says "not known to Vigil".

Never an id, a name, a text or a time of any item, person, notifier or authority: only counts, times
in seconds and shares, broken down by closed vocabularies and country codes.
"""

from __future__ import annotations

import csv
import io
import statistics
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from vigil.domain.decisions import RESTRICTING_OUTCOMES, Action, AutomatedDecision, GroundType, Source
from vigil.domain.jurisdictions import EU_MEMBER_STATES
from vigil.domain.orders import OrderState
from vigil.store.tables import Appeal, DecisionRecord, Notice, Order, OrderEvent, TrustedFlagger
from vigil.transparency.daily import UNSPECIFIED, PeriodFigures, day_bounds, figures_of_period

MAX_PERIOD_DAYS = 400  # a year and a bit: the longest period the templates ask for is a year
NOT_KNOWN = "not_known"  # the value of a figure Vigil cannot know
ALL = ""  # in a breakdown column: every value of it (a total, or a median over all)
UNION = "EU"  # in a recipients file: the Union as a whole
MAX_RECIPIENTS_BYTES = 64 * 1024
_MAX_RECIPIENT_ROWS = 64
_MAX_RECIPIENTS = 10**10  # more people than there are: a typo

Value = int | float | str | None

_BASIS = {GroundType.ILLEGAL_CONTENT.value: "law", GroundType.INCOMPATIBLE_CONTENT.value: "terms"}
# own initiative, and how the content was detected: Vigil's automated checks, or a reviewer
_OWN_INITIATIVE = {Source.VOLUNTARY.value: "automated", Source.REVIEWER.value: "not_automated"}
_VISIBILITY = frozenset(
    a.value for a in (Action.REMOVE, Action.GEO_RESTRICT, Action.AGE_RESTRICT, Action.DEMOTE, Action.LABEL)
)
_GIVEN_EFFECT = (OrderState.EXECUTED.value, OrderState.PARTIALLY_EXECUTED.value)
_ORDER_ENDS = (*_GIVEN_EFFECT, OrderState.REFUSED.value)


# --- the period ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Period:
    """The UTC days ``first`` to ``last``, both included."""

    first: date
    last: date

    @classmethod
    def of(cls, first: date, last: date) -> Period:
        """The period, or ValueError saying what is accepted."""
        if first > last:
            raise ValueError(f"the period starts ({first.isoformat()}) after it ends ({last.isoformat()})")
        days = (last - first).days + 1
        if days > MAX_PERIOD_DAYS:
            raise ValueError(f"a period is at most {MAX_PERIOD_DAYS} days, not {days}")
        if last >= date.max:
            raise ValueError("a period ends before 9999-12-31")
        return cls(first, last)

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def bounds(self) -> tuple[datetime, datetime]:
        """The first instant of the period and the first after it, in UTC."""
        return day_bounds(self.first)[0], day_bounds(self.last)[1]


# --- sections ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Row:
    """One figure, broken down by the section's columns (``dims``, in their order; ``""``: all)."""

    figure: str
    dims: tuple[str, ...]
    value: Value


@dataclass(frozen=True, slots=True)
class Section:
    """One section of the report: its rows and what the reader must know to read them."""

    number: int
    key: str
    title: str
    columns: tuple[str, ...]
    rows: tuple[Row, ...]
    notes: tuple[str, ...]

    @property
    def file_name(self) -> str:
        return f"{self.number}_{self.key}.csv"

    def _matches(self, row: Row, figure: str, dims: Mapping[str, str], exact: bool) -> bool:
        if row.figure != figure:
            return False
        named = dict(zip(self.columns, row.dims, strict=True))
        unknown = set(dims) - set(self.columns)
        if unknown:
            raise KeyError(f"section {self.key} has no column {sorted(unknown)[0]!r}")
        if exact:
            return all(named[c] == dims.get(c, ALL) for c in self.columns)
        return all(named[c] == v for c, v in dims.items())

    def value(self, figure: str, **dims: str) -> Value:
        """The value of ``figure`` on the row broken down by exactly ``dims`` (the other columns
        ``""``); None when there is no such row."""
        for row in self.rows:
            if self._matches(row, figure, dims, exact=True):
                return row.value
        return None

    def total(self, figure: str, **dims: str) -> int:
        """The sum of the counts of ``figure`` over the rows that have ``dims`` (any other values)."""
        return sum(
            row.value
            for row in self.rows
            if isinstance(row.value, int) and self._matches(row, figure, dims, exact=False)
        )


@dataclass(frozen=True, slots=True)
class PeriodicReport:
    """The report of a period, made at ``generated_at``."""

    period: Period
    generated_at: datetime
    sections: tuple[Section, ...]

    @property
    def complete(self) -> bool:
        """Whether the period had ended when the report was made (otherwise: counted so far)."""
        return self.generated_at >= self.period.bounds()[1]

    def section(self, key: str) -> Section:
        for section in self.sections:
            if section.key == key:
                return section
        raise KeyError(f"no section {key!r}")


def _counted(figure: str, counts: Mapping[tuple[str, ...], int]) -> list[Row]:
    return [Row(figure, dims, value) for dims, value in sorted(counts.items()) if value]


def _median_seconds(times: Sequence[float]) -> int:
    """The median of ``times`` to the second (for an even count, the lower middle one, as the daily
    figures' median bucket is)."""
    return round(statistics.median_low(times))


def _medians(figure: str, times: Mapping[tuple[str, ...], list[float]]) -> list[Row]:
    return [Row(figure, dims, _median_seconds(found)) for dims, found in sorted(times.items()) if found]


def _seconds(since: datetime, until: datetime) -> float:
    return max((until - since).total_seconds(), 0.0)


def _category(value: str | None) -> str:
    return value or UNSPECIFIED


def _basis(ground_type: str | None) -> str:
    return _BASIS.get(ground_type or "", UNSPECIFIED)


# --- 1. orders ----------------------------------------------------------------------------------------

ORDER_COLUMNS = ("country", "type", "category", "ground")


def orders_section(session: Session, period: Period) -> Section:
    """Orders received in the period, by member state, order type and category of illegal content:
    what became of them by its end, and the median times to confirm receipt, give effect and answer."""
    start, end = period.bounds()
    # each order ends executed, partially executed or refused once at most (its state machine)
    rows = session.execute(
        select(
            Order.country,
            Order.type,
            Order.category,
            Order.refusal_ground,
            Order.received_at,
            Order.executed_at,
            Order.answered_at,
            OrderEvent.kind,
        )
        .outerjoin(
            OrderEvent,
            (OrderEvent.order_id == Order.id) & OrderEvent.kind.in_(_ORDER_ENDS) & (OrderEvent.at < end),
        )
        .where(Order.received_at >= start, Order.received_at < end)
    )
    counts: dict[str, Counter[tuple[str, ...]]] = defaultdict(Counter)
    effect: dict[tuple[str, ...], list[float]] = defaultdict(list)
    answer: dict[tuple[str, ...], list[float]] = defaultdict(list)
    receipt: dict[tuple[str, ...], list[float]] = defaultdict(list)
    for country, order_type, category, ground, received_at, executed_at, answered_at, ended in rows:
        cell = (country, order_type, _category(category), ALL)
        counts["received"][cell] += 1
        if ended == OrderState.REFUSED.value:
            counts["refused"][(country, order_type, _category(category), ground or UNSPECIFIED)] += 1
        elif ended in _GIVEN_EFFECT:
            counts[ended][cell] += 1
        else:
            counts["pending"][cell] += 1
        keys = ((ALL, ALL, ALL, ALL), (ALL, order_type, ALL, ALL), (country, order_type, ALL, ALL))
        for key in keys:
            # receipt is confirmed in the answer to the authority's own request
            receipt[key].append(0.0)
            if ended in _GIVEN_EFFECT and executed_at is not None:
                effect[key].append(_seconds(received_at, executed_at))
            if answered_at is not None and answered_at < end:
                answer[key].append(_seconds(received_at, answered_at))
    return Section(
        1,
        "orders",
        "Orders from member-state authorities (DSA Art. 9 and 10; TCO Regulation)",
        ORDER_COLUMNS,
        tuple(
            [
                *(
                    row
                    for figure in ("received", *_GIVEN_EFFECT, "refused", "pending")
                    for row in _counted(figure, counts[figure])
                ),
                *_medians("median_seconds_to_confirm_receipt", receipt),
                *_medians("median_seconds_to_give_effect", effect),
                *_medians("median_seconds_to_answer", answer),
            ]
        ),
        (
            "The orders received in the period, and what became of them by its end: executed, partially"
            " executed (targets not found or excluded, or the scope narrowed), refused (by ground), or"
            " pending (neither given effect nor refused by the end of the period).",
            "Country is the member state of the issuing authority; type is the order type (tco_removal,"
            " dsa_art9, dsa_art10, preservation, emergency_disclosure); category the type of illegal"
            " content the order names (unspecified when it names none).",
            "Receipt is confirmed at once: Vigil's answer to the authority's submission is the"
            " confirmation of receipt, so the median time to confirm receipt is 0 seconds.",
            "Time to give effect: from receipt to execution (the restriction sent to the platform, the"
            " data preserved or disclosed). Time to answer: from receipt to the answer to the authority"
            " (once the platform confirmed the effect, or the refusal). A request for clarification"
            " stops the legal clock but not these times. Medians are in seconds, exact, over all orders,"
            " per order type and per member state and type.",
        ),
    )


# --- 2. notices ---------------------------------------------------------------------------------------

NOTICE_COLUMNS = ("category", "source", "basis")


def notices_section(session: Session, period: Period) -> Section:
    """Notices received in the period, by category alleged and source: actioned on the basis of law
    or of the terms, not actioned, pending; processed by automated means; median time to decision."""
    start, end = period.bounds()
    ground_type = DecisionRecord.decision[("ground", "type")].as_string()
    rows = session.execute(
        select(
            Notice.category,
            Notice.source,
            Notice.received_at,
            Notice.decided_at,
            Notice.outcome,
            Notice.automated,
            ground_type,
        )
        .outerjoin(DecisionRecord, DecisionRecord.id == Notice.decision_id)
        .where(Notice.received_at >= start, Notice.received_at < end)
        .execution_options(yield_per=5000)
    )
    counts: dict[str, Counter[tuple[str, ...]]] = defaultdict(Counter)
    times: dict[tuple[str, ...], list[float]] = defaultdict(list)
    for category, source, received_at, decided_at, outcome, automated, ground in rows:
        cell = (category, source, ALL)
        counts["received"][cell] += 1
        if decided_at is None or decided_at >= end:
            counts["pending"][cell] += 1
            continue
        if outcome in RESTRICTING_OUTCOMES:
            counts["actioned"][(category, source, _basis(ground))] += 1
        else:
            counts["not_actioned"][cell] += 1
        if automated:
            counts["processed_by_automated_means"][cell] += 1
        waited = _seconds(received_at, decided_at)
        for key in ((ALL, ALL, ALL), (category, ALL, ALL), (ALL, source, ALL)):
            times[key].append(waited)
    figures = ("received", "actioned", "not_actioned", "pending", "processed_by_automated_means")
    return Section(
        2,
        "notices",
        "Notices (DSA Art. 16), from users and trusted flaggers (Art. 22)",
        NOTICE_COLUMNS,
        tuple(
            [
                *(row for figure in figures for row in _counted(figure, counts[figure])),
                *_medians("median_seconds_to_decision", times),
            ]
        ),
        (
            "The notices received in the period (refused ones are not notices), and how they were"
            " answered by its end. Source: notice (anyone) or trusted_flagger (a trusted flagger within"
            " its area of expertise). Category: the illegality alleged.",
            "Actioned: the decision that answered the notice restricts the content; basis law when"
            " that decision rests on illegality, terms when on the terms and conditions. Not actioned:"
            " answered with no restriction. Pending: not answered by the end of the period.",
            "Processed by automated means: the answering decision was taken fully or partially by"
            " automated means (a notice on content automated detection had already restricted is"
            " answered at once by that decision).",
            "Median time to decision: from receipt to the answer, in seconds, exact, over all decided"
            " notices, per category and per source.",
        ),
    )


# --- 3. own-initiative moderation ---------------------------------------------------------------------

OWN_INITIATIVE_COLUMNS = ("category", "restriction_type", "action", "detection", "automated")


def _restriction_type(action: str) -> str:
    return "visibility" if action in _VISIBILITY else "account"


def own_initiative_section(figures: PeriodFigures) -> Section:
    """Measures taken on the provider's own initiative: by category, type of restriction, action,
    detection method and how automated the decision was (from the daily counters)."""
    b = figures.breakdowns
    measures: Counter[tuple[str, ...]] = Counter()
    for r in b.restrictive:
        if r.source in _OWN_INITIATIVE:
            key = (r.category, _restriction_type(r.action), r.action, _OWN_INITIATIVE[r.source], r.automated)
            measures[key] += r.count
    accounts: Counter[tuple[str, ...]] = Counter()
    for action, rows in (
        (Action.SUSPEND_ACCOUNT.value, b.accounts_suspended),
        (Action.BAN_CHANNEL.value, b.channels_banned),
    ):
        for m in rows:
            if m.source in _OWN_INITIATIVE:
                accounts[(m.category, "account", action, _OWN_INITIATIVE[m.source], m.automated)] += m.count
    return Section(
        3,
        "own_initiative",
        "Content moderation on the provider's own initiative",
        OWN_INITIATIVE_COLUMNS,
        tuple([*_counted("measures", measures), *_counted("account_measures", accounts)]),
        (
            "Own initiative: Vigil's automated detection on the content the platform sends (detection"
            " automated), or a reviewer acting on their own initiative (detection not_automated)."
            " Measures taken on notices and orders are counted in sections 1 and 2.",
            "Measures: items actioned, each once under its most severe restriction (action): remove,"
            " geo_restrict, age_restrict, demote, label (restriction_type visibility), or"
            " suspend_account, ban_channel alone (restriction_type account). A reviewer confirming a"
            " measure in force counts nothing; a changed measure counts again.",
            "Account measures: accounts suspended and channels banned, which may come with a measure on"
            " the content itself. Vigil takes no monetary measure.",
            "Automated: how the decision was taken, fully, partially or not_automated.",
        ),
    )


# --- 4. complaints -------------------------------------------------------------------------------------

COMPLAINT_COLUMNS = ("category", "basis", "automated", "outcome")


def complaints_section(session: Session, period: Period) -> Section:
    """Complaints (appeals, DSA Art. 20) received in the period: by the category, basis and
    automation of the decision complained of; decided by outcome, reversed, pending; median time."""
    start, end = period.bounds()
    ground_type = DecisionRecord.decision[("ground", "type")].as_string()
    automated = DecisionRecord.decision["automated_decision"].as_string()
    rows = session.execute(
        select(
            Appeal.received_at,
            Appeal.decided_at,
            Appeal.outcome,
            DecisionRecord.category,
            ground_type,
            automated,
        )
        .join(DecisionRecord, DecisionRecord.id == Appeal.decision_id)
        .where(Appeal.received_at >= start, Appeal.received_at < end)
        .execution_options(yield_per=5000)
    )
    counts: dict[str, Counter[tuple[str, ...]]] = defaultdict(Counter)
    times: dict[tuple[str, ...], list[float]] = defaultdict(list)
    for received_at, decided_at, outcome, category, ground, how in rows:
        cell = (_category(category), _basis(ground), how, ALL)
        counts["received"][cell] += 1
        if decided_at is None or decided_at >= end or outcome is None:
            counts["pending"][cell] += 1
            continue
        counts["decided"][(*cell[:3], outcome)] += 1
        if outcome == "overturned":
            counts["reversed"][cell] += 1
        for key in ((ALL, ALL, ALL, ALL), (_category(category), ALL, ALL, ALL)):
            times[key].append(_seconds(received_at, decided_at))
    return Section(
        4,
        "complaints",
        "Complaints through the internal complaint-handling system (DSA Art. 20)",
        COMPLAINT_COLUMNS,
        tuple(
            [
                *(
                    row
                    for figure in ("received", "decided", "reversed", "pending")
                    for row in _counted(figure, counts[figure])
                ),
                *_medians("median_seconds_to_decision", times),
                Row("out_of_court_disputes", (ALL, ALL, ALL, ALL), NOT_KNOWN),
            ]
        ),
        (
            "The complaints received in the period, by the decision complained of: its category, its"
            " basis (law or terms) and how automated it was; and how they were decided by the end of"
            " the period.",
            "Outcome: upheld (the same restrictions), overturned (no restriction left) or changed (other"
            " restrictions, or another territory). Reversed: overturned. Pending: not decided by the"
            " end of the period.",
            "Median time to decision: from receipt to decision, in seconds, exact, over all decided"
            " complaints and per category.",
            "Out-of-court disputes (Art. 21, 24(1)(a)) are settled outside Vigil, which does not know"
            " them: not_known.",
        ),
    )


# --- 5. automated means --------------------------------------------------------------------------------

AUTOMATED_COLUMNS = ("category", "automated")


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _shares(
    figure: str, parts: Mapping[tuple[str, ...], int], wholes: Mapping[tuple[str, ...], int]
) -> list[Row]:
    return [
        Row(figure, key, _share(parts.get(key, 0), whole)) for key, whole in sorted(wholes.items()) if whole
    ]


def automated_means_section(figures: PeriodFigures) -> Section:
    """The use of automated means and indicators of their accuracy, by category (from the counters):
    the share of restrictive decisions taken fully automatically, and how often decisions of each
    level of automation were overturned on complaint or their restrictions lifted."""
    b = figures.breakdowns
    restrictive: Counter[tuple[str, ...]] = Counter()
    for r in b.restrictive:
        restrictive[(r.category, r.automated)] += r.count
    totals: Counter[tuple[str, ...]] = Counter()
    fully: Counter[tuple[str, ...]] = Counter()
    for (category, how), value in restrictive.items():
        for key in ((ALL, ALL), (category, ALL)):
            totals[key] += value
            if how == AutomatedDecision.FULLY.value:
                fully[key] += value
    decided: Counter[tuple[str, ...]] = Counter()
    overturned: Counter[tuple[str, ...]] = Counter()
    for a in b.appeals_decided:
        decided[(a.category, a.automated)] += a.count
        if a.outcome == "overturned":
            overturned[(a.category, a.automated)] += a.count
    lifted: Counter[tuple[str, ...]] = Counter()
    by_people: Counter[tuple[str, ...]] = Counter()
    for lift in b.restrictions_lifted:
        lifted[(lift.category, lift.automated)] += lift.count
        if lift.automated == AutomatedDecision.NOT_AUTOMATED.value:
            for key in ((ALL, ALL), (lift.category, ALL)):
                by_people[key] += lift.count
    return Section(
        5,
        "automated_means",
        "Automated means: their use and indicators of accuracy",
        AUTOMATED_COLUMNS,
        tuple(
            [
                *_counted("restrictive_decisions", restrictive),
                *_shares("fully_automated_share", fully, totals),
                *_counted("complaints_decided", decided),
                *_counted("overturned_on_complaint", overturned),
                *_shares("overturn_rate_on_complaint", overturned, decided),
                *_counted("restrictions_lifted", lifted),
                *_shares("lifted_by_a_person_rate", by_people, totals),
            ]
        ),
        (
            "Automated means: matching media against lists of hashes of known illegal content (MD5,"
            " SHA-256, PDQ for images, vPDQ for videos), classifiers of text (per language and"
            " category), of nudity and of the provenance of AI-generated media; policies decide from"
            " their findings, alone (fully automated) or with a reviewer (partially), or a reviewer"
            " decides (not_automated).",
            "Restrictive decisions: items actioned, by category and how automated the decision was."
            " Fully automated share: their share taken fully by automated means.",
            "Indicators of accuracy: complaints decided against decisions of each level of automation,"
            " how many overturned them, and the rate (overturned / decided). Restrictions lifted: by"
            " the category of what was lifted and how automated the lifting decision was (a reviewer"
            " or a complaint: not_automated; a machine's re-decision after a rule changed: fully)."
            " Lifted by a person rate: restrictions lifted by a person / restrictive decisions of the"
            " period, per category; it counts lifts of decisions of every level of automation, so it"
            " bounds from above the share of automated decisions a person reversed.",
            "Shares are between 0 and 1, empty where there is nothing to divide by. The counters are"
            " not kept by language, so no figure here is broken down by it.",
        ),
    )


# --- 6. suspensions --------------------------------------------------------------------------------------

SUSPENSION_COLUMNS = ("category", "source", "automated")


def suspensions_section(session: Session, period: Period, figures: PeriodFigures) -> Section:
    """Suspensions (DSA Art. 23): accounts suspended and channels banned (from the counters), trusted
    flaggers suspended (from their registry)."""
    start, end = period.bounds()
    b = figures.breakdowns
    rows: list[Row] = []
    for figure, measures in (
        ("accounts_suspended", b.accounts_suspended),
        ("channels_banned", b.channels_banned),
    ):
        counts: Counter[tuple[str, ...]] = Counter()
        for m in measures:
            counts[(m.category, m.source, m.automated)] += m.count
        rows += _counted(figure, counts)
    flaggers = session.scalar(
        select(func.count())
        .select_from(TrustedFlagger)
        .where(TrustedFlagger.suspended_at >= start, TrustedFlagger.suspended_at < end)
    )
    rows += [
        Row("trusted_flaggers_suspended", (ALL, ALL, ALL), int(flaggers or 0)),
        Row("notifiers_suspended_for_unfounded_notices", (ALL, ALL, ALL), NOT_KNOWN),
        Row("complainants_suspended_for_unfounded_complaints", (ALL, ALL, ALL), NOT_KNOWN),
    ]
    return Section(
        6,
        "suspensions",
        "Suspensions (DSA Art. 23)",
        SUSPENSION_COLUMNS,
        tuple(rows),
        (
            "Accounts suspended and channels banned for content (manifestly illegal content, or repeated"
            " infringement: strikes), by the category, source and automation of the decision that"
            " suspended or banned them. A ban or suspension counts when it is new on the item.",
            "Trusted flaggers suspended for manifestly unfounded notices (Art. 22(6), 23(2)) in the"
            " period, from their registry, which keeps each flagger's latest suspension: one suspended"
            " twice in the period counts once.",
            "Vigil does not suspend users who send manifestly unfounded notices or complaints; the"
            " platform does, if it does: not_known.",
        ),
    )


# --- 7. recipients -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Recipients:
    """Average monthly active recipients per member state (``EU``: the Union as a whole), as the
    operator gave them."""

    counts: tuple[tuple[str, int], ...]


def parse_recipients(text: str, name: str = "recipients") -> Recipients:
    """Recipients from CSV text ``country,count`` (a header line ``country,count`` is allowed): an
    EU member state's ISO code or ``EU``, and a whole number. ValueError names the line and the
    problem."""
    counts: dict[str, int] = {}
    reader = csv.reader(io.StringIO(text))
    for number, cells in enumerate(reader, start=1):
        if not cells or all(not c.strip() for c in cells):
            continue
        where = f"{name} line {number}"
        if len(counts) >= _MAX_RECIPIENT_ROWS:
            raise ValueError(f"{where}: more than {_MAX_RECIPIENT_ROWS} rows")
        if len(cells) != 2:
            raise ValueError(f"{where}: expected two columns, country,count; found {len(cells)}")
        country, value = (c.strip() for c in cells)
        if number == 1 and country.lower() == "country":
            continue
        country = country.upper()
        if country != UNION and country not in EU_MEMBER_STATES:
            raise ValueError(
                f"{where}: {country[:8]!r} is not an EU member state's two-letter code (nor {UNION}, the Union)"
            )
        if country in counts:
            raise ValueError(f"{where}: {country} is given twice")
        if not value.isascii() or not value.isdigit() or int(value) > _MAX_RECIPIENTS:
            raise ValueError(f"{where}: the count is a whole number of people, not {value[:20]!r}")
        counts[country] = int(value)
    if not counts:
        raise ValueError(f"{name}: no rows; expected lines country,count")
    return Recipients(tuple(sorted(counts.items())))


def read_recipients(path: Path) -> Recipients:
    """The recipients file at ``path`` (UTF-8, at most :data:`MAX_RECIPIENTS_BYTES`)."""
    with path.open("rb") as file:
        data = file.read(MAX_RECIPIENTS_BYTES + 1)
    if len(data) > MAX_RECIPIENTS_BYTES:
        raise ValueError(f"{path}: larger than {MAX_RECIPIENTS_BYTES} bytes")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValueError(f"{path}: not UTF-8 text") from None
    return parse_recipients(text, str(path))


def recipients_section(recipients: Recipients | None) -> Section:
    """Average monthly active recipients (DSA Art. 24(2)): as given, or not known to Vigil."""
    figure = "average_monthly_active_recipients"
    if recipients is None:
        rows: tuple[Row, ...] = (Row(figure, (ALL,), NOT_KNOWN),)
        source = "Vigil does not know who uses the platform, so the figure is not_known: give it with --recipients."
    else:
        # the Union as a whole is the row over all countries (an empty country, as in every section)
        rows = tuple(Row(figure, (ALL if c == UNION else c,), value) for c, value in recipients.counts)
        source = "As given by the operator (--recipients); Vigil does not count recipients."
    return Section(
        7,
        "recipients",
        "Average monthly active recipients in the Union (DSA Art. 24(2))",
        ("country",),
        rows,
        (
            source,
            "Country: a member state; empty for the Union as a whole (given as EU), which is not the sum"
            " of the member states' figures, since a recipient may be active in several.",
        ),
    )


# --- the report ---------------------------------------------------------------------------------------


def periodic_report(
    session: Session, period: Period, recipients: Recipients | None, generated_at: datetime
) -> PeriodicReport:
    """Every section of the report of ``period``, read in the caller's transaction."""
    figures = figures_of_period(session, period.first, period.last)
    return PeriodicReport(
        period,
        generated_at,
        (
            orders_section(session, period),
            notices_section(session, period),
            own_initiative_section(figures),
            complaints_section(session, period),
            automated_means_section(figures),
            suspensions_section(session, period, figures),
            recipients_section(recipients),
        ),
    )


def _cell(value: Value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)


def _label(text: str) -> str:
    # a cell a spreadsheet would read as a formula is written as text (OWASP's advice on CSV
    # injection); no label of a closed vocabulary starts so, so only a corrupted one is changed
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def section_csv(report: PeriodicReport, section: Section) -> str:
    """The section as CSV: ``period_from, period_to, figure``, the section's columns, ``value``."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(("period_from", "period_to", "figure", *section.columns, "value"))
    first, last = report.period.first.isoformat(), report.period.last.isoformat()
    for row in section.rows:
        writer.writerow((first, last, row.figure, *(_label(d) for d in row.dims), _cell(row.value)))
    return buffer.getvalue()


REPORT_HTML = "report.html"


def write_report(report: PeriodicReport, folder: Path, html: str) -> list[Path]:
    """Write one CSV file per section and ``report.html`` (``html``) into ``folder``, which must
    exist; files of the same names are replaced. Returns the paths written, in order."""
    written: list[Path] = []
    for name, text in (
        *((s.file_name, section_csv(report, s)) for s in report.sections),
        (REPORT_HTML, html),
    ):
        path = folder / name
        path.write_text(text, encoding="utf-8", newline="")
        written.append(path)
    return written
