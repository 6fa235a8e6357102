"""The figures' closed vocabularies in words, as the transparency page and the periodic report show
them, and a member state's name."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from vigil.intake.contact import (
    EU_MEMBER_STATES,
)
from vigil.transparency.daily import (
    TimeBucket,
)
from vigil.web.charts import Bar


def _country_name(code: str) -> str:
    member = EU_MEMBER_STATES.get(code)
    return f"{member[0]} ({code})" if member else code


# the closed vocabularies of the figures in words; a key not listed is shown as it is (escaped)
CATEGORY_LABELS: Mapping[str, str] = {
    "csam": "child sexual abuse material",
    "grooming": "grooming of children",
    "terrorism": "terrorist content",
    "ncii": "non-consensual intimate images",
    "hate_speech": "hate speech",
    "drugs": "drugs",
    "fraud": "fraud and scams",
    "spam": "spam",
    "adult_nudity": "adult nudity",
    "unspecified": "not specified",
}
ACTION_LABELS: Mapping[str, str] = {
    "remove": "removed",
    "geo_restrict": "withheld in some countries",
    "age_restrict": "age-restricted",
    "demote": "demoted",
    "label": "labelled",
    "suspend_account": "account suspended",
    "ban_channel": "channel banned",
}
SOURCE_LABELS: Mapping[str, str] = {
    "voluntary": "own automated detection",
    "notice": "notices from users",
    "trusted_flagger": "trusted flaggers",
    "authority_order": "authority orders",
    "reviewer": "reviewers' own initiative",
}
BASIS_LABELS: Mapping[str, str] = {"law": "illegal (law)", "terms": "terms and conditions"}
OUTCOME_LABELS: Mapping[str, str] = {
    "upheld": "upheld",
    "overturned": "overturned",
    "changed": "changed",
}


def _words(labels: Mapping[str, str], key: str) -> str:
    return labels.get(key, key)


def _bars(counts: Mapping[str, float], labels: Mapping[str, str]) -> list[Bar]:
    """Bars of ``counts`` by key, largest first (then by key, so equal bars keep a stable order)."""
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return [Bar(_words(labels, key), value) for key, value in ordered if value]


def _sums(rows: Iterable[Any], key: str) -> Counter[str]:
    totals: Counter[str] = Counter()
    for row in rows:
        totals[getattr(row, key)] += row.count
    return totals


def _span(seconds: int) -> str:
    days, rest = divmod(seconds, 86400)
    if days and not rest:
        return f"{days} day" + ("s" if days > 1 else "")
    hours, rest = divmod(seconds, 3600)
    if hours and not rest:
        return f"{hours} hour" + ("s" if hours > 1 else "")
    return f"{seconds // 60} minutes"


def bucket_words(bucket: TimeBucket | None) -> str:
    """A bucket of the time to decision in words: ``1 hour to 3 hours``, ``under 5 minutes``."""
    if bucket is None:
        return "none decided"
    if bucket.to_seconds is None:
        return f"{_span(bucket.from_seconds)} or more"
    if bucket.from_seconds == 0:
        return f"under {_span(bucket.to_seconds)}"
    return f"{_span(bucket.from_seconds)} to {_span(bucket.to_seconds)}"
