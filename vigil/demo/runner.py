"""`vigil demo`: Vigil on a fresh SQLite database with the default policy pack, served on a local
port, and a simulated messaging platform that uses it for as long as the demo runs.

The platform talks to Vigil only through the public API, as a real one would: it sends its users'
posts, relays their notices and appeals, and applies the enforcement webhooks it receives. Around it
a trusted flagger sends notices and two authorities send signed orders, one of them a terrorist
content removal order on its one-hour clock. Reviewers and lawyers are the people watching: the demo
prints the console's address and their keys, and the queues fill while the traffic flows.
"""

from __future__ import annotations

import base64
import json
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.live import Live

from vigil.config import Settings
from vigil.demo.corpus import HARD_CASE_KINDS, PlatformCorpus, Post, PostKind
from vigil.demo.dashboard import render
from vigil.demo.receiver import PlatformState, WebhookReceiver
from vigil.demo.stage import Authority, Stage, set_stage
from vigil.demo.tally import OrderClock, Sent, Tally
from vigil.domain.roles import Role
from vigil.pipeline.admin import Admin
from vigil.policy.loader import DEFAULT_PACK, load_policy_paths
from vigil.store.db import Store

POLL_SECONDS = 1.0  # how often open cases and orders are read back for the dashboard
SETTLE_SECONDS = 15.0  # at the end, how long the demo waits for orders to be answered
URL_PREFIX = "https://demo.social.example/p/"

# what a user, the hotline or an authority says a post of each kind is (the category they allege)
ALLEGED = {
    PostKind.HATE: "hate_speech",
    PostKind.HOLOCAUST_DENIAL: "hate_speech",
    PostKind.SCAM: "fraud",
    PostKind.DRUGS: "drugs",
    PostKind.TERRORISM: "terrorism",
    PostKind.SPAM: "spam",
}


class DemoError(RuntimeError):
    """The demo cannot start (the message says why and what to do)."""


@dataclass(frozen=True, slots=True)
class DemoOptions:
    seed: int = 7
    rate: float = 10.0  # posts per second
    duration: float | None = None  # seconds; None runs until Ctrl-C
    host: str = "127.0.0.1"
    port: int = 8080
    database: Path = Path("var/demo.db")


@dataclass
class Every:
    """A cue that comes back: first at ``first`` seconds into the demo, then every ``period``; an
    action that says it found nothing to act on (False) is tried again after ``retry`` instead."""

    first: float
    period: float
    action: Callable[[], bool | None]
    retry: float | None = None
    due: float = field(init=False)

    def __post_init__(self) -> None:
        self.due = self.first

    def run_if_due(self, elapsed: float) -> None:
        if elapsed >= self.due:
            acted = self.action() is not False
            self.due = elapsed + (self.period if acted or self.retry is None else self.retry)


class ServerThread:
    """`vigil serve`'s server, in a thread of this process, stopped on request."""

    def __init__(self, settings: Settings, store: Store) -> None:
        import uvicorn

        from vigil.api.app import create_app

        config = uvicorn.Config(
            create_app(settings, store), host=settings.host, port=settings.port, log_level="warning"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="demo-server", daemon=True)

    def start(self) -> None:
        self.thread.start()
        while not self.server.started:
            if not self.thread.is_alive():
                raise DemoError("Vigil's server did not start (see the message above)")
            time.sleep(0.05)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


def _port_free(host: str, port: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host, port))
        except OSError:
            raise DemoError(
                f"port {port} on {host} is in use (is `make run` running?); give --port"
            ) from None


def _fresh_store(settings: Settings, path: Path) -> tuple[Store, str]:
    """The demo's own database, created anew with the default pack; returns it and an admin key."""
    path.parent.mkdir(parents=True, exist_ok=True)
    for stale in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        stale.unlink(missing_ok=True)
    store = Store.from_settings(settings)
    store.migrate()
    admin = Admin(store)
    admin.apply_policies(load_policy_paths([DEFAULT_PACK]), "vigil demo")
    _, token = admin.create_key(Role.ADMIN, "created by vigil demo", None, "vigil demo")
    return store, token


