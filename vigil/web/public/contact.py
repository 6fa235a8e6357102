"""``/contact``: the single points of contact (DSA Art. 11, 12, 13; TCO Art. 15) as a page anyone can
read, with the same data as schema.org JSON-LD."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from vigil.api.routes.contact import get_contact
from vigil.intake.contact import (
    LANGUAGE_NAMES,
    NATIVE_NAMES,
    PublishedContact,
    publish,
)
from vigil.web.public.page import public_page, script_json
from vigil.web.public.words import _country_name

_EVERY_DAY = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]

router = APIRouter(include_in_schema=False)


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
