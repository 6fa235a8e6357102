"""Authority orders: their types, their legal clocks, and the states an order passes through.

An order is an authority's demand on the platform. Its clock runs from the moment Vigil received
it, in UTC, to the second (docs/orders.md, "The clock and the states"); a request for clarification
stops the clock, and the authority's answer starts a fresh one (Regulation 2021/784 Art. 3(7)-(8):
the hour runs again from when the clarification arrives). Local time and daylight saving never enter the
arithmetic: an instant plus an hour is an instant, whatever the clocks on the wall do meanwhile.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from types import MappingProxyType

from vigil.domain.errors import ErrorKind, VigilError
from vigil.domain.jurisdictions import TerritorialScope
from vigil.domain.taxonomy import Category


class OrderType(StrEnum):
    TERRORIST_REMOVAL = "tco_removal"  # Regulation 2021/784 Art. 3 (Art. 4 when cross-border)
    ACT_AGAINST_CONTENT = "dsa_art9"  # DSA Art. 9: order to act against illegal content
    PROVIDE_INFORMATION = "dsa_art10"  # DSA Art. 10: order to provide information on specific users
    PRESERVATION = "preservation"  # keep content and related data for an investigation
    EMERGENCY_DISCLOSURE = "emergency_disclosure"  # a threat to someone's life or safety


class OrderEffect(StrEnum):
    """What giving effect to an order means."""

    RESTRICT = "restrict"  # remove or disable access to content
    DISCLOSE = "disclose"  # hand over data about users
    PRESERVE = "preserve"  # keep content and data


@dataclass(frozen=True, slots=True)
class OrderRule:
    """What the law says about one type of order."""

    law: str
    effect: OrderEffect
    period: timedelta  # from receipt (or clarification) to the deadline
    statutory: bool  # the period is the law's own; otherwise it is Vigil's reading of "without undue delay"
    preserve_for: timedelta | None  # how long what the order touches is preserved


SIX_MONTHS = timedelta(days=183)
# how long a terrorist-content removal order may keep the user uninformed at once (TCO Art. 11(3))
MAX_WITHHOLDING = timedelta(weeks=6)

ORDER_RULES: Mapping[OrderType, OrderRule] = MappingProxyType(
    {
        OrderType.TERRORIST_REMOVAL: OrderRule(
            "Regulation (EU) 2021/784, Art. 3", OrderEffect.RESTRICT, timedelta(hours=1), True, SIX_MONTHS
        ),
        OrderType.ACT_AGAINST_CONTENT: OrderRule(
            "Regulation (EU) 2022/2065, Art. 9", OrderEffect.RESTRICT, timedelta(hours=24), False, None
        ),
        OrderType.PROVIDE_INFORMATION: OrderRule(
            "Regulation (EU) 2022/2065, Art. 10", OrderEffect.DISCLOSE, timedelta(hours=72), False, None
        ),
        OrderType.PRESERVATION: OrderRule(
            "national law of the issuing authority",
            OrderEffect.PRESERVE,
            timedelta(hours=24),
            False,
            SIX_MONTHS,
        ),
        OrderType.EMERGENCY_DISCLOSURE: OrderRule(
            "Regulation (EU) 2022/2065, Art. 18", OrderEffect.DISCLOSE, timedelta(hours=1), False, None
        ),
    }
)


class OrderState(StrEnum):
    RECEIVED = "received"
    VERIFIED = "verified"
    IN_LEGAL_REVIEW = "in_legal_review"
    AWAITING_CLARIFICATION = "awaiting_clarification"  # the clock is stopped
    EXECUTED = "executed"
    PARTIALLY_EXECUTED = "partially_executed"
    REFUSED = "refused"
    ANSWERED = "answered"  # the authority has the effect given (or the refusal), and when


# Where an order may go from each state. Execution straight from ``verified`` is auto-execution,
# which only the operator's safeguards allow; everything else passes through legal review.
TRANSITIONS: Mapping[OrderState, frozenset[OrderState]] = MappingProxyType(
    {
        OrderState.RECEIVED: frozenset({OrderState.VERIFIED}),
        OrderState.VERIFIED: frozenset(
            {OrderState.IN_LEGAL_REVIEW, OrderState.EXECUTED, OrderState.PARTIALLY_EXECUTED}
        ),
        OrderState.IN_LEGAL_REVIEW: frozenset(
            {
                OrderState.AWAITING_CLARIFICATION,
                OrderState.EXECUTED,
                OrderState.PARTIALLY_EXECUTED,
                OrderState.REFUSED,
            }
        ),
        OrderState.AWAITING_CLARIFICATION: frozenset({OrderState.IN_LEGAL_REVIEW, OrderState.REFUSED}),
        OrderState.EXECUTED: frozenset({OrderState.ANSWERED}),
        OrderState.PARTIALLY_EXECUTED: frozenset({OrderState.ANSWERED}),
        OrderState.REFUSED: frozenset({OrderState.ANSWERED}),
        OrderState.ANSWERED: frozenset(),
    }
)

# States in which the order still waits for the platform; the clock is running in all but
# AWAITING_CLARIFICATION.
OPEN_STATES = frozenset(
    {OrderState.RECEIVED, OrderState.VERIFIED, OrderState.IN_LEGAL_REVIEW, OrderState.AWAITING_CLARIFICATION}
)
DONE_STATES = frozenset(
    {OrderState.EXECUTED, OrderState.PARTIALLY_EXECUTED, OrderState.REFUSED, OrderState.ANSWERED}
)


class OrderTransitionError(VigilError, ValueError):
    """A move the order's state machine does not allow (executing a refused order, say)."""

    kind = ErrorKind.CONFLICT
    code = "wrong_state"


