"""The daily figures on both engines: the counters kept as things happen say what the source tables
say, for 100,000 decisions over three days and for a day of notices, orders and appeals sent
through the HTTP API; a rebuild repairs broken counters; the published figures carry no personal data."""

from __future__ import annotations

import hashlib
import json
import random
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, select, update

from tests.api.cli import run
from tests.order_fixtures import SigningAuthority, order_to_act, removal_order
from vigil.api.app import create_app
from vigil.config import Settings
from vigil.domain.content import Audience, Content, ContentKind, MediaHashes, Subject, SubjectType
from vigil.domain.decisions import (
    Action,
    AutomatedDecision,
    Decision,
    DecisionContext,
    Ground,
    GroundType,
    PolicyRef,
    Source,
)
from vigil.domain.hashes import HashType, ListedHash
from vigil.domain.ids import new_id, utcnow
from vigil.domain.jurisdictions import GLOBAL, TerritorialScope
from vigil.domain.roles import Role
from vigil.domain.taxonomy import Category
from vigil.pipeline.accountability import decision_hooks
from vigil.pipeline.admin import Admin
from vigil.pipeline.service import Pipeline
from vigil.policy.loader import DEFAULT_PACK, load_policy_paths
from vigil.store import audit as audit_store
from vigil.store import content as content_store
from vigil.store.content import NewDecision, StoredDecision
from vigil.store.db import Store
from vigil.store.tables import AuditRecord, DailyCounter
from vigil.transparency.daily import (
    DailyFigures,
    count_decision,
    figures_of_day,
    rebuild,
    recomputed_figures,
)

DAYS = (date(2026, 3, 13), date(2026, 3, 14), date(2026, 3, 15))
DECISIONS = 100_000
# PostgreSQL runs the same check on fewer decisions: each upsert there is a round trip to a server,
# and the rules under test are the engine's SQL, not the volume, which SQLite's run covers
POSTGRES_DECISIONS = 12_000
CHUNK = 2_000  # decisions recorded together, at one instant, as a batch of the pipeline is
COUNTRIES = ("DE", "AT", "FR", "PL", "IT", "NL")
RESTRICTIONS = frozenset(
    {
        Action.REMOVE,
        Action.GEO_RESTRICT,
        Action.AGE_RESTRICT,
        Action.DEMOTE,
        Action.LABEL,
        Action.SUSPEND_ACCOUNT,
        Action.BAN_CHANNEL,
    }
)
ACTION_SETS: tuple[tuple[Action, ...], ...] = (
    (),
    (),
    (),
    (Action.REMOVE,),
    (Action.REMOVE, Action.NOTIFY_USER, Action.PRESERVE_EVIDENCE),
    (Action.GEO_RESTRICT, Action.NOTIFY_USER),
    (Action.AGE_RESTRICT,),
    (Action.DEMOTE,),
    (Action.LABEL,),
    (Action.REMOVE, Action.SUSPEND_ACCOUNT),
    (Action.REMOVE, Action.SUSPEND_ACCOUNT, Action.BAN_CHANNEL),
    (Action.NOTIFY_USER,),
)


def _random_decision(rng: random.Random, content_id: str) -> Decision:
    actions = frozenset(rng.choice(ACTION_SETS))
    held: frozenset[Action] = frozenset()
    if not actions and rng.random() < 0.2:  # held back until a person looks (review before acting)
        held = frozenset({Action.REMOVE})
    if Action.GEO_RESTRICT in actions:
        scope = TerritorialScope.of(rng.sample(COUNTRIES, rng.randint(1, 3)))
    else:
        scope = GLOBAL if rng.random() < 0.9 else TerritorialScope.of([rng.choice(COUNTRIES)])
    category = rng.choice([*Category, None]) if actions or held else None
    return Decision(
        subject=Subject(SubjectType.CONTENT, content_id),
        actions=actions,
        category=category,
        additional_categories=(),
        ground=Ground(GroundType.INCOMPATIBLE_CONTENT, "terms 4.2", "generated") if actions else None,
        territorial_scope=scope,
        automated_detection=True,
        automated_decision=rng.choice(list(AutomatedDecision)),
        review=None,
        source=rng.choice(list(Source)),
        policies=(PolicyRef("generated", 1),) if actions else (),
        held_actions=held,
    )


