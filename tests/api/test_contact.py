"""The single points of contact (DSA Art. 11, 12, 13; TCO Art. 15): published from the contact file
at ``/contact`` and ``/v1/contact`` for anyone, escaped however hostile the file's text, and a broken
file stops Vigil from starting instead of publishing something wrong."""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from markupsafe import escape

from tests.api.cli import run
from tests.api.conftest import Api
from vigil.api.app import create_app
from vigil.config import Settings
from vigil.domain.values import ISO_LANGUAGES
from vigil.intake.contact import DEFAULT_CONTACT, LANGUAGE_NAMES, ContactConfigError, load_contact
from vigil.store.db import Store

# a platform established in France: no legal representative, orders accepted in French and English
CONTACT: dict[str, Any] = {
    "operator": {
        "name": "Plateforme Exemple",
        "legal_name": "Plateforme Exemple SAS",
        "address": "12 rue de l'Exemple\n75002 Paris\nFrance",
        "registration": "RCS Paris 123 456 789",
        "establishment_country": "FR",
    },
    "authorities": {
        "email": "autorites@example.fr",
        "phone": "+33 1 99 00 12 34",
        "orders_endpoint": "https://vigil.example.fr/v1/orders",
        "accepted_languages": ["fr", "en"],
        "registration_email": "enregistrement@example.fr",
    },
    "removal_orders": {
        "email": "tco@example.fr",
        "endpoint": "https://vigil.example.fr/v1/orders",
        "hours": "24/7",
    },
    "users": {
        "report_url": "https://plateforme.example.fr/signaler",
        "notices_endpoint": "https://vigil.example.fr/v1/notices",
        "email": "aide@example.fr",
        "languages": ["fr", "en", "de"],
        "human_contact": "Une personne de notre équipe lit et répond à chaque message.",
    },
    "legal_representative": None,
    "digital_services_coordinator": {"name": "Arcom", "url": "https://www.arcom.fr/"},
}
HOSTILE_NAME = "</script><script>alert(1)</script>"
HOSTILE_LEGAL_NAME = '"><img src=x onerror=alert(2)>'
HOSTILE_ADDRESS = "<!-- 1 rue & <b>Exemple</b>\n'; alert(3); //"
HOSTILE_URL = "https://plateforme.example.fr/signaler?a=1&b='x'"


def _with(changes: dict[str, dict[str, Any] | None]) -> dict[str, Any]:
    """CONTACT with some sections' keys replaced (a section set to None is removed)."""
    data = copy.deepcopy(CONTACT)
    for section, values in changes.items():
        if values is None:
            data[section] = None
        else:
            data[section] = {**(data[section] or {}), **values}
    return data


def _write(tmp_path: Path, data: dict[str, Any]) -> Path:
    path = tmp_path / "contact.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def _app(tmp_path: Path, contact_file: Path) -> TestClient:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'vigil.db'}",
        webhook_deliver=False,
        retro_matching=False,
        contact_file=str(contact_file),
    )
    store = Store(settings.database_url)
    store.migrate()
    # no lifespan: the public pages need no background work
    return TestClient(create_app(settings, store))


