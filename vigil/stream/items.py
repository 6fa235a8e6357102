"""One stream message read as a content item, or refused with the reason a dead letter carries.

A message's body is exactly what ``POST /v1/content`` takes (``ContentIn``), read by the same code:
the same validation, the same refusal of private messages, the same hashing of inline media
(``to_content``). What the HTTP edge answers with a 4xx, the stream answers with a dead letter: the
item can never be decided as sent, so retrying it would only block the items behind it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pydantic import ValidationError

from vigil.api.errors import ApiError
from vigil.api.routes.content import ContentIn, refuse_private, to_content
from vigil.config import Settings
from vigil.domain.content import Content

MAX_REASON = 1000  # a dead letter's reason travels in a header: one bounded line


@dataclass(frozen=True, slots=True)
class Item:
    """A message that is a valid item: as the platform sent it, as the pipeline takes it, and the
    warnings the HTTP answer would carry (media that could not be fully matched)."""

    sent: ContentIn
    content: Content
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Refused:
    """A message that can never be decided as sent, and why (one line)."""

    reason: str


def one_line(text: str, limit: int = MAX_REASON) -> str:
    """``text`` on one line of at most ``limit`` characters (header values cannot hold newlines)."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def _validation_reason(error: ValidationError) -> str:
    problems = [
        f"{'.'.join(str(part) for part in problem['loc']) or 'body'}: {problem['msg']}"
        for problem in error.errors(include_url=False, include_input=False)
    ]
    return "invalid item: " + "; ".join(problems)


def read_item(payload: bytes, settings: Settings) -> Item | Refused:
    """The item a message carries, or why it is refused.

    The body is bounded first, by the API's own limit (``max_body_bytes``): the stream refuses larger
    messages too (its ``max_msg_size``), but a stream made by hand might not.
    """
    if len(payload) > settings.max_body_bytes:
        return Refused(f"the message is {len(payload)} bytes; an item is at most {settings.max_body_bytes}")
    try:
        sent = ContentIn.model_validate_json(payload)
    except ValidationError as error:  # not JSON, not an object, or a field that is not accepted
        return Refused(one_line(_validation_reason(error)))
    warnings: list[str] = []
    try:
        refuse_private(sent, "item")
        content = to_content(sent, "item", settings, warnings)
    except ApiError as refusal:  # a private message, media too large or not base64, a wrong digest
        return Refused(one_line(str(refusal)))
    return Item(sent, content, warnings)
