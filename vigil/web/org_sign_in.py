"""Organisation sign-in to the consoles: ``/console/login/oidc`` and its callback.

The start creates a flow (random ``state``, ``nonce`` and PKCE verifier), keeps it in the database
under the digest of its state, puts the state in a short-lived cookie and sends the browser to the
provider. The callback accepts the provider's answer only in the browser that started it (the
cookie's state must equal the answer's), takes the flow out of the database (so it is used once,
on whichever process the callback lands), exchanges the code, verifies the ID token
(``vigil.web.oidc``), maps the person's groups to a role (``vigil.web.oidc_roles``) and starts a
console session bound to the person: their actions are audited as ``oidc:<issuer host>:<subject>``.

Why the database and not a signed cookie: a signed cookie needs a secret shared by every ``vigil
serve`` process, one more thing to generate, distribute and rotate (and a secret made up by each
process would break as soon as there are two). The database is already shared, and a row taken by
``DELETE ... RETURNING`` also makes each callback single-use, which a cookie cannot.

The flow cookie is ``SameSite=Lax`` (the provider's redirect back is a cross-site navigation, which
a Strict cookie would miss), ``HttpOnly`` and limited to the callback's path. Every refused callback
counts against the client's sign-in limit (``vigil.web.throttle``), like a wrong API key.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from vigil.api.auth import Identity, Principal
from vigil.api.deps import get_store
from vigil.domain.roles import Role
from vigil.review.queues import REVIEWING_ROLES
from vigil.store import sign_in as sign_in_store
from vigil.store.sign_in import Flow
from vigil.web.common import Console, ConsoleRoute, Refusal, console_now, secure_request, sign_in_error_page
from vigil.web.console import client_of, set_session_cookie, start_session, too_many_attempts
from vigil.web.oidc import OidcProvider, SignInError, groups_of
from vigil.web.render import render
from vigil.web.security import PREFIX, tokens_match
from vigil.web.throttle import CLIENT

FLOW_COOKIE = "vigil_oidc"
FLOW_PATH = f"{PREFIX}/login/oidc"
FLOW_LIFETIME = timedelta(minutes=10)  # time to sign in at the provider
STATE_BYTES = 32
VERIFIER_BYTES = 64  # 86 characters: PKCE asks for 43 to 128
MAX_PARAMETER_LENGTH = 2048  # a code, a state, an error description

router = APIRouter(prefix=PREFIX, include_in_schema=False, route_class=ConsoleRoute)


def _provider(request: Request) -> OidcProvider:
    provider: OidcProvider | None = request.app.state.console.oidc
    if provider is None:
        raise Refusal(404, "Organisation sign-in is not configured here; sign in with an API key.")
    return provider


def _digest(state: str) -> str:
    return hashlib.sha256(state.encode()).hexdigest()


def _redirect_url(request: Request, provider: OidcProvider) -> str:
    return provider.config.redirect_url or str(request.url_for("oidc_callback"))


def _forget_flow(request: Request, response: Response) -> Response:
    response.delete_cookie(
        FLOW_COOKIE, path=FLOW_PATH, httponly=True, samesite="lax", secure=secure_request(request)
    )
    return response


@router.get("/login/oidc")
def start(request: Request) -> Response:
    """Send the browser to the provider, with a new flow's state, nonce and code challenge."""
    provider = _provider(request)
    now = console_now(request)
    state, nonce = secrets.token_urlsafe(STATE_BYTES), secrets.token_urlsafe(STATE_BYTES)
    verifier = secrets.token_urlsafe(VERIFIER_BYTES)
    redirect_url = _redirect_url(request, provider)
    try:
        target = provider.authorization_url(redirect_url, state, nonce, verifier)
    except SignInError as exc:
        return sign_in_error_page(exc.status, exc.message)
    flow = Flow(_digest(state), nonce, verifier, redirect_url, now, now + FLOW_LIFETIME)
    with get_store(request).transaction() as db:
        sign_in_store.save_flow(db, flow)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        FLOW_COOKIE,
        state,
        max_age=int(FLOW_LIFETIME.total_seconds()),
        path=FLOW_PATH,
        httponly=True,
        samesite="lax",
        secure=secure_request(request),
    )
    return response


