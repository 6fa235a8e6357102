"""Hotline reports on both engines, against a local server that behaves like the CyberTipline
Reporting API (XML answers with a responseCode; it can refuse, fail, or be down altogether)."""

from __future__ import annotations

import base64
import hashlib
import itertools
import socket
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest
import uvicorn
from sqlalchemy import select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.integration.test_evidence import Clock, Platform, ring
from tests.review_fixtures import ABUSE
from vigil.domain.audit import AuditEvent
from vigil.domain.decisions import Action, content_subject
from vigil.domain.roles import Role
from vigil.domain.signals import Signal, SignalKind
from vigil.enforce.evidence import EvidenceVault
from vigil.enforce.hotline import HotlineClient, HotlineLoop, HotlineReporter
from vigil.enforce.outbox import RetryPolicy
from vigil.review.appeals import AppealDesk
from vigil.review.cases import CaseDesk, Reviewer, Verdict
from vigil.store import audit as audit_store
from vigil.store import cases as case_store
from vigil.store import hotline as hotline_store
from vigil.store.db import Store
from vigil.store.hotline import HotlineState
from vigil.store.tables import HotlineReport

USER, PASSWORD = "example-social", "s3cret"
REPORTER = HotlineReporter.model_validate(
    {
        "service": "Example Social",
        "reporting_person": {"first_name": "Ada", "last_name": "Byron", "email": "safety@example.com"},
    }
)


def _answer(code: int, **fields: str) -> Response:
    parts = "".join(f"<{name}>{value}</{name}>" for name, value in fields.items())
    body = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><reportResponse>'
        f"<responseCode>{code}</responseCode><responseDescription>{'Success' if code == 0 else 'Error'}"
        f"</responseDescription>{parts}</reportResponse>"
    )
    return Response(body, media_type="application/xml")


@dataclass
class FakeCyberTipline:
    """Reports, files and file details as the hotline received them; ``failing`` steps answer
    HTTP 503, ``refusing`` steps answer with that responseCode."""

    reports: dict[str, ET.Element] = field(default_factory=dict)
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)  # fileId -> (reportId, bytes)
    file_details: list[ET.Element] = field(default_factory=list)
    finished: list[str] = field(default_factory=list)
    failing: set[str] = field(default_factory=set)
    refusing: dict[str, int] = field(default_factory=dict)
    ids: Iterator[int] = field(default_factory=lambda: itertools.count(4564654))

    def app(self) -> Starlette:
        async def step(request: Request) -> Response:
            name = request.url.path.rsplit("/", 1)[-1]
            expected = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
            if request.headers.get("authorization") != expected:
                return Response("unauthorised", status_code=401)
            if name in self.failing:
                return Response("Service Unavailable", status_code=503)
            if name in self.refusing:
                return _answer(self.refusing[name])
            if name in ("submit", "fileinfo"):
                document = ET.fromstring(await request.body())
                if name == "submit":
                    report_id = str(next(self.ids))
                    self.reports[report_id] = document
                    return _answer(0, reportId=report_id)
                self.file_details.append(document)
                return _answer(0, reportId=document.findtext("reportId") or "")
            form = await request.form()
            report_id = str(form["id"])
            if report_id not in self.reports:
                return _answer(4100)
            if name == "upload":
                upload = form["file"]
                assert not isinstance(upload, str)
                file_id = hashlib.md5(f"{report_id}/{len(self.files)}".encode()).hexdigest()
                self.files[file_id] = (report_id, await upload.read())
                return _answer(0, reportId=report_id, fileId=file_id)
            self.finished.append(report_id)
            return _answer(0, reportId=report_id)

        return Starlette(
            routes=[
                Route(f"/ispws/{s}", step, methods=["POST"])
                for s in ("submit", "upload", "fileinfo", "finish")
            ]
        )


class LocalServer:
    """Serves an app on 127.0.0.1 until stopped; can be started again on the same port."""

    def __init__(self, app: Starlette) -> None:
        self.app = app
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/ispws"

    def start(self) -> None:
        config = uvicorn.Config(
            self.app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="off"
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            assert time.monotonic() < deadline, "the fake hotline did not start"
            time.sleep(0.01)

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)
            self._server = self._thread = None


