"""The detectors that need nothing from the store, built once per process from the settings."""

from __future__ import annotations

from functools import cache

from vigil.config import Settings
from vigil.detect.base import Detector
from vigil.detect.text.classifier import TextClassifier
from vigil.detect.text.detector import TextDetector


@cache
def _text_detector(second_stage: bool) -> TextDetector:
    # lexicon automata and the sentence encoder are built once and shared by every pipeline
    return TextDetector(TextClassifier(use_second_stage=second_stage))


def content_detectors(settings: Settings) -> list[Detector]:
    """The text classifier (unless turned off); the bank detectors come from the store instead."""
    return [_text_detector(settings.text_second_stage)] if settings.text_classifier else []
