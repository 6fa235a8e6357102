"""The console's browser-side defences: response headers and CSRF tokens.

Content on the console is hostile by nature (it is what users reported), so the console is built so
that nothing in it can run: templates escape everything, and the Content-Security-Policy below
allows scripts and styles only from the console's own static files, no inline code, no frames, no
form posting elsewhere. Even a bug that let markup through would not execute.
"""

from __future__ import annotations

import hmac

from starlette.types import ASGIApp, Message, Receive, Scope, Send

PREFIX = "/console"

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
)
# reported content must not linger in shared or disk caches
NO_STORE = (b"cache-control", b"no-store")
MAX_TOKEN_LENGTH = 128


class SecurityHeaders:
    """Adds :data:`HEADERS` (and ``Cache-Control: no-store`` unless set) to every response under
    ``/console``, error responses included."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if scope["type"] != "http" or not (path == PREFIX or path.startswith(PREFIX + "/")):
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {name.lower() for name, _ in message.get("headers", [])}
                added = [h for h in HEADERS if h[0] not in names]
                if NO_STORE[0] not in names:
                    added.append(NO_STORE)
                message = {**message, "headers": [*message.get("headers", []), *added]}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def tokens_match(expected: str, given: str) -> bool:
    """Whether a submitted CSRF token is the session's, compared in constant time."""
    if not expected or not given or len(given) > MAX_TOKEN_LENGTH:
        return False
    return hmac.compare_digest(expected.encode(), given.encode())
