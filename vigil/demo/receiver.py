"""The demo platform's webhook endpoint: it verifies each event, applies it once, and answers 204.

It does what a platform's receiver does (docs/webhooks.md): refuses a request whose signature does
not verify, de-duplicates by event id (delivery is at least once), and keeps, per content item, the
restrictions in force, so the dashboard can show what the platform actually took down.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from vigil.domain.events import EventType
from vigil.enforce.webhooks import SignatureError, verify_signature

MAX_EVENT_BYTES = 1024 * 1024


@dataclass
class PlatformState:
    """What the platform did on Vigil's word: events applied, and each item's restrictions in force."""

    events: Counter[str] = field(default_factory=Counter)
    in_force: dict[str, frozenset[str]] = field(default_factory=dict)
    refused: int = 0
    # items whose author the platform suspended or whose channel it banned, not yet acted on
    account_actions: list[tuple[str, str]] = field(default_factory=list)
    _seen: set[str] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def apply(self, event: dict[str, Any]) -> None:
        with self._lock:
            if event["id"] in self._seen:
                return
            self._seen.add(event["id"])
            self.events[str(event["type"])] += 1
            subject = event.get("subject") or {}
            if event["type"] == EventType.ENFORCEMENT_REQUESTED and subject.get("type") == "content":
                actions = frozenset(event.get("actions") or ())
                self.in_force[str(subject["id"])] = actions
                self.account_actions += [
                    (str(subject["id"]), a) for a in sorted(actions & {"suspend_account", "ban_channel"})
                ]

    def take_account_actions(self) -> list[tuple[str, str]]:
        """The suspensions and bans that arrived since the last call, as (content id, action)."""
        with self._lock:
            taken, self.account_actions = self.account_actions, []
            return taken

    def refuse(self) -> None:
        with self._lock:
            self.refused += 1

    def taken_down(self) -> int:
        """Items the platform has removed (everywhere) at Vigil's request, as of now."""
        with self._lock:
            return sum(1 for actions in self.in_force.values() if "remove" in actions)

    def restricted(self) -> Counter[str]:
        """Items per restriction in force (an item restricted two ways counts under each)."""
        with self._lock:
            return Counter(action for actions in self.in_force.values() for action in actions)

    def event_counts(self) -> Counter[str]:
        with self._lock:
            return Counter(self.events)


class WebhookReceiver:
    """An HTTP server on 127.0.0.1 (a free port) that plays the platform's enforcement endpoint."""

    def __init__(self, state: PlatformState) -> None:
        self.state = state
        self.secret = ""  # known once Vigil has registered the endpoint and shown its secret
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if length > MAX_EVENT_BYTES:
                    self._answer(413)
                    return
                body = self.rfile.read(length)
                try:
                    verify_signature(
                        receiver.secret, self.headers.get("Vigil-Signature", ""), body, int(time.time())
                    )
                    event = json.loads(body)
                except (SignatureError, ValueError):
                    receiver.state.refuse()
                    self._answer(401)
                    return
                receiver.state.apply(event)
                self._answer(204)

            def _answer(self, status: int) -> None:
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass  # the dashboard shows what arrives; a log line per event would scroll it away

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="demo-webhooks", daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/vigil"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
