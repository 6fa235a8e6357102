"""Rendering console pages: the Jinja2 environment, and the pieces of a page built in Python.

Every template is autoescaped, and the templates never use ``|safe``: user content reaches the page
only as escaped text. Highlighted evidence is a list of :class:`Segment` that the template escapes
one by one inside or outside a ``<mark>``; markup is never inserted into the raw text.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import jinja2

from vigil.domain.signals import Signal

TEMPLATES = Path(__file__).parent / "templates"
MAX_SPANS = 500  # highlighted spans per text; more would only make the page unreadable
MAX_NOTES_PER_SPAN = 5

_environment = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def render(template: str, context: Mapping[str, Any]) -> str:
    """The HTML of ``template`` with ``context`` (all values escaped by the template)."""
    return _environment.get_template(template).render(context)


@dataclass(frozen=True, slots=True)
class Segment:
    """A run of the content's text: plain, or marked as evidence with the detectors' notes."""

    text: str
    marked: bool
    note: str = ""


def highlight(text: str, signals: Iterable[Signal]) -> list[Segment]:
    """``text`` cut into segments, the spans that the signals' evidence points at marked.

    Offsets are characters of the stored text. Spans outside the text or empty are ignored (a
    finding about media has none); overlapping spans merge into one marked segment with all notes.
    """
    spans: list[tuple[int, int, str]] = []
    for signal in signals:
        for evidence in signal.evidence:
            start, end = max(0, evidence.start), min(len(text), evidence.end)
            if start < end and len(spans) < MAX_SPANS:
                spans.append((start, end, f"{signal.detector}: {evidence.note}".strip()))
    spans.sort()
    merged: list[tuple[int, int, list[str]]] = []
    for start, end, note in spans:
        if merged and start < merged[-1][1]:
            last_start, last_end, notes = merged[-1]
            if note not in notes and len(notes) < MAX_NOTES_PER_SPAN:
                notes.append(note)
            merged[-1] = (last_start, max(last_end, end), notes)
        else:
            merged.append((start, end, [note]))
    segments: list[Segment] = []
    at = 0
    for start, end, notes in merged:
        if start > at:
            segments.append(Segment(text[at:start], False))
        segments.append(Segment(text[start:end], True, "\n".join(notes)))
        at = end
    if at < len(text) or not segments:
        segments.append(Segment(text[at:], False))
    return segments


def duration(seconds: float) -> str:
    """A short human duration: ``45 s``, ``12 min``, ``3 h 05 min``, ``2 d 4 h``."""
    seconds = abs(seconds)
    if seconds < 60:
        return f"{int(seconds)} s"
    minutes = int(seconds // 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes:02d} min"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h"


def time_left(seconds: float | None) -> str:
    """The time to a case's deadline as the queue shows it."""
    if seconds is None:
        return "no deadline"
    if seconds < 0:
        return f"overdue by {duration(seconds)}"
    return f"{duration(seconds)} left"


def timestamp(moment: datetime | None) -> str:
    """A moment in UTC, to the second."""
    return "" if moment is None else moment.strftime("%Y-%m-%d %H:%M:%S UTC")


_environment.filters["duration"] = duration
_environment.filters["time_left"] = time_left
_environment.filters["timestamp"] = timestamp
