"""Decisions: the verdict on a subject, and everything a statement of reasons will need."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from vigil.domain.cases import ReviewMode
from vigil.domain.content import Subject, SubjectType
from vigil.domain.jurisdictions import GLOBAL, TerritorialScope
from vigil.domain.taxonomy import Category


class Action(StrEnum):
    REMOVE = "remove"
    GEO_RESTRICT = "geo_restrict"
    AGE_RESTRICT = "age_restrict"
    LABEL = "label"
    DEMOTE = "demote"
    SUSPEND_ACCOUNT = "suspend_account"
    BAN_CHANNEL = "ban_channel"
    PRESERVE_EVIDENCE = "preserve_evidence"
    REPORT_HOTLINE = "report_hotline"
    NOTIFY_USER = "notify_user"


# Restrictions of the content's visibility, most severe first. A content item has one visibility at
# a time, so when several policies match, the most severe restriction wins and the milder ones are
# dropped (a removed post is not also demoted).
VISIBILITY_SEVERITY: tuple[Action, ...] = (
    Action.REMOVE,
    Action.GEO_RESTRICT,
    Action.AGE_RESTRICT,
    Action.DEMOTE,
    Action.LABEL,
)
# Actions on other subjects or on Vigil's side: they do not compete with each other and are unioned.
ACCOUNT_ACTIONS: frozenset[Action] = frozenset({Action.SUSPEND_ACCOUNT, Action.BAN_CHANNEL})
ANCILLARY_ACTIONS: frozenset[Action] = frozenset(
    {Action.PRESERVE_EVIDENCE, Action.REPORT_HOTLINE, Action.NOTIFY_USER}
)
# What the platform must carry out itself, so what travels in the enforcement webhook. Evidence
# preservation and hotline reports are Vigil's own duties and never leave through the webhook.
PLATFORM_ACTIONS: frozenset[Action] = frozenset(VISIBILITY_SEVERITY) | ACCOUNT_ACTIONS | {Action.NOTIFY_USER}


class GroundType(StrEnum):
    """Why content is restricted (DSA Art. 17(3)(d)-(e))."""

    ILLEGAL_CONTENT = "illegal_content"
    INCOMPATIBLE_CONTENT = "incompatible_content"  # with the platform's terms and conditions


@dataclass(frozen=True, slots=True)
class Ground:
    """The ground of a decision: the law broken (``reference``) or the terms clause, and an explanation."""

    type: GroundType
    reference: str
    explanation: str

    def to_json(self) -> dict[str, str]:
        return {"type": self.type.value, "reference": self.reference, "explanation": self.explanation}

    @classmethod
    def from_json(cls, data: dict[str, str]) -> Ground:
        return cls(GroundType(data["type"]), data["reference"], data["explanation"])


class AutomatedDecision(StrEnum):
    """How far a decision was taken by machine (the DSA database's ``automated_decision``)."""

    FULLY = "fully"
    PARTIALLY = "partially"
    NOT_AUTOMATED = "not_automated"


class Source(StrEnum):
    """What brought the content to Vigil (maps onto the DSA ``source_type``)."""

    VOLUNTARY = "voluntary"  # own-initiative detection on content the platform sent
    NOTICE = "notice"  # a user's notice (DSA Art. 16)
    TRUSTED_FLAGGER = "trusted_flagger"  # DSA Art. 22
    AUTHORITY_ORDER = "authority_order"
    REVIEWER = "reviewer"


class PolicyMode(StrEnum):
    """``enforce`` acts; ``shadow`` records what it would have done and acts on nothing."""

    ENFORCE = "enforce"
    SHADOW = "shadow"


@dataclass(frozen=True, slots=True)
class PolicyRef:
    """Which version of which policy contributed to a decision."""

    id: str
    version: int

    def __str__(self) -> str:
        return f"{self.id}@{self.version}"


@dataclass(frozen=True, slots=True)
class DecisionContext:
    """The circumstances of a decision that are not in the content itself."""

    source: Source = Source.VOLUNTARY
    # the trusted flagger or authority behind the source, named in the statement of reasons
    source_identity: str | None = None

    def to_activation(self) -> dict[str, Any]:
        """The ``context`` variable that policy conditions see."""
        return {"source": self.source.value}


@dataclass(frozen=True, slots=True)
class PolicyOutcome:
    """What one matched policy asked for, before merging with the others."""

    policy: PolicyRef
    mode: PolicyMode
    category: Category
    ground: Ground
    actions: frozenset[Action]
    territorial_scope: TerritorialScope
    review: ReviewMode | None
    strikes: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "policy": str(self.policy),
            "mode": self.mode.value,
            "category": self.category.value,
            "ground": self.ground.to_json(),
            "actions": sorted(a.value for a in self.actions),
            "territorial_scope": self.territorial_scope.to_json(),
            "review": self.review.value if self.review else None,
            "strikes": self.strikes,
        }


# the actions that name a decision's outcome, most telling first (see Decision.outcome)
OUTCOME_ACTIONS: tuple[Action, ...] = (*VISIBILITY_SEVERITY, Action.BAN_CHANNEL, Action.SUSPEND_ACCOUNT)
RESTRICTING_OUTCOMES = frozenset(a.value for a in OUTCOME_ACTIONS)


