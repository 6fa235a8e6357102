"""The text classifier as a pipeline detector: a content item's text in, classifier signals out."""

from __future__ import annotations

from collections.abc import Sequence

from vigil.detect.text.classifier import TextClassification, TextClassifier
from vigil.domain.content import Content
from vigil.domain.signals import Evidence, Signal, SignalKind


class TextDetector:
    """Emits one ``classifier`` signal per category the text classifier found (score > 0), and one
    ``context`` signal per frame that qualifies them (news, warning, remembrance, ...).

    Policies compare ``score`` with their own thresholds; ``flagged`` categories (the classifier's
    defaults) are not a separate signal. The platform's language for the item, when it sent one, is
    trusted over detection. A truncated text's evidence says so, so that a reviewer knows the rest was
    not read.
    """

    name = "text_classifier"

    def __init__(self, classifier: TextClassifier | None = None) -> None:
        self.classifier = classifier or TextClassifier()

    def detect(self, content: Content) -> Sequence[Signal]:
        if not content.text or not content.text.strip():
            return []
        return classification_signals(self.classifier.classify(content.text, content.language), self.name)


def classification_signals(result: TextClassification, detector: str = TextDetector.name) -> list[Signal]:
    """One ``classifier`` signal per category of ``result`` and one ``context`` signal per frame (its
    ``label``; each piece of evidence names the categories it qualifies); ``vigil classify`` prints
    the same ones."""
    signals: list[Signal] = []
    for finding in result.findings:
        evidence = finding.evidence
        if result.truncated:
            evidence = (*evidence, Evidence(0, 0, "truncated", "only the start of a very long text was read"))
        signals.append(
            Signal(
                detector=detector,
                kind=SignalKind.CLASSIFIER,
                category=finding.category,
                score=finding.score,
                label=finding.label,
                language=result.language,
                evidence=evidence,
            )
        )
    for context in result.contexts:
        qualifies = ", ".join(category.value for category in context.categories)
        signals.append(
            Signal(
                detector=detector,
                kind=SignalKind.CONTEXT,
                category=None,
                score=1.0,  # a phrase that marks the frame is in the text
                label=context.frame.value,
                language=result.language,
                evidence=tuple(
                    Evidence(e.start, e.end, e.text, f"{e.note} (qualifies {qualifies})")
                    for e in context.evidence
                ),
            )
        )
    return signals
