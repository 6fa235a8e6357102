"""The legal console: authority orders by time left, and the forms legal staff answer them with.

Two pages under ``/console/orders``, for the ``legal`` and ``senior_legal`` roles only: the orders,
the nearest deadline first, and one order with everything a lawyer needs to answer it (the order as
the authority signed it, the content each target names, the verification, the safeguards' findings,
the clock and the history) beside the forms to execute, approve, refuse or ask for clarification.

Every action goes through the same :class:`~vigil.intake.orders.OrderDesk` as ``/v1/orders``, so the
state machine, the senior-review hold and the two-person rule for disclosures are enforced once, in
one place; the pages only show what the desk allows and say why when it refuses. The forms follow
the console's rules (``vigil.web.common``): a CSRF token on every form, POST/redirect/GET after a
change, the page again with the reason and an error status after a refusal.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from vigil.api.deps import get_orders, get_store
from vigil.api.errors import status_of
from vigil.domain.content import Content
from vigil.domain.errors import VigilError
from vigil.domain.orders import (
    DONE_STATES,
    OPEN_STATES,
    ORDER_RULES,
    OrderEffect,
    OrderRule,
    OrderState,
    OrderTransitionError,
    OrderType,
    RefusalGround,
)
from vigil.domain.roles import Role
from vigil.intake.orders import (
    LEGAL_ROLES,
    Caller,
    OrderActionError,
    OrderDesk,
    OrderView,
)
from vigil.intake.safeguards import SENIOR_FLAGS
from vigil.store import content as content_store
from vigil.web.common import (
    MAX_ID_LENGTH,
    ConsoleRoute,
    Posted,
    Refusal,
    current_session,
    on_posted_form,
    redirect_after_post,
    render_page,
    session_with_token,
)
from vigil.web.render import time_left
from vigil.web.security import PREFIX
from vigil.web.sessions import ConsoleSession, Flash

ORDER_ROWS = 200  # orders listed on one page, nearest deadline first
MAX_TEXT_LENGTH = 5000  # a refusal's explanation, a question: as the HTTP API
MAX_NOTE_LENGTH = 2000
MAX_CONTENT_ID_LENGTH = 200  # as the HTTP API's order targets
# Partial execution ticks targets one by one; the console's forms are capped at 40 fields, so an
# order naming more content than this is executed whole here, or in part through the HTTP API.
MAX_TICKED_TARGETS = 30

TYPE_NAMES = {
    OrderType.TERRORIST_REMOVAL: "Terrorist content removal",
    OrderType.ACT_AGAINST_CONTENT: "Order to act against illegal content",
    OrderType.PROVIDE_INFORMATION: "Order to provide information",
    OrderType.PRESERVATION: "Preservation order",
    OrderType.EMERGENCY_DISCLOSURE: "Emergency disclosure",
}
REFUSAL_NAMES = {
    RefusalGround.MANIFEST_ERROR: "Manifest error in the order",
    RefusalGround.INSUFFICIENT_INFORMATION: "Insufficient information",
    RefusalGround.FORCE_MAJEURE: "Force majeure",
    RefusalGround.DE_FACTO_IMPOSSIBILITY: "De facto impossibility",
    RefusalGround.OUTSIDE_COMPETENCE: "Outside the authority's competence",
    RefusalGround.NOT_ILLEGAL: "Not illegal under the law invoked",
    RefusalGround.FUNDAMENTAL_RIGHTS: "Fundamental rights (press, political speech, protest, human rights)",
    RefusalGround.DISPROPORTIONATE: "Disproportionate scope or data",
    RefusalGround.CONTENT_NOT_FOUND: "Content not found",
    RefusalGround.OTHER: "Other (explain)",
}
CLOCK_STOPPED = "clock stopped — awaiting clarification"

router = APIRouter(prefix=PREFIX, include_in_schema=False, route_class=ConsoleRoute)


class Shown(StrEnum):
    """Which orders the list shows: still waiting for legal staff, dealt with, or all."""

    OPEN = "open"
    DONE = "done"
    ALL = "all"


SHOWN_LABELS = {Shown.OPEN: "Open", Shown.DONE: "Done", Shown.ALL: "All"}
_SHOWN_STATES: dict[Shown, Sequence[OrderState] | None] = {
    Shown.OPEN: sorted(OPEN_STATES),
    Shown.DONE: sorted(DONE_STATES),
    Shown.ALL: None,
}


def type_name(order_type: OrderType) -> str:
    """The order type as legal staff say it, with its period: "Terrorist content removal (1 h)"."""
    hours = int(ORDER_RULES[order_type].period.total_seconds() // 3600)
    return f"{TYPE_NAMES[order_type]} ({hours} h)"


def clock_text(view: OrderView) -> str:
    """The order's clock in words: "47 min left", "overdue by 3 min", stopped, or answered."""
    if view.state is OrderState.AWAITING_CLARIFICATION:
        return CLOCK_STOPPED
    if view.answered_at is not None:
        return "answered late" if view.late else "answered in time"
    return time_left(view.seconds_left)


