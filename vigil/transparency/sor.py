"""Statements of reasons (DSA Art. 17 and 24(5)): what the affected user is told, and what the DSA
Transparency Database receives.

Every decision that restricts content or an account issues one statement, built here from the
recorded decision, its id, its time and the content it concerns (:func:`build_statement`, pure),
checked against the database's rules (``dsa_schema``) and stored in the decision's own transaction
(:func:`record_statement`, the decision hook): a restriction can never be in force without a valid
statement, nor a statement exist for a decision that was rolled back. The same stored statement is
shown to the user (:func:`render_notice`), exported (``vigil sor export``) and submitted.

One statement per restriction, not per decision: a later decision issues a new statement only when
it changes what is restricted or where (the rule the daily figures count by). A reviewer who
confirms an automated removal changes nothing the user or the public sees, so the statement in
force stays, and explains the confirming decision too. A decision that lifts every restriction
*revokes* the statement in force; one that changes the restriction *supersedes* it with its own.
The DSA database has no update: the new statement is submitted, and the old one stays there as it
was.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy.orm import Session

from vigil.domain.content import Content, MediaHashes
from vigil.domain.decisions import (
    OUTCOME_ACTIONS,
    Action,
    AutomatedDecision,
    Decision,
    GroundType,
    Source,
)
from vigil.domain.events import AuditAction
from vigil.domain.ids import new_id
from vigil.domain.jurisdictions import DSA_TERRITORIES, TerritorialScope
from vigil.domain.signals import Signal, SignalKind
from vigil.domain.taxonomy import DSA_CLASSIFICATION, Category, StatementCategory
from vigil.store import statements as statement_store
from vigil.store.audit import AuditLog
from vigil.store.content import NewDecision, StoredDecision
from vigil.store.statements import NewStatement, StatementState, SubmissionState
from vigil.transparency.dsa_schema import (
    APPLICATION_DATES,
    CONTENT_DATES,
    FIELDS,
    ILLEGAL,
    INCOMPATIBLE,
    LANGUAGES,
    LIMITS,
    validate_statement,
)
from vigil.transparency.sor_texts import DEFAULT_LANGUAGE, TEXTS

RESTRICTIONS = frozenset(OUTCOME_ACTIONS)
"""The actions that restrict: the content's visibility, the author's account, the channel. Evidence
preservation, hotline reports and notifying the user restrict nothing, and held actions (review
before acting) are not in force: none of them calls for a statement."""

VISIBILITY = {
    Action.REMOVE: "DECISION_VISIBILITY_CONTENT_REMOVED",
    Action.GEO_RESTRICT: "DECISION_VISIBILITY_CONTENT_DISABLED",
    Action.AGE_RESTRICT: "DECISION_VISIBILITY_CONTENT_AGE_RESTRICTED",
    Action.DEMOTE: "DECISION_VISIBILITY_CONTENT_DEMOTED",
    Action.LABEL: "DECISION_VISIBILITY_CONTENT_LABELLED",
}
# ``decision_account`` holds one value, the more severe first. A channel or group is an account of
# the service like a user's (it has its own name, page and audience, and the platform ends it as it
# would end an account), so a banned channel is an account terminated.
ACCOUNT = (
    (Action.BAN_CHANNEL, "DECISION_ACCOUNT_TERMINATED"),
    (Action.SUSPEND_ACCOUNT, "DECISION_ACCOUNT_SUSPENDED"),
)
SOURCE_TYPE = {
    Source.VOLUNTARY: "SOURCE_VOLUNTARY",
    Source.REVIEWER: "SOURCE_VOLUNTARY",  # a reviewer's own initiative
    Source.NOTICE: "SOURCE_ARTICLE_16",
    Source.TRUSTED_FLAGGER: "SOURCE_TRUSTED_FLAGGER",
    Source.AUTHORITY_ORDER: "SOURCE_TYPE_OTHER_NOTIFICATION",
}
# who may be named in ``source_identity``: organisations and authorities, never a private person
NAMED_SOURCES = frozenset({Source.TRUSTED_FLAGGER, Source.AUTHORITY_ORDER})
AUTOMATED_DECISION = {
    AutomatedDecision.FULLY: "AUTOMATED_DECISION_FULLY",
    AutomatedDecision.PARTIALLY: "AUTOMATED_DECISION_PARTIALLY",
    AutomatedDecision.NOT_AUTOMATED: "AUTOMATED_DECISION_NOT_AUTOMATED",
}
ILLEGAL_IN_THE_EU = frozenset({Category.CSAM, Category.GROOMING, Category.TERRORISM, Category.NCII})
"""Categories whose content is illegal in every member state by harmonised EU law (child sexual
abuse material and solicitation: Directive 2011/93/EU; terrorist content: Directive 2017/541 and
Regulation 2021/784; non-consensual intimate images: Directive 2024/1385). A terms-of-service
decision on them says ``incompatible_content_illegal: Yes``. The others (hate speech, drugs, fraud,
spam, nudity) are illegal or not depending on the item and the country, which a terms-of-service
decision does not assess: ``No``."""

AI_LABELS = frozenset({"ai_generated", "ai_edited"})
"""Provenance labels (C2PA, IPTC digital source type, generator watermark) that say a generator made
the media or part of it: synthetic media, and the ``*_DEEPFAKE`` keywords."""

_MEDIA_TYPES = (
    ("image/", "CONTENT_TYPE_IMAGE"),
    ("video/", "CONTENT_TYPE_VIDEO"),
    ("audio/", "CONTENT_TYPE_AUDIO"),
)
_MAX_FINDINGS = 20


class StatementError(ValueError):
    """A statement the DSA database would refuse was built: a bug, so the decision is rolled back
    rather than put in force without a valid statement."""

    def __init__(self, decision_id: str, errors: Mapping[str, list[str]]) -> None:
        listed = "; ".join(f"{field}: {' '.join(messages)}" for field, messages in errors.items())
        super().__init__(f"the statement of reasons of decision {decision_id} is invalid: {listed}")
        self.errors = dict(errors)


def restrictions(decision: Decision | None) -> frozenset[Action]:
    """The restrictions a decision puts in force (none for no decision)."""
    return decision.actions & RESTRICTIONS if decision is not None else frozenset()


def restrictions_changed(before: Decision | None, after: Decision) -> bool:
    """Whether ``after`` changes what is restricted, or where, compared with ``before``."""
    now, then = restrictions(after), restrictions(before)
    if not now and not then:
        return False
    return now != then or (before is not None and before.territorial_scope != after.territorial_scope)


def _fit(text: str, limit: int, fallback: str) -> str:
    """``text`` trimmed, or ``fallback`` when blank, cut to ``limit`` characters with an ellipsis."""
    text = text.strip() or fallback
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _utc_day(moment: datetime) -> date:
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC).date()


def _clamped(day: date, bounds: tuple[date, date]) -> str:
    return min(max(day, bounds[0]), bounds[1]).isoformat()


def _ai_generated(content: Content, signals: Iterable[Signal]) -> bool:
    return any(
        s.kind is SignalKind.PROVENANCE and s.label in AI_LABELS for s in (*content.media_signals, *signals)
    )


def _media_type(media: MediaHashes) -> str | None:
    mime = (media.mime_type or "").lower()
    for prefix, found in _MEDIA_TYPES:
        if mime.startswith(prefix):
            return found
    # media read back from the store has no MIME type, but its hashes say what it was
    if media.vpdq:
        return "CONTENT_TYPE_VIDEO"
    if media.pdq:
        return "CONTENT_TYPE_IMAGE"
    return None


def _content_type(content: Content, ai: bool) -> tuple[list[str], str | None]:
    found: set[str] = set()
    unknown_media = False
    if content.text.strip():
        found.add("CONTENT_TYPE_TEXT")
    for media in content.media:
        kind = _media_type(media)
        if kind is None:
            unknown_media = True
        else:
            found.add(kind)
    if content.media and ai:
        found.add("CONTENT_TYPE_SYNTHETIC_MEDIA")
    other = None
    if unknown_media or not found:
        found.add("CONTENT_TYPE_OTHER")
        other = (
            "media of a type not recorded"
            if unknown_media
            else f"{content.kind.value.replace('_', ' ')} without text or media"
        )
    order = ("CONTENT_TYPE_TEXT", "CONTENT_TYPE_IMAGE", "CONTENT_TYPE_VIDEO", "CONTENT_TYPE_AUDIO")
    ranked = [t for t in order if t in found] + sorted(found.difference(order))
    return ranked, other


def _language(content: Content, signals: Iterable[Signal]) -> str | None:
    for candidate in (content.language, *(s.language for s in signals)):
        if candidate:
            code = candidate.replace("_", "-").split("-")[0].strip().upper()
            if code in LANGUAGES:
                return code
    return None


def _keywords(category: Category, ai: bool, labels: set[str]) -> tuple[list[str], str | None]:
    """The ``KEYWORD_*`` values of a category, refined by what the signals say, and the text of
    ``KEYWORD_OTHER``. Vigil never knows a victim's gender, so no ``*_AGAINST_WOMEN`` form."""
    if category is Category.CSAM and ai:
        return ["KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL_DEEPFAKE"], None
    if category is Category.NCII and ai:
        return ["KEYWORD_NON_CONSENSUAL_MATERIAL_DEEPFAKE"], None
    if category is Category.FRAUD:
        found = [
            k
            for label, k in (("phishing", "KEYWORD_PHISHING"), ("pyramid", "KEYWORD_PYRAMID_SCHEMES"))
            if any(label in lbl for lbl in labels)
        ]
        if found:
            return found, None
        named = ", ".join(sorted(lbl.replace("_", " ") for lbl in labels))
        return ["KEYWORD_OTHER"], f"Scam ({named})" if named else "Scam"
    if category is Category.ADULT_NUDITY and "partial_nudity" in labels and "explicit_nudity" not in labels:
        return ["KEYWORD_NUDITY"], None
    return list(DSA_CLASSIFICATION[category].keywords), None