class Simulator:
    """The platform and the people around it, driven by the clock of the demo's main loop."""

    def __init__(
        self,
        client: httpx.Client,
        stage: Stage,
        corpus: PlatformCorpus,
        tally: Tally,
        platform: PlatformState,
    ) -> None:
        self.client = client
        self.platform = platform
        self.stage = stage
        self.corpus = corpus
        self.tally = tally
        self._reported: set[str] = set()
        self._appealed: set[str] = set()
        self.cues = [
            Every(4, 7, self.user_notice),
            Every(6, 10, self.flagger_notice),
            Every(9, 9, self.appeal),
            Every(12, 3600, self.removal_order, retry=2),
            Every(24, 3600, self.art9_order, retry=2),
        ]

    def _post(self, path: str, key: str, body: dict[str, Any]) -> httpx.Response:
        return self.client.post(path, json=body, headers={"Authorization": f"Bearer {key}"})

    def publish(self, post: Post) -> None:
        response = self._post("/v1/content", self.stage.platform_key, post.content())
        if response.status_code == 200:
            self.tally.record(post, response.json())
        else:
            self.tally.refused += 1

    def enforce_on_accounts(self) -> None:
        """The platform suspends the accounts and bans the channels Vigil named: they post no more,
        and (as in life) their owners come back under new names."""
        posts = {s.post.id: s.post for s in self.tally.sent}
        for content_id, action in self.platform.take_account_actions():
            post = posts.get(content_id)
            if post is None:
                continue
            if action == "suspend_account":
                self.corpus.suspended(post.author_id)
            else:
                self.corpus.banned(post.channel_id)

    def _latest(self, wanted: Callable[[Sent], bool]) -> Sent | None:
        return next((s for s in reversed(self.tally.sent) if wanted(s)), None)

    def user_notice(self) -> None:
        """A user reports a post through the platform: harm the machine let through, or, every
        other time, an ordinary post someone simply dislikes (most reports are unfounded)."""
        missed = self._latest(
            lambda s: s.post.kind in ALLEGED and s.outcome == "no_action" and s.post.id not in self._reported
        )
        ordinary = self._latest(
            lambda s: s.post.kind is PostKind.ORDINARY and s.post.id not in self._reported
        )
        target = missed if missed is not None and self.tally.user_notices % 2 == 0 else ordinary
        if target is None:
            return
        number = self.tally.user_notices + 1
        body = {
            "content_id": target.post.id,
            "url": URL_PREFIX + target.post.id,
            "category": ALLEGED.get(target.post.kind, "hate_speech"),
            "explanation": "A user of the platform reported this post as illegal in the in-app form.",
            "reporter": {"name": f"Demo User {number}", "email": f"user{number}@users.demo.example"},
            "good_faith": True,
        }
        if self._post("/v1/notices", self.stage.platform_key, body).status_code < 300:
            self._reported.add(target.post.id)
            self.tally.user_notices += 1

    def flagger_notice(self) -> None:
        """The hotline, a trusted flagger, notices terrorist propaganda or hate speech."""
        target = self._latest(
            lambda s: (
                s.post.kind in (PostKind.TERRORISM, PostKind.HATE, PostKind.HOLOCAUST_DENIAL)
                and s.post.id not in self._reported
            )
        )
        if target is None:
            return
        body = {
            "content_id": target.post.id,
            "url": URL_PREFIX + target.post.id,
            "category": ALLEGED[target.post.kind],
            "legal_ground": "Directive (EU) 2017/541 Art. 5"
            if target.post.kind is PostKind.TERRORISM
            else "Framework Decision 2008/913/JHA Art. 1",
            "explanation": "Our analysts assessed this post as illegal content in their category of expertise.",
            "good_faith": True,
        }
        if self._post("/v1/notices", self.stage.flagger_key, body).status_code < 300:
            self._reported.add(target.post.id)
            self.tally.flagger_notices += 1

    def appeal(self) -> None:
        """An author contests a restriction: a hard case caught by mistake first, else any."""
        restricted = ("remove", "demote", "suspend_account")
        target = self._latest(
            lambda s: (
                s.outcome in restricted
                and s.post.kind in HARD_CASE_KINDS
                and s.decision_id not in self._appealed
            )
        ) or self._latest(lambda s: s.outcome in restricted and s.decision_id not in self._appealed)
        if target is None:
            return
        self._appealed.add(target.decision_id)
        body = {
            "decision_id": target.decision_id,
            "appellant": target.post.author_id,
            "statement": "My post does not break any rule; please have a person look at it again.",
        }
        # a decision already replaced (a notice or an order decided anew) is refused: nothing filed
        if self._post("/v1/appeals", self.stage.platform_key, body).status_code < 300:
            self.tally.appeals += 1

    def _order(self, authority: Authority, order: dict[str, Any]) -> None:
        body = json.dumps(order).encode()
        # what became of it is read back from Vigil's own list of orders (read_back)
        self.client.post(
            "/v1/orders",
            content=body,
            headers={
                "Authorization": f"Bearer {authority.key}",
                "Content-Type": "application/json",
                "Vigil-Signature": authority.sign(body),
            },
        )

    def removal_order(self) -> bool:
        """The police send a signed terrorist content removal order: one hour to act on it. False
        while no terrorist post has been seen yet."""
        target = self._latest(lambda s: s.post.kind is PostKind.TERRORISM and s.outcome != "remove")
        if target is None:
            return False
        self._order(
            self.stage.tco_authority,
            {
                "authority_id": self.stage.tco_authority.id,
                "reference": f"DEMO-TCO-{target.post.id}",
                "type": "tco_removal",
                "issued_at": datetime.now(UTC).isoformat(),
                "language": "fr",
                "legal_basis": "Règlement (UE) 2021/784, art. 3",
                "statement_of_reasons": "Publication appelant à commettre des infractions terroristes.",
                "targets": [{"url": URL_PREFIX + target.post.id, "content_id": target.post.id}],
                "redress": "Recours devant le tribunal administratif.",
            },
        )
        return True

    def art9_order(self) -> bool:
        """A prosecutor orders Holocaust denial withheld in Germany: a lawyer must read it first.
        False while no such post has been seen yet."""
        target = self._latest(lambda s: s.post.kind is PostKind.HOLOCAUST_DENIAL)
        if target is None:
            return False
        self._order(
            self.stage.art9_authority,
            {
                "authority_id": self.stage.art9_authority.id,
                "reference": f"DEMO-ART9-{target.post.id}",
                "type": "dsa_art9",
                "issued_at": datetime.now(UTC).isoformat(),
                "language": "de",
                "legal_basis": "§ 130 Abs. 3 StGB; Art. 9 Verordnung (EU) 2022/2065",
                "statement_of_reasons": "Der Beitrag leugnet den Holocaust.",
                "category": "hate_speech",
                "territorial_scope": ["DE"],
                "targets": [{"content_id": target.post.id}],
                "redress": "Beschwerde nach § 304 StPO beim zuständigen Landgericht.",
            },
        )
        return True

    def read_back(self) -> None:
        """Open cases per queue (a senior reviewer sees every queue) and the orders' clocks, as Vigil
        reports them."""
        queues = self.client.get(
            "/v1/queues", headers={"Authorization": f"Bearer {self.stage.senior_reviewer_key}"}
        )
        if queues.status_code == 200:
            self.tally.open_cases = {q["name"]: int(q["open_cases"]) for q in queues.json()}
        orders = self.client.get("/v1/orders", headers={"Authorization": f"Bearer {self.stage.legal_key}"})
        if orders.status_code == 200:
            self.tally.orders = [OrderClock.from_api(o) for o in orders.json()]