def senior_hold(view: OrderView) -> str:
    """Why the safeguards hold the order for a senior lawyer ("" when they do not)."""
    if not view.senior_review:
        return ""
    findings = view.safeguards.get("findings", [])
    reasons = [f["detail"] for f in findings if f["flag"] in SENIOR_FLAGS] or [f["detail"] for f in findings]
    return "This order waits for senior legal review: " + "; ".join(reasons)


@dataclass(frozen=True, slots=True)
class OrderRow:
    """An order as the list and the order page's heading show it."""

    view: OrderView
    type_name: str
    clock: str
    running: bool  # the clock runs: the time left counts down (in the browser, too)
    flags: tuple[str, ...]


def _row(view: OrderView) -> OrderRow:
    running = view.seconds_left is not None and view.state is not OrderState.AWAITING_CLARIFICATION
    flags = tuple(dict.fromkeys(f["flag"] for f in view.safeguards.get("findings", [])))
    return OrderRow(view, type_name(view.type), clock_text(view), running, flags)


@dataclass(frozen=True, slots=True)
class TargetRow:
    """A location the order names and the content Vigil knows there (None: nothing known)."""

    url: str | None
    content_id: str | None
    content: Content | None


@dataclass(frozen=True, slots=True)
class OrderFile:
    """Everything the order page shows, and which forms the signed-in lawyer may use."""

    row: OrderRow
    rule: OrderRule
    targets: tuple[TargetRow, ...]
    known: tuple[str, ...]  # the distinct content ids the targets name and Vigil knows
    verification: dict[str, Any]  # the detail of the 'verified' event
    body_sha256: str
    question: str | None  # the last request for clarification
    approvers: tuple[str, ...]
    approvals_required: int
    held: str  # why this lawyer may not act (senior review), or ""
    can_execute: bool
    approving: bool  # a disclosure waiting for its approvals
    can_approve: bool  # ... and this lawyer has not approved it yet
    can_refuse: bool
    can_clarify: bool
    tick_targets: bool  # partial execution by ticking targets

    @property
    def actionable(self) -> bool:
        """Whether the order waits for legal staff at all."""
        return self.can_execute or self.approving or self.can_refuse or self.can_clarify


def _legal(request: Request) -> ConsoleSession:
    session = current_session(request)
    _require_legal(session)
    return session


def _require_legal(session: ConsoleSession) -> None:
    role = session.principal.role
    if role not in LEGAL_ROLES:
        raise Refusal(
            403,
            f"The orders pages are for legal staff (legal, senior legal); a {role.value.replace('_', ' ')} "
            "key has no orders to answer.",
        )


def _caller(session: ConsoleSession) -> Caller:
    return Caller(session.principal.actor, session.principal.role, session.principal.bound_to)


