"""The pure cores of evidence and hotline reports: the key ring that seals evidence, and the
CyberTipline XML that a person's decision becomes."""

from __future__ import annotations

import base64
import hashlib
import os
import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from vigil.config import Settings
from vigil.domain.content import Audience, Content, ContentKind, MediaHashes
from vigil.domain.decisions import Action, AutomatedDecision, Decision, Ground, GroundType, PolicyRef, Source
from vigil.domain.jurisdictions import GLOBAL
from vigil.domain.roles import Role
from vigil.domain.signals import Signal, SignalKind
from vigil.domain.taxonomy import Category
from vigil.enforce.evidence import (
    EvidenceIntegrityError,
    EvidenceKeyError,
    EvidenceVault,
    KeyRing,
    Sealed,
    may_open,
)
from vigil.enforce.hotline import (
    FileFacts,
    HotlineConfigError,
    HotlineLoop,
    HotlineReporter,
    HotlineReportInvalid,
    ReportFacts,
    build_file_details,
    build_report,
    hotline_loop,
    load_reporter,
    parse_answer,
    reportable,
    validate_report,
)
from vigil.store.db import Store

KEY_A = os.urandom(32)
KEY_B = os.urandom(32)


def keys(*entries: tuple[str, bytes]) -> KeyRing:
    return KeyRing.parse(",".join(f"{key_id}:{base64.b64encode(key).decode()}" for key_id, key in entries))


# --- the key ring ----------------------------------------------------------------------------------


def test_what_the_first_key_seals_opens_with_the_ring_and_not_with_another_key() -> None:
    ring = keys(("2026-03", KEY_A), ("2025-01", KEY_B))
    sealed = ring.seal("ev_1", "media", b"the media bytes")

    assert sealed.key_id == "2026-03"
    assert b"the media bytes" not in sealed.ciphertext
    assert ring.open("ev_1", "media", sealed) == b"the media bytes"
    with pytest.raises(EvidenceIntegrityError, match="not configured"):
        keys(("2025-01", KEY_B)).open("ev_1", "media", sealed)
    impostor = keys(("2026-03", KEY_B))  # the same id, other bytes
    with pytest.raises(EvidenceIntegrityError, match="altered or belong to another row"):
        impostor.open("ev_1", "media", sealed)


def test_a_ciphertext_opens_only_for_its_own_row_kind_and_key() -> None:
    ring = keys(("k1", KEY_A), ("k2", KEY_B))
    sealed = ring.seal("ev_1", "media", b"bytes")
    tampered = bytearray(sealed.ciphertext)
    tampered[0] ^= 1

    for evidence_id, kind, candidate in (
        ("ev_2", "media", sealed),  # moved to another row
        ("ev_1", "metadata", sealed),  # relabelled
        ("ev_1", "media", Sealed("k2", sealed.nonce, sealed.ciphertext)),  # attributed to another key
        ("ev_1", "media", Sealed("k1", sealed.nonce, bytes(tampered))),
    ):
        with pytest.raises(EvidenceIntegrityError):
            ring.open(evidence_id, kind, candidate)


def test_every_seal_takes_a_fresh_nonce() -> None:
    ring = keys(("k1", KEY_A))
    nonces = {ring.seal("ev_1", "media", b"same").nonce for _ in range(50)}
    assert len(nonces) == 50
    assert all(len(n) == 12 for n in nonces)


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("k1", "key 1 is not written as 'id:base64'"),
        ("k1:" + base64.b64encode(b"x" * 16).decode(), "key 1 ('k1') is 16 bytes; it must be 32"),
        ("k1:not base64!", "key 1 ('k1') is not valid base64"),
        (
            f"k1:{base64.b64encode(KEY_A).decode()},k1:{base64.b64encode(KEY_B).decode()}",
            "'k1' is used twice",
        ),
        (f"bad id:{base64.b64encode(KEY_A).decode()}", "key 1: the id must be"),
        (f"k1:{base64.b64encode(KEY_A).decode()},", "key 2 is not written as 'id:base64'"),
    ],
)
def test_a_malformed_key_setting_is_refused_without_showing_any_key(setting: str, message: str) -> None:
    with pytest.raises(EvidenceKeyError) as refused:
        KeyRing.parse(setting)

    assert message in str(refused.value)
    assert str(refused.value).startswith("VIGIL_EVIDENCE_KEYS: ")
    for secret in (base64.b64encode(KEY_A).decode(), base64.b64encode(KEY_B).decode()):
        assert secret not in str(refused.value)


def test_no_key_setting_means_evidence_preservation_is_off_and_the_ring_never_shows_its_keys() -> None:
    assert KeyRing.from_settings(Settings(evidence_keys=None)) is None
    assert KeyRing.from_settings(Settings(evidence_keys="  ")) is None
    ring = keys(("k1", KEY_A))
    assert base64.b64encode(KEY_A).decode() not in repr(ring)
    assert repr(ring) == "KeyRing(current='k1', keys=['k1'])"


