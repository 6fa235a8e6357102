"""Roles: every API key has exactly one, and each role sees only what it needs."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    PLATFORM = "platform"  # sends content, receives webhooks
    REVIEWER = "reviewer"
    SENIOR_REVIEWER = "senior_reviewer"
    # trained, supported and allowed to see child sexual abuse and grooming material; no other
    # reviewer sees that media
    CHILD_SAFETY_REVIEWER = "child_safety_reviewer"
    LEGAL = "legal"
    # legal staff who may decide the orders the safeguards hold for senior review (flagged
    # jurisdictions, orders touching journalism, political speech, protest or human-rights work)
    SENIOR_LEGAL = "senior_legal"
    ADMIN = "admin"
    AUDITOR = "auditor"
    TRUSTED_FLAGGER = "trusted_flagger"  # bound to one organisation
    AUTHORITY = "authority"  # bound to one authority


# Roles whose keys act for one outside organisation and must name it.
BOUND_ROLES = frozenset({Role.TRUSTED_FLAGGER, Role.AUTHORITY})
