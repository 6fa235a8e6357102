"""Who may call which route: one table that the API enforces and docs/api.md renders.

Every ``/v1`` route has one row here, keyed by its method and its path as ``/openapi.json`` names
it. A route either is public (:data:`PUBLIC`: no key needed) or takes its caller from
:func:`authorized`, which admits the roles of its row and no other. ``create_app`` refuses to start
when a route has no row, a row has no route, or a route's dependency disagrees with its row, so the
code cannot drift from the table; ``tests/api/test_role_table.py`` walks every route with every
role and with no key, and checks that docs/api.md shows this table as :func:`render_markdown`
renders it.

What a row cannot say, the handlers check on the object (an authority reads only its own orders, a
reviewer works only the queues that list its role); the row's ``note`` says so in the docs.

Two rules hold across the table, and a test checks them: ``senior_legal`` may do what ``legal``
may, and ``senior_reviewer`` what ``reviewer`` may.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from fastapi import Request
from fastapi.routing import APIRoute

from vigil.api.auth import Principal, authenticate
from vigil.api.errors import ApiError
from vigil.domain.roles import Role
from vigil.enforce.evidence import EVIDENCE_LISTERS, EVIDENCE_READERS

API_PREFIX = "/v1"


@dataclass(frozen=True, slots=True)
class Access:
    """The roles that may call a route (none: public, no key), and what the handler checks besides."""

    roles: frozenset[Role]
    note: str = ""

    @property
    def public(self) -> bool:
        return not self.roles


def _roles(*groups: Iterable[Role]) -> frozenset[Role]:
    return frozenset(role for group in groups for role in group)


PUBLIC = Access(frozenset())
ADMIN = frozenset({Role.ADMIN})
PLATFORM_SIDE = frozenset({Role.PLATFORM, Role.ADMIN})
REVIEW_STAFF = frozenset({Role.REVIEWER, Role.SENIOR_REVIEWER, Role.CHILD_SAFETY_REVIEWER})
LEGAL_STAFF = frozenset({Role.LEGAL, Role.SENIOR_LEGAL})
OVERSIGHT = _roles({Role.ADMIN, Role.AUDITOR}, LEGAL_STAFF)

_CONTENT_READERS = Access(_roles(PLATFORM_SIDE, REVIEW_STAFF, OVERSIGHT))
_BANK_READERS = Access(OVERSIGHT)
_POLICY_READERS = Access(_roles(OVERSIGHT, REVIEW_STAFF))
_CASEWORK = Access(
    _roles(REVIEW_STAFF, LEGAL_STAFF, ADMIN),
    "each only on the queues that list its role ([review.md](review.md))",
)
_ORDER_READERS = Access(_roles({Role.AUTHORITY}, OVERSIGHT), "an authority: its own orders only")
_ORDER_ACTIONS = Access(
    LEGAL_STAFF, "orders held for senior review: senior_legal only ([orders.md](orders.md))"
)
_NOTICE_READERS = Access(
    _roles({Role.PLATFORM, Role.TRUSTED_FLAGGER}, REVIEW_STAFF, OVERSIGHT),
    "platform and trusted_flagger: their own; the notifier's name and e-mail only to legal staff,"
    " admin and auditor ([notices.md](notices.md))",
)
_STATEMENT_READERS = Access(_roles({Role.PLATFORM}, OVERSIGHT))

ROUTES: Mapping[tuple[str, str], Access] = {
    # content and matching
    ("POST", "/v1/content"): Access(PLATFORM_SIDE),
    ("POST", "/v1/content/batch"): Access(PLATFORM_SIDE),
    ("GET", "/v1/content/{content_id}"): _CONTENT_READERS,
    ("POST", "/v1/hashes/match"): Access(PLATFORM_SIDE),
    # evidence
    ("POST", "/v1/evidence"): Access(PLATFORM_SIDE, "media of a decision that asked to preserve evidence"),
    ("GET", "/v1/evidence"): Access(EVIDENCE_LISTERS, "metadata only"),
    ("GET", "/v1/evidence/{evidence_id}/content"): Access(
        EVIDENCE_READERS, "reviewer: evidence outside child safety only; every read audited"
    ),
    # banks
    ("POST", "/v1/banks"): Access(ADMIN),
    ("GET", "/v1/banks"): _BANK_READERS,
    ("GET", "/v1/banks/{name}"): _BANK_READERS,
    ("POST", "/v1/banks/{name}/hashes"): Access(ADMIN),
    ("POST", "/v1/banks/{name}/import"): Access(ADMIN),
    ("GET", "/v1/banks/{name}/export"): _BANK_READERS,
    ("GET", "/v1/banks/{name}/retro"): _BANK_READERS,
    ("PUT", "/v1/banks/{name}/enabled"): Access(ADMIN),
    # policies
    ("POST", "/v1/policies/validate"): Access(ADMIN),
    ("POST", "/v1/policies"): Access(ADMIN),
    ("GET", "/v1/policies"): _POLICY_READERS,
    ("GET", "/v1/policies/{policy_id}/versions"): _POLICY_READERS,
    # webhooks
    ("POST", "/v1/webhooks"): Access(PLATFORM_SIDE),
    ("GET", "/v1/webhooks"): Access(PLATFORM_SIDE),
    ("DELETE", "/v1/webhooks/{endpoint_id}"): Access(PLATFORM_SIDE),
    ("GET", "/v1/webhooks/deliveries"): Access(PLATFORM_SIDE),
    ("POST", "/v1/webhooks/deliveries/{delivery_id}/retry"): Access(PLATFORM_SIDE),
    # audit and keys
    ("GET", "/v1/audit/events"): Access(frozenset({Role.AUDITOR, Role.ADMIN})),
    ("GET", "/v1/audit/verify"): Access(frozenset({Role.AUDITOR, Role.ADMIN})),
    ("POST", "/v1/keys"): Access(ADMIN),
    ("GET", "/v1/keys"): Access(ADMIN),
    ("POST", "/v1/keys/{key_id}/rotate"): Access(ADMIN),
    ("DELETE", "/v1/keys/{key_id}"): Access(ADMIN),
    # review
    ("GET", "/v1/queues"): _CASEWORK,
    ("GET", "/v1/cases"): _CASEWORK,
    ("GET", "/v1/cases/{case_id}"): _CASEWORK,
    ("POST", "/v1/cases/{case_id}/claim"): _CASEWORK,
    ("POST", "/v1/cases/{case_id}/release"): _CASEWORK,
    ("POST", "/v1/cases/{case_id}/notes"): _CASEWORK,
    ("POST", "/v1/cases/{case_id}/escalate"): _CASEWORK,
    ("POST", "/v1/cases/{case_id}/decision"): _CASEWORK,
    ("POST", "/v1/appeals"): Access(PLATFORM_SIDE),
    ("GET", "/v1/appeals/{appeal_id}"): Access(_roles(PLATFORM_SIDE, REVIEW_STAFF, OVERSIGHT)),
    ("GET", "/v1/review/agreement"): Access(_roles({Role.SENIOR_REVIEWER}, OVERSIGHT)),
    # the outside world: contact points, authorities, orders, notices, trusted flaggers
    ("GET", "/v1/contact"): PUBLIC,
    ("POST", "/v1/authorities"): Access(ADMIN),
    ("GET", "/v1/authorities"): Access(OVERSIGHT),
    ("GET", "/v1/authorities/{authority_id}"): Access(OVERSIGHT),
    ("POST", "/v1/authorities/{authority_id}/public-key"): Access(ADMIN),
    ("POST", "/v1/authorities/{authority_id}/deactivate"): Access(ADMIN),
    ("POST", "/v1/authorities/{authority_id}/reactivate"): Access(ADMIN),
    ("POST", "/v1/orders"): Access(frozenset({Role.AUTHORITY}), "signed ([orders.md](orders.md))"),
    ("GET", "/v1/orders"): _ORDER_READERS,
    ("GET", "/v1/orders/{order_id}"): _ORDER_READERS,
    ("POST", "/v1/orders/{order_id}/execute"): _ORDER_ACTIONS,
    ("POST", "/v1/orders/{order_id}/approve"): _ORDER_ACTIONS,
    ("POST", "/v1/orders/{order_id}/refuse"): _ORDER_ACTIONS,
    ("POST", "/v1/orders/{order_id}/clarification-request"): _ORDER_ACTIONS,
    ("POST", "/v1/orders/{order_id}/clarification"): Access(
        frozenset({Role.AUTHORITY}), "signed; its own orders only"
    ),
    ("POST", "/v1/notices"): Access(frozenset({Role.PLATFORM, Role.TRUSTED_FLAGGER, Role.ADMIN})),
    ("GET", "/v1/notices"): _NOTICE_READERS,
    ("GET", "/v1/notices/{notice_id}"): _NOTICE_READERS,
    ("POST", "/v1/trusted-flaggers"): Access(ADMIN),
    ("GET", "/v1/trusted-flaggers"): Access(OVERSIGHT),
    ("GET", "/v1/trusted-flaggers/me"): Access(frozenset({Role.TRUSTED_FLAGGER})),
    ("GET", "/v1/trusted-flaggers/{flagger_id}"): Access(
        _roles({Role.TRUSTED_FLAGGER}, OVERSIGHT), "trusted_flagger: its own only"
    ),
    ("POST", "/v1/trusted-flaggers/{flagger_id}/suspend"): Access(ADMIN),
    ("POST", "/v1/trusted-flaggers/{flagger_id}/reinstate"): Access(ADMIN),
    # accountability
    ("GET", "/v1/transparency/daily"): PUBLIC,
    ("GET", "/v1/transparency/daily.csv"): PUBLIC,
    ("GET", "/v1/sor/submissions"): _STATEMENT_READERS,
    ("POST", "/v1/sor/submissions/{submission_id}/retry"): Access(ADMIN),
    ("GET", "/v1/sor/{decision_id}"): _STATEMENT_READERS,
    ("GET", "/v1/sor/{decision_id}/notice"): _STATEMENT_READERS,
}

_CONVERTER = re.compile(r"\{(\w+):\w+\}")


@lru_cache(maxsize=1024)  # asked on every request, for one of some seventy routes
def route_key(method: str, path: str) -> tuple[str, str]:
    """The table's key for ``method`` on a route's ``path`` (with or without the API prefix, and
    with Starlette's converters such as ``{content_id:path}`` written as OpenAPI writes them)."""
    path = _CONVERTER.sub(r"{\1}", path)
    if not path.startswith(API_PREFIX + "/"):
        path = API_PREFIX + path
    return method.upper(), path


def authorized(request: Request) -> Principal:
    """The caller, if its key's role is one that the route's row admits (401 without a key, 403
    for another role)."""
    route = request.scope.get("route")
    access = ROUTES.get(route_key(request.method, route.path)) if isinstance(route, APIRoute) else None
    if access is None or access.public:
        # create_app refuses to start in this case; fail closed should the table ever be bypassed
        raise ApiError(403, "forbidden", "this route admits no role")
    principal = authenticate(request)
    if principal.role not in access.roles:
        raise ApiError(
            403,
            "forbidden",
            f"role '{principal.role.value}' may not do this; allowed: "
            + ", ".join(sorted(r.value for r in access.roles)),
        )
    return principal


def _depends_on_authorized(route: APIRoute) -> bool:
    pending = list(route.dependant.dependencies)
    while pending:
        dependant = pending.pop()
        if dependant.call is authorized:
            return True
        pending.extend(dependant.dependencies)
    return False


def check_routes(routes: Iterable[APIRoute]) -> None:
    """Refuse (``RuntimeError``) routes the table does not describe, rows without a route, and routes
    whose dependency disagrees with their row (a guarded route marked public, or the reverse)."""
    problems: list[str] = []
    seen: set[tuple[str, str]] = set()
    for route in routes:
        for method in sorted(route.methods or ()):
            key = route_key(method, route.path)
            seen.add(key)
            access = ROUTES.get(key)
            guarded = _depends_on_authorized(route)
            if access is None:
                problems.append(f"{method} {key[1]} has no row in vigil/api/access.py")
            elif access.public and guarded:
                problems.append(f"{method} {key[1]} is public in the table but asks for a key")
            elif not access.public and not guarded:
                problems.append(f"{method} {key[1]} does not take its caller from authorized()")
    problems.extend(f"{m} {p} is in the table but is no route" for m, p in sorted(set(ROUTES) - seen))
    if problems:
        raise RuntimeError("the role table and the routes disagree: " + "; ".join(problems))


TABLE_START = "<!-- role-table: rendered from vigil/api/access.py; python -m vigil.api.access docs/api.md -->"
TABLE_END = "<!-- role-table: end -->"


def render_markdown() -> str:
    """The table as docs/api.md shows it: one row per route, in the table's order."""
    lines = [
        "| route | roles | besides |",
        "| --- | --- | --- |",
    ]
    for (method, path), access in ROUTES.items():
        roles = (
            "anyone, without a key"
            if access.public
            else ", ".join(r.value for r in Role if r in access.roles)  # in Role's own order
        )
        lines.append(f"| `{method} {path}` | {roles} | {access.note} |")
    return "\n".join(lines)


def rewrite_section(text: str) -> str:
    """``text`` (docs/api.md) with the part between the markers replaced by the rendered table."""
    start, end = text.index(TABLE_START), text.index(TABLE_END)
    return text[: start + len(TABLE_START)] + "\n" + render_markdown() + "\n" + text[end:]


if __name__ == "__main__":  # python -m vigil.api.access docs/api.md: render the table into the page
    page = Path(sys.argv[1])
    page.write_text(rewrite_section(page.read_text(encoding="utf-8")), encoding="utf-8")