def _classification(
    decision: Decision, ai: bool, signals: Sequence[Signal]
) -> tuple[str, list[str], list[str], str | None]:
    """``category``, ``category_addition``, ``category_specification`` and its ``_other`` text."""
    categories = [c for c in (decision.category, *decision.additional_categories) if c is not None]
    if not categories:
        # a restriction without a Vigil category: an order or notice that named none
        named = decision.source in (Source.NOTICE, Source.TRUSTED_FLAGGER, Source.AUTHORITY_ORDER)
        fallback = StatementCategory.NOT_SPECIFIED_NOTICE if named else StatementCategory.OTHER_VIOLATION_TC
        return fallback.value, [], [], None
    main = DSA_CLASSIFICATION[categories[0]].category.value
    additions: list[str] = []
    keywords: list[str] = []
    other: str | None = None
    for category in dict.fromkeys(categories):
        dsa = DSA_CLASSIFICATION[category].category.value
        if dsa != main and dsa not in additions:
            additions.append(dsa)
        labels = {s.label for s in signals if s.category is category and s.label}
        found, text = _keywords(category, ai, labels)
        keywords += [k for k in found if k not in keywords]
        other = other or text
    return main, additions, keywords, other if "KEYWORD_OTHER" in keywords else None


def _finding(signal: Signal) -> str:
    if signal.kind is SignalKind.HASH_MATCH:
        how = (
            f"{signal.hash_type or 'hash'}, distance {signal.distance}"
            if signal.distance
            else (f"{signal.hash_type or 'hash'}, exact")
        )
        return f"the media matched the hash list '{signal.bank}' (version {signal.bank_version}; {how})"
    if signal.kind is SignalKind.PROVENANCE:
        return f"the media's provenance data ({signal.detector}) reads '{signal.label}'"
    if signal.kind is SignalKind.CONTEXT:
        return f"the {signal.detector} read the text as {signal.label.replace('_', ' ')}"
    about = signal.category.value if signal.category else "a finding"
    label = f" ({signal.label})" if signal.label else ""
    return f"the {signal.detector} classifier scored {signal.score:.2f} for {about}{label}"


