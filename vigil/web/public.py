"""Public pages: what anyone may read without a key, starting with ``/contact``.

The single points of contact (DSA Art. 11, 12, 13; TCO Art. 15) must be easy to find, so the page is
plain server-rendered HTML that a search engine indexes and a phone shows without help: no
JavaScript, no external fonts or images. It carries the same data as schema.org JSON-LD, which is
data, not script: browsers never execute a ``<script type="application/ld+json">``, so the
Content-Security-Policy forbids every script and crawlers still read it.

The pages show configuration text, which an operator (or whoever can edit the file) controls, so it is
escaped like hostile content: the templates autoescape, and the JSON-LD escapes ``<``, ``>`` and
``&`` so that no text can end its ``<script>`` element. The only inline code is the stylesheet of
``public_base.html``, allowed by its SHA-256 hash.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup

from vigil.api.routes.contact import get_contact
from vigil.intake.contact import (
    EU_MEMBER_STATES,
    LANGUAGE_NAMES,
    NATIVE_NAMES,
    PublishedContact,
    publish,
)
from vigil.web.render import TEMPLATES, render


def _style_hash() -> str:
    """The CSP source of the one inline stylesheet, hashed as the browser hashes it: the text between
    ``<style>`` and ``</style>`` (the block holds no template code, so it is served as written)."""
    source = (TEMPLATES / "public_base.html").read_text(encoding="utf-8")
    found = re.search(r"<style>(.*?)</style>", source, re.DOTALL)
    if found is None:
        raise RuntimeError("public_base.html has no <style> element")
    digest = hashlib.sha256(found.group(1).encode()).digest()
    return f"'sha256-{base64.b64encode(digest).decode()}'"


CONTENT_SECURITY_POLICY = (
    f"default-src 'none'; script-src 'none'; style-src {_style_hash()}; img-src data:; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
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
_EVERY_DAY = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]

router = APIRouter(include_in_schema=False)


def mount_public_pages(app: FastAPI) -> None:
    """Serve the public pages on ``app``, each with :data:`HEADERS`."""
    app.include_router(router)


def public_page(template: str, context: dict[str, Any], status: int = 200) -> HTMLResponse:
    """``template`` rendered with ``context``, with the public pages' security headers."""
    return HTMLResponse(render(template, context), status_code=status, headers=HEADERS)


def script_json(data: Any) -> Markup:
    """``data`` as JSON that can sit inside a ``<script>`` element: ``<``, ``>`` and ``&`` are written
    as ``\\u003c``, ``\\u003e``, ``\\u0026``, which JSON reads back as the same characters but HTML
    never sees as markup, so no string can close the element or open a comment."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":")).translate(_JSON_IN_HTML)
    return Markup(text)  # noqa: S704 (safe: the translation above leaves no markup character)


# --- /contact --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LanguageLabel:
    """A language as the page lists it: English name, its own name for EU languages, and the code."""

    code: str
    name: str
    native: str | None


def _labels(codes: tuple[str, ...]) -> list[LanguageLabel]:
    return [
        LanguageLabel(code, LANGUAGE_NAMES.get(code, code), NATIVE_NAMES.get(code) if code != "en" else None)
        for code in codes
    ]


def _country_name(code: str) -> str:
    member = EU_MEMBER_STATES.get(code)
    return f"{member[0]} ({code})" if member else code


def _languages_ld(codes: tuple[str, ...]) -> list[dict[str, str]]:
    return [{"@type": "Language", "name": LANGUAGE_NAMES.get(c, c), "alternateName": c} for c in codes]


def contact_json_ld(contact: PublishedContact) -> dict[str, Any]:
    """The contact points as a schema.org Organization with one ContactPoint per point of contact."""
    operator, authorities, tco = contact.operator, contact.authorities, contact.removal_orders
    round_the_clock = {
        "@type": "OpeningHoursSpecification",
        "dayOfWeek": _EVERY_DAY,
        "opens": "00:00",
        "closes": "23:59",
    }
    points: list[dict[str, Any]] = [
        {
            "@type": "ContactPoint",
            "contactType": "single point of contact for authorities (DSA Art. 11)",
            "email": authorities.email,
            "telephone": authorities.phone,
            "url": authorities.orders_endpoint,
            "availableLanguage": _languages_ld(authorities.accepted_languages),
            "hoursAvailable": round_the_clock,
        },
        {
            "@type": "ContactPoint",
            "contactType": "TCO removal orders (Regulation (EU) 2021/784, Art. 15)",
            "email": tco.email,
            "url": tco.endpoint,
            "availableLanguage": _languages_ld(authorities.accepted_languages),
            "hoursAvailable": round_the_clock,
        },
        {
            "@type": "ContactPoint",
            "contactType": "single point of contact for users (DSA Art. 12)",
            "email": contact.users.email,
            "url": contact.users.report_url,
            "availableLanguage": _languages_ld(contact.users.languages),
        },
    ]
    representative = contact.legal_representative
    if representative is not None:
        # a PostalAddress is a ContactPoint with an address, which is what a representative is
        points.append(
            {
                "@type": "PostalAddress",
                "contactType": "legal representative in the EU (DSA Art. 13)",
                "name": representative.name,
                "streetAddress": representative.address,
                "addressCountry": representative.country,
                "email": representative.email,
                "telephone": representative.phone,
            }
        )
    organization: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "Organization",
        "name": operator.name,
        "legalName": operator.legal_name,
        "address": {
            "@type": "PostalAddress",
            "streetAddress": operator.address,
            "addressCountry": operator.establishment_country,
        },
        "contactPoint": points,
    }
    if operator.registration:
        organization["identifier"] = operator.registration
    return organization


@router.get("/contact", response_class=HTMLResponse)
def contact_page(request: Request) -> HTMLResponse:
    """The single points of contact for authorities and users, as a page anyone can read."""
    contact = publish(get_contact(request))
    return public_page(
        "contact.html",
        {
            "contact": contact,
            "json_ld": script_json(contact_json_ld(contact)),
            "accepted_languages": _labels(contact.authorities.accepted_languages),
            "user_languages": _labels(contact.users.languages),
            "country_name": _country_name,
        },
    )
