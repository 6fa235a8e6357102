"""Talk about a harm is not the harm: a Holocaust memorial, a bank's warning about crypto scams and a
news report of a drug arrest, in each of the twelve languages Vigil classifies, go through the whole
pipeline with the default pack and nothing is restricted; each carries the context signal that says
why, for the reviewer who may see it."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from vigil.domain.content import Audience, Content, ContentKind
from vigil.domain.decisions import DecisionContext
from vigil.domain.signals import SignalKind
from vigil.pipeline.service import Pipeline
from vigil.policy.loader import DEFAULT_PACK, load_policy_paths
from vigil.store import policies as policy_store
from vigil.store.db import Store

EXAMPLES = Path(__file__).resolve().parents[1] / "data" / "context_examples"
LANGUAGES = {"en", "fr", "id", "es", "de", "pt", "ru", "ar", "tr", "uk", "fa", "hi"}


def examples() -> list[dict[str, str]]:
    return [
        json.loads(line)
        for path in sorted(EXAMPLES.glob("*.jsonl"))
        for line in path.read_text("utf-8").splitlines()
        if line.strip()
    ]


def test_there_are_three_examples_in_every_language() -> None:
    kinds: dict[str, set[str]] = {}
    for example in examples():
        kinds.setdefault(example["language"], set()).add(example["id"].split("-", 1)[1])
    assert set(kinds) == LANGUAGES
    assert all(found == {"memorial", "scam-warning", "drug-arrest"} for found in kinds.values())


def test_no_example_is_restricted_and_every_one_the_classifier_suspects_shows_its_context(
    store: Store, now: datetime
) -> None:
    with store.transaction() as session:
        policy_store.apply_policies(session, load_policy_paths([DEFAULT_PACK]), "admin", now)
    pipeline = Pipeline(store, clock=lambda: now)
    items = [
        Content(e["id"], ContentKind.POST, Audience.PUBLIC, "author-1", now, text=e["text"])
        for e in examples()
    ]
    outcomes = pipeline.submit(items, DecisionContext(), "tester")

    restricted = {
        o.content_id: sorted(a.value for a in o.decision.platform_actions)
        for o in outcomes
        if o.decision.restricts
    }
    assert restricted == {}
    for outcome in outcomes:
        suspected = [s for s in outcome.signals if s.kind is SignalKind.CLASSIFIER and s.score >= 0.5]
        if suspected:
            frames = [s for s in outcome.signals if s.kind is SignalKind.CONTEXT]
            assert frames, f"{outcome.content_id}: flagged without the context that holds it back"
            assert all(e.end > e.start for s in frames for e in s.evidence)
