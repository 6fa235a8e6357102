"""The detector protocol and registry.

A detector is a pure function of a content item (plus data it was built with, such as a hash index)
to signals. It does no I/O while detecting: whatever it needs from the store is handed to it when
it is built, so the same detector runs behind the API, in a worker and in a replay.

To add a detector: implement :class:`Detector` (a ``name`` and ``detect``), and register a factory
with :func:`DetectorRegistry.register`. ``hashing/digest_detector.py`` is the smallest example.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from vigil.domain.content import Content
from vigil.domain.signals import Signal


class Detector(Protocol):
    """Turns one content item into zero or more signals."""

    @property
    def name(self) -> str: ...

    def detect(self, content: Content) -> Sequence[Signal]: ...


class DetectorRegistry:
    """The detectors the pipeline runs, in a fixed order."""

    def __init__(self, detectors: Sequence[Detector] = ()) -> None:
        self._detectors: dict[str, Detector] = {}
        for detector in detectors:
            self.register(detector)

    def register(self, detector: Detector) -> None:
        if detector.name in self._detectors:
            raise ValueError(f"a detector named {detector.name!r} is already registered")
        self._detectors[detector.name] = detector

    def replace(self, detector: Detector) -> None:
        """Swap in a rebuilt detector of the same name (e.g. after a bank changed)."""
        self._detectors[detector.name] = detector

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._detectors)

    def detect(self, content: Content) -> list[Signal]:
        """The signals read from ``content``'s media at intake, then every registered detector's."""
        signals: list[Signal] = list(content.media_signals)
        for detector in self._detectors.values():
            signals.extend(detector.detect(content))
        return signals