def _measures(decision: Decision) -> list[str]:
    said = {
        Action.REMOVE: "the content was removed",
        Action.GEO_RESTRICT: "access to the content was disabled",
        Action.AGE_RESTRICT: "the content was restricted to adults",
        Action.DEMOTE: "the content was demoted",
        Action.LABEL: "the content was labelled",
        Action.SUSPEND_ACCOUNT: "the author's account was suspended",
        Action.BAN_CHANNEL: "the channel was terminated",
    }
    return [said[a] for a in OUTCOME_ACTIONS if a in decision.actions]


def decision_facts(decision: Decision, signals: Sequence[Signal]) -> str:
    """The facts and circumstances in words (Art. 17(3)(b)): what brought the content to a decision,
    what was found, which rules applied and who decided. Built from the decision alone, never from
    the content or its author: the database is public, so no personal data."""
    source = {
        Source.VOLUNTARY: "Vigil's automated checks of content the platform submitted brought it to a decision.",
        Source.REVIEWER: "A reviewer of the platform examined it on their own initiative.",
        Source.NOTICE: "A notice under Article 16 DSA reported it.",
        Source.TRUSTED_FLAGGER: "A notice of a trusted flagger (Article 22 DSA) reported it.",
        Source.AUTHORITY_ORDER: "A public authority ordered action against it.",
    }[decision.source]
    sentences = [source]
    seen: list[str] = []
    for signal in signals:
        finding = _finding(signal)
        if finding not in seen:
            seen.append(finding)
    if seen:
        listed = "; ".join(seen[:_MAX_FINDINGS])
        more = f"; and {len(seen) - _MAX_FINDINGS} further findings" if len(seen) > _MAX_FINDINGS else ""
        sentences.append(f"Automated detection found: {listed}{more}.")
    if decision.policies:
        rules = ", ".join(f"{p.id} (version {p.version})" for p in decision.policies)
        sentences.append(f"Rules applied: {rules}.")
    sentences.append(
        {
            AutomatedDecision.FULLY: "The decision was taken by automated means.",
            AutomatedDecision.PARTIALLY: "The decision was taken partly by automated means, with a person.",
            AutomatedDecision.NOT_AUTOMATED: "A person took the decision.",
        }[decision.automated_decision]
    )
    measures = _measures(decision)
    if measures:
        sentences.append("Measures: " + "; ".join(measures) + ".")
    return _fit(" ".join(sentences), LIMITS["decision_facts"], "")


