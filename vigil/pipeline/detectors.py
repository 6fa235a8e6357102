"""The detectors that need nothing from the store, built once per process from the settings.

Besides the built-in text classifier, installed packages add detectors through the
``vigil.detectors`` entry point group. Each entry point names a factory: a callable that takes the
process's :class:`~vigil.config.Settings` and returns a :class:`~vigil.detect.base.Detector` (or
None, to stay off under these settings). A package declares it in its ``pyproject.toml``::

    [project.entry-points."vigil.detectors"]
    example = "vigil_example_plugin.detector:make_detector"

The detector runs on every item after the bank detectors and the text classifier, its signals go
to the policies like any other, and it must keep to the detector contract (``detect/base.py``:
pure, no I/O while detecting). A plugin that fails to load stops the start, naming itself: a safety
check that is silently missing is worse than a service that does not start.

Hash types (and the bank detectors that match them) are plugged in separately, through
``vigil.signal_types`` (``detect/signal_types.py``).
"""

from __future__ import annotations

import importlib.metadata
from functools import cache

from vigil.config import Settings
from vigil.detect.base import Detector
from vigil.detect.text.classifier import TextClassifier
from vigil.detect.text.detector import TextDetector

ENTRY_POINT_GROUP = "vigil.detectors"


@cache
def _text_detector(second_stage: bool) -> TextDetector:
    # lexicon automata and the sentence encoder are built once and shared by every pipeline
    return TextDetector(TextClassifier(use_second_stage=second_stage))


def plugin_detectors(settings: Settings, group: str = ENTRY_POINT_GROUP) -> list[Detector]:
    """The detectors installed packages register under ``group``, in the entry points' name order."""
    detectors: list[Detector] = []
    for entry in sorted(importlib.metadata.entry_points(group=group), key=lambda e: e.name):
        try:
            made = entry.load()(settings)
        except Exception as exc:
            raise RuntimeError(
                f"detector plugin {entry.name!r} ({entry.value}) failed to load: {exc}"
            ) from exc
        if made is None:
            continue
        if not isinstance(getattr(made, "name", None), str) or not callable(getattr(made, "detect", None)):
            raise RuntimeError(
                f"detector plugin {entry.name!r} ({entry.value}) made {made!r}, not a detector"
                " (a `name` and a `detect(content)` method)"
            )
        detectors.append(made)
    return detectors


def content_detectors(settings: Settings) -> list[Detector]:
    """The text classifier (unless turned off), then the plugins' detectors; the bank detectors come
    from the store instead."""
    builtin: list[Detector] = [_text_detector(settings.text_second_stage)] if settings.text_classifier else []
    return [*builtin, *plugin_detectors(settings)]
