"""What every console page is built on: the reviewer console (``vigil.web.console``), the legal
console (``vigil.web.legal``) and organisation sign-in (``vigil.web.org_sign_in``) all use it, and
it imports none of them.

It holds the console's state on the app, the route class that turns refusals into pages (never the
API's JSON), the signed-in session, bounded forms with their CSRF token, and page rendering. A
refusal of the core (:class:`~vigil.domain.errors.VigilError`) becomes the error page with the
status its kind has in the HTTP API (:func:`refusal_page`), so a reviewer and a script are told the
same thing.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException as StarletteHTTPException

from vigil.api.deps import get_desk, get_store
from vigil.api.errors import status_of
from vigil.domain.errors import VigilError
from vigil.store import keys as key_store
from vigil.web.exposure import SOFT_DAILY_LIMIT, Wellness
from vigil.web.oidc import OidcProvider
from vigil.web.render import render
from vigil.web.security import PREFIX, tokens_match
from vigil.web.sessions import ConsoleSession, Flash, SessionStore
from vigil.web.throttle import SignInLimiter

SESSION_COOKIE = "vigil_session"
MAX_ID_LENGTH = 64
MAX_FORM_FIELDS = 40
MAX_FIELD_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True)
class Console:
    """The console's own state, kept on ``app.state.console``: sessions, reviewer wellness (exposure
    counts, blur settings), the sign-in limit, and the organisation's sign-in provider when one is
    configured. Sessions, wellness and the limit's counters are in the database, shared by every
    serving process."""

    sessions: SessionStore
    wellness: Wellness
    limiter: SignInLimiter
    oidc: OidcProvider | None = None


class Refusal(Exception):
    """A request the console refuses, shown to the reviewer as an error page with ``status``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class SignInRequired(Exception):
    """No live session: pages send the browser to the sign-in page."""


def error_page(status: int, message: str) -> HTMLResponse:
    return HTMLResponse(render("error.html", {"status": status, "message": message}), status_code=status)


def refusal_page(exc: VigilError) -> HTMLResponse:
    """The consoles' one answer to a refusal of the core: the error page, with the status the HTTP
    API gives its kind (``vigil.api.errors``) and its message."""
    return error_page(status_of(exc), exc.message)


def sign_in_error_page(status: int, message: str, headers: dict[str, str] | None = None) -> HTMLResponse:
    """A refused sign-in: the reason, and the way back to the sign-in page."""
    context = {"status": status, "message": message, "back": (f"{PREFIX}/login", "Back to sign-in")}
    return HTMLResponse(render("error.html", context), status_code=status, headers=headers)


class ConsoleRoute(APIRoute):
    """A route whose refusals become console pages (never the API's JSON errors)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            try:
                return await handler(request)
            except SignInRequired:
                if request.method == "GET":
                    return RedirectResponse(f"{PREFIX}/login", status_code=303)
                return error_page(403, "Your session has ended. Sign in again, then repeat what you did.")
            except Refusal as exc:
                return error_page(exc.status, exc.message)
            except VigilError as exc:
                return refusal_page(exc)
            except RequestValidationError:
                return error_page(400, "The request was not understood (a value is missing or too long).")
            except StarletteHTTPException as exc:
                detail = exc.detail if isinstance(exc.detail, str) else "The request was refused."
                return error_page(exc.status_code, detail)

        return guarded


def console_of(request: Request) -> Console:
    """The console's state on the app (``mount_console`` puts it there)."""
    console: Console = request.app.state.console
    return console


def console_now(request: Request) -> datetime:
    """The console's clock (the review desk's, which tests move)."""
    return get_desk(request).clock()


def secure_request(request: Request) -> bool:
    """Whether the request arrived over HTTPS (behind a proxy: as uvicorn trusts it), so that cookies
    set in answer are ``Secure``."""
    return request.url.scheme == "https"


def current_session(request: Request) -> ConsoleSession:
    """The request's live session, whose key (if it signed in with one) is still active; raises
    SignInRequired otherwise. A person signed in through their organisation has no key: their
    session lasts its idle time and lifetime (``vigil.web.sessions``)."""
    console = console_of(request)
    session = console.sessions.get(request.cookies.get(SESSION_COOKIE, ""), console_now(request))
    if session is None:
        raise SignInRequired
    key_id = session.principal.key_id
    if key_id is None:
        return session
    with get_store(request).transaction() as db:
        key = key_store.get_key(db, key_id)
    if key is None or not key.active or key.role is not session.principal.role:
        console.sessions.end(session.id)
        raise SignInRequired
    return session


@dataclass(frozen=True, slots=True)
class Posted:
    """A submitted form, with every field bounded."""

    form: FormData

    def text(self, name: str, limit: int) -> str:
        """The field ``name`` ("" when absent); longer than ``limit`` characters is refused."""
        value = self.form.get(name, "")
        if not isinstance(value, str):
            raise Refusal(400, f"the field {name!r} must be text")
        if len(value) > limit:
            raise Refusal(400, f"the field {name!r} is longer than {limit} characters")
        return value

    def texts(self, name: str, limit: int, count: int) -> list[str]:
        """Every value of the repeated field ``name``; more than ``count`` values is refused."""
        values = self.form.getlist(name)
        if len(values) > count:
            raise Refusal(400, f"the field {name!r} is repeated more than {count} times")
        if not all(isinstance(v, str) and len(v) <= limit for v in values):
            raise Refusal(400, f"a value of {name!r} is not text of at most {limit} characters")
        return [str(v) for v in values]


async def read_posted(request: Request) -> Posted:
    """The request's URL-encoded form, read with bounded fields.

    The console's forms are all URL-encoded; a body in any other encoding is not read and counts as
    an empty form, which carries no CSRF token and is refused as such.
    """
    kind = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if kind != "application/x-www-form-urlencoded":
        return Posted(FormData())
    form = await request.form(max_files=0, max_fields=MAX_FORM_FIELDS, max_part_size=MAX_FIELD_BYTES)
    return Posted(form)


def session_with_token(request: Request, posted: Posted) -> ConsoleSession:
    """The signed-in session, if the form carries its CSRF token; 403 otherwise."""
    session = current_session(request)
    if not tokens_match(session.csrf, posted.text("csrf", 256)):
        raise Refusal(403, "The form is missing its security token (CSRF). Reload the page and try again.")
    return session


def render_page(
    request: Request, session: ConsoleSession, template: str, context: dict[str, Any], status: int = 200
) -> HTMLResponse:
    console = console_of(request)
    common = {
        "who": session,
        "csrf": session.csrf,
        "flash": console.sessions.take_flash(session.id),
        "exposure": console.wellness.count(session.principal.actor, console_now(request).date()),
        "exposure_limit": SOFT_DAILY_LIMIT,
    }
    return HTMLResponse(render(template, {**common, **context}), status_code=status)


def redirect_after_post(
    request: Request, session: ConsoleSession, to: str, flash: Flash | None = None
) -> Response:
    if flash is not None:
        console_of(request).sessions.set_flash(session.id, flash)
    return RedirectResponse(to, status_code=303)


async def on_posted_form(
    request: Request, subject_id: str, handler: Callable[[Request, Posted, str], Response]
) -> Response:
    """Read a form's fields, then run ``handler`` on the id it is about off the event loop (it uses
    the store): the case and order pages post their forms through it."""
    posted = await read_posted(request)
    return await run_in_threadpool(handler, request, posted, subject_id[:MAX_ID_LENGTH])
