"""The delivery loop: claims due reports and takes each through the hotline's steps, recording
each step as soon as the hotline has answered it."""

from __future__ import annotations

import hashlib
import logging
import mimetypes
import re
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy.orm import Session

from vigil.background import PollingThread
from vigil.config import Settings
from vigil.domain.content import Audience, Content
from vigil.domain.events import AuditAction
from vigil.domain.ids import iso
from vigil.domain.signals import Signal, SignalKind
from vigil.enforce.egress import EgressPolicy
from vigil.enforce.evidence import EvidenceDeletedError, EvidenceError, EvidenceVault
from vigil.enforce.hotline.client import HotlineClient, HotlineError
from vigil.enforce.hotline.report_xml import (
    FileFacts,
    HotlineReportInvalid,
    ReportFacts,
    build_file_details,
    build_report,
)
from vigil.enforce.hotline.reporter import HotlineConfigError, HotlineReporter, load_reporter
from vigil.enforce.outbox import RetryPolicy
from vigil.store import content as content_store
from vigil.store import evidence as evidence_store
from vigil.store import hotline as hotline_store
from vigil.store.audit import AuditLog
from vigil.store.db import Store
from vigil.store.hotline import HotlineState, ReportInfo

log = logging.getLogger(__name__)
HOTLINE_ACTOR = "vigil:hotline"
_MIME = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]{0,63}/[a-z0-9][a-z0-9!#$&^_.+-]{0,63}$")


def _extension(mime_type: str) -> str:
    return (mimetypes.guess_extension(mime_type) or "") if _MIME.match(mime_type) else ""


class HotlineLoop:
    """Claims due reports and takes each as far as the hotline lets it; one per ``vigil serve``."""

    def __init__(
        self,
        store: Store,
        vault: EvidenceVault,
        client: HotlineClient,
        reporter: HotlineReporter,
        retry: RetryPolicy,
        clock: Callable[[], datetime],
        poll_seconds: float = 5.0,
        batch: int = 10,
        lease: timedelta = timedelta(minutes=15),
    ) -> None:
        self.store = store
        self.vault = vault
        self.client = client
        self.reporter = reporter
        self.retry = retry
        self.clock = clock
        self.batch = batch
        # renewed at every recorded step, so it only needs to outlast the slowest single step
        self.lease = lease
        self._thread = PollingThread("vigil-hotline", lambda: self.run_once() > 0, poll_seconds)

    def run_once(self) -> int:
        """Advance every report due now; returns how many were attempted.

        Unlike webhooks, each step is recorded in a transaction of its own as soon as the hotline has
        answered it: a report id or file id the hotline gave must never be lost to a later failure.
        Reports are few, so the extra transactions cost nothing that matters.
        """
        with self.store.transaction() as session:
            due = hotline_store.claim_due(session, self.clock(), self.batch, self.lease)
        for report in due:
            self._attempt(report)
        return len(due)

    def _attempt(self, report: ReportInfo) -> None:
        try:
            self._advance(report)
        except (HotlineError, HotlineReportInvalid, EvidenceError, httpx.HTTPError) as exc:
            permanent = isinstance(exc, HotlineReportInvalid | EvidenceDeletedError) or (
                isinstance(exc, HotlineError) and exc.permanent
            )
            self._failed(report, f"{type(exc).__name__}: {exc}", permanent)

    def _failed(self, report: ReportInfo, error: str, permanent: bool) -> None:
        now = self.clock()
        delay = None if permanent else self.retry.delay(report.attempts + 1)
        retry_at = None if delay is None else now + timedelta(seconds=delay)
        with self.store.transaction() as session:
            stored = hotline_store.record_failure(session, report.id, error, retry_at)
            if stored.state is HotlineState.FAILED:
                AuditLog(session).append(
                    actor=HOTLINE_ACTOR,
                    action=AuditAction.HOTLINE_FAILED,
                    subject_type="hotline_report",
                    subject_id=report.id,
                    payload={
                        "decision_id": report.decision_id,
                        "report_id": stored.report_id,
                        "file_ids": list(stored.file_ids),
                        "attempts": stored.attempts,
                        "error": error[:500],
                    },
                    at=now,
                )
        log.warning(
            "hotline report %s failed (%s); %s",
            report.id,
            error,
            "giving up" if retry_at is None else f"retrying at {iso(retry_at)}",
        )

    def _locked(self) -> datetime:
        return self.clock() + self.lease

    def _audit(
        self, session: Session, report: ReportInfo, action: AuditAction, payload: dict[str, Any]
    ) -> None:
        AuditLog(session).append(
            actor=HOTLINE_ACTOR,
            action=action,
            subject_type="hotline_report",
            subject_id=report.id,
            payload={"decision_id": report.decision_id, **payload},
            at=self.clock(),
        )

    def _advance(self, report: ReportInfo) -> None:
        state, hotline_id, file_ids = report.state, report.report_id, list(report.file_ids)
        if state is HotlineState.PENDING:
            xml = report.report_xml or self._build(report)
            hotline_id = self.client.submit(xml)
            with self.store.transaction() as session:
                if not hotline_store.mark_submitted(session, report.id, hotline_id, self._locked()):
                    log.error("hotline report %s was submitted twice (reportId %s)", report.id, hotline_id)
                    return
                self._audit(session, report, AuditAction.HOTLINE_SUBMITTED, {"report_id": hotline_id})
            state = HotlineState.SUBMITTED
        assert hotline_id is not None
        if state is HotlineState.SUBMITTED:
            self._send_files(report, hotline_id, file_ids)
            with self.store.transaction() as session:
                hotline_store.mark_uploaded(session, report.id, self._locked())
                self._audit(
                    session,
                    report,
                    AuditAction.HOTLINE_FILES_SENT,
                    {"report_id": hotline_id, "file_ids": file_ids},
                )
            state = HotlineState.UPLOADED
        if state is HotlineState.UPLOADED:
            self.client.finish(hotline_id)
            with self.store.transaction() as session:
                hotline_store.mark_finished(session, report.id, self.clock())
                self._audit(
                    session,
                    report,
                    AuditAction.HOTLINE_FINISHED,
                    {"report_id": hotline_id, "file_ids": file_ids},
                )

    def _build(self, report: ReportInfo) -> str:
        with self.store.transaction() as session:
            stored = content_store.get_decision(session, report.decision_id)
            if stored is None or stored.content_id is None:
                raise HotlineReportInvalid(f"decision {report.decision_id} has no content to report")
            [content] = content_store.load_contents(session, [stored.content_id])
            xml = build_report(
                ReportFacts(stored.id, stored.created_at, stored.decision, content, stored.signals),
                self.reporter,
            )
            hotline_store.set_xml(session, report.id, xml, self._locked())
        return xml

    def _send_files(self, report: ReportInfo, hotline_id: str, file_ids: list[str]) -> None:
        """Upload and describe the report's files not uploaded yet; ``file_ids`` grows as they go.

        A resumed report describes its last uploaded file again first: whether that description
        reached the hotline before the last attempt stopped is not known.
        """
        assert report.content_id is not None
        with self.store.transaction() as session:
            files = [
                evidence_store.info(row)
                for row in evidence_store.report_media(session, report.content_id, report.created_at)
            ]
            stored = content_store.get_decision(session, report.decision_id)
            [content] = content_store.load_contents(session, [report.content_id])
        signals = stored.signals if stored is not None else ()
        if len(file_ids) > len(files):
            raise HotlineReportInvalid(
                f"{len(file_ids)} files were sent, but only {len(files)} are preserved"
            )
        if file_ids:
            self._describe(report, hotline_id, file_ids[-1], files[len(file_ids) - 1], content, signals)
        for item in files[len(file_ids) :]:
            opened = self.vault.read_for_report(item.id, HOTLINE_ACTOR, report.id)
            mime = item.mime_type if _MIME.match(item.mime_type) else "application/octet-stream"
            file_id = self.client.upload(hotline_id, f"{item.id}{_extension(mime)}", opened.plaintext, mime)
            with self.store.transaction() as session:
                hotline_store.add_file(session, report.id, file_id, self._locked())
                self._audit(
                    session,
                    report,
                    AuditAction.HOTLINE_FILE_UPLOADED,
                    {
                        "report_id": hotline_id,
                        "file_id": file_id,
                        "evidence_id": item.id,
                        "sha256": item.sha256,
                    },
                )
            file_ids.append(file_id)
            self._describe(report, hotline_id, file_id, item, content, signals, opened.plaintext)

    def _describe(
        self,
        report: ReportInfo,
        hotline_id: str,
        file_id: str,
        item: evidence_store.EvidenceInfo,
        content: Content,
        signals: Iterable[Signal],
        plaintext: bytes | None = None,
    ) -> None:
        if plaintext is None:
            plaintext = self.vault.read_for_report(item.id, HOTLINE_ACTOR, report.id).plaintext
        media = next((m for m in content.media if m.media_id == item.media_id), None)
        ai = any(
            s.kind is SignalKind.PROVENANCE
            and s.label == "ai_generated"
            and s.media_id in ("", item.media_id)
            for s in signals
        )
        facts = FileFacts(
            evidence_id=item.id,
            media_id=item.media_id,
            md5=hashlib.md5(plaintext).hexdigest(),  # noqa: S324 (the hotline's hash type, not security)
            sha1=hashlib.sha1(plaintext).hexdigest(),  # noqa: S324
            sha256=item.sha256,
            pdq=media.pdq[0] if media is not None and media.pdq else None,
            publicly_available=content.audience is Audience.PUBLIC,
            generative_ai=ai,
        )
        self.client.file_info(build_file_details(hotline_id, file_id, facts))

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._thread.stop()
        self.client.close()


_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


def hotline_loop(
    settings: Settings, store: Store, vault: EvidenceVault, clock: Callable[[], datetime]
) -> HotlineLoop | None:
    """The delivery loop ``settings`` configure, or None when no hotline is; raises HotlineConfigError
    (at start-up, not at the first report) for a setting or reporter file that cannot work."""
    if not settings.hotline_url:
        return None
    username, password, reporter_file = (
        settings.hotline_username,
        settings.hotline_password,
        settings.hotline_reporter_file,
    )
    if not username or not password or not reporter_file:
        missing = [
            name
            for name, value in (
                ("VIGIL_HOTLINE_USERNAME", username),
                ("VIGIL_HOTLINE_PASSWORD", password),
                ("VIGIL_HOTLINE_REPORTER_FILE", reporter_file),
            )
            if not value
        ]
        raise HotlineConfigError(f"VIGIL_HOTLINE_URL is set, so {' and '.join(missing)} must be set too")
    try:
        url = httpx.URL(settings.hotline_url)
    except httpx.InvalidURL:
        raise HotlineConfigError("VIGIL_HOTLINE_URL is not a URL") from None
    # credentials travel in every request: only TLS, except to this machine (a test double)
    if url.scheme != "https" and not (url.scheme == "http" and url.host in _LOOPBACK):
        raise HotlineConfigError("VIGIL_HOTLINE_URL must be an https:// address")
    reporter = load_reporter(reporter_file)
    client = HotlineClient(
        settings.hotline_url, username, password, egress=EgressPolicy.from_settings(settings)
    )
    retry = RetryPolicy(settings.hotline_max_attempts, base_seconds=60.0, cap_seconds=3600.0)
    return HotlineLoop(store, vault, client, reporter, retry, clock, settings.hotline_poll_seconds)
