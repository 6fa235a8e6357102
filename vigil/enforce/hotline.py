"""Reports to a child-protection hotline: NCMEC's CyberTipline (18 U.S.C. §2258A).

A report is queued by the decision that asks for it, in the decision's own transaction, and only
when a person took that decision (``automated_decision`` is ``not_automated``: a reviewer of the
child-safety queue, which only child-safety roles work) on child sexual abuse material. A machine's
decision never reports on its own: it opens a case, and the reviewer's verdict does. Reports are
queued whether or not a hotline is configured, so nothing is lost while it is not; they are sent
when ``VIGIL_HOTLINE_URL`` is set.

Sending follows the CyberTipline Reporting API, one step at a time, each recorded as soon as the
hotline has answered it (``vigil/store/hotline.py``):

1. ``POST /submit`` with the report XML, built from the decision, its content and the reporter file
   (``VIGIL_HOTLINE_REPORTER_FILE``), validated before it is sent and kept, so that a retry sends the
   same bytes -> the hotline's ``reportId``, recorded at once: a report once submitted is never
   submitted again, a retry resumes from that id;
2. per preserved media file of the content: ``POST /upload`` (the file, decrypted from the evidence
   vault in memory only) -> a ``fileId``, recorded at once; then ``POST /fileinfo`` with its
   ``fileDetails`` (MD5 and SHA-1, SHA-256 and PDQ, ``generativeAi`` when a provenance signal says the
   media was made by AI);
3. ``POST /finish``.

The ``reportId`` and every ``fileId`` go into the audit chain. An answer with a ``responseCode``
other than 0 is an error; XML the hotline calls invalid (4100, 4110) fails the report at once, as
sending it again cannot help; anything else (the hotline down, a timeout) is retried with backoff,
and the report is ``failed`` after the configured number of attempts.

What cannot be made exactly-once: a crash between the hotline's answer and its recording (or an
answer lost to a timeout) repeats that step; for ``/submit`` that means a second report, for
``/fileinfo`` the same description sent again.
"""

from __future__ import annotations

import hashlib
import logging
import mimetypes
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy.orm import Session

from vigil.background import PollingThread
from vigil.config import Settings
from vigil.domain.content import Audience, Content, ContentKind
from vigil.domain.decisions import Action, AutomatedDecision, Decision
from vigil.domain.ids import iso
from vigil.domain.signals import Signal, SignalKind
from vigil.domain.taxonomy import Category
from vigil.enforce.egress import EgressPolicy, PinnedTransport
from vigil.enforce.evidence import EvidenceDeletedError, EvidenceError, EvidenceVault
from vigil.enforce.outbox import RetryPolicy
from vigil.intake.contact import Email, HttpsUrl, Line, Lines, Phone
from vigil.store import content as content_store
from vigil.store import evidence as evidence_store
from vigil.store import hotline as hotline_store
from vigil.store.audit import AuditLog
from vigil.store.content import NewDecision, StoredDecision
from vigil.store.db import Store
from vigil.store.hotline import HotlineState, ReportInfo

log = logging.getLogger(__name__)

HOTLINE_ACTOR = "vigil:hotline"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
SCHEMA_LOCATION = "https://report.cybertip.org/ispws/xsd"
MAX_REPORTER_BYTES = 64 * 1024
MAX_RESPONSE_BYTES = 64 * 1024

# The CyberTipline's incident type for each category Vigil reports.
INCIDENT_TYPES: dict[Category, str] = {
    Category.CSAM: "Child Pornography (possession, manufacture, and distribution)",
}
# Signal labels that name one of the CyberTipline's report annotations.
REPORT_ANNOTATIONS: dict[str, str] = {
    "sextortion": "sextortion",
    "csam_solicitation": "csamSolicitation",
    "minor_to_minor": "minorToMinorInteraction",
    "spam": "spam",
}
FILE_ANNOTATIONS = frozenset(
    {
        "animeDrawingVirtualHentai",
        "potentialMeme",
        "viral",
        "possibleSelfProduction",
        "physicalHarm",
        "violenceGore",
        "bestiality",
        "liveStreaming",
        "infant",
        "generativeAi",
    }
)
# Responses that say the XML itself is wrong: sending it again cannot help.
PERMANENT_CODES = frozenset({4100, 4110})
ALREADY_FINISHED = 5102

