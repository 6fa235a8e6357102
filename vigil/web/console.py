"""The moderator console: server-rendered pages under ``/console`` on top of the review desk.

Pages: sign-in (an API key exchanged for a session, or the organisation's OpenID Connect provider:
``vigil.web.org_sign_in``), the queues a role may work, one queue ranked by priority, and a case
with its evidence and the forms to claim, note, escalate and decide. Every change goes through the
same :class:`~vigil.review.cases.CaseDesk` as the HTTP API, so roles, exclusive claims and the
decision path are enforced once, in one place. Sign-ins and sign-outs are audited, and failed
sign-ins are limited (``vigil.web.throttle``).

Forms post back to the console (``form-action 'self'``), carry the session's CSRF token and are
refused with 403 without it; a successful change redirects (303) to a page that shows what happened,
a refused one shows the page again with the reason.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from vigil.api.auth import Principal
from vigil.api.deps import get_desk, get_store
from vigil.api.errors import error_body, status_of
from vigil.config import Settings
from vigil.domain.cases import CaseState
from vigil.domain.decisions import Action
from vigil.domain.events import AuditAction
from vigil.domain.roles import Role
from vigil.review.cases import (
    CaseConflictError,
    Reviewer,
    Verdict,
    VerdictError,
)
from vigil.review.casework import (
    appeals_of_case,
    claim_next,
    rank,
    ranked_open_cases,
    read_case_file,
    reviewable_queue,
)
from vigil.review.queues import REVIEWING_ROLES, Queue, QueueConfig
from vigil.store import cases as case_store
from vigil.store import keys as key_store
from vigil.store import policies as policy_store
from vigil.store.audit import AuditLog
from vigil.web.common import (
    MAX_ID_LENGTH,
    SESSION_COOKIE,
    Console,
    ConsoleRoute,
    Posted,
    Refusal,
    console_now,
    console_of,
    current_session,
    on_posted_form,
    read_posted,
    redirect_after_post,
    render_page,
    secure_request,
    session_with_token,
    sign_in_error_page,
)
from vigil.web.exposure import Wellness
from vigil.web.oidc import OidcProvider, oidc_config
from vigil.web.render import highlight, render
from vigil.web.security import PREFIX, SecurityHeaders, tokens_match
from vigil.web.sessions import ConsoleSession, Flash, SessionStore, new_token
from vigil.web.throttle import CLIENT, KEY, Attempt, SignInLimiter, SignInLimits, client_subject, key_subject

LOGIN_COOKIE = "vigil_login"  # the sign-in form's CSRF token, before there is a session
LOGIN_COOKIE_SECONDS = 3600
MAX_KEY_LENGTH = 256
MAX_NOTE_LENGTH = 5000  # as the HTTP API
QUEUE_ROWS = 200  # cases listed on a queue page; "claim next" reaches the others
# what the number keys tick on the case page, in the order of the checkboxes
ACTION_KEYS = "1234567890"

STATIC = Path(__file__).parent / "static"
_STATIC_TYPES = {"console.css": "text/css; charset=utf-8", "console.js": "text/javascript; charset=utf-8"}
_STATIC_FILES = {name: (STATIC / name).read_bytes() for name in _STATIC_TYPES}


@dataclass(frozen=True, slots=True)
class QueueRow:
    """A queue on the queues page: its open cases and the priority of the first (-1: none open)."""

    queue: Queue
    open: int
    top: int


@dataclass(frozen=True, slots=True)
class OtherQueue:
    """A queue the signed-in role does not work, named on the queues page with the roles that do.

    It tells a newcomer (an administrator, whose key works no queue by default) why their queues are
    empty while cases wait, and which key to make instead. Whether cases wait is shown, their number
    and content are not: those stay with the roles the queue lists.
    """

    queue: Queue
    roles: tuple[Role, ...]  # in Role's own order, so the page reads the same on every load
    waiting: bool


def other_queues(queues: QueueConfig, role: Role, counts: Mapping[str, int]) -> list[OtherQueue]:
    """The queues ``role`` does not work, in display order, with the roles that do (from the file)."""
    return [
        OtherQueue(queue, tuple(r for r in Role if r in queue.roles), counts.get(queue.name, 0) > 0)
        for queue in queues.queues.values()
        if role not in queue.roles
    ]


def key_to_suggest(queues: QueueConfig, shown: Sequence[OtherQueue]) -> Role | None:
    """The role of the key to suggest making: of the roles working the first queue shown that holds
    cases (or the first shown), the one that works the fewest queues. Least privilege: a key made to
    clear the child-safety queue should not also open every other queue."""
    if not shown:
        return None
    target = next((o for o in shown if o.waiting), shown[0])
    return min(target.roles, key=lambda r: len(queues.visible_to(r)))  # ties: Role's order


router = APIRouter(prefix=PREFIX, include_in_schema=False, route_class=ConsoleRoute)


def mount_console(app: FastAPI) -> None:
    """Serve the console on ``app`` under ``/console``, with its security headers and its state.

    The legal console (``vigil.web.legal``) and organisation sign-in (``vigil.web.org_sign_in``)
    are routers of their own on the same plumbing (``vigil.web.common``); ``vigil.api.app``
    includes them after this one.

    Raises :class:`~vigil.web.oidc.OidcConfigError` when organisation sign-in is configured but
    cannot work (a broken roles file, a missing client id): ``vigil serve`` stops with that line.
    """
    settings: Settings = app.state.settings
    config = oidc_config(settings)
    limits = SignInLimits(
        timedelta(seconds=settings.sign_in_window_seconds),
        settings.sign_in_client_failures,
        settings.sign_in_key_failures,
    )
    app.state.console = Console(
        SessionStore(app.state.store),
        Wellness(app.state.store),
        SignInLimiter(app.state.store, limits),
        OidcProvider(config) if config is not None else None,
    )
    app.include_router(router)
    app.add_middleware(SecurityHeaders)


# --- request plumbing ------------------------------------------------------------------------------


def _reviewer(session: ConsoleSession) -> Reviewer:
    return Reviewer(session.principal.actor, session.principal.role)


# --- sign-in -----------------------------------------------------------------------------------------


@router.get("")
def home(request: Request) -> Response:
    current_session(request)
    return RedirectResponse(f"{PREFIX}/queues", status_code=303)


def _login_page(request: Request, status: int = 200, error: str = "") -> Response:
    token = new_token()
    provider = console_of(request).oidc
    context = {"csrf": token, "error": error, "oidc_name": provider.config.provider_name if provider else ""}
    response = HTMLResponse(render("login.html", context), status_code=status)
    response.set_cookie(
        LOGIN_COOKIE,
        token,
        max_age=LOGIN_COOKIE_SECONDS,
        path=PREFIX,
        httponly=True,
        samesite="strict",
        secure=secure_request(request),
    )
    return response


@router.get("/login")
def login_form(request: Request) -> Response:
    return _login_page(request)


@router.post("/login")
async def login(request: Request) -> Response:
    posted = await read_posted(request)
    return await run_in_threadpool(_login, request, posted)


def wants_json(request: Request) -> bool:
    """Whether the caller asked for JSON rather than a page (a script, not a browser)."""
    accept = request.headers.get("accept", "").lower()
    return "application/json" in accept and "text/html" not in accept


def too_many_attempts(request: Request, attempt: Attempt, now: datetime) -> Response:
    """429 with ``Retry-After``: a page for browsers, the API's error shape for JSON callers."""
    seconds = attempt.retry_after(now)
    headers = {"Retry-After": str(seconds)}
    message = (
        f"Too many failed sign-ins from this address or for this key. Sign-in is refused, a correct key"
        f" included, for {seconds} more seconds; try again after that."
    )
    if wants_json(request):
        return JSONResponse(
            error_body("too_many_sign_in_attempts", message), status_code=429, headers=headers
        )
    return sign_in_error_page(429, message, headers)


