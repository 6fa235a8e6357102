"""``/v1/contact``: the single points of contact (DSA Art. 11, 12, 13; TCO Art. 15), public.

The same data as the page at ``/contact``, for machines: an authority's system can look up where
orders go and in which languages before it sends one. No key is needed; nothing here is secret.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from vigil.intake.contact import ContactConfig, PublishedContact, publish

router = APIRouter(tags=["contact"])

# the configuration changes only with a restart; a short public cache spares nothing and costs little
CACHE_CONTROL = "public, max-age=300"


def get_contact(request: Request) -> ContactConfig:
    """The contact configuration loaded when the application was built."""
    contact: ContactConfig = request.app.state.contact
    return contact


@router.get(
    "/contact",
    response_model=PublishedContact,
    summary="The single points of contact for authorities and users (public, no key needed)",
)
def read_contact(request: Request, response: Response) -> PublishedContact:
    """Where authorities send orders and in which languages, the 24/7 contact point for terrorist
    content removal orders, how users and NGOs report content, and the legal representative in the EU.
    """
    response.headers["Cache-Control"] = CACHE_CONTROL
    return publish(get_contact(request))
