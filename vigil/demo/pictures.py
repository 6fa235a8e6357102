"""Photo-like pictures for the demo platform: generated from a seed, never real material.

The generator makes what PDQ needs to hash an image well (smooth colour fields, a gradient, shapes,
a word of text, grain), so a banked picture and its edited copies match the way real photos do,
while flat colours would not (PDQ gives them a low quality and Vigil does not match those). The
tests draw their images from the same generator.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageDraw, ImageFont, ImageOps

WORDS = ("vigil", "river", "stone", "market", "amber", "delta", "zebra", "harbour", "31", "node")
PHOTO_SIZES = (320, 384, 448, 512)  # small, so that posting a picture stays fast
ASPECTS = ((4, 3), (3, 4), (1, 1), (16, 9))  # width : height of a posted photo
POSTED_QUALITY = 85  # a messenger's usual JPEG quality
BANKED_SIZE = 512

Rgb = npt.NDArray[np.uint8]


@functools.cache
def load_font(pixels: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """Pillow's built-in font at ``pixels`` (no font file needed)."""
    return ImageFont.load_default(size=pixels)


@functools.cache
def _ramps(size: int) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    rows, cols = np.mgrid[0:size, 0:size].astype(np.float32) / size
    return cols, rows


def photo_like(seed: int, size: int = 512) -> Rgb:
    """A seeded, photo-like RGB image: a smooth colour field with a gradient, shapes, a word, grain."""
    rng = np.random.default_rng(seed)
    cells = int(rng.integers(3, 7))
    coarse = rng.integers(0, 256, (cells, cells, 3), dtype=np.uint8)
    field = np.asarray(Image.fromarray(coarse).resize((size, size), Image.Resampling.BICUBIC), np.float32)
    cols, rows = _ramps(size)
    angle = rng.uniform(0, 2 * np.pi)
    slope = rng.uniform(-80, 80, 3).astype(np.float32)
    field += (np.cos(angle) * cols + np.sin(angle) * rows)[..., None] * slope
    field += rng.integers(-10, 11, (size, size, 1), dtype=np.int8)  # grain
    img = Image.fromarray(np.clip(field, 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(img)
    for _ in range(int(rng.integers(3, 9))):
        x, y = (int(v) for v in rng.integers(0, size, 2))
        w, h = (int(v) for v in rng.integers(size // 10, size // 2, 2))
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        kind = int(rng.integers(3))
        if kind == 0:
            draw.ellipse((x, y, x + w, y + h), fill=colour)
        elif kind == 1:
            draw.rectangle((x, y, x + w, y + h), fill=colour)
        else:
            draw.polygon([tuple(int(v) for v in rng.integers(0, size, 2)) for _ in range(3)], fill=colour)
    draw.text(
        (int(rng.integers(0, size // 2)), int(rng.integers(0, size - size // 8))),
        str(rng.choice(WORDS)),
        fill=tuple(int(c) for c in rng.integers(0, 256, 3)),
        font=load_font(max(10, size // 10)),
    )
    return np.asarray(img)


def encode_jpeg(image: Rgb | Image.Image, quality: int = POSTED_QUALITY) -> bytes:
    """``image`` as JPEG bytes (deterministic for the same pixels and Pillow version)."""
    img = image if isinstance(image, Image.Image) else Image.fromarray(image)
    out = io.BytesIO()
    img.save(out, "JPEG", quality=quality)
    return out.getvalue()


def fresh_photo(seed: int) -> bytes:
    """A new photo as a user posts it: a size and aspect of a phone picture, JPEG-compressed."""
    rng = np.random.default_rng(seed)
    size = int(rng.choice(PHOTO_SIZES))
    wide, high = ASPECTS[int(rng.integers(len(ASPECTS)))]
    width, height = (size, size * high // wide) if wide >= high else (size * wide // high, size)
    return encode_jpeg(photo_like(seed, size)[:height, :width])


def banked_original(seed: int) -> bytes:
    """A picture as a hash bank holds it; posting these exact bytes is an exact copy."""
    return encode_jpeg(photo_like(seed, BANKED_SIZE), quality=90)


def _crop(left: float, top: float, right: float, bottom: float) -> Callable[[Image.Image], Image.Image]:
    def apply(img: Image.Image) -> Image.Image:
        width, height = img.size
        box = (
            round(width * left),
            round(height * top),
            width - round(width * right),
            height - round(height * bottom),
        )
        return img.crop(box)

    return apply


def _resize(fraction: float) -> Callable[[Image.Image], Image.Image]:
    def apply(img: Image.Image) -> Image.Image:
        width, height = img.size
        return img.resize((round(width * fraction), round(height * fraction)), Image.Resampling.BILINEAR)

    return apply


def _unchanged(img: Image.Image) -> Image.Image:
    return img


def _mirrored_smaller(img: Image.Image) -> Image.Image:
    return _resize(0.75)(ImageOps.mirror(img))


@dataclass(frozen=True, slots=True)
class Edit:
    """An everyday change a re-uploader makes to a picture; ``label`` says which, for the dashboard."""

    label: str
    apply: Callable[[Image.Image], Image.Image]
    quality: int = POSTED_QUALITY  # of the JPEG the edited copy is saved as


EDITS: tuple[Edit, ...] = (
    # crops are matched by the cropped-variant hashes a bank built from the media stores
    # (detect/hashing/pdq.py DEFAULT_CROPS), flips and rotations by the query's dihedral hashes
    Edit("crop 5%", _crop(0.05, 0.05, 0.05, 0.05)),
    Edit("crop 10% off the bottom", _crop(0, 0, 0, 0.10)),
    Edit("mirrored", ImageOps.mirror),
    Edit("rotated 90°", lambda img: img.rotate(90, expand=True)),
    Edit("JPEG q40", _unchanged, quality=40),
    Edit("resized 60%", _resize(0.6)),
    Edit("mirrored, resized 75%, JPEG q60", _mirrored_smaller, quality=60),
)
"""Edits after which PDQ still matches the copy (within distance 31 of the bank's hashes). The worst
distance over 40 generated pictures: crops 4 bits, JPEG q40 8, resizing 18, mirroring and rotation
26 (the dihedral hashes of a flipped picture are close to the original's, not equal: 8-26 bits).
tests/api/test_demo_corpus.py checks every edit of every banked picture."""


def edited_copy(original: bytes, edit: Edit) -> bytes:
    """``original`` (JPEG bytes) with ``edit`` applied, saved again as JPEG."""
    with Image.open(io.BytesIO(original)) as img:
        return encode_jpeg(edit.apply(img.convert("RGB")), edit.quality)