@dataclass(frozen=True, slots=True)
class DemoSummary:
    """What the run did, for the closing table (and `--json`)."""

    seconds: float
    posts: int
    outcomes: dict[str, int]
    categories: dict[str, int]
    outcomes_by_kind: dict[str, dict[str, int]]
    languages: list[str]
    user_notices: int
    flagger_notices: int
    appeals: int
    orders: list[dict[str, Any]]
    webhook_events: dict[str, int]
    taken_down: int
    transparency: dict[str, Any]
    database: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _settle(simulator: Simulator) -> None:
    """Give the outbox a moment: an executed order is answered once the platform confirmed it."""
    deadline = time.monotonic() + SETTLE_SECONDS
    while time.monotonic() < deadline:
        simulator.read_back()
        executed = [o for o in simulator.tally.orders if o.state in ("executed", "partially_executed")]
        if not executed:
            return
        time.sleep(0.5)


def run_demo(options: DemoOptions, out: Console, live: bool = True) -> DemoSummary:
    """Run the demo until ``options.duration`` passes or Ctrl-C; return what it did."""
    _port_free(options.host, options.port)
    database_url = f"sqlite:///{options.database}"
    settings = Settings().model_copy(
        update={
            "database_url": database_url,
            "host": options.host,
            "port": options.port,
            # evidence is kept encrypted, with a key of this run alone
            "evidence_keys": "demo:" + base64.b64encode(os.urandom(32)).decode(),
        }
    )
    store, admin_key = _fresh_store(settings, options.database)
    platform = PlatformState()
    receiver = WebhookReceiver(platform)
    server = ServerThread(settings, store)
    base = f"http://{options.host}:{options.port}"
    corpus = PlatformCorpus(options.seed)
    receiver.start()
    server.start()
    tally = Tally()
    try:
        with httpx.Client(base_url=base, timeout=30) as client:
            stage = set_stage(client, admin_key, corpus.banked_pictures(), receiver.url)
            receiver.secret = stage.webhook_secret
            footer = [
                f"console   {base}/console   (sign in with a key below; transparency page: {base}/transparency)",
                f"reviewer  {stage.reviewer_key}",
                f"legal     {stage.legal_key}   senior legal {stage.senior_legal_key}",
                f"admin     {admin_key}",
            ]
            for line in footer:
                out.print(line, highlight=False, soft_wrap=True)
            simulator = Simulator(client, stage, corpus, tally, platform)
            tally.started = time.monotonic()
            _loop(options, simulator, platform, footer, out, live)
            _settle(simulator)
            today = datetime.now(UTC).date().isoformat()
            figures = client.get("/v1/transparency/daily", params={"date": today}).json()
    finally:
        server.stop()
        receiver.stop()
        store.dispose()
    return DemoSummary(
        seconds=round(tally.elapsed(), 1),
        posts=tally.posts,
        outcomes=dict(tally.outcomes.most_common()),
        categories=dict(tally.categories.most_common()),
        outcomes_by_kind={kind.value: dict(counts) for kind, counts in tally.by_kind.items()},
        languages=sorted(tally.languages),
        user_notices=tally.user_notices,
        flagger_notices=tally.flagger_notices,
        appeals=tally.appeals,
        orders=[asdict(o) for o in tally.orders],
        webhook_events=dict(platform.event_counts()),
        taken_down=platform.taken_down(),
        transparency=figures,
        database=str(options.database),
    )


