"""Safeguards: which orders may run without a person, and which need senior legal review.

The channel a prosecutor uses to remove terrorist propaganda within the hour is the same channel a
government could use to silence a journalist. The operator says, per jurisdiction, which order types
may be executed automatically and which always go to senior legal review (``legal.yaml``), and
Vigil adds its own checks on every order:

- an order whose target is a protected account or channel (journalists, news media, human-rights
  organisations, political actors, civil society: the operator's register), or whose content reads
  as reporting, protest or political speech, or whose legal basis is an offence often used against
  speech ("foreign agent", "discrediting", "insulting the state" ...), is never auto-executed and
  waits for senior legal review;
- so is every order from a jurisdiction the operator flagged, and from any jurisdiction the
  configuration does not name;
- disclosure of user data is never automatic: it needs two approvals from legal staff.

``assess`` is pure: the order, its authority, the targeted content and the configuration in, the
assessment out.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, field_validator

from vigil.detect.text.normalise import normalise
from vigil.domain.content import Content
from vigil.domain.jurisdictions import normalise_country
from vigil.domain.orders import ORDER_RULES, OrderEffect, OrderType

DEFAULT_LEGAL_FILE = Path(__file__).with_name("legal.yaml")
MAX_LEGAL_FILE_BYTES = 512 * 1024
DEFAULT_JURISDICTION = "default"

# Disclosure of data about people needs this many distinct legal approvers.
DISCLOSURE_APPROVALS = 2


class ProtectedKind(StrEnum):
    JOURNALIST = "journalist"
    NEWS_MEDIA = "news_media"
    HUMAN_RIGHTS = "human_rights"
    POLITICAL = "political"  # candidates, parties, elected officials
    CIVIL_SOCIETY = "civil_society"


class SafeguardFlag(StrEnum):
    JURISDICTION_FLAGGED = "jurisdiction_flagged"
    JURISDICTION_REVIEW = "jurisdiction_review"  # the operator wants a senior lawyer on every order from here
    PROTECTED_TARGET = "protected_target"
    PROTECTED_SPEECH = "protected_speech"
    SPEECH_OFFENCE = "speech_offence"
    SCOPE_NARROWED = "scope_narrowed"  # asked for more territory than the law invoked reaches
    CONTENT_NOT_FOUND = "content_not_found"
    DISCLOSURE = "disclosure"


# Flags that keep an order away from automatic execution and send it to senior legal review.
SENIOR_FLAGS = frozenset(
    {
        SafeguardFlag.JURISDICTION_FLAGGED,
        SafeguardFlag.JURISDICTION_REVIEW,
        SafeguardFlag.PROTECTED_TARGET,
        SafeguardFlag.PROTECTED_SPEECH,
        SafeguardFlag.SPEECH_OFFENCE,
    }
)
# Flags that keep an order away from automatic execution only: an ordinary legal review decides.
MANUAL_FLAGS = frozenset({SafeguardFlag.CONTENT_NOT_FOUND, SafeguardFlag.DISCLOSURE})

_Phrase = Annotated[str, StringConstraints(min_length=2, max_length=100, strip_whitespace=True)]
_Id = Annotated[str, StringConstraints(min_length=1, max_length=200)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class JurisdictionRule(_Strict):
    """What the operator decided for the orders of one jurisdiction."""

    auto_execute: frozenset[OrderType] = frozenset()
    senior_review: bool = False
    flagged: bool = False
    note: str = Field(default="", max_length=1000)


class ProtectedRegister(_Strict):
    accounts: dict[_Id, ProtectedKind] = Field(default_factory=dict, max_length=100_000)
    channels: dict[_Id, ProtectedKind] = Field(default_factory=dict, max_length=100_000)


class LocationPattern(_Strict):
    """How the platform's public URLs name a content item: a regex with a ``content_id`` group."""

    pattern: str = Field(min_length=1, max_length=500)

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            compiled = re.compile(value)
        except re.error as exc:
            raise ValueError(f"not a regular expression: {exc}") from None
        if "content_id" not in compiled.groupindex:
            raise ValueError("the pattern needs a named group (?P<content_id>...)")
        return value


