"""Three `vigil serve` processes on one PostgreSQL, each running every background duty: the duties are
claimed, so each order is answered once, escalated at most once a step, and each retroactive job is
matched once (docs/deployment.md, "Running several processes")."""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from tests.conftest import PostgresServer
from tests.integration.live import VIGIL, Receiver, Vigil, free_port, start_all, wait_for
from tests.order_fixtures import SigningAuthority, removal_order
from vigil.store import retro as retro_store
from vigil.store.db import Store
from vigil.store.tables import DecisionRecord, Order, OrderEvent
from vigil.transparency.daily import figures_of_day

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

ORDERS = 100  # executed, confirmed by the platform, answered
STUCK = 10  # name content Vigil does not know: they wait in legal review while their clock runs out
RETRO_BATCHES = 3  # hash lists added while content exists: one retroactive job each
RETRO_ITEMS = 10  # per batch


def _media(n: int) -> bytes:
    return f"propaganda video {n}, frame bytes".encode()


def test_three_processes_on_one_postgresql_do_every_background_duty_once(
    tmp_path: Path, env: dict[str, str], postgres_server: PostgresServer
) -> None:
    database = postgres_server.create_database()
    url = postgres_server.database_url(database)
    env = {**env, "VIGIL_DATABASE_URL": url, "VIGIL_ORDER_WATCH_SECONDS": "0.2"}
    init = subprocess.run([*VIGIL, "init", "--json"], cwd=tmp_path, env=env, capture_output=True, check=True)
    admin = {"Authorization": f"Bearer {json.loads(init.stdout)['admin_key']}"}
    receiver = Receiver(free_port())
    receiver.start()
    servers = [Vigil(tmp_path, env) for _ in range(3)]
    store = Store(url)
    try:
        start_all(servers)
        clients = [httpx.Client(base_url=s.base, timeout=60) for s in servers]
        first = clients[0]
        assert first.post("/v1/webhooks", json={"url": receiver.url}, headers=admin).status_code == 201
        paris = SigningAuthority("fr-ocrv", "FR", ["tco_removal"], "OCRV Paris")
        assert first.post("/v1/authorities", json=paris.registration(), headers=admin).status_code == 201
        key = first.post("/v1/keys", json={"role": "authority", "bound_to": paris.id}, headers=admin).json()[
            "key"
        ]
        assert (
            first.post("/v1/banks", json={"name": "late", "category": "terrorism"}, headers=admin).status_code
            == 201
        )

        def post(n: int) -> None:
            item: dict[str, Any] = {"id": f"channel-1/post-{n}", "author_id": f"user-{n}", "text": "share it"}
            if n >= ORDERS:  # the items a hash list will find later
                item["media"] = [
                    {"id": "v", "mime_type": "video/mp4", "data_base64": base64.b64encode(_media(n)).decode()}
                ]
            answer = clients[n % 3].post("/v1/content", json=item, headers=admin)
            assert answer.status_code == 200, answer.text

        with ThreadPoolExecutor(12) as sending:
            list(sending.map(post, range(ORDERS + RETRO_BATCHES * RETRO_ITEMS)))

        soon = datetime.now(UTC) + timedelta(seconds=8)  # due soon at once, overdue while they wait

        def order(n: int) -> None:
            if n < ORDERS:
                document = removal_order(paris, f"OCRV-{n}", f"channel-1/post-{n}")
                document["respond_by"] = (datetime.now(UTC) + timedelta(minutes=10)).isoformat()
            else:
                document = removal_order(paris, f"OCRV-{n}", f"channel-1/unknown-{n}")
                document["respond_by"] = soon.isoformat()
            body, headers = paris.signed(document, key)
            answer = clients[n % 3].post("/v1/orders", content=body, headers=headers)
            assert answer.status_code == 201, answer.text

        def add_hashes(batch: int) -> None:
            items = range(ORDERS + batch * RETRO_ITEMS, ORDERS + (batch + 1) * RETRO_ITEMS)
            hashes = [{"type": "md5", "value": hashlib.md5(_media(n)).hexdigest()} for n in items]
            added = clients[batch % 3].post("/v1/banks/late/hashes", json={"hashes": hashes}, headers=admin)
            assert added.status_code in (200, 201), added.text

        # the orders and the hash lists arrive together, spread over the three processes
        with ThreadPoolExecutor(16) as sending:
            work = [sending.submit(order, n) for n in range(ORDERS + STUCK)]
            work += [sending.submit(add_hashes, b) for b in range(RETRO_BATCHES)]
            for done in work:
                done.result()

        def settled() -> bool:
            with store.transaction() as session:
                answered = session.scalar(select(func.count()).where(Order.answered_at.is_not(None)))
                overdue = session.scalar(
                    select(func.count()).select_from(Order).where(Order.urgency == "overdue")
                )
                jobs = retro_store.list_jobs(session, "late")
            finished = len(jobs) == RETRO_BATCHES and all(j.state is retro_store.JobState.DONE for j in jobs)
            return answered == ORDERS and overdue == STUCK and finished

        wait_for(settled, 40)

        with store.transaction() as session:
            events = session.execute(select(OrderEvent.order_id, OrderEvent.kind, OrderEvent.detail)).all()
            answers = Counter(order_id for order_id, kind, _ in events if kind == "answered")
            steps = Counter((order_id, d["urgency"]) for order_id, kind, d in events if kind == "escalated")
            figures = figures_of_day(session, datetime.now(UTC).date())
            jobs = retro_store.list_jobs(session, "late")
            decisions = Counter(
                session.scalars(
                    select(DecisionRecord.content_id).where(
                        DecisionRecord.content_id.like("channel-1/post-%")
                    )
                )
            )
        assert len(answers) == ORDERS
        assert set(answers.values()) == {1}  # each order answered once
        assert figures.summary.orders_answered == ORDERS
        assert steps
        assert set(steps.values()) == {1}  # each escalation step once per order
        assert {urgency for _, urgency in steps} >= {"overdue"}
        assert sorted(j.matched for j in jobs) == [RETRO_ITEMS] * RETRO_BATCHES
        retro_items = [f"channel-1/post-{n}" for n in range(ORDERS, ORDERS + RETRO_BATCHES * RETRO_ITEMS)]
        assert [decisions[c] for c in retro_items] == [2] * len(retro_items)  # seen, then matched once

        # every escalation the platform was told of reached it once
        def escalations() -> int:
            return sum(1 for _, body in receiver.received if b'"urgency"' in body and b'"order_id"' in body)

        wait_for(lambda: escalations() >= sum(steps.values()))
        assert escalations() == sum(steps.values())
    finally:
        for server in servers:
            if server.process is not None and server.process.poll() is None:
                server.process.terminate()
                server.process.wait(timeout=10)
        receiver.stop()
        store.dispose()
        postgres_server.drop_database(database)