@pytest.fixture
def hotline() -> Iterator[tuple[FakeCyberTipline, LocalServer]]:
    fake = FakeCyberTipline()
    server = LocalServer(fake.app())
    yield fake, server
    server.stop()


AI_MADE = Signal("c2pa", SignalKind.PROVENANCE, None, 1.0, label="ai_generated", media_id="m1")


def _setup(store: Store, now: datetime, server: LocalServer) -> tuple[Platform, HotlineLoop]:
    clock = Clock(now)
    platform = Platform(store, clock, EvidenceVault(store, ring("2026-01"), clock, 365))
    client = HotlineClient(server.url, USER, PASSWORD, timeout_seconds=5)
    retry = RetryPolicy(max_attempts=4, base_seconds=60, cap_seconds=60)
    return platform, HotlineLoop(store, platform.vault, client, REPORTER, retry, clock)


def _confirm(platform: Platform, content_id: str) -> str:
    """A child-safety reviewer confirms the machine's removal, report included."""
    desk = CaseDesk(platform.pipeline, platform.clock)
    reviewer = Reviewer("key:child-safety-1", Role.CHILD_SAFETY_REVIEWER)
    with platform.store.transaction() as session:
        case = case_store.open_case_of(session, content_subject(content_id))
        assert case is not None
        assert case.queue == "child_safety"
        case_id = case.id
    desk.claim(case_id, reviewer)
    actions = frozenset(
        {Action.REMOVE, Action.PRESERVE_EVIDENCE, Action.REPORT_HOTLINE, Action.SUSPEND_ACCOUNT}
    )
    decision_id, _ = desk.decide(case_id, reviewer, Verdict(actions, "csam-known-media"))
    return decision_id


def _reports(store: Store) -> list[hotline_store.ReportInfo]:
    with store.transaction() as session:
        return hotline_store.all_reports(session)


def _events(store: Store, prefix: str) -> list[AuditEvent]:
    with store.transaction() as session:
        return [e for e in audit_store.iter_events(session) if e.action.startswith(prefix)]


def test_a_machine_decision_alone_reports_nothing(
    store: Store, now: datetime, hotline: tuple[FakeCyberTipline, LocalServer]
) -> None:
    fake, server = hotline
    server.start()
    platform, loop = _setup(store, now, server)

    outcome = platform.submit("abuse-1")

    assert Action.REPORT_HOTLINE in outcome.decision.actions  # asked for, by a machine
    assert loop.run_once() == 0
    assert _reports(store) == []
    assert fake.reports == {}


def test_a_confirmed_abuse_decision_is_reported_once_with_its_files(
    store: Store, now: datetime, hotline: tuple[FakeCyberTipline, LocalServer]
) -> None:
    fake, server = hotline
    server.start()
    platform, loop = _setup(store, now, server)
    platform.submit("abuse-1", media_signals=(AI_MADE,))

    decision_id = _confirm(platform, "abuse-1")
    assert loop.run_once() == 1
    assert loop.run_once() == 0

    [report] = _reports(store)
    assert (report.decision_id, report.state) == (decision_id, HotlineState.FINISHED)
    [(report_id, sent)] = fake.reports.items()
    assert report.report_id == report_id
    assert sent.findtext("personOrUserReported/espIdentifier") == "user-7"
    assert sent.findtext("reporter/reportingPerson/email") == "safety@example.com"
    [(file_id, (for_report, data))] = fake.files.items()
    assert (report.file_ids, for_report, data) == ((file_id,), report_id, ABUSE)
    [details] = fake.file_details
    assert (details.findtext("reportId"), details.findtext("fileId")) == (report_id, file_id)
    assert {h.get("hashType"): h.text for h in details.iterfind("originalFileHash")} == {
        "MD5": hashlib.md5(ABUSE).hexdigest(),
        "SHA1": hashlib.sha1(ABUSE).hexdigest(),
    }
    assert [a.tag for a in details.iterfind("fileAnnotations/*")] == ["generativeAi"]
    assert fake.finished == [report_id]

    steps = [
        (e.action, e.payload.get("report_id"), e.payload.get("file_id")) for e in _events(store, "hotline.")
    ]
    assert steps == [
        ("hotline.queued", None, None),
        ("hotline.submitted", report_id, None),
        ("hotline.file_uploaded", report_id, file_id),
        ("hotline.files_sent", report_id, None),
        ("hotline.finished", report_id, None),
    ]
    # the media was opened once, for the upload and its description, and that read is on the record
    reads = [e for e in _events(store, "evidence.read") if e.actor == "vigil:hotline"]
    assert [e.payload["hotline_report"] for e in reads] == [report.id]
    with store.transaction() as session:
        assert audit_store.verify(session).intact