def check_transition(current: OrderState, target: OrderState) -> None:
    """Raise OrderTransitionError unless an order in ``current`` may move to ``target``."""
    if target not in TRANSITIONS[current]:
        allowed = ", ".join(sorted(s.value for s in TRANSITIONS[current])) or "nothing"
        raise OrderTransitionError(
            f"an order that is {current.value} cannot become {target.value} (it may become: {allowed})"
        )


class RefusalGround(StrEnum):
    """Why an order is not executed (TCO Art. 3(7)-(8), DSA Art. 9 and 10, and the safeguards)."""

    MANIFEST_ERROR = "manifest_error"
    INSUFFICIENT_INFORMATION = "insufficient_information"
    FORCE_MAJEURE = "force_majeure"
    DE_FACTO_IMPOSSIBILITY = "de_facto_impossibility"
    OUTSIDE_COMPETENCE = "outside_competence"
    NOT_ILLEGAL = "not_illegal"  # the content is not illegal under the law the order invokes
    FUNDAMENTAL_RIGHTS = "fundamental_rights"  # journalism, political speech, protest, human rights work
    DISPROPORTIONATE = "disproportionate"  # the scope or the data asked for exceed what is necessary
    CONTENT_NOT_FOUND = "content_not_found"
    OTHER = "other"


def _utc(moment: datetime) -> datetime:
    if moment.utcoffset() is None:
        raise ValueError("order times must be timezone-aware")
    return moment.astimezone(UTC)


def order_deadline(
    clock_started_at: datetime, period: timedelta, respond_by: datetime | None = None
) -> datetime:
    """The instant by which the order must be given effect, in UTC.

    ``clock_started_at`` is the receipt (or the arrival of the authority's clarification);
    ``respond_by`` is a date the authority set in the order, which can only bring the deadline
    nearer: the law's period is the latest the platform may take.
    """
    deadline = _utc(clock_started_at) + period
    if respond_by is not None:
        deadline = min(deadline, _utc(respond_by))
    return deadline


def time_left(deadline: datetime, now: datetime) -> timedelta:
    """Time until the deadline; negative once it has passed."""
    return _utc(deadline) - _utc(now)


def answered_late(deadline: datetime, effect_at: datetime) -> bool:
    """Whether effect was given (or the refusal sent) after the deadline; at the deadline is on time."""
    return _utc(effect_at) > _utc(deadline)


class Urgency(StrEnum):
    """How loudly an open order's clock calls: the legal console and its escalations show this."""

    ON_TRACK = "on_track"
    DUE_SOON = "due_soon"  # a quarter of the period or less is left
    CRITICAL = "critical"  # a tenth or less
    OVERDUE = "overdue"


def urgency(deadline: datetime, period: timedelta, now: datetime) -> Urgency:
    left = time_left(deadline, now)
    if left <= timedelta(0):
        return Urgency.OVERDUE
    if left <= period / 10:
        return Urgency.CRITICAL
    if left <= period / 4:
        return Urgency.DUE_SOON
    return Urgency.ON_TRACK


class InformationField(StrEnum):
    """What an order to provide information may ask for about a user. Vigil discloses only the
    fields an order names, and only about the accounts it names (DSA Art. 10(2)(a))."""

    # held by Vigil, disclosed from its own records
    CONTENT = "content"  # the account's items Vigil holds: ids, times, texts
    DECISIONS = "decisions"  # moderation decisions on those items
    CHANNELS = "channels"  # the channels and groups the account posted in
    # held by the platform: Vigil tells the platform exactly which of them to hand over
    SUBSCRIBER_IDENTITY = "subscriber_identity"
    CONTACT_DETAILS = "contact_details"
    IP_ADDRESSES = "ip_addresses"
    ACCOUNT_METADATA = "account_metadata"


VIGIL_HELD_FIELDS = frozenset(
    {InformationField.CONTENT, InformationField.DECISIONS, InformationField.CHANNELS}
)


@dataclass(frozen=True, slots=True)
class OrderTarget:
    """An exact electronic location the order names: the platform's URL, its content id, or both."""

    url: str | None
    content_id: str | None

    @property
    def location(self) -> str:
        return self.url or self.content_id or ""


@dataclass(frozen=True, slots=True)
class OrderDocument:
    """The order as the authority signed it (DSA Art. 9(2), 10(2); TCO Art. 3(4))."""

    authority_id: str
    reference: str  # the authority's own reference: unique per authority
    type: OrderType
    issued_at: datetime
    language: str  # ISO 639-1 of the order's text
    legal_basis: str
    statement_of_reasons: str
    category: Category | None
    territorial_scope: TerritorialScope
    targets: tuple[OrderTarget, ...]
    accounts: tuple[str, ...]  # users the order is about (information, disclosure, preservation)
    information: frozenset[InformationField]
    respond_by: datetime | None
    withhold_user_notice: bool  # the authority asks that the user not be told yet
    redress: str  # the redress available to the platform and the user (DSA Art. 9(2)(a))
    # ... until then (TCO Art. 11(3): up to six weeks, renewable); None: until it says otherwise
    withhold_user_notice_until: datetime | None = None