class LegalConfig(_Strict):
    """The operator's safeguards and content locations (``legal.yaml``)."""

    jurisdictions: dict[str, JurisdictionRule] = Field(max_length=300)
    protected: ProtectedRegister = ProtectedRegister()
    protected_speech_cues: dict[str, list[_Phrase]] = Field(default_factory=dict, max_length=200)
    speech_offence_cues: list[_Phrase] = Field(default_factory=list, max_length=1000)
    locations: list[LocationPattern] = Field(default_factory=list, max_length=50)

    @field_validator("jurisdictions")
    @classmethod
    def _countries(cls, value: dict[str, JurisdictionRule]) -> dict[str, JurisdictionRule]:
        if DEFAULT_JURISDICTION not in value:
            raise ValueError(f"name a {DEFAULT_JURISDICTION!r} jurisdiction for countries not listed")
        return {
            (key if key == DEFAULT_JURISDICTION else normalise_country(key)): rule
            for key, rule in value.items()
        }

    @cached_property
    def speech_cues(self) -> PhraseSet:
        return PhraseSet([phrase for phrases in self.protected_speech_cues.values() for phrase in phrases])

    @cached_property
    def offence_cues(self) -> PhraseSet:
        return PhraseSet(self.speech_offence_cues)

    def rule_for(self, country: str) -> JurisdictionRule:
        return self.jurisdictions.get(country, self.jurisdictions[DEFAULT_JURISDICTION])

    def content_id_of(self, url: str) -> str | None:
        """The content id a platform URL names, by the first location pattern that matches it."""
        for location in self.locations:
            found = re.fullmatch(location.pattern, url)
            if found is not None and found.group("content_id"):
                return found.group("content_id")
        return None


class LegalConfigError(ValueError):
    """A legal configuration that cannot be used, with the file and what is wrong."""


def parse_legal_config(text: str, file: str = "<input>") -> LegalConfig:
    if len(text.encode()) > MAX_LEGAL_FILE_BYTES:
        raise LegalConfigError(f"{file}: larger than {MAX_LEGAL_FILE_BYTES} bytes")
    try:
        data: Any = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise LegalConfigError(f"{file}: not YAML: {exc}") from None
    try:
        return LegalConfig.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in error['loc']) or 'top level'}: {error['msg']}"
            for error in exc.errors()
        )
        raise LegalConfigError(f"{file}: {problems}") from None


def load_legal_config(path: Path | None = None) -> LegalConfig:
    """The configuration in ``path``, or the packaged default."""
    path = path or DEFAULT_LEGAL_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise LegalConfigError(f"{path}: cannot read: {exc}") from None
    return parse_legal_config(text, str(path))


class PhraseSet:
    """Phrases matched as whole words after the text classifier's evasion-proof folding (case,
    accents, look-alike letters, invisible characters), compiled once into one pattern. A phrase
    ending in ``*`` matches as a word prefix (``extremis*``: extremism, extremist)."""

    def __init__(self, phrases: Sequence[str]) -> None:
        self.phrases: list[str] = []
        parts: list[str] = []
        for phrase in phrases:
            wanted = normalise(phrase.removesuffix("*")).folded
            if not wanted:
                continue
            end = "" if phrase.endswith("*") else r"(?!\w)"
            parts.append(rf"((?<!\w){re.escape(wanted)}{end})")
            self.phrases.append(phrase)
        self._pattern = re.compile("|".join(parts)) if parts else None

    def first_in(self, text: str) -> str | None:
        """The phrase found earliest in ``text``, or None."""
        if self._pattern is None or not text:
            return None
        found = self._pattern.search(normalise(text).folded)
        if found is None or found.lastindex is None:
            return None
        return self.phrases[found.lastindex - 1]


@dataclass(frozen=True, slots=True)
class Finding:
    flag: SafeguardFlag
    detail: str


@dataclass(frozen=True, slots=True)
class Assessment:
    """What the safeguards found and what follows from it."""

    findings: tuple[Finding, ...]
    auto_execute: bool
    senior_review: bool
    approvals_required: int

    @property
    def flags(self) -> frozenset[SafeguardFlag]:
        return frozenset(f.flag for f in self.findings)

    def to_json(self) -> dict[str, Any]:
        return {
            "findings": [{"flag": f.flag.value, "detail": f.detail} for f in self.findings],
            "auto_execute": self.auto_execute,
            "senior_review": self.senior_review,
            "approvals_required": self.approvals_required,
        }