def _targets(request: Request, desk: OrderDesk, document: dict[str, Any]) -> tuple[TargetRow, ...]:
    named = [(t["url"], t["content_id"]) for t in document["targets"]]
    ids = [cid or (desk.legal.content_id_of(url) if url else None) for url, cid in named]
    with get_store(request).transaction() as db:
        found = {c.id: c for c in content_store.load_contents(db, [i for i in ids if i])}
    return tuple(
        TargetRow(url, cid, found.get(cid) if cid else None) for (url, _), cid in zip(named, ids, strict=True)
    )


def _file(request: Request, session: ConsoleSession, view: OrderView) -> OrderFile:
    desk = get_orders(request)
    rule = ORDER_RULES[view.type]
    events = view.events
    verified = next((e.detail for e in events if e.kind == OrderState.VERIFIED.value), {})
    received = next((e.detail for e in events if e.kind == "received"), {})
    question = next(
        (
            e.detail.get("question")
            for e in reversed(events)
            if e.kind == OrderState.AWAITING_CLARIFICATION.value
        ),
        None,
    )
    approvers = tuple(dict.fromkeys(e.actor for e in events if e.kind == "approved"))
    held = senior_hold(view) if session.principal.role is Role.LEGAL else ""
    reviewing = view.state is OrderState.IN_LEGAL_REVIEW
    discloses = rule.effect is OrderEffect.DISCLOSE
    targets = _targets(request, desk, view.document)
    known = tuple(dict.fromkeys(t.content.id for t in targets if t.content is not None))
    return OrderFile(
        row=_row(view),
        rule=rule,
        targets=targets,
        known=known,
        verification=verified,
        body_sha256=str(received.get("body_sha256", "")),
        question=question,
        approvers=approvers,
        approvals_required=int(view.safeguards.get("approvals_required", 1)),
        held=held,
        can_execute=reviewing and not discloses,
        approving=reviewing and discloses,
        can_approve=reviewing and discloses and session.principal.actor not in approvers,
        can_refuse=view.state in (OrderState.IN_LEGAL_REVIEW, OrderState.AWAITING_CLARIFICATION),
        can_clarify=reviewing,
        tick_targets=1 < len(known) <= MAX_TICKED_TARGETS,
    )


# --- pages -------------------------------------------------------------------------------------------


@router.get("/orders")
def orders_page(request: Request, show: str = Query(default=Shown.OPEN.value, max_length=16)) -> Response:
    """The orders, nearest deadline first: open ones (the default), done ones, or all."""
    session = _legal(request)
    try:
        shown = Shown(show)
    except ValueError:
        raise Refusal(400, "show: choose open, done or all") from None
    views = get_orders(request).list(_caller(session), _SHOWN_STATES[shown], ORDER_ROWS)
    context = {"rows": [_row(v) for v in views], "shown": shown, "tabs": SHOWN_LABELS, "limit": ORDER_ROWS}
    return render_page(request, session, "orders.html", context)


def _order_page(
    request: Request, session: ConsoleSession, order_id: str, status: int = 200, error: str = ""
) -> HTMLResponse:
    view = get_orders(request).get(order_id, _caller(session))
    context: dict[str, Any] = {
        "file": _file(request, session, view),
        "view": view,
        "grounds": [(g.value, REFUSAL_NAMES[g]) for g in RefusalGround],
        "blurred": not session.reveal_sensitive,
    }
    if error:
        context["flash"] = Flash("error", error)
    return render_page(request, session, "order.html", context, status)


@router.get("/orders/{order_id}")
def order_page(request: Request, order_id: str) -> Response:
    """One order, with the forms its state allows."""
    return _order_page(request, _legal(request), order_id[:MAX_ID_LENGTH])


# --- actions -----------------------------------------------------------------------------------------


class _Invalid(VigilError):
    """A form the lawyer filled in incompletely: shown on the order page with 422."""