def client_of(request: Request) -> str:
    """The client address the sign-in limit counts (behind a proxy: the one uvicorn trusts)."""
    return client_subject(request.client.host if request.client else None)


def audit_session(
    request: Request, principal: Principal, action: AuditAction, payload: dict[str, Any]
) -> None:
    """Record a sign-in or sign-out in the audit chain, in the name of the principal."""
    subject = ("person", principal.actor) if principal.key_id is None else ("api_key", principal.key_id)
    with get_store(request).transaction() as db:
        AuditLog(db).append(principal.actor, action, subject[0], subject[1], payload, console_now(request))


def start_session(request: Request, principal: Principal, payload: dict[str, Any]) -> ConsoleSession:
    """A new console session for ``principal``, its sign-in audited with ``payload``."""
    audit_session(
        request, principal, AuditAction.CONSOLE_SIGNED_IN, {"role": principal.role.value, **payload}
    )
    return console_of(request).sessions.start(principal, console_now(request))


def set_session_cookie(request: Request, response: Response, session: ConsoleSession) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        session.id,
        path=PREFIX,
        httponly=True,
        samesite="strict",
        secure=secure_request(request),
    )


def _login(request: Request, posted: Posted) -> Response:
    # the sign-in form has no session yet: its token is the one set in a cookie with the form
    if not tokens_match(request.cookies.get(LOGIN_COOKIE, ""), posted.text("csrf", 256)):
        raise Refusal(403, "The sign-in form is missing its security token (CSRF). Reload it and try again.")
    token = posted.text("api_key", MAX_KEY_LENGTH).strip()
    console, now = console_of(request), console_now(request)
    attempt = console.limiter.begin({CLIENT: client_of(request), KEY: key_subject(token)}, now)
    if attempt.refused:
        return too_many_attempts(request, attempt, now)
    with get_store(request).transaction() as db:
        key = key_store.authenticate(db, token) if token else None
    if key is None:
        return _login_page(request, 401, "That API key is unknown or revoked.")
    console.limiter.release(attempt)  # a real key: no failure, whatever its role
    if key.role not in REVIEWING_ROLES:
        return _login_page(
            request, 403, f"The console is for reviewing roles; a {key.role.value} key has no queues."
        )
    session = start_session(request, Principal(key.id, key.role, key.bound_to), {"method": "api_key"})
    response = RedirectResponse(f"{PREFIX}/queues", status_code=303)
    response.delete_cookie(
        LOGIN_COOKIE, path=PREFIX, httponly=True, samesite="strict", secure=secure_request(request)
    )
    set_session_cookie(request, response, session)
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    posted = await read_posted(request)
    return await run_in_threadpool(_logout, request, posted)


