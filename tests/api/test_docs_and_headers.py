"""/docs shows the API without trusting a CDN with the keys pasted into it; API answers are neither
sniffed nor cached."""

from __future__ import annotations

import re

from tests.api.conftest import Api


def test_the_docs_page_pins_its_scripts_by_integrity_and_talks_to_vigil_alone(api: Api) -> None:
    page = api.client.get("/docs")

    assert page.status_code == 200
    policy = page.headers["content-security-policy"]
    assert "connect-src 'self'" in policy
    assert "default-src 'none'" in policy
    assert "unsafe-eval" not in policy
    assert "script-src 'self' https://cdn.jsdelivr.net;" in policy
    external = re.findall(r'<(?:script|link)[^>]+(?:src|href)="https://[^"]+"[^>]*>', page.text)
    assert len(external) == 2
    for tag in external:
        assert re.search(r'integrity="sha384-[A-Za-z0-9+/]{64}"', tag), tag
        assert 'crossorigin="anonymous"' in tag
        assert "@5." in tag  # one exact version, never "latest"
    assert "<script>" not in page.text  # nothing inline: the start-up script is Vigil's own file
    start = api.client.get("/docs/start.js")
    assert start.status_code == 200
    assert '"/openapi.json"' in start.text
    assert api.client.get("/redoc").status_code == 404


def test_api_answers_are_not_sniffed_or_cached_unless_public(api: Api) -> None:
    private = api.client.get("/v1/keys", headers=api.admin)
    refused = api.client.get("/v1/keys")
    public = api.client.get("/v1/contact")

    for answer in (private, refused, public):
        assert answer.headers["x-content-type-options"] == "nosniff"
    assert private.headers["cache-control"] == "no-store"
    assert refused.headers["cache-control"] == "no-store"
    assert public.headers["cache-control"].startswith("public")