def _act(
    request: Request,
    posted: Posted,
    order_id: str,
    change: Callable[[OrderDesk, Caller], str],
) -> Response:
    """Run ``change`` on the order for the signed-in lawyer; its text is the flash after the redirect.

    A refusal by the desk shows the order again, with the reason and the status the HTTP API uses
    (a missing order is the error page, ``vigil.web.common``).
    """
    session = session_with_token(request, posted)
    _require_legal(session)
    desk, caller = get_orders(request), _caller(session)
    try:
        done = change(desk, caller)
    except (OrderActionError, OrderTransitionError, _Invalid) as exc:
        message = exc.message
        if exc.code == "senior_review_required":
            message = senior_hold(desk.get(order_id, caller))
        return _order_page(request, session, order_id, status_of(exc), message)
    return redirect_after_post(request, session, f"{PREFIX}/orders/{order_id}", Flash("ok", done))


def _required(posted: Posted, name: str, what: str) -> str:
    value = posted.text(name, MAX_TEXT_LENGTH).strip()
    if not value:
        raise _Invalid(what)
    return value


def _effect_said(view: OrderView) -> str:
    if view.state is OrderState.PARTIALLY_EXECUTED:
        return "Order partially executed."
    if view.executed_at is not None:
        return "Order executed."
    return f"The order is {view.state.value.replace('_', ' ')}."


@router.post("/orders/{order_id}/execute")
async def execute(request: Request, order_id: str) -> Response:
    return await on_posted_form(request, order_id, _execute)


def _execute(request: Request, posted: Posted, order_id: str) -> Response:
    def change(desk: OrderDesk, caller: Caller) -> str:
        note = posted.text("note", MAX_NOTE_LENGTH).strip()
        chosen: list[str] | None = None
        if posted.text("partial", 8) == "1":
            chosen = posted.texts("target", MAX_CONTENT_ID_LENGTH, MAX_TICKED_TARGETS)
            if not chosen:
                raise _Invalid("Tick at least one target to execute, or refuse the order.")
        return _effect_said(desk.execute(order_id, caller, chosen, note))

    return _act(request, posted, order_id, change)


@router.post("/orders/{order_id}/approve")
async def approve(request: Request, order_id: str) -> Response:
    return await on_posted_form(request, order_id, _approve)


def _approve(request: Request, posted: Posted, order_id: str) -> Response:
    def change(desk: OrderDesk, caller: Caller) -> str:
        view = desk.approve(order_id, caller, posted.text("note", MAX_NOTE_LENGTH).strip())
        if view.executed_at is not None:
            return f"Approved. {_effect_said(view)} The disclosure was made."
        return "Approved. The disclosure waits for another lawyer's approval."

    return _act(request, posted, order_id, change)


@router.post("/orders/{order_id}/refuse")
async def refuse(request: Request, order_id: str) -> Response:
    return await on_posted_form(request, order_id, _refuse)


def _refuse(request: Request, posted: Posted, order_id: str) -> Response:
    def change(desk: OrderDesk, caller: Caller) -> str:
        raw = posted.text("ground", MAX_ID_LENGTH)
        try:
            ground = RefusalGround(raw)
        except ValueError:
            known = ", ".join(g.value for g in RefusalGround)
            raise Refusal(400, f"unknown refusal ground {raw!r}; the grounds are {known}") from None
        explanation = _required(
            posted, "explanation", "A refusal needs its explanation: the authority reads it."
        )
        desk.refuse(order_id, caller, ground, explanation)
        return f"Refused ({REFUSAL_NAMES[ground].lower()}). The authority has the answer."

    return _act(request, posted, order_id, change)


@router.post("/orders/{order_id}/clarification-request")
async def clarification_request(request: Request, order_id: str) -> Response:
    return await on_posted_form(request, order_id, _clarification_request)


def _clarification_request(request: Request, posted: Posted, order_id: str) -> Response:
    def change(desk: OrderDesk, caller: Caller) -> str:
        question = _required(posted, "question", "A request for clarification needs the question.")
        desk.request_clarification(order_id, caller, question)
        return "The authority was asked. The clock is stopped until it answers."

    return _act(request, posted, order_id, change)