def _logout(request: Request, posted: Posted) -> Response:
    session = session_with_token(request, posted)
    console_of(request).sessions.end(session.id)
    audit_session(request, session.principal, AuditAction.CONSOLE_SIGNED_OUT, {})
    response = RedirectResponse(f"{PREFIX}/login", status_code=303)
    response.delete_cookie(
        SESSION_COOKIE, path=PREFIX, httponly=True, samesite="strict", secure=secure_request(request)
    )
    return response


@router.post("/settings")
async def settings(request: Request) -> Response:
    posted = await read_posted(request)
    return await run_in_threadpool(_settings, request, posted)


def _settings(request: Request, posted: Posted) -> Response:
    session = session_with_token(request, posted)
    reveal = posted.text("reveal_sensitive", 8) == "on"
    console_of(request).wellness.set_reveal(session.principal.actor, reveal, console_now(request).date())
    shown = "shown unblurred" if reveal else "blurred until you reveal them"
    return redirect_after_post(
        request, session, f"{PREFIX}/queues", Flash("ok", f"Sensitive previews are {shown}.")
    )


# --- queues ------------------------------------------------------------------------------------------


@router.get("/queues")
def queues_page(request: Request) -> Response:
    session = current_session(request)
    desk, now = get_desk(request), console_now(request)
    rows: list[QueueRow] = []
    with get_store(request).transaction() as db:
        counts = case_store.open_counts(db)
        for queue in desk.queues.visible_to(session.principal.role):
            ranked = ranked_open_cases(db, queue.name, now, limit=1) if counts.get(queue.name) else []
            rows.append(QueueRow(queue, counts.get(queue.name, 0), ranked[0].priority if ranked else -1))
    waiting = [r for r in rows if r.top >= 0]
    first = max(waiting, key=lambda r: r.top) if waiting else None
    # Nothing to work: say where the cases are, if anywhere. A role without queues sees every queue
    # and its roles; a role whose own queues are empty, only the other queues that hold cases.
    others = other_queues(desk.queues, session.principal.role, counts) if first is None else []
    elsewhere = others if not rows else [o for o in others if o.waiting]
    context = {
        "rows": rows,
        "first": first,
        "elsewhere": elsewhere,
        "cases_elsewhere": any(o.waiting for o in others),
        "suggest": key_to_suggest(desk.queues, elsewhere),
    }
    return render_page(request, session, "queues.html", context)


