"""False positives of the image signals on pictures that only look like what they detect.

    .venv/bin/python bench/image_lookalikes.py [--per-kind 60] [--seed 7]

The nudity model (NudeNet, ``vigil/detect/image/nudity.py``) and the invisible-watermark reader
(``vigil/detect/provenance/watermark.py``, which says "AI-generated") run on images made here, by
code, for the test: nothing is downloaded and no photograph of a person is used. The kinds are the
look-alikes a platform sees every day that can be drawn without a camera or a generator:

- ``skin_gradient``: smooth fields in human skin tones (a close-up of a wall, a blurred photo);
- ``skin_objects``: rounded skin-coloured objects on a background (bread rolls, peaches, pebbles);
- ``skin_texture``: grainy skin-toned textures (sand, wood, leather, clay);
- ``painted_figures``: abstract "paintings" of skin-toned limbs and torsos: ellipses and strokes
  with shading, the way art and anatomy sketches are made of shapes.

The table gives, per kind, the share of images with a nudity signal at all (the detector reports from
0.4), from 0.6 and from 0.9 (where ``adult-nudity-public`` would restrict), with Wilson intervals,
and the share the watermark reader calls AI-generated. Art photographs, medical images, swimwear
and breastfeeding cannot be drawn by code with any realism; they are not measured here.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import numpy.typing as npt

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from vigil.detect.image.nudity import detect_nudity, nudity_available  # noqa: E402
from vigil.detect.provenance.watermark import read_watermark  # noqa: E402
from vigil.evaluate import wilson  # noqa: E402

Image = npt.NDArray[np.uint8]
SIDE = 512
# RGB skin tones from light to dark
SKIN = np.array(
    [
        [255, 224, 196],
        [241, 194, 167],
        [224, 172, 138],
        [198, 134, 103],
        [161, 102, 74],
        [114, 72, 52],
        [80, 51, 38],
    ],
    dtype=np.float64,
)


def _tone(rng: np.random.Generator) -> npt.NDArray[np.float64]:
    a, b = rng.integers(0, len(SKIN), 2)
    mix = rng.random()
    result: npt.NDArray[np.float64] = SKIN[a] * mix + SKIN[b] * (1 - mix)
    return result


def _grid() -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    y, x = np.mgrid[0:SIDE, 0:SIDE].astype(np.float64) / SIDE
    return y, x


def skin_gradient(rng: np.random.Generator) -> Image:
    y, x = _grid()
    start, end = _tone(rng), _tone(rng)
    angle = rng.random() * np.pi
    t = np.clip((x * np.cos(angle) + y * np.sin(angle)) / 1.5 + 0.2, 0, 1)[..., None]
    return np.clip(start * (1 - t) + end * t, 0, 255).astype(np.uint8)


def _ellipse(
    canvas: npt.NDArray[np.float64], rng: np.random.Generator, colour: npt.NDArray[np.float64]
) -> None:
    y, x = _grid()
    cy, cx = rng.random(2)
    ry, rx = 0.05 + rng.random(2) * 0.25
    angle = rng.random() * np.pi
    dx, dy = x - cx, y - cy
    u = (dx * np.cos(angle) + dy * np.sin(angle)) / rx
    v = (-dx * np.sin(angle) + dy * np.cos(angle)) / ry
    r = u * u + v * v
    inside = r <= 1
    shade = (1.15 - 0.35 * r)[..., None]  # lit from the centre: a rounded body
    canvas[inside] = np.clip(colour * shade, 0, 255)[inside]


def skin_objects(rng: np.random.Generator) -> Image:
    background = rng.integers(0, 256, 3).astype(np.float64)
    canvas = np.tile(background, (SIDE, SIDE, 1))
    for _ in range(int(rng.integers(2, 7))):
        _ellipse(canvas, rng, _tone(rng))
    return canvas.astype(np.uint8)


def skin_texture(rng: np.random.Generator) -> Image:
    base = np.tile(_tone(rng), (SIDE, SIDE, 1))
    coarse = rng.normal(0, 1, (SIDE // 16, SIDE // 16, 1)).repeat(16, 0).repeat(16, 1)
    fine = rng.normal(0, 1, (SIDE, SIDE, 1))
    return np.clip(base + coarse * 14 + fine * 10, 0, 255).astype(np.uint8)


def painted_figures(rng: np.random.Generator) -> Image:
    canvas = np.tile(rng.integers(30, 230, 3).astype(np.float64), (SIDE, SIDE, 1))
    tone = _tone(rng)
    for _ in range(int(rng.integers(4, 9))):  # a torso, limbs, a head: shapes of one tone
        _ellipse(canvas, rng, tone * (0.85 + 0.3 * rng.random()))
    strokes = rng.normal(0, 6, canvas.shape)
    return np.clip(canvas + strokes, 0, 255).astype(np.uint8)


KINDS: dict[str, Callable[[np.random.Generator], Image]] = {
    "skin_gradient": skin_gradient,
    "skin_objects": skin_objects,
    "skin_texture": skin_texture,
    "painted_figures": painted_figures,
}


def share(hits: int, n: int) -> str:
    low, high = wilson(hits, n)
    return f"{hits}/{n} = {hits / n:.2f} [{low:.2f}-{high:.2f}]"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--per-kind", type=int, default=60)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    if not nudity_available():
        print("error: the nudity model is not installed (pip install 'vigil[media]')", file=sys.stderr)
        return 2
    rng = np.random.default_rng(args.seed)
    print(f"{args.per_kind} images per kind, {SIDE}x{SIDE}, seed {args.seed}")
    print(
        f"{'kind':<16} {'nudity signal (>= 0.4)':<28} {'>= 0.6':<28} {'>= 0.9 (would restrict)':<28} {'AI watermark':<22} max score"
    )
    totals = [0, 0, 0, 0, 0]
    for name, make in KINDS.items():
        counts = [0, 0, 0, 0]
        top = 0.0
        for _ in range(args.per_kind):
            image = make(rng)
            best = max((d.score for d in detect_nudity(image)), default=0.0)
            top = max(top, best)
            counts[0] += best > 0.0
            counts[1] += best >= 0.6
            counts[2] += best >= 0.9
            counts[3] += read_watermark(image) is not None
        n = args.per_kind
        for i in range(4):
            totals[i] += counts[i]
        totals[4] += n
        print(
            f"{name:<16} {share(counts[0], n):<28} {share(counts[1], n):<28} {share(counts[2], n):<28} "
            f"{share(counts[3], n):<22} {top:.2f}"
        )
    n = totals[4]
    print(
        f"{'all':<16} {share(totals[0], n):<28} {share(totals[1], n):<28} {share(totals[2], n):<28} "
        f"{share(totals[3], n):<22}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