@router.get("/login/oidc/callback", name="oidc_callback")
def callback(request: Request) -> Response:
    """Complete the sign-in the provider sent the browser back from, or say why it is refused."""
    provider = _provider(request)
    console: Console = request.app.state.console
    now = console_now(request)
    attempt = console.limiter.begin({CLIENT: client_of(request)}, now)
    if attempt.refused:
        return _forget_flow(request, too_many_attempts(request, attempt, now))
    try:
        identity, role, group = _complete(request, provider, now)
    except SignInError as exc:
        # a refused callback is a failed sign-in and its reservation stands; a provider that could
        # not be reached or answered nonsense (5xx) is not the person's doing
        if exc.status >= 500:
            console.limiter.release(attempt)
        return _forget_flow(request, sign_in_error_page(exc.status, exc.message))
    console.limiter.release(attempt)
    principal = Principal(None, role, None, identity=identity)
    session = start_session(
        request,
        principal,
        {
            "method": "oidc",
            "issuer": identity.issuer,
            "subject": identity.subject,
            "name": identity.name,
            "email": identity.email,
            "group": group,
        },
    )
    context = {"who": identity.shown, "role": principal.role.value, "provider": provider.config.provider_name}
    response = HTMLResponse(render("welcome.html", context))
    set_session_cookie(request, response, session)
    return _forget_flow(request, response)


def _parameter(request: Request, name: str) -> str:
    value = request.query_params.get(name, "")
    if len(value) > MAX_PARAMETER_LENGTH:
        raise SignInError(
            400, f"The provider's answer has a {name} longer than {MAX_PARAMETER_LENGTH} characters."
        )
    return value


def _complete(request: Request, provider: OidcProvider, now: datetime) -> tuple[Identity, Role, str]:
    """The person the provider's answer signs in, their role and the group that gave it."""
    state = _parameter(request, "state")
    started = request.cookies.get(FLOW_COOKIE, "")
    if not started:
        raise SignInError(
            400,
            "This sign-in was not started in this browser, or took longer than 10 minutes. Start again"
            " from the sign-in page.",
        )
    if not tokens_match(started, state):
        raise SignInError(
            400,
            "The provider's answer does not belong to the sign-in this browser started (state). Start again.",
        )
    with get_store(request).transaction() as db:
        flow = sign_in_store.take_flow(db, _digest(state), now)
    if flow is None:
        raise SignInError(400, "This sign-in has expired or was already completed. Start again.")
    error = _parameter(request, "error")
    if error:
        detail = _parameter(request, "error_description")[:300]
        raise SignInError(
            401, f"The provider did not sign you in ({error[:100]}{': ' + detail if detail else ''})."
        )
    code = _parameter(request, "code")
    if not code:
        raise SignInError(400, "The provider's answer carries no authorization code.")
    answer = provider.exchange(code, flow.redirect_url, flow.code_verifier)
    signed = provider.verify(answer["id_token"], answer["access_token"], flow.nonce, now)
    roles = provider.config.roles
    rule = roles.rule_for(groups_of(signed.claims, roles.claim))
    if rule is None:
        raise SignInError(
            403,
            f"You are signed in at {provider.config.provider_name} as {signed.identity.shown}, but none of"
            f" your groups ({roles.claim}) is given a Vigil role. Ask your administrator to add you to one.",
        )
    if rule.role not in REVIEWING_ROLES:
        raise SignInError(403, _no_queues(rule.role))
    return signed.identity, rule.role, rule.group


def _no_queues(role: Role) -> str:
    return f"The console is for reviewing roles; your role, {role.value}, has no queues."
