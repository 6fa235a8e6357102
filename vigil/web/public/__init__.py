"""Public pages: what anyone may read without a key: ``/contact`` and ``/transparency``.

The single points of contact (DSA Art. 11, 12, 13; TCO Art. 15) must be easy to find, so the page is
plain server-rendered HTML that a search engine indexes and a phone shows without help: no
JavaScript, no external fonts or images. It carries the same data as schema.org JSON-LD, which is
data, not script: browsers never execute a ``<script type="application/ld+json">``, so the
Content-Security-Policy forbids every script and crawlers still read it.

The pages show configuration text, which an operator (or whoever can edit the file) controls, so it is
escaped like hostile content: the templates autoescape, and the JSON-LD escapes ``<``, ``>`` and
``&`` so that no text can end its ``<script>`` element. The only inline code is the stylesheet of
``public_base.html`` (and, on the transparency page, that of ``transparency.html``), allowed by its
SHA-256 hash.

The transparency page publishes a day's figures (``vigil.transparency.daily``) with charts drawn on
the server (``vigil.web.charts``): counts by closed vocabularies, never personal data. Its day is
picked with a plain HTML form (``GET /transparency?date=``), which works without script; its policy
allows that form to submit to the page itself and nothing else. The periodic report's HTML summary
(:func:`periodic_report_html`) is drawn with the same look and the same charts, as a file that opens
on its own.

One module per page, each with its own router: ``contact`` (``/contact``) and ``transparency``
(``/transparency``); ``periodic_report`` draws the periodic report's HTML file. ``page`` holds what
they share (headers, rendering), ``words`` the figures' vocabularies in words.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI

from vigil.web.public import contact, transparency
from vigil.web.public.contact import LanguageLabel, contact_json_ld, contact_page
from vigil.web.public.page import CONTENT_SECURITY_POLICY, HEADERS, public_page, script_json
from vigil.web.public.periodic_report import SectionView, periodic_report_html
from vigil.web.public.transparency import (
    DEFINITIONS,
    FIRST_DAY,
    TRANSPARENCY_HEADERS,
    TREND_DAYS,
    KeyFigure,
    key_figures,
    transparency_charts,
    transparency_page,
)
from vigil.web.public.words import (
    ACTION_LABELS,
    BASIS_LABELS,
    CATEGORY_LABELS,
    OUTCOME_LABELS,
    SOURCE_LABELS,
    bucket_words,
)

__all__ = [
    "ACTION_LABELS",
    "BASIS_LABELS",
    "CATEGORY_LABELS",
    "CONTENT_SECURITY_POLICY",
    "DEFINITIONS",
    "FIRST_DAY",
    "HEADERS",
    "OUTCOME_LABELS",
    "SOURCE_LABELS",
    "TRANSPARENCY_HEADERS",
    "TREND_DAYS",
    "KeyFigure",
    "LanguageLabel",
    "SectionView",
    "bucket_words",
    "contact_json_ld",
    "contact_page",
    "key_figures",
    "mount_public_pages",
    "periodic_report_html",
    "public_page",
    "router",
    "script_json",
    "transparency_charts",
    "transparency_page",
]

# the pages in the order they were always served
router = APIRouter(include_in_schema=False)
router.include_router(contact.router)
router.include_router(transparency.router)


def mount_public_pages(app: FastAPI) -> None:
    """Serve the public pages on ``app``, each with :data:`HEADERS`."""
    app.include_router(router)
