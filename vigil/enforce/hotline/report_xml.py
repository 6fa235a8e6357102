"""The CyberTipline's XML: a report and a file's details built from what Vigil knows, and checked
before they are sent. Pure: no I/O."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote

from vigil.domain.content import Audience, Content, ContentKind
from vigil.domain.decisions import Decision
from vigil.domain.ids import iso
from vigil.domain.signals import Signal, SignalKind
from vigil.domain.taxonomy import Category
from vigil.enforce.hotline.reporter import HotlineReporter, Person

XSI = "http://www.w3.org/2001/XMLSchema-instance"
SCHEMA_LOCATION = "https://report.cybertip.org/ispws/xsd"

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
