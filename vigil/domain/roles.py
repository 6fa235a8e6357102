"""Roles: every API key has exactly one, and each role sees only what it needs."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    PLATFORM = "platform"  # sends content, receives webhooks
    REVIEWER = "reviewer"
    SENIOR_REVIEWER = "senior_reviewer"
    LEGAL = "legal"
    ADMIN = "admin"
    AUDITOR = "auditor"
    TRUSTED_FLAGGER = "trusted_flagger"  # bound to one organisation
    AUTHORITY = "authority"  # bound to one authority


# Roles whose keys act for one outside organisation and must name it.
BOUND_ROLES = frozenset({Role.TRUSTED_FLAGGER, Role.AUTHORITY})