def _loop(
    options: DemoOptions,
    simulator: Simulator,
    platform: PlatformState,
    footer: list[str],
    out: Console,
    live: bool,
) -> None:
    tally = simulator.tally
    interval = 1.0 / options.rate
    next_post = next_poll = time.monotonic()

    def frame() -> Any:
        limit = f" of {options.duration:.0f} s" if options.duration else ", Ctrl-C to stop"
        header = (
            f"Vigil demo · seed {options.seed} · {options.rate:g} posts/s · {tally.elapsed():.0f} s{limit}"
        )
        return render(tally, platform, header, footer)

    display = Live(frame(), console=out, refresh_per_second=2, transient=False) if live else None
    try:
        if display is not None:
            display.start()
        while options.duration is None or tally.elapsed() < options.duration:
            now = time.monotonic()
            if now >= next_post:
                simulator.publish(simulator.corpus.next_post())
                # a server slower than the rate is not made to catch up in a burst
                next_post = max(next_post + interval, now - 1.0)
            for cue in simulator.cues:
                cue.run_if_due(tally.elapsed())
            if now >= next_poll:
                simulator.enforce_on_accounts()
                simulator.read_back()
                if display is not None:
                    display.update(frame())
                next_poll = now + POLL_SECONDS
            time.sleep(max(0.0, min(next_post, next_poll) - time.monotonic()))
    except KeyboardInterrupt:
        pass  # Ctrl-C ends the traffic; the server and the receiver are stopped by the caller
    finally:
        if display is not None:
            display.update(frame())
            display.stop()
