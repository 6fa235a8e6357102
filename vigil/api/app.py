"""The FastAPI application: routers, error handlers, body limit, and the webhook delivery loop."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.routing import APIRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from vigil import __version__
from vigil.api.access import API_PREFIX, check_routes
from vigil.api.docs_page import mount_docs_page
from vigil.api.errors import error_body, install_error_handlers
from vigil.api.operate import mount_operations
from vigil.api.routes import (
    appeals,
    audit,
    authorities,
    banks,
    cases,
    contact,
    content,
    evidence,
    flaggers,
    hashes,
    keys,
    notices,
    orders,
    policies,
    quality,
    sor,
    transparency,
    webhooks,
)
from vigil.background import PollingThread
from vigil.config import Settings
from vigil.domain.ids import utcnow
from vigil.enforce.egress import EgressPolicy
from vigil.enforce.evidence import evidence_vault
from vigil.enforce.hotline import hotline_loop
from vigil.enforce.outbox import DeliveryLoop, RetryPolicy
from vigil.intake.authorities import AuthorityRegistry
from vigil.intake.contact import load_contact
from vigil.intake.notices import NoticeDesk
from vigil.intake.orders import OrderDesk
from vigil.intake.safeguards import load_legal_config
from vigil.pipeline.admin import Admin
from vigil.pipeline.build import pipeline_from_settings
from vigil.pipeline.retro import RetroMatcher
from vigil.review.appeals import AppealDesk
from vigil.review.cases import CaseDesk
from vigil.store.audit import sealer
from vigil.store.db import Store
from vigil.transparency.dsa_database import submission_loop
from vigil.web.console import mount_console
from vigil.web.legal import router as legal_console
from vigil.web.org_sign_in import router as org_sign_in
from vigil.web.public import mount_public_pages


class RequestGuard:
    """Refuses, before any handler parses them, request bodies over ``limit`` bytes (413) and
    requests carrying NUL characters (400).

    The declared Content-Length is checked first; a chunked body is counted as it streams in. NUL is
    refused because PostgreSQL cannot store it in text and no legitimate identifier or text needs it:
    a platform strips it from user text before sending.
    """

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if "\x00" in scope["path"] or b"%00" in scope.get("query_string", b""):
            await self._refuse(send, 400, "nul_character", "the URL contains a NUL character")
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await self._refuse_size(send)
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.limit:
                await self._refuse_size(send)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        if b"\x00" in body or b"\\u0000" in body.lower():
            await self._refuse(
                send, 400, "nul_character", "the request body contains a NUL character (\\u0000)"
            )
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse_size(self, send: Send) -> None:
        await self._refuse(send, 413, "payload_too_large", f"request body is larger than {self.limit} bytes")

    async def _refuse(self, send: Send, status: int, code: str, message: str) -> None:
        payload = json.dumps(error_body(code, message)).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(payload)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": payload})


EVIDENCE_PURGE_SECONDS = 3600.0


class ApiHeaders:
    """Adds to every ``/v1`` answer ``X-Content-Type-Options: nosniff`` and, unless the route chose
    its own caching (the public figures do), ``Cache-Control: no-store``: decisions, notices and
    orders must not linger in a proxy's or a browser's cache."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(API_PREFIX + "/"):
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {name.lower() for name, _ in headers}
                if b"x-content-type-options" not in names:
                    headers.append((b"x-content-type-options", b"nosniff"))
                if b"cache-control" not in names:
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def create_app(settings: Settings | None = None, store: Store | None = None) -> FastAPI:
    """Build the API on ``store`` (or the one ``settings`` names); the caller migrates it first."""
    settings = settings or Settings()
    store = store or Store.from_settings(settings)
    # malformed keys, or a hotline configured without what it needs, stop the start
    vault = evidence_vault(settings, store, utcnow)
    hotline = hotline_loop(settings, store, vault, utcnow)
    egress = EgressPolicy.from_settings(settings)  # where webhooks may go, checked at registration and send

    pipeline = pipeline_from_settings(settings, store, vault)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        retro = None
        if settings.retro_matching:
            retro = RetroMatcher(pipeline, utcnow, settings.pdq_quality_threshold)
            retro.start()
        loop = None
        if settings.webhook_deliver:
            loop = DeliveryLoop(
                store,
                RetryPolicy(
                    settings.webhook_max_attempts,
                    settings.webhook_backoff_base_seconds,
                    settings.webhook_backoff_cap_seconds,
                ),
                timeout_seconds=settings.webhook_timeout_seconds,
                poll_seconds=settings.webhook_poll_seconds,
                clock=utcnow,
                egress=egress,
            )
            loop.start()
        watch = None
        if settings.order_watch:
            watch = PollingThread("order-watch", app.state.orders.watch, settings.order_watch_seconds)
            watch.start()
        # PostgreSQL: audit events are appended unsealed and chained here, apart from their writers
        # (on SQLite each transaction seals its own as it commits)
        chain_sealer = sealer(store, settings.audit_seal_seconds)
        if chain_sealer is not None:
            chain_sealer.start()
        # expired evidence is deleted even when no keys are configured any more
        purge = PollingThread("evidence-retention", vault.purge_step, EVIDENCE_PURGE_SECONDS)
        purge.start()
        if hotline is not None:
            hotline.start()
        statements = submission_loop(store, settings, utcnow) if settings.dsa_database_url else None
        if statements is not None:
            statements.start()
        try:
            yield
        finally:
            if statements is not None:
                statements.stop()
            if hotline is not None:
                hotline.stop()
            purge.stop()
            if chain_sealer is not None:
                chain_sealer.stop()
            if watch is not None:
                watch.stop()
            if loop is not None:
                loop.stop()
            if retro is not None:
                retro.stop()

    app = FastAPI(
        title="Vigil",
        version=__version__,
        description="Trust & safety engine: detect, decide, act, review, answer, account.",
        lifespan=lifespan,
        # FastAPI's pages load unpinned scripts from a CDN into a page where keys are pasted
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.store = store
    app.state.egress = egress
    app.state.pipeline = pipeline
    app.state.vault = vault
    app.state.admin = Admin(store)
    app.state.desk = CaseDesk(pipeline, utcnow)
    app.state.appeals = AppealDesk(pipeline, utcnow)
    app.state.contact = load_contact(settings.contact_file)  # a broken file stops the start
    app.state.notices = NoticeDesk(pipeline, utcnow)
    app.state.authorities = AuthorityRegistry(store, utcnow)
    app.state.orders = OrderDesk(
        pipeline,
        load_legal_config(Path(settings.legal_file) if settings.legal_file else None),
        frozenset(app.state.contact.authorities.accepted_languages),
        utcnow,
    )
    install_error_handlers(app)
    routers = (
        content.router,
        evidence.router,
        hashes.router,
        banks.router,
        policies.router,
        webhooks.router,
        audit.router,
        keys.router,
        cases.router,
        appeals.router,
        quality.router,
        contact.router,
        authorities.router,
        orders.router,
        notices.router,
        flaggers.router,
        transparency.router,
        sor.router,
    )
    # the role table is the routes' only source of who may call them: no route outside it
    check_routes(route for router in routers for route in router.routes if isinstance(route, APIRoute))
    for router in routers:
        app.include_router(router, prefix=API_PREFIX)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    app.add_middleware(RequestGuard, limit=settings.max_body_bytes)
    app.add_middleware(ApiHeaders)
    # /readyz and /metrics; the request timing goes outermost, so that it times every answer
    mount_operations(app, settings, store)
    mount_docs_page(app)  # /docs: Swagger UI served by Vigil itself, no CDN
    mount_console(app)  # the moderator console under /console, with its security headers
    app.include_router(org_sign_in)  # organisation sign-in to the consoles (OpenID Connect)
    app.include_router(legal_console)  # the legal console under /console/orders
    mount_public_pages(app)  # /contact, public, with its own security headers
    return app