# The longest text Vigil puts in each element. NCMEC's schema is the authority; these bounds are
# Vigil's own, chosen at or under it, so that a report never fails for a field that is too long.
TEXT_LIMITS: dict[str, int] = {
    "incidentType": 100,
    "incidentDateTime": 40,
    "firstName": 100,
    "lastName": 100,
    "email": 254,
    "phone": 40,
    "url": 2048,
    "legalUrl": 2048,
    "termsOfService": 4000,
    "companyTemplate": 4000,
    "chatClient": 200,
    "chatRoomName": 200,
    "espIdentifier": 200,
    "espService": 200,
    "additionalInfo": 4000,
    "reportId": 64,
    "fileId": 128,
    "originalFileHash": 128,
    "name": 100,
    "value": 400,
    "fileRelevance": 40,
    "publiclyAvailable": 5,
}
DEFAULT_TEXT_LIMIT = 1000
# The order of a report's sections in the schema's sequence.
REPORT_SECTIONS = (
    "incidentSummary",
    "internetDetails",
    "lawEnforcement",
    "reporter",
    "personOrUserReported",
    "intendedRecipient",
    "victim",
    "additionalInfo",
)
_XML_INVALID = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_MIME = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]{0,63}/[a-z0-9][a-z0-9!#$&^_.+-]{0,63}$")


# --- the reporter file -----------------------------------------------------------------------------


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Person(_Section):
    first_name: Line
    last_name: Line
    email: Email
    phone: Phone | None = None


class HotlineReporter(_Section):
    """Who reports (the CyberTipline's ``reporter`` section) and how the platform is named.

    Read from the YAML file ``VIGIL_HOTLINE_REPORTER_FILE`` names; checked when ``vigil serve`` starts.
    """

    service: Line = Field(description="the platform's service, as the hotline should name it (espService)")
    reporting_person: Person
    contact_person: Person | None = Field(default=None, description="whom law enforcement contacts")
    company_template: Lines | None = Field(
        default=None, description="standing text for every report: legal process, retention, 24-hour phone"
    )
    terms_of_service: Lines | None = Field(
        default=None, description="the terms the content broke, or their URL"
    )
    legal_url: HttpsUrl | None = None
    content_url: str | None = Field(
        default=None,
        max_length=500,
        description="the public address of a content item, with {content_id} where its id goes",
    )

    @field_validator("content_url")
    @classmethod
    def _template(cls, value: str | None) -> str | None:
        if value is not None and (not value.startswith("https://") or "{content_id}" not in value):
            raise ValueError("must be an https:// address with {content_id} where the item's id goes")
        return value


class HotlineConfigError(ValueError):
    """A reporter file (or hotline setting) that cannot be used; says where and why on one line."""


def load_reporter(path: str | Path) -> HotlineReporter:
    """The reporter file at ``path``, checked in full."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise HotlineConfigError(f"hotline reporter file {path}: cannot read: {reason}") from None
    if len(text.encode()) > MAX_REPORTER_BYTES:
        raise HotlineConfigError(f"hotline reporter file {path}: larger than {MAX_REPORTER_BYTES} bytes")
    try:
        data: Any = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        raise HotlineConfigError(f"hotline reporter file {path}{where}: not valid YAML") from None
    if not isinstance(data, dict):
        keys = ", ".join(HotlineReporter.model_fields)
        raise HotlineConfigError(f"hotline reporter file {path}: expected the keys {keys}")
    try:
        return HotlineReporter.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e.get('ctx', {}).get('error', e['msg'])}"
            for e in exc.errors()
        )
        raise HotlineConfigError(f"hotline reporter file {path}: {problems}") from None


# --- building and checking the XML -----------------------------------------------------------------


class HotlineReportInvalid(ValueError):
    """XML that would not be accepted: the problems, each naming its element."""


@dataclass(frozen=True, slots=True)
class ReportFacts:
    """What Vigil knows that goes into a report: the person's decision and the content it is about."""

    decision_id: str
    decided_at: datetime
    decision: Decision
    content: Content
    signals: tuple[Signal, ...]


@dataclass(frozen=True, slots=True)
class FileFacts:
    """What goes into one file's ``fileDetails``."""

    evidence_id: str
    media_id: str
    md5: str
    sha1: str
    sha256: str
    pdq: str | None
    publicly_available: bool
    generative_ai: bool


def xml_text(value: str, limit: int) -> str:
    """``value`` as XML can carry it: characters XML 1.0 forbids replaced, cut to ``limit``."""
    clean = _XML_INVALID.sub("\ufffd", value)
    return clean if len(clean) <= limit else clean[: limit - 1] + "…"


def _add(parent: ET.Element, tag: str, text: str | None = None, **attributes: str) -> ET.Element:
    element = ET.SubElement(parent, tag, attributes)
    if text is not None:
        element.text = xml_text(text, TEXT_LIMITS.get(tag, DEFAULT_TEXT_LIMIT))
    return element


def _document(root: ET.Element) -> str:
    ET.register_namespace("xsi", XSI)
    root.set(f"{{{XSI}}}noNamespaceSchemaLocation", SCHEMA_LOCATION)
    return ET.tostring(root, encoding="unicode", xml_declaration=True)


def _person(parent: ET.Element, tag: str, person: Person) -> None:
    element = _add(parent, tag)
    _add(element, "firstName", person.first_name)
    _add(element, "lastName", person.last_name)
    if person.phone:
        _add(element, "phone", person.phone)
    _add(element, "email", person.email)


def _annotations(signals: Iterable[Signal]) -> list[str]:
    return sorted({REPORT_ANNOTATIONS[s.label] for s in signals if s.label in REPORT_ANNOTATIONS})


def _detection(signals: Iterable[Signal]) -> str:
    found = []
    for s in signals:
        if s.kind is SignalKind.HASH_MATCH:
            found.append(f"hash match in list '{s.bank}' ({s.hash_type}, distance {s.distance})")
        elif s.category is not None:
            found.append(f"{s.detector} {s.category.value} score {s.score:.2f}")
    return "; ".join(found) or "none recorded"


def build_report(facts: ReportFacts, reporter: HotlineReporter) -> str:
    """The report XML for ``facts``: only what Vigil knows and the reporter file says."""
    decision, content = facts.decision, facts.content
    if decision.category not in INCIDENT_TYPES:
        raise HotlineReportInvalid(
            f"decision {facts.decision_id}: category {decision.category} is not reported"
        )
    root = ET.Element("report")
    summary = _add(root, "incidentSummary")
    _add(summary, "incidentType", INCIDENT_TYPES[decision.category])
    annotations = _annotations(facts.signals)
    if annotations:
        holder = _add(summary, "reportAnnotations")
        for annotation in annotations:
            _add(holder, annotation)
    _add(summary, "incidentDateTime", iso(content.created_at))

    where = f"{content.kind.value} {content.id} ({content.audience.value}) on {reporter.service}"
    details = _add(root, "internetDetails")
    chat = content.audience is not Audience.PUBLIC or content.kind is ContentKind.MESSAGE
    if chat:
        incident = _add(details, "chatImIncident")
        _add(incident, "chatClient", reporter.service)
        if content.channel_id:
            _add(incident, "chatRoomName", content.channel_id)
    else:
        incident = _add(details, "webPageIncident")
        if reporter.content_url:
            _add(incident, "url", reporter.content_url.replace("{content_id}", quote(content.id, safe="")))
    _add(incident, "additionalInfo", where)

    holder = _add(root, "reporter")
    _person(holder, "reportingPerson", reporter.reporting_person)
    if reporter.contact_person is not None:
        _person(holder, "contactPerson", reporter.contact_person)
    if reporter.company_template:
        _add(holder, "companyTemplate", reporter.company_template)
    if reporter.terms_of_service:
        _add(holder, "termsOfService", reporter.terms_of_service)
    if reporter.legal_url:
        _add(holder, "legalUrl", reporter.legal_url)

    reported = _add(root, "personOrUserReported")
    _add(reported, "espIdentifier", content.author_id)
    _add(reported, "espService", reporter.service)

    ground = decision.ground
    lines = [
        f"Decision {facts.decision_id} of {iso(facts.decided_at)}, taken by a person (not automated).",
        f"Ground: {ground.reference}. {ground.explanation}" if ground else "",
        f"Content: {where}; country {content.country or 'unknown'}; reach {content.reach}.",
        f"Detection: {_detection(facts.signals)}.",
        f"Text posted with it: {content.text}" if content.text else "",
    ]
    _add(root, "additionalInfo", "\n".join(line for line in lines if line))
    xml = _document(root)
    validate_report(xml)
    return xml


def build_file_details(report_id: str, file_id: str, facts: FileFacts) -> str:
    """The ``fileDetails`` XML of one uploaded file."""
    root = ET.Element("fileDetails")
    _add(root, "reportId", report_id)
    _add(root, "fileId", file_id)
    _add(root, "publiclyAvailable", "true" if facts.publicly_available else "false")
    _add(root, "fileRelevance", "Reported")
    if facts.generative_ai:
        _add(_add(root, "fileAnnotations"), "generativeAi")
    _add(root, "originalFileHash", facts.md5, hashType="MD5")
    _add(root, "originalFileHash", facts.sha1, hashType="SHA1")
    hashes = _add(root, "details", type="HASH")
    pairs = [("SHA256", facts.sha256), *([("PDQ", facts.pdq)] if facts.pdq else [])]
    for name, value in pairs:
        pair = _add(hashes, "nameValuePair")
        _add(pair, "name", name)
        _add(pair, "value", value)
    _add(root, "additionalInfo", f"The platform's media id: {facts.media_id}")
    xml = _document(root)
    validate_file_details(xml)
    return xml


def _parse(xml: str, root_tag: str) -> tuple[ET.Element | None, list[str]]:
    try:
        root = ET.fromstring(xml)  # noqa: S314 (XML Vigil itself just built)
    except ET.ParseError as exc:
        return None, [f"not well-formed XML: {exc}"]
    if root.tag != root_tag:
        return None, [f"the root element is <{root.tag}>, not <{root_tag}>"]
    problems = []
    for element in root.iter():
        text = element.text or ""
        limit = TEXT_LIMITS.get(element.tag, DEFAULT_TEXT_LIMIT)
        if len(text) > limit:
            problems.append(f"<{element.tag}> is {len(text)} characters; at most {limit}")
    return root, problems


def _required(root: ET.Element, paths: Iterable[str]) -> list[str]:
    return [f"<{path}> is required" for path in paths if not (root.findtext(path) or "").strip()]


def validate_report(xml: str) -> None:
    """Check a report before it is sent; raises HotlineReportInvalid naming every problem."""
    root, problems = _parse(xml, "report")
    if root is not None:
        problems += _required(
            root,
            (
                "incidentSummary/incidentType",
                "incidentSummary/incidentDateTime",
                "reporter/reportingPerson/firstName",
                "reporter/reportingPerson/lastName",
                "reporter/reportingPerson/email",
            ),
        )
        order = [REPORT_SECTIONS.index(c.tag) if c.tag in REPORT_SECTIONS else -1 for c in root]
        if -1 in order:
            problems.append(f"unknown section <{root[order.index(-1)].tag}>")
        elif order != sorted(order):
            problems.append("the sections are not in the schema's order")
        kind = root.findtext("incidentSummary/incidentType")
        if kind is not None and kind not in INCIDENT_TYPES.values():
            problems.append(f"<incidentType> {kind!r} is not a CyberTipline incident type")
        moment = root.findtext("incidentSummary/incidentDateTime")
        if moment:
            try:
                parsed = datetime.fromisoformat(moment)
            except ValueError:
                parsed = None
            if parsed is None or parsed.tzinfo is None:
                problems.append(f"<incidentDateTime> {moment!r} is not an ISO 8601 time with its zone")
        for annotation in root.iterfind("incidentSummary/reportAnnotations/*"):
            if annotation.tag not in REPORT_ANNOTATIONS.values():
                problems.append(f"<reportAnnotations> has an unknown annotation <{annotation.tag}>")
        for email in root.iter("email"):
            if not _EMAIL.match(email.text or ""):
                problems.append(f"<email> {email.text!r} is not an e-mail address")
    if problems:
        raise HotlineReportInvalid("; ".join(problems))


def validate_file_details(xml: str) -> None:
    """Check a ``fileDetails`` document before it is sent."""
    root, problems = _parse(xml, "fileDetails")
    if root is not None:
        problems += _required(root, ("reportId", "fileId"))
        for digest in root.iter("originalFileHash"):
            expected = {"MD5": 32, "SHA1": 40}.get(digest.get("hashType", ""))
            if expected is None:
                problems.append(f"<originalFileHash> has hashType {digest.get('hashType')!r}; MD5 or SHA1")
            elif not re.fullmatch(f"[0-9a-f]{{{expected}}}", digest.text or ""):
                problems.append(f"<originalFileHash> is not a {digest.get('hashType')} in hexadecimal")
        for annotation in root.iterfind("fileAnnotations/*"):
            if annotation.tag not in FILE_ANNOTATIONS:
                problems.append(f"<fileAnnotations> has an unknown annotation <{annotation.tag}>")
    if problems:
        raise HotlineReportInvalid("; ".join(problems))


# --- the API client --------------------------------------------------------------------------------


class HotlineError(Exception):
    """The hotline refused a step or could not be reached; ``permanent`` when retrying cannot help."""

    def __init__(self, message: str, code: int | None = None, permanent: bool = False) -> None:
        super().__init__(message)
        self.code = code
        self.permanent = permanent


@dataclass(frozen=True, slots=True)
class HotlineAnswer:
    code: int
    description: str
    report_id: str | None
    file_id: str | None


def parse_answer(body: bytes) -> HotlineAnswer:
    """A CyberTipline response (``<reportResponse>`` with ``responseCode`` ...); raises ValueError."""
    if len(body) > MAX_RESPONSE_BYTES:
        raise ValueError(f"a response of {len(body)} bytes is not a CyberTipline answer")
    # the configured hotline's answer, bounded above; expat refuses entity-expansion bombs, and
    # ElementTree never fetches external entities
    root = ET.fromstring(body)  # noqa: S314
    code = root.findtext(".//responseCode")
    if code is None or not code.strip().lstrip("-").isdigit():
        raise ValueError("the response has no numeric responseCode")
    return HotlineAnswer(
        int(code),
        (root.findtext(".//responseDescription") or "").strip()[:500],
        (root.findtext(".//reportId") or "").strip() or None,
        (root.findtext(".//fileId") or "").strip() or None,
    )


class HotlineClient:
    """The CyberTipline Reporting API over HTTPS with basic authentication."""

    def __init__(
        self,
        base_url: str,
        username: str,
        password: str,
        timeout_seconds: float = 60.0,
        transport: httpx.BaseTransport | None = None,
        egress: EgressPolicy | None = None,
    ) -> None:
        """Requests go only where ``egress`` allows (loopback only when not given), unless a
        ``transport`` is given instead."""
        self.base_url = base_url.rstrip("/")
        self._client = httpx.Client(
            base_url=self.base_url + "/",
            auth=httpx.BasicAuth(username, password),
            timeout=timeout_seconds,
            follow_redirects=False,
            transport=transport or PinnedTransport(egress or EgressPolicy()),
            headers={"User-Agent": "Vigil-Hotline/1"},
        )

    def _post(self, step: str, **request: Any) -> HotlineAnswer:
        try:
            response = self._client.post(step, **request)
        except httpx.HTTPError as exc:
            # the exception's own text can carry the URL; the type and the step say enough
            raise HotlineError(
                f"POST /{step}: the hotline could not be reached ({type(exc).__name__})"
            ) from None
        try:
            answer: HotlineAnswer | None = parse_answer(response.content)
        except (ValueError, ET.ParseError):
            answer = None
        if answer is None or not response.is_success:
            code = f", responseCode {answer.code} {answer.description!r}" if answer is not None else ""
            raise HotlineError(
                f"POST /{step}: HTTP {response.status_code}{code}",
                answer.code if answer is not None else None,
                permanent=answer is not None and answer.code in PERMANENT_CODES,
            )
        if answer.code != 0 and not (step == "finish" and answer.code == ALREADY_FINISHED):
            raise HotlineError(
                f"POST /{step}: responseCode {answer.code} {answer.description!r}",
                answer.code,
                permanent=answer.code in PERMANENT_CODES,
            )
        return answer

    def submit(self, report_xml: str) -> str:
        """Open a report; returns the hotline's ``reportId``."""
        answer = self._post(
            "submit", content=report_xml.encode(), headers={"Content-Type": "text/xml; charset=utf-8"}
        )
        if not answer.report_id:
            raise HotlineError("POST /submit: the answer has no reportId")
        return answer.report_id

    def upload(self, report_id: str, filename: str, data: bytes, mime_type: str) -> str:
        """Attach one file to a report; returns its ``fileId``."""
        answer = self._post("upload", data={"id": report_id}, files={"file": (filename, data, mime_type)})
        if not answer.file_id:
            raise HotlineError("POST /upload: the answer has no fileId")
        return answer.file_id

    def file_info(self, details_xml: str) -> None:
        self._post(
            "fileinfo", content=details_xml.encode(), headers={"Content-Type": "text/xml; charset=utf-8"}
        )

    def finish(self, report_id: str) -> None:
        self._post("finish", data={"id": report_id})

    def close(self) -> None:
        self._client.close()


# --- queueing, in the decision's transaction -------------------------------------------------------


def reportable(decision: Decision) -> bool:
    """Whether a decision is reported: a person's, on child abuse material, that asks for it."""
    return (
        Action.REPORT_HOTLINE in decision.actions
        and decision.automated_decision is AutomatedDecision.NOT_AUTOMATED
        and decision.category in INCIDENT_TYPES
    )


def queue_hotline_report(
    session: Session, new: NewDecision, previous: StoredDecision | None, actor: str, now: datetime
) -> None:
    """The decision hook: queue one report per content item, from the first person's decision that
    asks for it (a later decision on the same item does not report it again; one after a report that
    failed for good does)."""
    if not reportable(new.decision):
        return
    if hotline_store.live_report_of_content(session, new.content.id) is not None:
        return
    report_id = hotline_store.queue(session, new.id, new.content.id, now)
    AuditLog(session).append(
        actor=actor,
        action="hotline.queued",
        subject_type="hotline_report",
        subject_id=report_id,
        payload={"decision_id": new.id, "content_id": new.content.id},
        at=now,
    )


# --- the delivery loop -----------------------------------------------------------------------------


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
                    action="hotline.failed",
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

    def _audit(self, session: Session, report: ReportInfo, action: str, payload: dict[str, Any]) -> None:
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
                self._audit(session, report, "hotline.submitted", {"report_id": hotline_id})
            state = HotlineState.SUBMITTED
        assert hotline_id is not None
        if state is HotlineState.SUBMITTED:
            self._send_files(report, hotline_id, file_ids)
            with self.store.transaction() as session:
                hotline_store.mark_uploaded(session, report.id, self._locked())
                self._audit(
                    session, report, "hotline.files_sent", {"report_id": hotline_id, "file_ids": file_ids}
                )
            state = HotlineState.UPLOADED
        if state is HotlineState.UPLOADED:
            self.client.finish(hotline_id)
            with self.store.transaction() as session:
                hotline_store.mark_finished(session, report.id, self.clock())
                self._audit(
                    session, report, "hotline.finished", {"report_id": hotline_id, "file_ids": file_ids}
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
                    "hotline.file_uploaded",
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
