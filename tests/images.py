"""Photo-like test images, generated (the repository ships no image files).

The generator is the demo platform's (``vigil/demo/pictures.py``), so that the pictures the demo posts
and the ones the tests match are made the same way.
"""

from __future__ import annotations

import io

from PIL import Image

from vigil.demo.pictures import Rgb, load_font, photo_like

__all__ = ["Rgb", "encode", "load_font", "photo_like"]


def encode(image: Rgb | Image.Image, fmt: str, **options: object) -> bytes:
    img = image if isinstance(image, Image.Image) else Image.fromarray(image)
    out = io.BytesIO()
    img.save(out, fmt, **options)
    return out.getvalue()