def build_statement(
    decision_id: str,
    decision: Decision,
    decided_at: datetime,
    content: Content,
    signals: Sequence[Signal] = (),
) -> dict[str, Any]:
    """The statement of reasons of a restrictive decision, in the DSA database's fields (``puid`` is
    the decision's id). Raises ValueError for a decision that restricts nothing or has no ground."""
    restricted = restrictions(decision)
    if not restricted:
        raise ValueError(f"decision {decision_id} restricts nothing: it has no statement of reasons")
    if decision.ground is None:
        raise ValueError(f"decision {decision_id} restricts without a ground (DSA Art. 17(3)(d)-(e))")
    ai = _ai_generated(content, signals)
    out: dict[str, Any] = {}
    visibility = [VISIBILITY[a] for a in OUTCOME_ACTIONS if a in restricted and a in VISIBILITY]
    if visibility:
        out["decision_visibility"] = visibility
    account = next((value for action, value in ACCOUNT if action in restricted), None)
    if account is not None:
        out["decision_account"] = account
    ground = decision.ground
    if ground.type is GroundType.ILLEGAL_CONTENT:
        out["decision_ground"] = ILLEGAL
        out["illegal_content_legal_ground"] = _fit(
            ground.reference, LIMITS["illegal_content_legal_ground"], "the applicable law"
        )
        out["illegal_content_explanation"] = _fit(
            ground.explanation,
            LIMITS["illegal_content_explanation"],
            "The content is illegal under that law.",
        )
    else:
        out["decision_ground"] = INCOMPATIBLE
        out["incompatible_content_ground"] = _fit(
            ground.reference, LIMITS["incompatible_content_ground"], "the terms and conditions"
        )
        out["incompatible_content_explanation"] = _fit(
            ground.explanation,
            LIMITS["incompatible_content_explanation"],
            "The content is incompatible with the terms and conditions.",
        )
        categories = {decision.category, *decision.additional_categories}
        out["incompatible_content_illegal"] = "Yes" if categories & ILLEGAL_IN_THE_EU else "No"
    content_types, content_type_other = _content_type(content, ai)
    out["content_type"] = content_types
    if content_type_other is not None:
        out["content_type_other"] = content_type_other
    category, additions, keywords, keyword_other = _classification(decision, ai, signals)
    out["category"] = category
    if additions:
        out["category_addition"] = additions
    if keywords:
        out["category_specification"] = keywords
    if keyword_other is not None:
        out["category_specification_other"] = _fit(keyword_other, LIMITS["category_specification_other"], "")
    out["territorial_scope"] = dsa_territories(decision.territorial_scope)
    language = _language(content, signals)
    if language is not None:
        out["content_language"] = language
    out["content_date"] = _clamped(_utc_day(content.created_at), CONTENT_DATES)
    out["application_date"] = _clamped(_utc_day(decided_at), APPLICATION_DATES)
    out["decision_facts"] = decision_facts(decision, signals)
    out["source_type"] = SOURCE_TYPE[decision.source]
    if decision.source in NAMED_SOURCES and decision.source_identity and decision.source_identity.strip():
        out["source_identity"] = _fit(decision.source_identity, LIMITS["source_identity"], "")
    out["automated_detection"] = "Yes" if decision.automated_detection else "No"
    out["automated_decision"] = AUTOMATED_DECISION[decision.automated_decision]
    out["puid"] = decision_id
    return {field: out[field] for field in FIELDS if field in out}