@router.get("/queues/{name}")
def queue_page(request: Request, name: str) -> Response:
    session = current_session(request)
    desk, now = get_desk(request), console_now(request)
    found = reviewable_queue(desk.queues, name[:MAX_ID_LENGTH], session.principal.role)
    with get_store(request).transaction() as db:
        ranked = ranked_open_cases(db, found.name, now, limit=QUEUE_ROWS)
        total = case_store.open_counts(db).get(found.name, 0)
    context = {"queue": found, "ranked": ranked, "total": total, "now": now}
    return render_page(request, session, "queue.html", context)


@router.post("/queues/{name}/next")
async def next_case(request: Request, name: str) -> Response:
    posted = await read_posted(request)
    return await run_in_threadpool(_next_case, request, posted, name)


def _next_case(request: Request, posted: Posted, name: str) -> Response:
    session = session_with_token(request, posted)
    return _claim_next_or_back(request, session, name[:MAX_ID_LENGTH], "")


def _claim_next_or_back(request: Request, session: ConsoleSession, name: str, done: str) -> Response:
    claimed = claim_next(get_desk(request), name, _reviewer(session))
    if claimed is None:
        message = f"{done}No case in {name} is waiting for you.".strip()
        return redirect_after_post(request, session, f"{PREFIX}/queues/{name}", Flash("ok", message))
    return redirect_after_post(
        request,
        session,
        f"{PREFIX}/cases/{claimed.id}",
        Flash("ok", f"{done}You hold this case now.".strip()),
    )


# --- cases -------------------------------------------------------------------------------------------


def _case_page(
    request: Request, session: ConsoleSession, case_id: str, status: int = 200, error: str = ""
) -> HTMLResponse:
    desk, now = get_desk(request), console_now(request)
    file = read_case_file(desk, case_id[:MAX_ID_LENGTH], _reviewer(session))
    case = file.case
    queue = desk.queues.queue(case.queue)
    if queue.sensitive:
        console_of(request).wellness.record(session.principal.actor, case.id, now.date())
    with get_store(request).transaction() as db:
        appeals = appeals_of_case(db, case.id)
        in_force = desk.pipeline.policies_in_force(db)
        refs = file.reviewed.decision.policies if file.reviewed else ()
        texts = {
            str(ref): next(
                (p.source for p in policy_store.policy_history(db, ref.id) if p.version == ref.version), ""
            )
            for ref in refs
        }
    signals = file.reviewed.signals if file.reviewed else ()
    text = file.content.text if file.content else ""
    mine = case.assignee == session.principal.actor and not _lapsed(case.lease_expires_at, now)
    context = {
        "file": file,
        "case": case,
        "ranked": rank(case, now),
        "queue": queue,
        "blurred": queue.sensitive and not session.reveal_sensitive,
        "segments": highlight(text, signals),
        "signals": signals,
        "media_signals": file.content.media_signals if file.content else (),
        "appeals": appeals,
        "policies": [policy.definition for policy in in_force],
        "policy_texts": texts,
        "actions": list(zip(ACTION_KEYS, Action, strict=True)),
        "mine": mine,
        "held_by_other": case.leased_to_other(session.principal.actor, now),
        "is_open": case.state is CaseState.OPEN,
        "error": error,
        "now": now,
    }
    return render_page(request, session, "case.html", context, status)


def _lapsed(until: datetime | None, now: datetime) -> bool:
    return until is None or until <= now


@router.get("/cases/{case_id}")
def case_page(request: Request, case_id: str) -> Response:
    return _case_page(request, current_session(request), case_id)


def _act(request: Request, session: ConsoleSession, case_id: str, change: Callable[[], Response]) -> Response:
    """Run a change on a case; a conflict or an invalid verdict shows the case again with the reason
    (any other refusal is the error page, ``vigil.web.common``)."""
    try:
        return change()
    except (CaseConflictError, VerdictError) as exc:
        return _case_page(request, session, case_id, status_of(exc), exc.message)