def test_a_second_decision_on_the_same_item_does_not_report_it_again(
    store: Store, now: datetime, hotline: tuple[FakeCyberTipline, LocalServer]
) -> None:
    fake, server = hotline
    server.start()
    platform, loop = _setup(store, now, server)
    platform.submit("abuse-1")
    _confirm(platform, "abuse-1")
    loop.run_once()

    # an appeal upheld by another child-safety reviewer: a new decision, asking for a report again
    [report] = _reports(store)
    appeals = AppealDesk(platform.pipeline, platform.clock)
    appeal, _ = appeals.file(report.decision_id, "user-7", "not me", "key:platform")
    desk = CaseDesk(platform.pipeline, platform.clock)
    other = Reviewer("key:child-safety-2", Role.CHILD_SAFETY_REVIEWER)
    desk.claim(appeal.case_id, other)
    actions = frozenset({Action.REMOVE, Action.PRESERVE_EVIDENCE, Action.REPORT_HOTLINE})
    desk.decide(appeal.case_id, other, Verdict(actions, "csam-known-media"))

    assert loop.run_once() == 0
    assert len(_reports(store)) == 1
    assert len(fake.reports) == 1


def test_a_report_survives_the_hotline_being_down_and_is_never_submitted_twice(
    store: Store, now: datetime, hotline: tuple[FakeCyberTipline, LocalServer]
) -> None:
    fake, server = hotline
    platform, loop = _setup(store, now, server)
    platform.submit("abuse-1")
    _confirm(platform, "abuse-1")

    # the hotline is down: nothing listens
    assert loop.run_once() == 1
    [report] = _reports(store)
    assert (report.state, report.attempts, report.report_id) == (HotlineState.PENDING, 1, None)
    assert "could not be reached (ConnectError)" in report.last_error
    assert loop.run_once() == 0  # not due before its backoff

    # it comes back, but fails every upload: the report id it gave is kept
    server.start()
    fake.failing = {"upload"}
    platform.clock.advance(timedelta(minutes=2))
    assert loop.run_once() == 1
    [report] = _reports(store)
    assert (report.state, report.attempts, report.file_ids) == (HotlineState.SUBMITTED, 2, ())
    assert report.report_id in fake.reports
    assert "POST /upload: HTTP 503" in report.last_error

    # it works again: the report resumes from its id, and is finished
    fake.failing = set()
    platform.clock.advance(timedelta(minutes=2))
    assert loop.run_once() == 1
    [report] = _reports(store)
    assert report.state is HotlineState.FINISHED
    assert list(fake.reports) == [report.report_id]  # one report, submitted once
    assert len(fake.files) == 1
    assert fake.finished == [report.report_id]
    assert [e.payload["report_id"] for e in _events(store, "hotline.submitted")] == [report.report_id]


def test_a_report_the_hotline_calls_invalid_fails_at_once_and_one_that_keeps_failing_fails_in_the_end(
    store: Store, now: datetime, hotline: tuple[FakeCyberTipline, LocalServer]
) -> None:
    fake, server = hotline
    server.start()
    platform, loop = _setup(store, now, server)
    platform.submit("abuse-1")
    platform.submit("abuse-2")
    _confirm(platform, "abuse-1")

    fake.refusing = {"submit": 4100}
    loop.run_once()
    [refused] = _reports(store)
    assert (refused.state, refused.attempts) == (HotlineState.FAILED, 1)
    assert "responseCode 4100" in refused.last_error

    fake.refusing, fake.failing = {}, {"submit"}
    _confirm(platform, "abuse-2")
    for _ in range(4):
        platform.clock.advance(timedelta(minutes=2))
        loop.run_once()
    with store.transaction() as session:
        failed = session.scalars(select(HotlineReport).where(HotlineReport.state == "failed")).all()
    assert len(failed) == 2
    assert [e.payload["attempts"] for e in _events(store, "hotline.failed")] == [1, 4]
    assert fake.reports == {}
