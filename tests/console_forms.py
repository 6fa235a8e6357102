"""What the console tests share: the CSRF token its forms carry, signing in with a key through the
sign-in form, and a clock the test moves."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_token(html: str) -> str:
    """The CSRF token of the console form on the page ``html``."""
    found = _CSRF.search(html)
    assert found is not None, "the page has no console form with a CSRF token"
    return found.group(1)


class FormClient(Protocol):
    """What both an httpx client and FastAPI's TestClient offer the sign-in form."""

    def get(self, url: str) -> Any: ...

    def post(self, url: str, *, data: dict[str, str], follow_redirects: bool) -> Any: ...


def sign_in_with_key(http: FormClient, key: str) -> None:
    """Sign ``http`` in to the console with the API key ``key`` as the sign-in form does (its CSRF
    token first); the session cookie stays in ``http``."""
    token = csrf_token(http.get("/console/login").text)
    signed = http.post("/console/login", data={"csrf": token, "api_key": key}, follow_redirects=False)
    assert (signed.status_code, signed.headers["location"]) == (303, "/console/queues")


@dataclass
class Clock:
    """A clock the test moves by hand: the desks and the console read it by calling it."""

    at: datetime

    def __call__(self) -> datetime:
        return self.at

    def advance(self, **delta: float) -> None:
        self.at += timedelta(**delta)
