"""Nudity detection with NudeNet's ONNX model.

No nude picture may be committed or downloaded, so these tests cannot show that nudity is found;
they show that clean pictures stay below the floor, that the real model runs and reacts to its
input, that a detection becomes a well-formed signal, and that bad input fails clearly.
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.provenance_fixtures import flat, gradient, photo, shapes_and_text
from vigil.detect.image import nudity
from vigil.detect.image.nudity import (
    CLASSES,
    EXPLICIT_CLASSES,
    PARTIAL_CLASSES,
    SCORE_FLOOR,
    detect_nudity,
    model_input,
    nudity_available,
    nudity_signals,
    raw_scores,
)
from vigil.domain.signals import SignalKind
from vigil.domain.taxonomy import Category

CLEAN = {
    "gradient": gradient(),
    "shapes and text": shapes_and_text(),
    "photo-like noise": photo(512, 512, seed=7),
    "flat skin tone": flat((224, 172, 140)),
    "flat blue": flat((30, 60, 200)),
    "wide banner": photo(200, 1200, seed=8),
}


def _nudity_peak(image: np.ndarray) -> float:
    scores = raw_scores(image)[4:]
    rows = [CLASSES.index(name) for name in EXPLICIT_CLASSES | PARTIAL_CLASSES]
    return float(scores[rows].max())


def test_the_model_ships_with_the_media_extra() -> None:
    assert nudity_available()


@pytest.mark.parametrize("name", CLEAN)
def test_clean_pictures_give_no_nudity_signal(name: str) -> None:
    image = CLEAN[name]
    assert _nudity_peak(image) < SCORE_FLOOR
    assert nudity_signals(image) == []


def test_the_model_really_runs_and_is_deterministic() -> None:
    image = photo(300, 400, seed=1)
    first, second = raw_scores(image), raw_scores(image)
    assert first.shape[0] == 4 + len(CLASSES)
    assert first.shape[1] > 1000
    np.testing.assert_array_equal(first, second)
    skin, blue = raw_scores(flat((224, 172, 140))), raw_scores(flat((30, 60, 200)))
    assert np.abs(skin[4:] - blue[4:]).max() > 1e-3  # the output depends on the pixels


def test_input_is_bounded_whatever_the_picture_size() -> None:
    assert model_input(photo(2048, 1024)).shape == (1, 3, 320, 320)
    assert model_input(photo(7, 3)).shape == (1, 3, 320, 320)


def test_a_detection_becomes_an_adult_nudity_signal_with_a_box(monkeypatch: pytest.MonkeyPatch) -> None:
    # the clean picture's best nudity box scores ~0.05; with the floor at 0 it is reported, which is
    # how the signal's shape is checked without a nude picture
    monkeypatch.setattr(nudity, "SCORE_FLOOR", 0.0)
    image = photo(400, 600, seed=2)
    detections = detect_nudity(image)
    assert {d.label for d in detections} == {"explicit_nudity", "partial_nudity"}
    assert [d.score for d in detections] == sorted((d.score for d in detections), reverse=True)
    for detection in detections:
        assert detection.found_class in (
            EXPLICIT_CLASSES if detection.label == "explicit_nudity" else PARTIAL_CLASSES
        )
        assert 0 <= detection.left <= detection.right <= 1
        assert 0 <= detection.top <= detection.bottom <= 1

    signals = nudity_signals(image)
    assert {s.label for s in signals} == {"explicit_nudity", "partial_nudity"}
    for signal in signals:
        assert (signal.detector, signal.kind, signal.category) == (
            "nudity",
            SignalKind.CLASSIFIER,
            Category.ADULT_NUDITY,
        )
        assert 0 <= signal.score < SCORE_FLOOR
        assert "of the image" in signal.evidence[0].text


@pytest.mark.parametrize(
    "array",
    [
        np.zeros((10, 10), np.uint8),
        np.zeros((10, 10, 4), np.uint8),
        np.zeros((10, 10, 3), np.float32),
        np.zeros((0, 5, 3), np.uint8),
    ],
    ids=["grey", "rgba", "float", "empty"],
)
def test_arrays_that_are_not_rgb_pictures_are_refused(array: np.ndarray) -> None:
    with pytest.raises(ValueError, match="RGB"):
        detect_nudity(array)