@router.post("/cases/{case_id}/claim")
async def claim(request: Request, case_id: str) -> Response:
    return await on_posted_form(request, case_id, _claim)


def _claim(request: Request, posted: Posted, case_id: str) -> Response:
    session = session_with_token(request, posted)

    def change() -> Response:
        get_desk(request).claim(case_id, _reviewer(session))
        return redirect_after_post(
            request, session, f"{PREFIX}/cases/{case_id}", Flash("ok", "You hold this case now.")
        )

    return _act(request, session, case_id, change)


@router.post("/cases/{case_id}/release")
async def release(request: Request, case_id: str) -> Response:
    return await on_posted_form(request, case_id, _release)


def _release(request: Request, posted: Posted, case_id: str) -> Response:
    session = session_with_token(request, posted)

    def change() -> Response:
        get_desk(request).release(case_id, _reviewer(session))
        return redirect_after_post(
            request, session, f"{PREFIX}/cases/{case_id}", Flash("ok", "The case is back in its queue.")
        )

    return _act(request, session, case_id, change)


@router.post("/cases/{case_id}/note")
async def note(request: Request, case_id: str) -> Response:
    return await on_posted_form(request, case_id, _note)


def _note(request: Request, posted: Posted, case_id: str) -> Response:
    session = session_with_token(request, posted)
    text = posted.text("text", MAX_NOTE_LENGTH).strip()
    if not text:
        return _case_page(request, session, case_id, 422, "A note needs some text.")

    def change() -> Response:
        get_desk(request).note(case_id, _reviewer(session), text)
        return redirect_after_post(request, session, f"{PREFIX}/cases/{case_id}", Flash("ok", "Note added."))

    return _act(request, session, case_id, change)


@router.post("/cases/{case_id}/escalate")
async def escalate(request: Request, case_id: str) -> Response:
    return await on_posted_form(request, case_id, _escalate)


def _escalate(request: Request, posted: Posted, case_id: str) -> Response:
    session = session_with_token(request, posted)
    text = posted.text("note", MAX_NOTE_LENGTH).strip()

    def change() -> Response:
        desk = get_desk(request)
        origin = desk.get(case_id, _reviewer(session)).queue
        target = desk.escalate(case_id, _reviewer(session), text)
        return redirect_after_post(
            request,
            session,
            f"{PREFIX}/queues/{origin}",
            Flash("ok", f"Case {case_id} escalated to {target}."),
        )

    return _act(request, session, case_id, change)


@router.post("/cases/{case_id}/decide")
async def decide(request: Request, case_id: str) -> Response:
    return await on_posted_form(request, case_id, _decide)


def _decide(request: Request, posted: Posted, case_id: str) -> Response:
    session = session_with_token(request, posted)
    names = posted.texts("action", MAX_ID_LENGTH, len(Action))
    known = {a.value: a for a in Action}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise Refusal(400, f"unknown action {unknown[0]!r}; the actions are {', '.join(known)}")
    policy = posted.text("policy", MAX_ID_LENGTH).strip() or None
    verdict = Verdict(
        frozenset(known[n] for n in names), policy, posted.text("note", MAX_NOTE_LENGTH).strip()
    )
    and_next = posted.text("next", 8) == "1"

    def change() -> Response:
        desk = get_desk(request)
        queue_name = desk.get(case_id, _reviewer(session)).queue
        _, decision = desk.decide(case_id, _reviewer(session), verdict)
        done = f"Decided: {decision.outcome.replace('_', ' ')}."
        if and_next:
            return _claim_next_or_back(request, session, queue_name, done + " ")
        return redirect_after_post(request, session, f"{PREFIX}/cases/{case_id}", Flash("ok", done))

    return _act(request, session, case_id, change)


# --- static files ----------------------------------------------------------------------------------


@router.get("/static/{name}")
def static(name: str) -> Response:
    """The console's own stylesheet and script (nothing is loaded from elsewhere)."""
    if name not in _STATIC_FILES:
        raise Refusal(404, "no such file")
    return Response(
        _STATIC_FILES[name], media_type=_STATIC_TYPES[name], headers={"Cache-Control": "no-cache"}
    )
