"""What every public page shares: the security headers with their Content-Security-Policy, the
rendering, and JSON that may sit inside a ``<script>`` element."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from fastapi.responses import HTMLResponse
from markupsafe import Markup

from vigil.web.render import TEMPLATES, render


def _style_hash(template: str) -> str:
    """The CSP source of a template's inline stylesheet, hashed as the browser hashes it: the text
    between ``<style>`` and ``</style>`` (the block holds no template code, so it is served as
    written)."""
    source = (TEMPLATES / template).read_text(encoding="utf-8")
    found = re.search(r"<style>(.*?)</style>", source, re.DOTALL)
    if found is None:
        raise RuntimeError(f"{template} has no <style> element")
    digest = hashlib.sha256(found.group(1).encode()).digest()
    return f"'sha256-{base64.b64encode(digest).decode()}'"


def _content_security_policy(templates: Iterable[str], form_action: str) -> str:
    styles = " ".join(_style_hash(t) for t in templates)
    return (
        f"default-src 'none'; script-src 'none'; style-src {styles}; img-src data:; "
        f"base-uri 'none'; form-action {form_action}; frame-ancestors 'none'"
    )


CONTENT_SECURITY_POLICY = _content_security_policy(["public_base.html"], "'none'")
HEADERS: dict[str, str] = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    # public and unchanging until a restart: caches may keep it a few minutes
    "Cache-Control": "public, max-age=300",
}
_JSON_IN_HTML = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026"})


def public_page(
    template: str, context: dict[str, Any], status: int = 200, headers: Mapping[str, str] = HEADERS
) -> HTMLResponse:
    """``template`` rendered with ``context``, with the public pages' security headers (``headers``:
    those of a page whose policy differs, such as :data:`TRANSPARENCY_HEADERS`)."""
    return HTMLResponse(render(template, context), status_code=status, headers=dict(headers))


def script_json(data: Any) -> Markup:
    """``data`` as JSON that can sit inside a ``<script>`` element: ``<``, ``>`` and ``&`` are written
    as ``\\u003c``, ``\\u003e``, ``\\u0026``, which JSON reads back as the same characters but HTML
    never sees as markup, so no string can close the element or open a comment."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":")).translate(_JSON_IN_HTML)
    return Markup(text)  # noqa: S704 (safe: the translation above leaves no markup character)
