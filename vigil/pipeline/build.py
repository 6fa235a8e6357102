"""The pipeline as the settings describe it: one place for `vigil serve` and `vigil worker` to build it."""

from __future__ import annotations

from pathlib import Path

from vigil.config import Settings
from vigil.enforce.evidence import EvidenceVault, evidence_hooks
from vigil.pipeline.accountability import decision_hooks
from vigil.pipeline.detectors import content_detectors
from vigil.pipeline.service import Pipeline
from vigil.review.queues import load_queue_config
from vigil.review.strikes import load_strike_rules
from vigil.store.db import Store


def pipeline_from_settings(settings: Settings, store: Store, vault: EvidenceVault) -> Pipeline:
    """The pipeline with the configured detectors, queues, strike rules and evidence hooks."""
    return Pipeline(
        store,
        pdq_quality_threshold=settings.pdq_quality_threshold,
        detectors=content_detectors(settings),
        qa_sample_rate=settings.qa_sample_rate,
        queues=load_queue_config(Path(settings.queues_file)) if settings.queues_file else None,
        strike_rules=load_strike_rules(Path(settings.strike_rules_file))
        if settings.strike_rules_file
        else None,
        after_decision=(*decision_hooks(), *evidence_hooks(vault)),
    )
