"""The role table: every route of /openapi.json, with every role and with no key, admits exactly the
roles its row names; docs/api.md shows the table as the code holds it; and the table keeps its two
rules (senior staff may do what their juniors may)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.api.conftest import Api
from tests.order_fixtures import SigningAuthority
from vigil.api.access import ROUTES, TABLE_END, TABLE_START, check_routes, render_markdown, rewrite_section
from vigil.domain.roles import Role

DOCS = Path(__file__).resolve().parents[2] / "docs" / "api.md"
# the codes with which Vigil turns a caller away for who it is, not for what it asks
REFUSED_FOR_WHO = {"forbidden", "unauthenticated", "invalid_api_key"}


def _concrete(path: str) -> str:
    """A request path for an OpenAPI path: each parameter becomes a value that names nothing."""
    return re.sub(r"\{[^}]+\}", "no-such-thing", path)


def test_every_route_admits_exactly_the_roles_of_its_row_and_no_one_without_a_key(api: Api) -> None:
    paris = SigningAuthority("fr-ocrv", "FR", ["tco_removal"], "OCRV Paris")
    assert api.client.post("/v1/authorities", json=paris.registration(), headers=api.admin).status_code == 201
    flagger = {
        "id": "hotline",
        "name": "Hotline e.V.",
        "country": "de",
        "expertise": ["terrorism"],
        "coordinator": "Bundesnetzagentur",
        "contact_email": "notices@hotline.example",
    }
    assert api.client.post("/v1/trusted-flaggers", json=flagger, headers=api.admin).status_code == 201
    bound = {Role.AUTHORITY: paris.id, Role.TRUSTED_FLAGGER: "hotline"}
    keys = {role: api.as_(api.key(role, bound.get(role))) for role in Role}

    operations = [
        (method.upper(), path)
        for path, item in api.client.get("/openapi.json").json()["paths"].items()
        for method in item
    ]
    assert sorted(operations) == sorted(ROUTES), "the role table and /openapi.json name other routes"

    walked = 0
    for method, path in operations:
        access = ROUTES[(method, path)]
        url = _concrete(path)
        anonymous = api.client.request(method, url, json={})
        walked += 1
        if access.public:
            refused = anonymous.json()["error"]["code"] if anonymous.status_code >= 400 else None
            assert refused not in REFUSED_FOR_WHO, (method, path, anonymous.text)
            continue
        assert anonymous.status_code == 401, (method, path, anonymous.text)
        assert anonymous.json()["error"]["code"] == "unauthenticated"
        for role, headers in keys.items():
            answer = api.client.request(method, url, json={}, headers=headers)
            walked += 1
            code = answer.json()["error"]["code"] if answer.status_code >= 400 else None
            if role in access.roles:
                assert code not in REFUSED_FOR_WHO, (method, path, role, answer.text)
            else:
                assert (answer.status_code, code) == (403, "forbidden"), (method, path, role, answer.text)
    assert walked >= len(operations) * 2


def test_senior_staff_may_do_what_their_juniors_may() -> None:
    for (method, path), access in ROUTES.items():
        if Role.LEGAL in access.roles:
            assert Role.SENIOR_LEGAL in access.roles, (method, path)
        if Role.REVIEWER in access.roles:
            assert Role.SENIOR_REVIEWER in access.roles, (method, path)


def test_docs_api_shows_the_table_the_code_enforces() -> None:
    page = DOCS.read_text(encoding="utf-8")
    shown = page[page.index(TABLE_START) + len(TABLE_START) : page.index(TABLE_END)].strip()
    assert shown == render_markdown(), "run: .venv/bin/python -m vigil.api.access docs/api.md"
    assert rewrite_section(page) == page


def test_a_route_outside_the_table_stops_the_start() -> None:
    from fastapi import APIRouter, Depends

    from vigil.api.access import authorized

    router = APIRouter()

    @router.get("/forgotten")
    def forgotten(principal: object = Depends(authorized)) -> None:
        return None

    @router.get("/contact")
    def contact_asking_for_a_key(principal: object = Depends(authorized)) -> None:
        return None

    with pytest.raises(RuntimeError) as refused:
        check_routes(r for r in router.routes)  # type: ignore[misc]
    message = str(refused.value)
    assert "GET /v1/forgotten has no row" in message
    assert "GET /v1/contact is public in the table but asks for a key" in message
    assert "POST /v1/content is in the table but is no route" in message
