"""Photo-like test images, generated (the repository ships no image files)."""

from __future__ import annotations

import functools
import io

import numpy as np
from PIL import Image, ImageDraw, ImageFont

WORDS = ("vigil", "river", "stone", "market", "amber", "delta", "zebra", "harbour", "31", "node")

Rgb = np.ndarray


@functools.cache
def load_font(pixels: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=pixels)


@functools.cache
def _ramps(size: int) -> tuple[np.ndarray, np.ndarray]:
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


def encode(image: Rgb | Image.Image, fmt: str, **options: object) -> bytes:
    img = image if isinstance(image, Image.Image) else Image.fromarray(image)
    out = io.BytesIO()
    img.save(out, fmt, **options)
    return out.getvalue()
