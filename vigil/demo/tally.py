"""What the demo has seen so far: the platform's posts and Vigil's answers, notices, orders, appeals.

Counts are kept from what the API answered (as a platform would know them); open cases and orders
are read back from Vigil each second, so the dashboard shows Vigil's state, not the simulator's
guesses.
"""

from __future__ import annotations

import time
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any

from vigil.demo.corpus import Post, PostKind

RATE_WINDOW_SECONDS = 5.0
KEPT_POSTS = 5000  # the recent posts notices, appeals and orders pick from; older ones are counted only


@dataclass(frozen=True, slots=True)
class Sent:
    """A post the platform sent, and the decision Vigil answered with."""

    post: Post
    decision_id: str
    outcome: str
    category: str | None


@dataclass(frozen=True, slots=True)
class OrderClock:
    """An authority's order as Vigil reports it: where it stands on its legal clock."""

    reference: str
    type: str
    state: str
    seconds_left: int | None
    received_at: str
    answered_at: str | None
    late: bool | None

    @classmethod
    def from_api(cls, order: dict[str, Any]) -> OrderClock:
        return cls(
            reference=str(order["reference"]),
            type=str(order["type"]),
            state=str(order["state"]),
            seconds_left=order.get("seconds_left"),
            received_at=str(order["received_at"]),
            answered_at=order.get("answered_at"),
            late=order.get("late"),
        )


@dataclass
class Tally:
    started: float = field(default_factory=time.monotonic)
    posts: int = 0
    sent: deque[Sent] = field(default_factory=lambda: deque(maxlen=KEPT_POSTS))
    outcomes: Counter[str] = field(default_factory=Counter)
    categories: Counter[str] = field(default_factory=Counter)
    by_kind: dict[PostKind, Counter[str]] = field(default_factory=dict)
    languages: Counter[str] = field(default_factory=Counter)
    pictures: int = 0
    refused: int = 0  # posts Vigil answered with an error (shown, never expected)
    user_notices: int = 0
    flagger_notices: int = 0
    appeals: int = 0
    open_cases: dict[str, int] = field(default_factory=dict)
    orders: list[OrderClock] = field(default_factory=list)
    _recent: deque[float] = field(default_factory=deque)

    def record(self, post: Post, answer: dict[str, Any]) -> Sent:
        decision = answer["decision"]
        sent = Sent(post, str(answer["decision_id"]), str(decision["outcome"]), decision.get("category"))
        self.sent.append(sent)
        self.posts += 1
        self.outcomes[sent.outcome] += 1
        if sent.category is not None:
            self.categories[sent.category] += 1
        self.by_kind.setdefault(post.kind, Counter())[sent.outcome] += 1
        self.languages[post.language] += 1
        self.pictures += post.picture is not None
        now = time.monotonic()
        self._recent.append(now)
        return sent

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def items_per_second(self) -> float:
        """Posts decided per second over the last few seconds."""
        now = time.monotonic()
        while self._recent and self._recent[0] < now - RATE_WINDOW_SECONDS:
            self._recent.popleft()
        window = min(RATE_WINDOW_SECONDS, max(now - self.started, 1e-9))
        return len(self._recent) / window
