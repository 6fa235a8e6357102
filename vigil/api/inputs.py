"""What the API accepts, defined once: identifiers and one-line names, instants, and integers.

Routes take these types rather than bare ``str``, ``datetime`` and ``int``, so that a value the
store, the clock arithmetic or a person's screen cannot handle is refused where it arrives, with a
422 naming the field, instead of surfacing later as a 500 (issue 12: an instant that cannot be
written in UTC, an integer past 64 bits, a control character in an id).

FastAPI keeps the constraints of these ``Annotated`` types only when the parameter is written in the
``Annotated`` form: ``after: Annotated[Cursor, Query(description=...)] = 0``. Written as
``after: Cursor = Query(default=0)``, the ``Query`` replaces them and the bound silently goes.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from annotated_types import Ge, Le
from pydantic import AfterValidator, AwareDatetime, Field, GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, core_schema

from vigil.domain.ids import EARLIEST_INSTANT, LATEST_INSTANT, instant_in_utc

# --- identifiers and one-line names -----------------------------------------------------------------

# Characters an identifier or a one-line name may not hold, and why:
# - C0 controls U+0000-U+001F and DEL U+007F, and C1 controls U+0080-U+009F (U+0085 is a line break,
#   U+009B starts a terminal escape sequence): they break lines in logs and CSV files and drive
#   terminals;
# - U+2028 and U+2029, the line and paragraph separators: line breaks to JavaScript and many viewers;
# - the bidirectional controls U+061C, U+200E, U+200F, U+202A-U+202E and U+2066-U+2069: they reorder
#   how the text around them is shown, so one id can be made to display as another (CVE-2021-42574,
#   "Trojan Source");
# - the zero-width space U+200B, word joiner U+2060 and byte order mark U+FEFF: invisible, they make
#   two ids that look the same differ.
# The zero-width joiner and non-joiner (U+200D, U+200C) stay allowed: emoji sequences and Arabic,
# Persian and Indic spellings need them, and user names are written in all of those.
_REFUSED_RANGES = (
    ("\x00", "\x1f"),
    ("\x7f", "\x9f"),
    ("\u061c", "\u061c"),
    ("\u200b", "\u200b"),
    ("\u200e", "\u200f"),
    ("\u2028", "\u202e"),
    ("\u2060", "\u2060"),
    ("\u2066", "\u2069"),
    ("\ufeff", "\ufeff"),
)
_REFUSED_CLASS = "".join(
    f"\\u{ord(low):04x}" if low == high else f"\\u{ord(low):04x}-\\u{ord(high):04x}"
    for low, high in _REFUSED_RANGES
)
_REFUSED = re.compile(f"[{_REFUSED_CLASS}]")
# the same rule in the OpenAPI document, where clients and the fuzz test read it
VISIBLE_PATTERN = f"^[^{_REFUSED_CLASS}]+$"


def _visible(value: str) -> str:
    found = _REFUSED.search(value)
    if found is not None:
        raise ValueError(
            f"must not contain control, line-separator, bidirectional or zero-width characters;"
            f" found U+{ord(found.group()):04X} at position {found.start()}"
        )
    return value


class Visible:
    """Pydantic metadata: the text holds none of the characters refused above.

    Put it after the lengths, ``Annotated[str, Field(min_length=1, max_length=100), Visible()]``, so
    that a text too long is told so first. It also writes the rule into the OpenAPI document as a
    pattern, where clients and the fuzz test read it; the check itself is not that pattern, so a
    refusal names the character and where it is rather than quoting a regular expression.
    """

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        return core_schema.no_info_after_validator_function(_visible, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        json_schema = handler(schema)
        json_schema["pattern"] = VISIBLE_PATTERN
        return json_schema


# An id the platform or an authority gives (content, author, channel, media, order reference ...),
# or a one-line name: 1-200 visible characters.
Identifier = Annotated[str, Field(min_length=1, max_length=200), Visible()]


# --- instants --------------------------------------------------------------------------------------


# An instant with its UTC offset (ISO 8601), within the range Vigil accepts (vigil.domain.ids);
# handed on in UTC.
Instant = Annotated[
    AwareDatetime,
    AfterValidator(instant_in_utc),
    Field(
        description=f"ISO 8601 with a UTC offset, between {EARLIEST_INSTANT:%Y-%m-%dT%H:%M:%SZ} and"
        f" {LATEST_INSTANT:%Y-%m-%dT%H:%M:%SZ}"
    ),
]


# --- integers --------------------------------------------------------------------------------------

# SQLite's INTEGER and PostgreSQL's BIGINT, which every integer key of the store is, hold 64 bits
# signed: a larger number is no row, and the database drivers refuse to send it at all.
INT64_MAX = 2**63 - 1

# The id of a row (a webhook delivery, a statement's submission): 1 and up.
RowId = Annotated[int, Ge(1), Le(INT64_MAX)]
# "After this id or sequence number", to page through a list; 0 starts from the beginning.
Cursor = Annotated[int, Ge(0), Le(INT64_MAX)]
