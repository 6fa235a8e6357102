"""/docs shows the API from Vigil's own files, never a CDN's, where keys are pasted; API answers are
neither sniffed nor cached."""

from __future__ import annotations

import re

from tests.api.conftest import Api


def test_the_docs_page_loads_only_vigils_own_files_and_talks_to_vigil_alone(api: Api) -> None:
    page = api.client.get("/docs")

    assert page.status_code == 200
    policy = page.headers["content-security-policy"]
    assert "default-src 'none'" in policy
    assert "script-src 'self';" in policy
    assert "connect-src 'self'" in policy
    assert "unsafe-eval" not in policy
    assert "https://" not in page.text  # nothing from elsewhere
    assert "<script>" not in page.text  # nothing inline: the start-up script is a file
    for path in re.findall(r'(?:src|href)="(/docs/[^"]+)"', page.text):
        asset = api.client.get(path)
        assert asset.status_code == 200, path
        assert len(asset.content) > 100
    assert '"/openapi.json"' in api.client.get("/docs/start.js").text
    assert api.client.get("/docs/static/redoc.standalone.js").status_code == 404  # only what /docs needs
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
