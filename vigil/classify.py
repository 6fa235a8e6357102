"""``vigil classify``: the text classifier over JSON lines, for operators, evaluation and tuning.

Each input line is ``{"id": ..., "text": ...}`` (optionally ``"language"``, the platform's hint);
each output line is ``{"id", "language", "signals", "flagged"}`` with the same signals that
``POST /v1/content`` decides on. A line that cannot be read (not UTF-8, not JSON, no text, too
long) gives ``{"id", "error"}`` and the next line is read: one bad line never loses the others.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import IO, Any

from vigil.detect.text.classifier import TextClassifier
from vigil.detect.text.detector import classification_signals

MAX_LINE_BYTES = 4 * 1024 * 1024  # a line longer than this is reported, not read


@dataclass(frozen=True, slots=True)
class ClassifyInput:
    """One item to classify, or why its line could not be read."""

    line: int
    id: str | None
    text: str = ""
    language: str | None = None
    error: str | None = None


def bounded_lines(stream: IO[bytes], limit: int = MAX_LINE_BYTES) -> Iterator[bytes]:
    """The lines of ``stream``; of a line longer than ``limit`` only the first ``limit + 1`` bytes.

    The rest of an over-long line is read and dropped, so it cannot turn into lines of its own.
    """
    while line := stream.readline(limit + 1):
        if len(line) > limit and not line.endswith(b"\n"):
            while (rest := stream.readline(limit)) and not rest.endswith(b"\n"):
                pass
        yield line


def read_inputs(lines: Iterable[bytes]) -> Iterator[ClassifyInput]:
    """Parse JSON lines; blank lines are skipped, bad ones become inputs with an ``error``."""
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        if len(raw) > MAX_LINE_BYTES:
            yield ClassifyInput(number, None, error=f"line {number}: longer than {MAX_LINE_BYTES} bytes")
            continue
        try:
            record = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError as exc:
            yield ClassifyInput(number, None, error=f"line {number}: not valid UTF-8 (byte {exc.start})")
            continue
        except ValueError:
            yield ClassifyInput(number, None, error=f"line {number}: not JSON")
            continue
        yield _input(number, record)


def _input(number: int, record: Any) -> ClassifyInput:
    if not isinstance(record, dict):
        return ClassifyInput(number, None, error=f'line {number}: expected an object {{"id", "text"}}')
    item_id = record.get("id")
    shown_id = None if item_id is None else str(item_id)
    text, language = record.get("text"), record.get("language")
    if not isinstance(text, str):
        return ClassifyInput(number, shown_id, error=f"line {number}: 'text' must be a string")
    if language is not None and not isinstance(language, str):
        return ClassifyInput(number, shown_id, error=f"line {number}: 'language' must be a string")
    return ClassifyInput(number, shown_id, text, language or None)


def classify_record(classifier: TextClassifier, item: ClassifyInput) -> dict[str, Any]:
    """The output object for one input (``error`` set, and nothing else, when it could not be read)."""
    if item.error is not None:
        return {"id": item.id, "error": item.error}
    result = classifier.classify(item.text, item.language)
    signals = classification_signals(result)
    return {
        "id": item.id,
        "language": result.language,
        "signals": [
            {
                "detector": s.detector,
                "kind": s.kind.value,
                "category": s.category.value if s.category else "",
                "score": round(s.score, 4),
                "label": s.label,
                "evidence": [e.to_json() for e in s.evidence],
            }
            for s in signals
        ],
        "flagged": [c.value for c in result.flagged],
        "truncated": result.truncated,
    }
