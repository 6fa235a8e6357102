"""Timing every HTTP request into ``vigil_http_request_duration_seconds`` (an ASGI middleware)."""

from __future__ import annotations

import time

from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from vigil.observe.metrics import HTTP_REQUEST_SECONDS

# a request no route took (404s of scanners and typos): one series, not one per path tried
UNMATCHED = "unmatched"


class RequestMetrics:
    """Observes each HTTP request's duration, labelled by the *template* of the route that took it
    (``/v1/cases/{case_id}``, never the id itself), its method and its status class.

    The template is read from the scope after the request: Starlette's router writes the route it
    chose into the scope (``scope["route"]``).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        root = scope.get("root_path", "")
        status = 500  # what the client gets when the app fails before it answers

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            HTTP_REQUEST_SECONDS.labels(
                _template(scope, root), scope["method"], f"{status // 100}xx"
            ).observe(time.perf_counter() - started)


def _template(scope: Scope, root: str) -> str:
    route = scope.get("route")
    own = getattr(route, "path", None)
    regex = getattr(route, "path_regex", None)
    if not isinstance(route, BaseRoute) or not isinstance(own, str) or regex is None:
        return UNMATCHED
    # The route knows its own path, not the prefixes it was included or mounted under (``/v1``,
    # ``/console``): the prefix is the part of the request's path before the longest tail the route
    # matches. Vigil's prefixes are fixed words, so the label never carries an id.
    path = str(scope.get("path", ""))[len(root) :]
    for cut in [0, *(i for i, char in enumerate(path) if char == "/" and i > 0)]:
        if regex.fullmatch(path[cut:]) is not None:
            return (path[:cut] + own) or "/"
    return own or "/"
