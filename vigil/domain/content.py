"""Content: one item from the host platform, as Vigil sees it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from vigil.domain.hashes import VideoFrame
from vigil.domain.signals import Signal


class ContentKind(StrEnum):
    POST = "post"
    COMMENT = "comment"
    MESSAGE = "message"
    MEDIA = "media"
    CHANNEL_PROFILE = "channel_profile"
    ACCOUNT_PROFILE = "account_profile"


class Audience(StrEnum):
    """Who can see the content on the platform.

    ``private_reported`` is a message from a private (possibly end-to-end encrypted) chat that a
    participant reported: Vigil never scans private chats, it only sees what a participant chose to
    report, and processes it for that report alone.
    """

    PUBLIC = "public"
    GROUP = "group"
    PRIVATE_REPORTED = "private_reported"


class SubjectType(StrEnum):
    CONTENT = "content"
    ACCOUNT = "account"
    CHANNEL = "channel"


@dataclass(frozen=True, slots=True)
class Subject:
    """What an action applies to: a content item, an account, or a channel or group."""

    type: SubjectType
    id: str


@dataclass(frozen=True, slots=True)
class MediaHashes:
    """The hashes of one media attachment. Vigil keeps hashes, never the media itself."""

    media_id: str
    mime_type: str | None
    md5: str | None
    sha256: str | None
    size_bytes: int | None
    # PDQ of an image: the hash of the image as sent first, then its other dihedral hashes
    # (mirrored and rotated), which matching tries too
    pdq: tuple[str, ...] = ()
    pdq_quality: int | None = None
    # vPDQ of a video: the PDQ hash of a frame a second
    vpdq: tuple[VideoFrame, ...] = ()


@dataclass(frozen=True, slots=True)
class Content:
    """One item from the platform: a post, message, media, or channel/account profile."""

    id: str
    kind: ContentKind
    audience: Audience
    author_id: str
    created_at: datetime
    channel_id: str | None = None
    country: str | None = None
    reach: int = 0
    language: str | None = None
    text: str = ""
    media: tuple[MediaHashes, ...] = field(default_factory=tuple)
    # what was read from the media bytes at intake (nudity, provenance), kept because the bytes are
    # not: every decision on the item, later ones included, sees these beside the detectors' signals
    media_signals: tuple[Signal, ...] = ()

    @property
    def subject(self) -> Subject:
        return Subject(SubjectType.CONTENT, self.id)

    def to_activation(self) -> dict[str, Any]:
        """The ``content`` variable that policy conditions see (every field always present)."""
        return {
            "id": self.id,
            "kind": self.kind.value,
            "audience": self.audience.value,
            "author_id": self.author_id,
            "channel_id": self.channel_id or "",
            "country": self.country or "",
            "reach": self.reach,
            "language": self.language or "",
            "text": self.text,
            "has_media": bool(self.media),
            "media": [
                {
                    "id": m.media_id,
                    "mime_type": m.mime_type or "",
                    "md5": m.md5 or "",
                    "sha256": m.sha256 or "",
                    "pdq": m.pdq[0] if m.pdq else "",
                    "pdq_quality": m.pdq_quality if m.pdq_quality is not None else -1,
                    "video_frames": len(m.vpdq),
                }
                for m in self.media
            ],
        }