def _line(path: Path, start: str) -> int:
    """The 1-based number of the first line of ``path`` that starts with ``start``."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return 1 + next(n for n, line in enumerate(lines) if line.startswith(start))


def _json_ld(page: str) -> Any:
    found = re.findall(r'<script type="application/ld\+json">(.*?)</script>', page, re.DOTALL)
    assert len(found) == 1
    return json.loads(found[0])


def test_the_json_is_the_configuration_and_says_how_orders_are_authenticated(tmp_path: Path) -> None:
    client = _app(tmp_path, _write(tmp_path, CONTACT))

    response = client.get("/v1/contact")

    assert response.status_code == 200
    body = response.json()
    authentication = body["authorities"].pop("authentication")
    assert body == CONTACT
    assert authentication["signature_header"] == "Vigil-Signature"
    assert authentication["signature_algorithm"] == "Ed25519"
    assert "registered authorities" in authentication["description"]


def test_the_packaged_example_is_served_when_no_file_is_set(api: Api) -> None:
    example = yaml.safe_load(DEFAULT_CONTACT.read_text(encoding="utf-8"))

    body = api.client.get("/v1/contact").json()

    body["authorities"].pop("authentication")
    example["operator"]["address"] = example["operator"]["address"].strip()
    example["legal_representative"]["address"] = example["legal_representative"]["address"].strip()
    assert body == example
    assert body["operator"]["legal_name"] == "Example Social Ltd"
    assert body["legal_representative"]["country"] == "IE"  # established outside the EU: GB


def test_the_page_is_what_a_prosecutor_finds_in_one_search(tmp_path: Path) -> None:
    client = _app(tmp_path, _write(tmp_path, CONTACT))

    response = client.get("/contact")

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    page = response.text
    assert '<html lang="en">' in page
    assert "<title>Contact for authorities and users — Plateforme Exemple</title>" in page
    assert re.search(r'<meta name="description" content="[^"]*DSA Art\. 11[^"]*">', page)
    for words in ("single point of contact", "Point de contact unique", "DSA Art. 11", "TCO removal orders"):
        assert words in page
    for text in (
        "autorites@example.fr",
        "+33 1 99 00 12 34",
        "POST https://vigil.example.fr/v1/orders",
        "tco@example.fr",
        "POST https://vigil.example.fr/v1/notices",
        "aide@example.fr",
        "https://plateforme.example.fr/signaler",
        "enregistrement@example.fr",
        "Vigil-Signature",
        "24/7",
        "not solely automated",
        "RCS Paris 123 456 789",
        "Arcom",
    ):
        assert text in page
    accepted = page[page.index('<ul id="accepted-languages">') :]
    accepted = accepted[: accepted.index("</ul>")]
    assert re.findall(r"<li>(\w+)", accepted) == ["French", "English"]
    assert '<span lang="fr">français</span>' in accepted
    sections = [page.index(f'<section id="{name}"') for name in ("authorities", "removal-orders", "users")]
    assert sections == sorted(sections)  # authorities first
    assert "is established in the European Union (France (FR))" in page  # no representative needed
    assert "<script" not in page.replace('<script type="application/ld+json">', "")


def test_the_page_carries_the_contact_points_as_schema_org_json_ld(tmp_path: Path) -> None:
    representative = {
        "name": "Représentant UE SARL",
        "address": "1 quai de l'Exemple\nLuxembourg",
        "country": "LU",
        "email": "representant@example.lu",
        "phone": "+352 20 00 00 00",
    }
    data = _with({"operator": {"establishment_country": "US"}, "legal_representative": representative})
    client = _app(tmp_path, _write(tmp_path, data))

    ld = _json_ld(client.get("/contact").text)

    assert (ld["@context"], ld["@type"], ld["legalName"]) == (
        "https://schema.org",
        "Organization",
        "Plateforme Exemple SAS",
    )
    points = {point["contactType"]: point for point in ld["contactPoint"]}
    authorities = points["single point of contact for authorities (DSA Art. 11)"]
    assert authorities["email"] == "autorites@example.fr"
    assert authorities["telephone"] == "+33 1 99 00 12 34"
    assert [language["name"] for language in authorities["availableLanguage"]] == ["French", "English"]
    assert authorities["hoursAvailable"]["opens"] == "00:00"
    assert points["TCO removal orders (Regulation (EU) 2021/784, Art. 15)"]["email"] == "tco@example.fr"
    assert points["single point of contact for users (DSA Art. 12)"]["url"] == CONTACT["users"]["report_url"]
    listed = points["legal representative in the EU (DSA Art. 13)"]
    assert (listed["@type"], listed["name"], listed["addressCountry"]) == (
        "PostalAddress",
        "Représentant UE SARL",
        "LU",
    )


def test_hostile_configuration_text_stays_text_on_the_page_and_in_the_json_ld(tmp_path: Path) -> None:
    data = _with(
        {
            "operator": {"name": HOSTILE_NAME, "legal_name": HOSTILE_LEGAL_NAME, "address": HOSTILE_ADDRESS},
            "users": {"report_url": HOSTILE_URL, "human_contact": HOSTILE_NAME},
        }
    )
    client = _app(tmp_path, _write(tmp_path, data))

    page = client.get("/contact").text
    served = client.get("/v1/contact").json()

    for hostile in (HOSTILE_NAME, HOSTILE_LEGAL_NAME, "<img", "<!--", "<b>", HOSTILE_URL):
        assert hostile not in page
    assert escape(HOSTILE_NAME) in page
    assert escape(HOSTILE_LEGAL_NAME) in page
    assert f'href="{escape(HOSTILE_URL)}"' in page
    assert page.count("<script") == 1  # the JSON-LD element alone
    opening = '<script type="application/ld+json">'
    raw_ld = page[page.index(opening) + len(opening) : page.index("</script>")]
    assert not set("<>&") & set(raw_ld)
    ld = _json_ld(page)
    assert (ld["name"], ld["legalName"], ld["address"]["streetAddress"]) == (
        HOSTILE_NAME,
        HOSTILE_LEGAL_NAME,
        HOSTILE_ADDRESS,
    )
    assert served["operator"]["name"] == HOSTILE_NAME  # JSON is data: kept exactly, escaped by readers


def test_public_pages_need_no_key_and_carry_strict_security_headers(api: Api) -> None:
    for path in ("/contact", "/v1/contact"):
        assert api.client.get(path).status_code == 200  # no Authorization header

    headers = api.client.get("/contact").headers

    policy = dict(d.strip().split(" ", 1) for d in headers["content-security-policy"].split(";"))
    assert policy["default-src"] == "'none'"
    assert policy["script-src"] == "'none'"  # the JSON-LD is data: never executed, still read by crawlers
    assert policy["frame-ancestors"] == "'none'"
    assert policy["base-uri"] == "'none'"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "no-referrer"
    style = re.search(r"<style>(.*?)</style>", api.client.get("/contact").text, re.DOTALL)
    assert style is not None
    digest = base64.b64encode(hashlib.sha256(style.group(1).encode()).digest()).decode()
    assert policy["style-src"] == f"'sha256-{digest}'"  # the one inline stylesheet, by its hash


def test_the_json_is_documented_in_the_openapi_without_a_key(api: Api) -> None:
    spec = api.client.get("/openapi.json").json()

    operation = spec["paths"]["/v1/contact"]["get"]

    schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert schema == {"$ref": "#/components/schemas/PublishedContact"}
    assert "security" not in operation
    published = spec["components"]["schemas"]["PublishedContact"]
    assert set(published["required"]) >= {"operator", "authorities", "removal_orders", "users"}
    assert "/contact" not in spec["paths"]  # the page is HTML, not API


@pytest.mark.parametrize(
    ("section", "change", "expected"),
    [
        (
            "authorities",
            {"emial": "autorites@example.fr"},
            "authorities.emial: unknown key (did you mean 'email'?); expected one of email, phone, "
            "orders_endpoint, accepted_languages, registration_email",
        ),
        (
            "authorities",
            {"email": "autorites(at)example.fr"},
            "authorities.email: 'autorites(at)example.fr' is not an e-mail address (expected name@example.org)",
        ),
        (
            "authorities",
            {"accepted_languages": []},
            "authorities.accepted_languages: lists no language; orders must be accepted in at least one "
            "official language of the member state of establishment or of the legal representative "
            "(DSA Art. 11(3)): France (FR): fr (French)",
        ),
        (
            "authorities",
            {"accepted_languages": ["en", "de"]},
            "authorities.accepted_languages: lists no official language of the member state concerned",
        ),
        (
            "users",
            {"report_url": "http://plateforme.example.fr/signaler"},
            "users.report_url: 'http://plateforme.example.fr/signaler' is not an https:// URL",
        ),
        ("removal_orders", {"hours": "9-17"}, "removal_orders.hours: must be '24/7': a terrorist-content"),
        (
            "operator",
            {"establishment_country": "US"},
            "legal_representative: required: the operator is established in US, outside the EU",
        ),
    ],
)
def test_a_broken_contact_file_is_refused_when_the_app_is_built(
    tmp_path: Path, section: str, change: dict[str, Any], expected: str
) -> None:
    path = _write(tmp_path, _with({section: change}))

    with pytest.raises(ContactConfigError) as refused:
        _app(tmp_path, path)

    message = str(refused.value)
    assert message.startswith(f"contact file {path} line ")
    assert expected in message


def test_a_problem_is_located_at_its_line(tmp_path: Path) -> None:
    path = _write(tmp_path, CONTACT)
    path.write_text(path.read_text(encoding="utf-8").replace("  phone: +33", "  telephone: +33"), "utf-8")

    with pytest.raises(ContactConfigError) as refused:
        load_contact(path)

    line = _line(path, "  telephone:")
    assert f"contact file {path} line {line}: authorities.telephone: unknown key" in str(refused.value)


def test_serve_refuses_a_broken_contact_file_in_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, database: Path
) -> None:
    run(capsys, "init")
    contact = _write(database.parent, _with({"authorities": {"email": "not-an-address"}}))
    monkeypatch.setenv("VIGIL_CONTACT_FILE", str(contact))

    code, out, err = run(capsys, "serve")

    assert (code, out) == (2, "")
    assert err == (
        f"vigil: contact file {contact} line {_line(contact, '  email: not-an-address')}: authorities.email: 'not-an-address' is not an e-mail "
        "address (expected name@example.org)\n"
    )


def test_every_language_vigil_accepts_has_a_name_to_show() -> None:
    assert set(LANGUAGE_NAMES) == ISO_LANGUAGES