def dsa_territories(scope: TerritorialScope) -> list[str]:
    """The part of a scope the DSA database covers (the EEA); everywhere is all of it."""
    countries = DSA_TERRITORIES if scope.countries is None else scope.countries & DSA_TERRITORIES
    return sorted(countries)


# ---- the hook -----------------------------------------------------------------------------------


def record_statement(
    session: Session, new: NewDecision, previous: StoredDecision | None, actor: str, now: datetime
) -> None:
    """The decision hook: issue the decision's statement, and retire the one it replaces.

    Nothing is read or written for a decision that neither restricts nor lifts a restriction, nor
    for one that confirms the restriction in force unchanged.
    """
    decision = new.decision
    before = previous.decision if previous is not None else None
    if not restrictions_changed(before, decision):
        return
    audit = AuditLog(session)
    statement_id: str | None = None
    issued: NewStatement | None = None
    if restrictions(decision):
        statement = build_statement(new.id, decision, now, new.content, new.signals)
        errors = validate_statement(statement)
        if errors:
            raise StatementError(new.id, errors)
        statement_id = new_id("sor")
        # DSA is EEA law: a restriction only outside the EEA is explained to the user, not published
        submission = (
            SubmissionState.PENDING if statement["territorial_scope"] else SubmissionState.NOT_APPLICABLE
        )
        issued = NewStatement(statement_id, new.id, new.content.id, decision.subject, statement, submission)
    if restrictions(before):
        action = AuditAction.STATEMENT_SUPERSEDED if statement_id else AuditAction.STATEMENT_REVOKED
        for retired in statement_store.retire(session, new.content.id, statement_id, now):
            payload = {"decision_id": new.id, "superseded_by": statement_id}
            audit.append(actor, action, "statement", retired, payload, now)
    if issued is not None:
        statement_store.add(session, issued, now)
        payload = {"decision_id": new.id, "submission": issued.submission.value}
        audit.append(actor, AuditAction.STATEMENT_ISSUED, "statement", issued.id, payload, now)


# ---- what the user reads ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Notice:
    """A statement of reasons rendered for its user: the text, and the same in structured parts."""

    language: str
    text: str
    parts: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Standing:
    """Where a statement stands now: in force, or replaced (when, and by which decision)."""

    state: StatementState
    changed_on: date | None = None
    replaced_by_decision: str | None = None


def notice_language(requested: str | None, statement: Mapping[str, Any]) -> str:
    """The language to render in: the one asked for, else the content's if Vigil speaks it, else
    English. Raises ValueError for a language asked for that Vigil does not speak."""
    if requested is not None:
        lang = requested.strip().lower()
        if lang not in TEXTS:
            raise ValueError(f"no texts in {requested!r}; available: {', '.join(TEXTS)}")
        return lang
    content_language = str(statement.get("content_language") or "").lower()
    return content_language if content_language in TEXTS else DEFAULT_LANGUAGE