@dataclass(frozen=True, slots=True)
class Decision:
    """The verdict on a subject.

    It carries what a statement of reasons needs: category (and further categories), ground,
    territorial scope, whether detection and decision were automated, and the actions. A decision
    with no actions and no review says that nothing is to be done.

    ``actions`` are those in force. A decision whose policy asks for review ``before`` acting holds
    its restrictions back in ``held_actions`` until a reviewer decides (what Vigil does itself, such
    as preserving evidence, is not held); one that asks for review ``after`` acts at once and a
    reviewer confirms or reverses it.
    """

    subject: Subject
    actions: frozenset[Action]
    category: Category | None
    additional_categories: tuple[Category, ...]
    ground: Ground | None
    territorial_scope: TerritorialScope
    automated_detection: bool
    automated_decision: AutomatedDecision
    review: ReviewMode | None
    source: Source
    policies: tuple[PolicyRef, ...]
    shadow: tuple[PolicyOutcome, ...] = field(default_factory=tuple)
    held_actions: frozenset[Action] = frozenset()
    # what this decision counts against the author and channel (repeat infringers, DSA Art. 23)
    strikes: int = 0
    # who brought the content to the decision, when the statement of reasons may name them: the
    # trusted flagger or the authority (never a private person; DSA database ``source_identity``)
    source_identity: str | None = None

    @property
    def review_needed(self) -> bool:
        return self.review is not None

    @property
    def restricts(self) -> bool:
        return bool(self.actions & PLATFORM_ACTIONS)

    @property
    def platform_actions(self) -> frozenset[Action]:
        return self.actions & PLATFORM_ACTIONS

    @classmethod
    def no_action(
        cls, subject: Subject, source: Source, automated_detection: bool, source_identity: str | None = None
    ) -> Decision:
        return cls(
            subject=subject,
            actions=frozenset(),
            category=None,
            additional_categories=(),
            ground=None,
            territorial_scope=GLOBAL,
            automated_detection=automated_detection,
            automated_decision=AutomatedDecision.FULLY,
            review=None,
            source=source,
            policies=(),
            source_identity=source_identity,
        )

    @property
    def outcome(self) -> str:
        """A one-word summary: what happens to the content itself first, then to its account or channel,
        else ``review`` or ``no_action``."""
        for action in OUTCOME_ACTIONS:
            if action in self.actions:
                return action.value
        if self.review_needed:
            return "review"
        return "no_action"


def content_subject(content_id: str) -> Subject:
    return Subject(SubjectType.CONTENT, content_id)


def decision_to_json(decision: Decision) -> dict[str, Any]:
    """The decision as JSON-ready data: what is stored, returned by the API and sent in webhooks."""
    return {
        "subject": {"type": decision.subject.type.value, "id": decision.subject.id},
        "outcome": decision.outcome,
        "actions": sorted(a.value for a in decision.actions),
        "category": decision.category.value if decision.category else None,
        "additional_categories": [c.value for c in decision.additional_categories],
        "ground": decision.ground.to_json() if decision.ground else None,
        "territorial_scope": decision.territorial_scope.to_json(),
        "automated_detection": decision.automated_detection,
        "automated_decision": decision.automated_decision.value,
        "review_needed": decision.review_needed,
        "review": decision.review.value if decision.review else None,
        "held_actions": sorted(a.value for a in decision.held_actions),
        "strikes": decision.strikes,
        "source": decision.source.value,
        "source_identity": decision.source_identity,
        "policies": [str(p) for p in decision.policies],
        "shadow": [o.to_json() for o in decision.shadow],
    }


def _policy_ref(text: str) -> PolicyRef:
    policy_id, _, version = text.rpartition("@")
    return PolicyRef(policy_id, int(version))


def _review_mode(value: str | bool | None) -> ReviewMode | None:
    # decisions stored before review modes existed say only whether review was needed: that was
    # always review after acting
    if isinstance(value, bool):
        return ReviewMode.AFTER if value else None
    return ReviewMode(value) if value else None


def decision_from_json(data: dict[str, Any]) -> Decision:
    """Inverse of :func:`decision_to_json`."""
    return Decision(
        subject=Subject(SubjectType(data["subject"]["type"]), data["subject"]["id"]),
        actions=frozenset(Action(a) for a in data["actions"]),
        category=Category(data["category"]) if data["category"] else None,
        additional_categories=tuple(Category(c) for c in data["additional_categories"]),
        ground=Ground.from_json(data["ground"]) if data["ground"] else None,
        territorial_scope=TerritorialScope.from_json(data["territorial_scope"]),
        automated_detection=data["automated_detection"],
        automated_decision=AutomatedDecision(data["automated_decision"]),
        review=_review_mode(data.get("review", data["review_needed"])),
        held_actions=frozenset(Action(a) for a in data.get("held_actions", ())),
        strikes=int(data.get("strikes", 0)),
        source=Source(data["source"]),
        source_identity=data.get("source_identity"),
        policies=tuple(_policy_ref(p) for p in data["policies"]),
        shadow=tuple(
            PolicyOutcome(
                policy=_policy_ref(o["policy"]),
                mode=PolicyMode(o["mode"]),
                category=Category(o["category"]),
                ground=Ground.from_json(o["ground"]),
                actions=frozenset(Action(a) for a in o["actions"]),
                territorial_scope=TerritorialScope.from_json(o["territorial_scope"]),
                review=_review_mode(o["review"]),
                strikes=int(o.get("strikes", 0)),
            )
            for o in data["shadow"]
        ),
    )