def _in_force(decision: Decision | None) -> frozenset[Action]:
    return decision.actions & RESTRICTIONS if decision is not None else frozenset()


def _instants(day: date, chunks: int) -> list[datetime]:
    """``chunks`` instants across the day, the first and last at its very edges."""
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    last = start + timedelta(days=1) - timedelta(microseconds=1)
    middle = [start + timedelta(seconds=86_400 * (i + 1) / chunks) for i in range(chunks - 2)]
    return [start, *middle, last]


def _generate(store: Store, seed: int, decisions: int) -> tuple[Counter[date], Counter[date]]:
    """Record ``decisions`` random decisions over DAYS, a quarter of them on items decided before,
    counting each through the decision hook in the transaction that records it. Returns the
    restrictive decisions and the restrictions lifted of each day, as this test reckons them."""
    rng = random.Random(seed)
    latest: dict[str, Decision] = {}
    restrictive: Counter[date] = Counter()
    lifted: Counter[date] = Counter()
    per_day = decisions // len(DAYS)
    serial = 0
    for day in DAYS:
        for at in _instants(day, per_day // CHUNK):
            known = list(latest)
            again = set(rng.sample(known, min(len(known), CHUNK // 4)))
            fresh_ids = [f"item-{serial + i}" for i in range(CHUNK - len(again))]
            serial += len(fresh_ids)
            contents = {
                cid: Content(cid, ContentKind.POST, Audience.PUBLIC, f"author-{rng.randrange(500)}", at)
                for cid in fresh_ids
            }
            with store.transaction() as session:
                olds = content_store.current_decisions(session, sorted(again)) if again else {}
                news: list[NewDecision] = []
                for cid in [*fresh_ids, *sorted(again)]:
                    content = contents.get(cid) or Content(cid, ContentKind.POST, Audience.PUBLIC, "x", at)
                    news.append(NewDecision(new_id("dec"), content, _random_decision(rng, cid), ()))
                content_store.record_content(session, [n for n in news if n.content.id in contents], at)
                content_store.record_decisions(session, news, at)
                for new in news:
                    previous: StoredDecision | None = olds.get(new.content.id)
                    count_decision(session, new, previous, "generator", at)
                    before, after = latest.get(new.content.id), new.decision
                    if _in_force(after) and (
                        before is None
                        or _in_force(before) != _in_force(after)
                        or before.territorial_scope != after.territorial_scope
                    ):
                        restrictive[day] += 1
                    if _in_force(before) and not _in_force(after):
                        lifted[day] += 1
                    latest[new.content.id] = after
    return restrictive, lifted


def _figures(store: Store, day: date) -> tuple[DailyFigures, DailyFigures]:
    with store.transaction() as session:
        return figures_of_day(session, day), recomputed_figures(session, day)


def test_the_counters_of_100000_decisions_equal_the_figures_recomputed_from_the_decisions(
    store: Store,
) -> None:
    decisions = DECISIONS if store.engine.dialect.name == "sqlite" else POSTGRES_DECISIONS
    restrictive, lifted = _generate(store, seed=20260314, decisions=decisions)

    for day in DAYS:
        counted, recomputed = _figures(store, day)
        assert counted == recomputed, day
        summary = counted.summary
        assert summary.restrictive_decisions == restrictive[day]
        assert summary.restrictions_lifted == lifted[day]
        assert summary.accounts_suspended > 0
        assert summary.channels_banned > 0
        assert 0 < summary.restrictive_decisions < decisions // len(DAYS)
        territories = {r.territory for r in counted.breakdowns.restrictive_by_territory}
        assert territories == {"global", *COUNTRIES}
    assert count_decision in decision_hooks()  # what was counted here is what the pipeline counts


def test_concurrent_pipelines_lose_no_increment(store: Store) -> None:
    """Four writers at once, through the pipeline: on PostgreSQL they write their counters at commit,
    in key order, over shards (no deadlock between their counter rows, no lock they all queue on); on
    SQLite they queue on the database lock."""
    admin = Admin(store)
    admin.apply_policies(load_policy_paths([DEFAULT_PACK]), "test")
    admin.create_bank("kits", Category.FRAUD, "internal", 31, "test")
    kit = hashlib.md5(b"phishing kit").hexdigest()
    admin.add_hashes("kits", [ListedHash(HashType.MD5, kit)], "test")
    pipeline = Pipeline(store)
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            for batch in range(5):
                items = [
                    Content(
                        f"w{n}-{batch}-{i}",
                        ContentKind.POST,
                        Audience.PUBLIC,
                        f"author-{n}-{i}",
                        utcnow(),
                        media=(MediaHashes("m", None, kit, None, 10),) if i % 2 else (),
                        text="claim your prize",
                    )
                    for i in range(20)
                ]
                pipeline.submit(items, DecisionContext(), "platform")
        except BaseException as exc:  # reported below: a thread's failure must fail the test
            errors.append(exc)

    first_day = utcnow().date()
    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    total = 0
    for day in {first_day, utcnow().date()}:  # the run may straddle midnight
        counted, recomputed = _figures(store, day)
        assert counted == recomputed
        total += counted.summary.restrictive_decisions
    assert total == 4 * 5 * 10  # every other item matched the bank and was removed


# --- a day through the HTTP API ------------------------------------------------------------------


@pytest.fixture
def client(store: Store, tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(
        database_url=store.url,
        webhook_deliver=False,
        retro_matching=False,
        order_watch=False,
        qa_sample_rate=0.0,
        text_classifier=False,
    )
    Admin(store).apply_policies(load_policy_paths([DEFAULT_PACK]), "test")
    with TestClient(create_app(settings, store)) as test_client:
        yield test_client


def _key(store: Store, role: Role, bound_to: str | None = None) -> dict[str, str]:
    _, token = Admin(store).create_key(role, f"test {role.value}", bound_to, "test")
    return {"Authorization": f"Bearer {token}"}


KIT = hashlib.md5(b"a phishing kit").hexdigest()
PRIVATE = ("author-secret-7", "Ana Example", "ana@example.org", "chan-secret-9")


def _a_day_of_everything(client: TestClient, store: Store) -> dict[str, str]:
    """Content removed by a bank match, a user's notice decided by a reviewer, a trusted flagger's
    notice, an order executed and one refused, an appeal that overturns a removal. Returns the ids
    and names involved, none of which may appear in the published figures."""
    admin = _key(store, Role.ADMIN)
    platform = _key(store, Role.PLATFORM)
    client.post("/v1/banks", json={"name": "kits", "category": "fraud"}, headers=admin)
    client.post("/v1/banks/kits/hashes", json={"hashes": [{"type": "md5", "value": KIT}]}, headers=admin)
    author, reporter, email, channel = PRIVATE

    def post(content_id: str, **extra: object) -> dict[str, object]:
        item = {"id": content_id, "author_id": author, "channel_id": channel, "text": "hello", **extra}
        response = client.post("/v1/content", json=item, headers=platform)
        assert response.status_code == 200, response.text
        decision: dict[str, object] = response.json()["decision"]
        return decision

    removed = post("scam-1", media=[{"id": "m", "md5": KIT}])
    assert removed["outcome"] == "remove"
    post("post-1")
    post("post-2")
    # a user's notice on clean content waits for a reviewer, who removes it
    notice = client.post(
        "/v1/notices",
        json={
            "content_id": "post-1",
            "category": "hate_speech",
            "explanation": "This post insults people for their religion.",
            "reporter": {"name": reporter, "email": email},
            "good_faith": True,
        },
        headers=platform,
    )
    assert notice.status_code == 201, notice.text
    reviewer = _key(store, Role.REVIEWER)
    case_id = notice.json()["case_id"]
    assert client.post(f"/v1/cases/{case_id}/claim", headers=reviewer).status_code == 200
    verdict = client.post(
        f"/v1/cases/{case_id}/decision",
        json={"actions": ["remove"], "policy_id": "hate-speech-suspected", "note": "insult"},
        headers=reviewer,
    )
    assert verdict.status_code == 200, verdict.text
    # the removal by the bank is appealed and overturned by a reviewer
    appeal = client.post(
        "/v1/appeals",
        json={"decision_id": _current(store, "scam-1"), "appellant": author, "statement": "it was a joke"},
        headers=platform,
    )
    assert appeal.status_code == 201, appeal.text
    other = _key(store, Role.REVIEWER)
    appeal_case = appeal.json()["case_id"]
    assert client.post(f"/v1/cases/{appeal_case}/claim", headers=other).status_code == 200
    overturned = client.post(
        f"/v1/cases/{appeal_case}/decision", json={"actions": [], "note": "not a scam"}, headers=other
    )
    assert overturned.status_code == 200, overturned.text
    # two orders from Paris: a removal order (executed at once), an order to act refused by legal
    paris = SigningAuthority("fr-ocrv", "FR", ["tco_removal", "dsa_art9"], "OCRV Paris")
    assert client.post("/v1/authorities", json=paris.registration(), headers=admin).status_code == 201
    authority = _key(store, Role.AUTHORITY, paris.id)["Authorization"].removeprefix("Bearer ")
    body, headers = paris.signed(removal_order(paris, "TCO-1", "post-2"), authority)
    assert client.post("/v1/orders", content=body, headers=headers).json()["state"] == "executed"
    body, headers = paris.signed(order_to_act(paris, "ART9-1", "post-2", ["FR"]), authority)
    acted = client.post("/v1/orders", content=body, headers=headers).json()
    assert acted["state"] == "in_legal_review"
    refused = client.post(
        f"/v1/orders/{acted['id']}/refuse",
        json={"ground": "fundamental_rights", "explanation": "satire of a public figure"},
        headers=_key(store, Role.SENIOR_LEGAL),
    )
    assert refused.status_code == 200, refused.text
    client.app.state.orders.watch()  # type: ignore[attr-defined]
    return {"notice": notice.json()["id"], "appeal": appeal.json()["id"], "order": acted["id"]}


def _current(store: Store, content_id: str) -> str:
    with store.transaction() as session:
        return content_store.current_decisions(session, [content_id])[content_id].id


def _days_touched(started: datetime) -> list[date]:
    return sorted({started.date(), utcnow().date()})


def test_a_day_sent_through_the_api_is_published_as_the_source_tables_have_it(
    client: TestClient, store: Store
) -> None:
    started = utcnow()
    ids = _a_day_of_everything(client, store)

    totals: Counter[str] = Counter()
    for day in _days_touched(started):
        response = client.get(f"/v1/transparency/daily?date={day.isoformat()}")  # no key: public
        assert response.status_code == 200, response.text
        with store.transaction() as session:
            assert response.json() == recomputed_figures(session, day).to_json()
        for name, value in response.json()["summary"].items():
            if isinstance(value, int):
                totals[name] += value
        csv_text = client.get(f"/v1/transparency/daily.csv?date={day.isoformat()}").text
        for secret in (*PRIVATE, *ids.values(), "scam-1", "post-1", "post-2", "fr-ocrv", "OCRV Paris"):
            assert secret not in response.text
            assert secret not in csv_text

    assert totals["restrictive_decisions"] == 3  # the bank's removal, the reviewer's, the order's
    assert totals["restrictions_lifted"] == 1  # the appeal
    assert (totals["notices_received"], totals["notices_decided"]) == (1, 1)
    assert (totals["orders_received"], totals["orders_executed"], totals["orders_refused"]) == (2, 1, 1)
    assert (totals["orders_answered"], totals["orders_answered_late"]) == (2, 0)
    assert (totals["appeals_filed"], totals["appeals_decided"], totals["appeals_overturned"]) == (1, 1, 1)


def test_a_rebuild_repairs_the_counters_of_a_day_and_is_audited(
    client: TestClient, store: Store, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    started = utcnow()
    _a_day_of_everything(client, store)
    day = started.date()
    with store.transaction() as session:
        right = recomputed_figures(session, day)
        # a bug's aftermath: a counter lost, another doubled, one that should not exist
        lost = session.scalars(select(DailyCounter).where(DailyCounter.day == day.isoformat()).limit(1)).one()
        session.execute(
            delete(DailyCounter).where(DailyCounter.metric == lost.metric, DailyCounter.day == lost.day)
        )
        session.execute(update(DailyCounter).values(value=DailyCounter.value * 2))
        session.add(DailyCounter(day=day.isoformat(), metric="restrictive", category="spam", value=7))
    with store.transaction() as session:
        assert figures_of_day(session, day) != right

    monkeypatch.setenv("VIGIL_DATABASE_URL", store.url)
    code, out, err = run(capsys, "report", "daily", "--date", day.isoformat(), "--rebuild", "--json")

    assert (code, err) == (0, "")
    assert json.loads(out) == right.to_json()
    with store.transaction() as session:
        assert figures_of_day(session, day) == right
        audit_store.seal_for_reading(session)  # the CLI's events, sealed as `vigil serve` would
        [audited] = session.scalars(
            select(AuditRecord).where(AuditRecord.action == "daily_figures.rebuilt")
        ).all()
        assert audited.subject_id == day.isoformat()
        assert json.loads(audited.payload)["counters_corrected"] > 0
    # read again without --rebuild, as a table: the same numbers
    code, out, _ = run(capsys, "report", "daily", "--date", day.isoformat())
    assert code == 0
    assert "restrictive decisions" in out
    assert "orders refused" in out


def test_a_rebuild_of_an_untouched_day_changes_nothing(store: Store) -> None:
    with store.transaction() as session:
        figures = rebuild(session, DAYS[0], "test", datetime(2026, 3, 20, tzinfo=UTC))
    assert figures.summary.restrictive_decisions == 0


def test_bad_dates_are_refused_with_a_code(client: TestClient) -> None:
    for bad in ("2026-02-30", "yesterday", "2026-3-1"):
        response = client.get(f"/v1/transparency/daily?date={bad}")
        assert response.status_code == 422
        assert response.json()["error"]["code"] in ("invalid_date", "validation_error")
    assert client.get("/v1/transparency/daily.csv").status_code == 422


def test_a_day_without_events_is_published_as_zeros(client: TestClient) -> None:
    response = client.get("/v1/transparency/daily?date=2020-01-01")
    assert response.status_code == 200
    assert response.json()["summary"]["restrictive_decisions"] == 0
    assert response.headers["cache-control"] == "public, max-age=60"
    csv_response = client.get("/v1/transparency/daily.csv?date=2020-01-01")
    assert csv_response.headers["content-type"].startswith("text/csv")
    assert csv_response.text.splitlines()[0].startswith("date,figure,")
    assert len(csv_response.text.splitlines()) == 1


def test_a_decision_counts_on_the_day_it_was_taken(store: Store) -> None:
    """A removal decided at 23:59:59.999999 counts on that day, the next one on the next day."""
    admin = Admin(store)
    admin.apply_policies(load_policy_paths([DEFAULT_PACK]), "test")
    admin.create_bank("kits", Category.FRAUD, "internal", 31, "test")
    admin.add_hashes("kits", [ListedHash(HashType.MD5, KIT)], "test")
    evening = datetime(2026, 3, 14, 23, 59, 59, 999999, tzinfo=UTC)
    for at, content_id in ((evening, "late"), (evening + timedelta(microseconds=1), "early")):
        item = Content(
            content_id,
            ContentKind.POST,
            Audience.PUBLIC,
            content_id,
            at,
            media=(MediaHashes("m", None, KIT, None, 9),),
        )
        [outcome] = Pipeline(store, clock=lambda at=at: at).submit([item], DecisionContext(), "platform")
        assert outcome.decision.outcome == "remove"
    for day in (date(2026, 3, 14), date(2026, 3, 15)):
        counted, recomputed = _figures(store, day)
        assert counted == recomputed
        assert counted.summary.restrictive_decisions == 1