@dataclass(frozen=True, slots=True)
class OrderFacts:
    """What the safeguards look at in an order."""

    type: OrderType
    country: str  # the issuing authority's
    legal_basis: str
    statement_of_reasons: str
    scope_requested_global: bool
    accounts: tuple[str, ...]  # accounts the order names directly (information, disclosure)
    missing_locations: tuple[str, ...]  # targets that name no content Vigil knows


def _protected_findings(
    config: LegalConfig, contents: Sequence[Content], accounts: Sequence[str]
) -> list[Finding]:
    findings: list[Finding] = []
    for account in (*accounts, *(c.author_id for c in contents)):
        kind = config.protected.accounts.get(account)
        if kind is not None:
            findings.append(
                Finding(SafeguardFlag.PROTECTED_TARGET, f"account {account} is registered as {kind.value}")
            )
    for content in contents:
        kind = config.protected.channels.get(content.channel_id or "")
        if kind is not None:
            findings.append(
                Finding(
                    SafeguardFlag.PROTECTED_TARGET,
                    f"channel {content.channel_id} is registered as {kind.value}",
                )
            )
    return findings


def _speech_findings(config: LegalConfig, contents: Sequence[Content]) -> list[Finding]:
    findings = []
    for content in contents:
        found = config.speech_cues.first_in(content.text)
        if found is not None:
            findings.append(
                Finding(
                    SafeguardFlag.PROTECTED_SPEECH,
                    f"content {content.id} reads as reporting, protest or political speech ({found!r})",
                )
            )
    return findings


def assess(
    order: OrderFacts,
    config: LegalConfig,
    contents: Sequence[Content],
) -> Assessment:
    """The safeguards' assessment of one order over the content it targets."""
    rule = config.rule_for(order.country)
    findings: list[Finding] = []
    if rule.flagged:
        findings.append(
            Finding(SafeguardFlag.JURISDICTION_FLAGGED, rule.note or f"the operator flagged {order.country}")
        )
    elif rule.senior_review or order.country not in config.jurisdictions:
        findings.append(
            Finding(
                SafeguardFlag.JURISDICTION_REVIEW,
                rule.note or f"orders from {order.country} always go to senior legal review",
            )
        )
    findings += _protected_findings(config, contents, order.accounts)
    findings += _speech_findings(config, contents)
    basis = config.offence_cues.first_in(f"{order.legal_basis}\n{order.statement_of_reasons}")
    if basis is not None:
        findings.append(
            Finding(
                SafeguardFlag.SPEECH_OFFENCE,
                f"the order invokes an offence often used against speech ({basis!r})",
            )
        )
    effect = ORDER_RULES[order.type].effect
    if (
        effect is OrderEffect.RESTRICT
        and order.scope_requested_global
        and order.type is OrderType.ACT_AGAINST_CONTENT
    ):
        findings.append(
            Finding(
                SafeguardFlag.SCOPE_NARROWED,
                f"a {order.country} authority's order reaches {order.country}; global effect only where the "
                "content also breaks the terms of service (DSA Art. 9(2)(b): no more than strictly necessary)",
            )
        )
    for location in order.missing_locations:
        findings.append(Finding(SafeguardFlag.CONTENT_NOT_FOUND, f"no content known at {location}"))
    if effect is OrderEffect.DISCLOSE:
        findings.append(
            Finding(
                SafeguardFlag.DISCLOSURE,
                f"disclosure of user data needs {DISCLOSURE_APPROVALS} legal approvals",
            )
        )
    flags = {f.flag for f in findings}
    senior = bool(flags & SENIOR_FLAGS)
    automatic = (
        order.type in rule.auto_execute
        and not senior
        and not flags & MANUAL_FLAGS
        and effect is not OrderEffect.DISCLOSE
    )
    return Assessment(
        findings=tuple(findings),
        auto_execute=automatic,
        senior_review=senior,
        approvals_required=DISCLOSURE_APPROVALS if effect is OrderEffect.DISCLOSE else 1,
    )
