"""Value types shared by the layers: checked text, e-mail addresses, URLs, telephone numbers,
countries and languages.

Each is an ``Annotated`` string that pydantic checks where a model uses it (the points of contact of
:mod:`vigil.intake.contact`, the hotline's reporter of :mod:`vigil.enforce.hotline.reporter`), with
an error that says what would be accepted. They live here, not with one of their users, so that the
review desk, the intake registries and enforcement need not import each other for them.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import AfterValidator, Field

from vigil.domain.jurisdictions import normalise_country

MAX_LANGUAGES = 40

# ISO 639-1: every assigned two-letter language code. Checked so that a typo such as 'ge' for
# German is refused at load instead of silently never matching.
ISO_LANGUAGES: frozenset[str] = frozenset(
    """
    aa ab ae af ak am an ar as av ay az ba be bg bi bm bn bo br bs ca ce ch co cr cs cu cv cy da de
    dv dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr ht hu hy hz ia
    id ie ig ii ik io is it iu ja jv ka kg ki kj kk kl km kn ko kr ks ku kv kw ky la lb lg li ln lo
    lt lu lv mg mh mi mk ml mn mr ms mt my na nb nd ne ng nl nn no nr nv ny oc oj om or os pa pi pl
    ps pt qu rm rn ro ru rw sa sc sd se sg si sk sl sm sn so sq sr ss st su sv sw ta te tg th ti tk
    tl tn to tr ts tt tw ty ug uk ur uz ve vi vo wa wo xh yi yo za zh zu
    """.split()  # noqa: SIM905 (183 codes read better as a block than one per line)
)

_EMAIL = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}"
)
# the characters RFC 3986 allows in a URI; anything else (spaces, quotes, angle brackets) is refused
_URL_CHARACTERS = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+")
_PHONE = re.compile(r"\+[0-9][0-9 ()./-]*")


def _one_line(value: str) -> str:
    if any(unicodedata.category(c) == "Cc" for c in value):
        raise ValueError("must be one line of text, without control characters")
    return value


def _lines(value: str) -> str:
    if any(unicodedata.category(c) == "Cc" and c != "\n" for c in value):
        raise ValueError("must be text, without control characters other than line breaks")
    return value


def _email(value: str) -> str:
    local = value.rsplit("@", 1)[0]
    if len(local) > 64 or not _EMAIL.fullmatch(value):
        raise ValueError(f"{value!r} is not an e-mail address (expected name@example.org)")
    return value


def _https_url(value: str) -> str:
    parts = urlsplit(value) if _URL_CHARACTERS.fullmatch(value) else None
    if parts is None or parts.scheme != "https" or not parts.hostname or "@" in parts.netloc:
        raise ValueError(f"{value!r} is not an https:// URL (expected https://example.org/path)")
    return value


def _phone(value: str) -> str:
    digits = sum(c.isdigit() for c in value)
    if not _PHONE.fullmatch(value) or not 7 <= digits <= 15:
        raise ValueError(
            f"{value!r} is not an international telephone number (expected +33 1 23 45 67 89: "
            "a plus sign, the country code, 7 to 15 digits in all)"
        )
    return value


def _language(value: str) -> str:
    if value not in ISO_LANGUAGES:
        close = difflib.get_close_matches(value.lower(), sorted(ISO_LANGUAGES), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ValueError(f"unknown language {value!r}{hint}; expected an ISO 639-1 code such as 'fr' or 'de'")
    return value


def _distinct(values: tuple[str, ...]) -> tuple[str, ...]:
    repeated = sorted({v for v in values if values.count(v) > 1})
    if repeated:
        raise ValueError(f"lists {', '.join(repeated)} more than once")
    return values


Line = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(_one_line)]
Lines = Annotated[str, Field(min_length=1, max_length=1000), AfterValidator(_lines)]
Email = Annotated[str, Field(max_length=254), AfterValidator(_email)]
HttpsUrl = Annotated[str, Field(max_length=2000), AfterValidator(_https_url)]
Phone = Annotated[str, Field(max_length=40), AfterValidator(_phone)]
Country = Annotated[str, Field(max_length=8), AfterValidator(normalise_country)]
Language = Annotated[str, Field(max_length=8), AfterValidator(_language)]
Languages = Annotated[tuple[Language, ...], Field(max_length=MAX_LANGUAGES), AfterValidator(_distinct)]
