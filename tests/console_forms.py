"""What the console tests share: the CSRF token its forms carry, and a clock the test moves."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_token(html: str) -> str:
    """The CSRF token of the console form on the page ``html``."""
    found = _CSRF.search(html)
    assert found is not None, "the page has no console form with a CSRF token"
    return found.group(1)


@dataclass
class Clock:
    """A clock the test moves by hand: the desks and the console read it by calling it."""

    at: datetime

    def __call__(self) -> datetime:
        return self.at

    def advance(self, **delta: float) -> None:
        self.at += timedelta(**delta)