def render_notice(
    statement: Mapping[str, Any],
    *,
    language: str,
    content_id: str,
    scope: TerritorialScope,
    standing: Standing,
    appeal_until: date,
) -> Notice:
    """The statement as its user reads it, with the redress open to them while it is in force.

    ``scope`` is the decision's own (a statement holds only its EEA part); ``appeal_until`` is the
    last day of the internal complaint window (Art. 20: at least six months).
    """
    t = TEXTS[language]
    measures = [t[v] for v in statement.get("decision_visibility") or ()]
    if statement.get("decision_account"):
        measures.append(t[statement["decision_account"]])
    where = (
        t["scope_global"]
        if scope.is_global
        else t["scope_countries"].format(countries=", ".join(sorted(scope.countries or ())))
    )
    illegal = statement["decision_ground"] == ILLEGAL
    reference = statement["illegal_content_legal_ground" if illegal else "incompatible_content_ground"]
    explanation = statement["illegal_content_explanation" if illegal else "incompatible_content_explanation"]
    category_names = [t[statement["category"]], *(t[c] for c in statement.get("category_addition") or ())]
    source = [t[statement["source_type"]]]
    if statement.get("source_identity"):
        source.append(t["source_identity"].format(identity=statement["source_identity"]))
    parts: dict[str, Any] = {
        "title": t["title"],
        "intro": t["intro"].format(
            date=statement["application_date"], content_id=content_id, reference=statement["puid"]
        ),
        "measures": measures,
        "scope": where,
        "ground": t[statement["decision_ground"]].format(reference=reference),
        "explanation": t["explanation"].format(explanation=explanation),
        "category": t["category"].format(category=", ".join(category_names)),
        "source": " ".join(source),
        "automation": [
            t[f"detection_{statement['automated_detection']}"],
            t[statement["automated_decision"]],
        ],
        "facts": t["facts"].format(facts=statement["decision_facts"]),
        "state": standing.state.value,
        "state_note": None,
        "redress": [],
    }
    changed = standing.changed_on.isoformat() if standing.changed_on else ""
    if standing.state is StatementState.REVOKED:
        parts["state_note"] = t["state_revoked"].format(date=changed)
    elif standing.state is StatementState.SUPERSEDED:
        parts["state_note"] = t["state_superseded"].format(
            date=changed, reference=standing.replaced_by_decision or ""
        )
    else:
        # redress is against the decision in force: a replaced one is contested through its successor
        parts["redress"] = [
            {
                "kind": "internal_complaint",
                "legal_basis": "DSA Art. 20",
                "until": appeal_until.isoformat(),
                "text": t["redress_internal"].format(until=appeal_until.isoformat()),
            },
            {
                "kind": "out_of_court_dispute_settlement",
                "legal_basis": "DSA Art. 21",
                "text": t["redress_out_of_court"],
            },
            {"kind": "court", "legal_basis": "national law", "text": t["redress_court"]},
        ]
    lines = [parts["title"], "", parts["intro"], *(f"- {m}" for m in measures), parts["scope"], ""]
    if parts["state_note"]:
        lines += [parts["state_note"], ""]
    lines += [
        parts["ground"],
        parts["explanation"],
        parts["category"],
        "",
        parts["source"],
        *parts["automation"],
    ]
    lines += ["", parts["facts"]]
    if parts["redress"]:
        lines += ["", t["redress_title"], *(f"- {r['text']}" for r in parts["redress"])]
    return Notice(language, "\n".join(lines), parts)


# ---- export ---------------------------------------------------------------------------------------


class ExportFormat(StrEnum):
    JSONL = "jsonl"  # one statement a line, exactly as the database receives it
    CSV = "csv"  # one column per field of the spec, arrays joined with commas


# What a spreadsheet reads as the start of a formula. Explanations can come from outside (an
# authority's order, a reviewer's note), and "=HYPERLINK(...)" in a cell runs when an analyst opens
# the export; such a cell is written with a leading apostrophe, which spreadsheets show as text
# (OWASP's advice for CSV injection). The JSON lines export keeps every value exactly.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        text = ",".join(map(str, value))
    elif isinstance(value, dict):
        text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    else:
        text = str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def export_lines(statements: Iterable[Mapping[str, Any]], fmt: ExportFormat) -> Iterator[str]:
    """Stored statements as the text of an export file, line by line."""
    if fmt is ExportFormat.JSONL:
        for statement in statements:
            yield json.dumps(statement, ensure_ascii=False) + "\n"
        return
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(FIELDS)
    for statement in statements:
        writer.writerow([_cell(statement.get(field)) for field in FIELDS])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()