def test_child_safety_evidence_is_opened_only_by_the_roles_trained_for_it() -> None:
    trained = {Role.CHILD_SAFETY_REVIEWER, Role.SENIOR_REVIEWER, Role.LEGAL, Role.SENIOR_LEGAL}
    assert {r for r in Role if may_open(r, child_safety=True)} == trained
    assert {r for r in Role if may_open(r, child_safety=False)} == trained | {Role.REVIEWER}


# --- hotline reports -------------------------------------------------------------------------------

REPORTER = HotlineReporter.model_validate(
    {
        "service": "Example Social",
        "reporting_person": {"first_name": "Ada", "last_name": "Byron", "email": "safety@example.com"},
        "terms_of_service": "https://example.com/terms#child-safety",
        "content_url": "https://example.com/p/{content_id}",
    }
)
WHEN = datetime(2026, 3, 14, 9, 26, 53, tzinfo=UTC)


def _content(text: str = "caption", audience: Audience = Audience.PUBLIC) -> Content:
    return Content(
        id="post/1 & <2>",
        kind=ContentKind.POST,
        audience=audience,
        author_id="user-7",
        created_at=WHEN,
        channel_id="group-9",
        text=text,
        media=(MediaHashes("m1", "image/jpeg", "a" * 32, "b" * 64, 10),),
    )


def _decision(
    category: Category = Category.CSAM, automated: AutomatedDecision = AutomatedDecision.NOT_AUTOMATED
) -> Decision:
    return Decision(
        subject=_content().subject,
        actions=frozenset({Action.REMOVE, Action.PRESERVE_EVIDENCE, Action.REPORT_HOTLINE}),
        category=category,
        additional_categories=(),
        ground=Ground(GroundType.ILLEGAL_CONTENT, "Directive 2011/93/EU Art. 5", "Known material."),
        territorial_scope=GLOBAL,
        automated_detection=True,
        automated_decision=automated,
        review=None,
        source=Source.VOLUNTARY,
        policies=(PolicyRef("csam-known-media", 1),),
    )


def _facts(content: Content | None = None, signals: tuple[Signal, ...] = ()) -> ReportFacts:
    return ReportFacts("dec_1", WHEN, _decision(), content or _content(), signals)


def test_only_a_persons_decision_on_abuse_material_that_asks_for_it_is_reported() -> None:
    assert reportable(_decision())
    assert not reportable(_decision(automated=AutomatedDecision.FULLY))
    assert not reportable(_decision(automated=AutomatedDecision.PARTIALLY))
    assert not reportable(_decision(category=Category.TERRORISM))


def test_a_report_carries_what_vigil_knows_in_the_cybertipline_structure() -> None:
    sextortion = Signal("lexicon", SignalKind.CLASSIFIER, Category.NCII, 0.9, label="sextortion")
    root = ET.fromstring(build_report(_facts(signals=(sextortion,)), REPORTER))

    assert [child.tag for child in root] == [
        "incidentSummary",
        "internetDetails",
        "reporter",
        "personOrUserReported",
        "additionalInfo",
    ]
    assert root.findtext("incidentSummary/incidentType") == (
        "Child Pornography (possession, manufacture, and distribution)"
    )
    assert [a.tag for a in root.iterfind("incidentSummary/reportAnnotations/*")] == ["sextortion"]
    assert root.findtext("incidentSummary/incidentDateTime") == "2026-03-14T09:26:53.000000Z"
    # the id is escaped in the URL, and &, < and > arrive as text, not markup
    assert (
        root.findtext("internetDetails/webPageIncident/url")
        == "https://example.com/p/post%2F1%20%26%20%3C2%3E"
    )
    assert "post/1 & <2>" in (root.findtext("internetDetails/webPageIncident/additionalInfo") or "")
    assert root.findtext("reporter/reportingPerson/email") == "safety@example.com"
    assert root.findtext("reporter/termsOfService") == "https://example.com/terms#child-safety"
    assert root.findtext("personOrUserReported/espIdentifier") == "user-7"
    assert root.findtext("personOrUserReported/espService") == "Example Social"
    # nothing Vigil does not know: no names, addresses, IP captures or victims
    assert root.find("victim") is None
    assert root.find("personOrUserReported/ipCaptureEvent") is None
    assert "taken by a person (not automated)" in (root.findtext("additionalInfo") or "")


def test_a_group_message_is_reported_as_a_chat_incident() -> None:
    root = ET.fromstring(build_report(_facts(_content(audience=Audience.GROUP)), REPORTER))

    assert root.findtext("internetDetails/chatImIncident/chatClient") == "Example Social"
    assert root.findtext("internetDetails/chatImIncident/chatRoomName") == "group-9"
    assert root.find("internetDetails/webPageIncident") is None


def test_hostile_text_is_escaped_cleaned_and_bounded_never_breaking_the_xml() -> None:
    hostile = "</additionalInfo><victim>x</victim>\x01\x1b]]>" + "é" * 10_000
    root = ET.fromstring(build_report(_facts(_content(text=hostile)), REPORTER))

    info = root.findtext("additionalInfo") or ""
    assert root.find("victim") is None
    assert "</additionalInfo><victim>" in info  # as text
    assert "\x01" not in info
    assert "\ufffd" in info
    assert len(info) == 4000
    assert info.endswith("…")


