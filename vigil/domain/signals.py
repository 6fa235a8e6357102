"""Signals: what detectors found."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from vigil.domain.taxonomy import Category


@dataclass(frozen=True, slots=True)
class Evidence:
    """Why a detector fired: a span of the original text (character offsets) and a note for reviewers.

    A finding about media rather than text (a provenance manifest, a nudity region) has no span:
    ``start`` and ``end`` are 0 and ``text`` names what was found.
    """

    start: int
    end: int
    text: str
    note: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"start": self.start, "end": self.end, "text": self.text, "note": self.note}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Evidence:
        return cls(int(data["start"]), int(data["end"]), str(data["text"]), str(data.get("note", "")))


class SignalKind(StrEnum):
    """How a detector came to its finding; policies treat a bank match and a model score differently."""

    HASH_MATCH = "hash_match"
    CLASSIFIER = "classifier"
    PROVENANCE = "provenance"
    # the frame a text talks about a harm in (news, a warning, a memorial): evidence against acting
    # on the harm signals alone; ``label`` names the frame, ``category`` is None
    CONTEXT = "context"


@dataclass(frozen=True, slots=True)
class Signal:
    """One detector's finding about one content item.

    A hash match carries the bank, its version, the hash type and the distance (0 for exact digests);
    a classifier carries a score in [0, 1] and, optionally, a finer ``label`` (``holocaust_denial``,
    ``phishing``) that a policy can single out, the ``language`` of the text it read, and the
    ``evidence`` a reviewer needs to see why.
    """

    detector: str
    kind: SignalKind
    # None for a finding that is not itself a harm: provenance says how media was made (AI-generated),
    # context how a text talks about a harm, and a policy combines them with signals that name one
    category: Category | None
    score: float
    label: str = ""
    bank: str = ""
    bank_version: int = 0
    hash_type: str = ""
    distance: int = 0
    media_id: str = ""
    language: str = ""
    evidence: tuple[Evidence, ...] = ()

    def to_activation(self) -> dict[str, Any]:
        """The map that policy conditions see for this signal (every field always present)."""
        return {
            "detector": self.detector,
            "kind": self.kind.value,
            "category": self.category.value if self.category else "",
            "score": self.score,
            "label": self.label,
            "bank": self.bank,
            "bank_version": self.bank_version,
            "hash_type": self.hash_type,
            "distance": self.distance,
            "media_id": self.media_id,
            "language": self.language,
            "evidence": [e.to_json() for e in self.evidence],
        }

    @classmethod
    def from_activation(cls, data: dict[str, Any]) -> Signal:
        return cls(
            detector=data["detector"],
            kind=SignalKind(data["kind"]),
            category=Category(data["category"]) if data["category"] else None,
            score=float(data["score"]),
            label=data.get("label", ""),
            bank=data.get("bank", ""),
            bank_version=int(data.get("bank_version", 0)),
            hash_type=data.get("hash_type", ""),
            distance=int(data.get("distance", 0)),
            media_id=data.get("media_id", ""),
            language=data.get("language", ""),
            evidence=tuple(Evidence.from_json(e) for e in data.get("evidence", ())),
        )
