"""Cases: units of human review, and the vocabulary of queues and routing.

A Case is opened on a subject when a machine should not decide alone (a policy asks for review), when
a notice needs judgement, or when a user appeals a decision; further findings and reports on the
same subject join the open case instead of opening another one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from vigil.domain.taxonomy import Category


class ReviewMode(StrEnum):
    """When a human looks: ``before`` the actions are taken (they are held), or ``after`` (they are
    taken now and a reviewer confirms or reverses them)."""

    BEFORE = "before"
    AFTER = "after"


class CaseReason(StrEnum):
    """Why a case was opened."""

    REVIEW_BEFORE = "review_before"  # a policy holds its actions until a human decides
    REVIEW_AFTER = "review_after"  # a policy acted; a human confirms
    NOTICE = "notice"  # a notice that needs judgement
    APPEAL = "appeal"  # a user contests a decision (DSA Art. 20)
    QA_SAMPLE = "qa_sample"  # a sampled automated decision, for quality assurance


class CaseState(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class RoutingFacts:
    """What routing rules look at to choose a case's queue."""

    reason: CaseReason
    category: Category | None
    source: str  # the decision source: voluntary, notice, trusted_flagger, authority_order, ...
    language: str  # ISO 639-1 of the content, or ""
    country: str  # ISO 3166-1 alpha-2 of the uploader, or ""


@dataclass(frozen=True, slots=True)
class PriorityFacts:
    """What a case's priority is computed from."""

    category: Category | None
    source: str
    reason: CaseReason
    reach: int  # how many people can see the subject (views, channel subscribers)
    deadline: datetime | None  # a legal or service deadline, if the source sets one
