"""``/docs``: the OpenAPI description in Swagger UI, without trusting a CDN with an admin's key.

People paste API keys into this page ("Authorize"), so every script on it can read them. FastAPI's
own page loads whatever version of Swagger UI a CDN serves today. This one loads one exact version,
with Subresource Integrity, so a changed file is refused by the browser, and a Content-Security-Policy
that lets the page talk to Vigil alone, so that even a script that ran could not send a key elsewhere.
The page's own start-up script is served from Vigil, not inlined.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import HTMLResponse, Response

SWAGGER_UI_VERSION = "5.36.0"
_CDN = f"https://cdn.jsdelivr.net/npm/swagger-ui-dist@{SWAGGER_UI_VERSION}"
# sha384 of the files of the swagger-ui-dist package at that version (as npm and the CDN serve them)
_SCRIPT_SRI = "sha384-fUpRgC19yPykTqzdrUbdAg8NTiu16NEKf9U12J+IJWCg8/1mEI8f2+PEIz60Wyd+"
_STYLE_SRI = "sha384-z/AtSaOHGn5MJ5auAHXUypohywlIWLBZo1jeGmhdpVIbCnFhxAH92cwdV41oyINc"

POLICY = (
    "default-src 'none'; "
    "script-src 'self' https://cdn.jsdelivr.net; "
    # Swagger UI sets style attributes as it renders
    "style-src https://cdn.jsdelivr.net 'unsafe-inline'; "
    "img-src 'self' data:; "
    "connect-src 'self'; "
    "form-action 'none'; frame-ancestors 'none'; base-uri 'none'"
)
_HEADERS = {
    "Content-Security-Policy": POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}

_PAGE = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Vigil API</title>
<link rel="stylesheet" href="{_CDN}/swagger-ui.css" integrity="{_STYLE_SRI}" crossorigin="anonymous">
</head>
<body>
<div id="swagger-ui"></div>
<script src="{_CDN}/swagger-ui-bundle.js" integrity="{_SCRIPT_SRI}" crossorigin="anonymous"></script>
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


def mount_docs_page(app: FastAPI) -> None:
    """Serve ``/docs`` and its start-up script (the app is built with ``docs_url=None``)."""

    @app.get("/docs", include_in_schema=False)
    def docs_page() -> HTMLResponse:
        return HTMLResponse(_PAGE, headers=_HEADERS)

    @app.get("/docs/start.js", include_in_schema=False)
    def docs_start() -> Response:
        return Response(_START, media_type="text/javascript", headers=_HEADERS)
