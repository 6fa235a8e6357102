"""``/docs``: the OpenAPI description in Swagger UI, served by Vigil itself.

People paste API keys into this page ("Authorize"), so every script on it can read them. FastAPI's
own page loads whatever version of Swagger UI a CDN serves today, and shows a blank page where there
is no internet. This one serves Swagger UI's files from an installed package (``fastapi-offline``,
which ships them; Vigil uses its files, not its code), under a Content-Security-Policy that allows
Vigil's own scripts only and lets the page talk to Vigil alone. The page's start-up script is a
file too: nothing inline.
"""

from __future__ import annotations

from importlib.resources import files

from fastapi import FastAPI
from fastapi.responses import HTMLResponse, Response

POLICY = (
    "default-src 'none'; "
    "script-src 'self'; "
    # Swagger UI sets style attributes as it renders
    "style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; "
    "connect-src 'self'; "
    "form-action 'none'; frame-ancestors 'none'; base-uri 'none'"
)
_HEADERS = {
    "Content-Security-Policy": POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
# the files the page needs, and their media types
_ASSETS = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui.css": "text/css",
}

_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Vigil API</title>
<link rel="stylesheet" href="/docs/static/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/static/swagger-ui-bundle.js"></script>
<script src="/docs/start.js"></script>
</body>
</html>
"""

_START = """window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  presets: [SwaggerUIBundle.presets.apis],
  layout: "BaseLayout",
});
"""


def _asset(name: str) -> bytes:
    return (files("fastapi_offline") / "static" / name).read_bytes()


def mount_docs_page(app: FastAPI) -> None:
    """Serve ``/docs``, its start-up script and Swagger UI's files (build the app with
    ``docs_url=None``). The files are read once, here: a missing package stops the start."""
    assets = {name: (_asset(name), media_type) for name, media_type in _ASSETS.items()}

    @app.get("/docs", include_in_schema=False)
    def docs_page() -> HTMLResponse:
        return HTMLResponse(_PAGE, headers={**_HEADERS, "Cache-Control": "no-store"})

    @app.get("/docs/start.js", include_in_schema=False)
    def docs_start() -> Response:
        return Response(_START, media_type="text/javascript", headers=_HEADERS)

    @app.get("/docs/static/{name}", include_in_schema=False)
    def docs_asset(name: str) -> Response:
        found = assets.get(name)
        if found is None:
            return Response(status_code=404)
        body, media_type = found
        return Response(body, media_type=media_type, headers={**_HEADERS, "Cache-Control": "max-age=86400"})