def test_validation_names_what_is_missing_or_wrong() -> None:
    broken = (
        "<report><reporter><reportingPerson><firstName>A</firstName><email>nobody</email>"
        "</reportingPerson></reporter><incidentSummary><incidentType>Spam</incidentType>"
        "<incidentDateTime>yesterday</incidentDateTime></incidentSummary></report>"
    )
    with pytest.raises(HotlineReportInvalid) as refused:
        validate_report(broken)

    message = str(refused.value)
    assert "<reporter/reportingPerson/lastName> is required" in message
    assert "the sections are not in the schema's order" in message
    assert "'Spam' is not a CyberTipline incident type" in message
    assert "'yesterday' is not an ISO 8601 time" in message
    assert "'nobody' is not an e-mail address" in message
    with pytest.raises(HotlineReportInvalid, match="not well-formed"):
        validate_report("<report><incidentSummary>")


def test_file_details_carry_the_hashes_and_say_when_the_media_is_ai_generated() -> None:
    data = b"media"
    facts = FileFacts(
        evidence_id="ev_1",
        media_id="m1",
        md5=hashlib.md5(data).hexdigest(),
        sha1=hashlib.sha1(data).hexdigest(),
        sha256=hashlib.sha256(data).hexdigest(),
        pdq="f" * 64,
        publicly_available=True,
        generative_ai=True,
    )
    root = ET.fromstring(build_file_details("4564654", "b0754af7", facts))

    assert (root.tag, root.findtext("reportId"), root.findtext("fileId")) == (
        "fileDetails",
        "4564654",
        "b0754af7",
    )
    assert [a.tag for a in root.iterfind("fileAnnotations/*")] == ["generativeAi"]
    assert {h.get("hashType"): h.text for h in root.iterfind("originalFileHash")} == {
        "MD5": facts.md5,
        "SHA1": facts.sha1,
    }
    pairs = {p.findtext("name"): p.findtext("value") for p in root.iterfind("details/nameValuePair")}
    assert pairs == {"SHA256": facts.sha256, "PDQ": "f" * 64}
    assert root.findtext("publiclyAvailable") == "true"
    plain = ET.fromstring(build_file_details("1", "2", replace(facts, generative_ai=False)))
    assert plain.find("fileAnnotations") is None


def test_answers_are_read_by_their_response_code() -> None:
    ok = parse_answer(
        b"<?xml version='1.0'?><reportResponse><responseCode>0</responseCode>"
        b"<responseDescription>Success</responseDescription><reportId>4564654</reportId></reportResponse>"
    )
    refused = parse_answer(b"<reportResponse><responseCode>4100</responseCode></reportResponse>")

    assert (ok.code, ok.report_id, ok.file_id) == (0, "4564654", None)
    assert refused.code == 4100
    with pytest.raises(ValueError, match="no numeric responseCode"):
        parse_answer(b"<html>Service Unavailable</html>")


def test_the_reporter_file_is_checked_in_full(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "service: Example\nreporting_person: {first_name: Ada, email: nope}\ncontent_url: http://x/\n"
    )

    with pytest.raises(HotlineConfigError) as refused:
        load_reporter(bad)

    message = str(refused.value)
    assert message.startswith(f"hotline reporter file {bad}: ")
    assert "reporting_person.last_name: Field required" in message
    assert "reporting_person.email: 'nope' is not an e-mail address" in message
    assert "content_url: must be an https:// address with {content_id}" in message
    with pytest.raises(HotlineConfigError, match="cannot read"):
        load_reporter(tmp_path / "missing.yaml")


def test_a_hotline_is_sent_to_only_when_configured_in_full_and_over_tls(tmp_path: Path) -> None:
    reporter = tmp_path / "reporter.yaml"
    reporter.write_text(
        "service: Example Social\n"
        "reporting_person: {first_name: Ada, last_name: Byron, email: safety@example.com}\n"
    )
    store = Store(f"sqlite:///{tmp_path / 'unused.db'}")
    vault = EvidenceVault(store, None, lambda: WHEN, 365)
    full = {"hotline_username": "u", "hotline_password": "p", "hotline_reporter_file": str(reporter)}

    def loop(**settings: str | None) -> HotlineLoop | None:
        return hotline_loop(Settings(**settings), store, vault, lambda: WHEN)  # type: ignore[arg-type]

    assert loop(hotline_url=None) is None
    with pytest.raises(HotlineConfigError, match="VIGIL_HOTLINE_PASSWORD and VIGIL_HOTLINE_REPORTER_FILE"):
        loop(hotline_url="https://h.example", hotline_username="u")
    with pytest.raises(HotlineConfigError, match="must be an https:// address"):
        loop(hotline_url="http://example.org/ispws", **full)
    configured = loop(hotline_url="https://exttest.cybertip.org/ispws", **full)
    assert configured is not None
    assert configured.reporter.service == "Example Social"
    configured.client.close()
    store.dispose()
