"""``/v1/hashes/match``: hash-only look-up, for platforms that hash on the device and never send media."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from vigil.api.access import authorized
from vigil.api.auth import Principal
from vigil.api.deps import get_pipeline, get_settings
from vigil.config import Settings
from vigil.detect.registry import SIGNAL_TYPES
from vigil.domain.hashes import MAX_VPDQ_TEXT
from vigil.domain.taxonomy import Category
from vigil.pipeline.service import Pipeline

router = APIRouter(tags=["hashes"])


def _registered(value: object) -> str:
    """A signal type the registry knows; refused as an unknown enum member was before plugins."""
    if isinstance(value, str) and value in SIGNAL_TYPES:
        return value
    names = [f"'{name}'" for name in SIGNAL_TYPES.names]
    expected = " or ".join((", ".join(names[:-1]), names[-1])) if len(names) > 1 else names[0]
    raise PydanticCustomError("enum", "Input should be {expected}", {"expected": expected})


HashTypeName = Annotated[
    str,
    BeforeValidator(_registered),
    Field(
        description="a signal type: pdq, md5, sha256, vpdq, or one a plugin registers",
        examples=["pdq"],
    ),
]
"""A hash type in a request: a name the signal-type registry knows (``detect/signal_types.py``)."""


class HashQueryIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: HashTypeName
    value: str = Field(
        min_length=1,
        max_length=MAX_VPDQ_TEXT,
        description='lower- or upper-case hex; a vpdq hash is a JSON list of "pdq_hex,quality,timestamp" strings',
    )
    quality: int | None = Field(default=None, ge=0, le=100, description="PDQ quality, if the hasher gave one")

    @model_validator(mode="after")
    def _normalise(self) -> HashQueryIn:
        self.value = SIGNAL_TYPES.normalise(self.type, self.value)
        return self


class MatchQueryIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    hashes: list[HashQueryIn] = Field(min_length=1, max_length=1000)


class MatchOut(BaseModel):
    bank: str
    category: Category
    hash_type: str
    distance: int


class QueryResultOut(BaseModel):
    type: str
    value: str
    matched: bool
    matches: list[MatchOut]
    note: str | None = Field(default=None, description="why a hash was not matched, when it was not tried")


class MatchResultsOut(BaseModel):
    results: list[QueryResultOut]


@router.post("/hashes/match", response_model=MatchResultsOut, summary="Match hashes against the banks")
def match(
    body: MatchQueryIn,
    _principal: Principal = Depends(authorized),
    pipeline: Pipeline = Depends(get_pipeline),
    settings: Settings = Depends(get_settings),
) -> MatchResultsOut:
    threshold = settings.pdq_quality_threshold

    def low_quality(query: HashQueryIn) -> bool:
        gated = SIGNAL_TYPES.get(query.type).quality_gated
        return gated and query.quality is not None and query.quality < threshold

    tried = [q for q in body.hashes if not low_quality(q)]
    found = iter(pipeline.lookup([(q.type, q.value) for q in tried]))
    results: list[QueryResultOut] = []
    for query in body.hashes:
        if low_quality(query):
            note = f"PDQ quality {query.quality} is below {threshold}: too little detail to match reliably"
            results.append(
                QueryResultOut(type=query.type, value=query.value, matched=False, matches=[], note=note)
            )
            continue
        matches = [
            MatchOut(bank=m.bank, category=m.category, hash_type=m.hash_type, distance=m.distance)
            for m in next(found)
        ]
        results.append(
            QueryResultOut(type=query.type, value=query.value, matched=bool(matches), matches=matches)
        )
    return MatchResultsOut(results=results)
