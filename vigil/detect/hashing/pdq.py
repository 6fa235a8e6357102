"""PDQ perceptual hashes of images, and the bounded decoding in front of them.

PDQ (Meta's photo hash; docs/media-matching.md) turns an image into 256 bits that change
little when the image is resized, re-compressed, lightly edited or turned grey; two images match
when the Hamming distance between their hashes is at most a threshold (the industry default is 31).
The hash itself comes from the ``pdqhash`` package (bindings to Meta's reference C++): Vigil does
not re-implement it, so its hashes are the ones partners' hash lists were made with.

This module does three things around it:

* :func:`decode_image` turns untrusted bytes into pixels under explicit limits (:class:`ImageLimits`)
  and refuses everything else with an :class:`ImageRefusedError` that says why. Image decoders are
  the most attacked code a moderation system runs, so the checks that cost nothing (file size,
  declared pixel count, format) come before any pixel is decoded.
* :func:`pdq_hash` and :func:`pdq_dihedral` hash pixels. A query is matched with all eight of its
  dihedral hashes, which catches mirrored and rotated copies at no extra cost (PDQ computes the
  eight together from one DCT).
* :func:`pdq_crop_variants` gives the extra hashes a bank that holds the media itself stores, so
  that copies with a border cropped off still match. PDQ alone does not survive crops: removing 5%
  of each border moves the hash ~80 bits away, far beyond 31 (``bench/RESULTS.md``).

A hash whose quality is below :data:`DEFAULT_QUALITY_THRESHOLD` is not matched: PDQ's quality
measures how much structure the image has, and a flat or tiny image hashes to bits that are
mostly noise, so its matches would be chance.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
import pdqhash
from PIL import Image

RgbImage = npt.NDArray[np.uint8]
"""An image as Vigil hashes it: shape (height, width, 3), RGB, ``uint8``."""

DEFAULT_QUALITY_THRESHOLD = 50
"""PDQ hashes of lower quality (0-100) are not matched (``Settings.pdq_quality_threshold``)."""

HASH_SIDE = 1024
"""Images at least twice this long (on their longer side) are shrunk by a whole factor before hashing,
to no less than this.

PDQ reduces every image to 64x64 luminance before its DCT, so hashing a 24-megapixel photo spends
nearly all its time (and 576 MB of float buffers inside ``pdqhash``; 1.5 GB at 64 megapixels) on
pixels that are averaged away. Shrinking by a whole factor (JPEGs decoded at 1/2, 1/4 or 1/8 scale, other formats
averaged over 2x2, 3x3 ... blocks) kept the hash 0-3.8 bits from the full-size hash on average (at
most 6) on generated photos of 2 to 24 megapixels, and hashed a 24-megapixel JPEG 9-10 times faster
(``bench/RESULTS.md``). Resizing to an exact 1536 on the longer side moved the hash more (2.4-4.8
bits on average, at most 8), and shrinking further (``shrink_to=512``) more still (3.4-6.4, at most 10).
"""

RefusalReason = Literal["too_large", "too_many_pixels", "unsupported_format", "not_an_image"]


class ImageRefusedError(ValueError):
    """Bytes that Vigil will not decode as an image, and why (``reason``).

    ``reason`` is one of:

    * ``too_large``: the file is larger than :attr:`ImageLimits.max_bytes`;
    * ``too_many_pixels``: it declares more pixels than :attr:`ImageLimits.max_pixels` (a
      decompression bomb: a small file that would expand to gigabytes of pixels);
    * ``unsupported_format``: an image, but not in :attr:`ImageLimits.formats`;
    * ``not_an_image``: empty, not an image at all, or truncated or corrupt.

    The message names the limit, so whoever reads it knows what would have been accepted.
    """

    def __init__(self, reason: RefusalReason, message: str) -> None:
        super().__init__(message)
        self.reason: RefusalReason = reason


@dataclass(frozen=True, slots=True)
class ImageLimits:
    """What :func:`decode_image` accepts.

    ``formats`` are Pillow's format names. Each allowed format is one more decoder facing untrusted
    bytes, so the list is the formats people actually post, not everything Pillow can read.
    """

    max_bytes: int = 50 * 1024 * 1024
    max_pixels: int = 64_000_000
    formats: frozenset[str] = frozenset({"JPEG", "PNG", "GIF", "WEBP", "BMP", "TIFF"})

    def __post_init__(self) -> None:
        if self.max_bytes <= 0 or self.max_pixels <= 0:
            raise ValueError("ImageLimits.max_bytes and max_pixels must be positive")


DEFAULT_LIMITS = ImageLimits()

# Formats Pillow reports under another name for what people know as an allowed format: phone cameras
# write MPO files, which are JPEGs carrying extra pictures (a depth map, a preview).
_FORMAT_ALIASES = {"MPO": "JPEG"}

# Modes that carry an alpha channel; palette and greyscale images may also carry a transparent
# colour in ``info["transparency"]``.
_ALPHA_MODES = frozenset({"RGBA", "RGBa", "LA", "La", "PA"})


def decode_image(
    data: bytes, limits: ImageLimits = DEFAULT_LIMITS, *, shrink_to: int | None = HASH_SIDE
) -> RgbImage:
    """The pixels of the image in ``data``: an (height, width, 3) ``uint8`` RGB array.

    Refuses with :class:`ImageRefusedError` anything outside ``limits``, checked before any pixel is
    decoded: the file size first, then the format and the pixel count from the header. Pillow's own
    decompression-bomb guard (``Image.MAX_IMAGE_PIXELS``) is a process-wide setting any library can
    change or switch off, so Vigil checks its own limit; Pillow's still applies where it is lower.

    The result is what a viewer sees: the first frame of an animation, turned upright by its EXIF
    orientation, transparent areas over white. An image at least twice ``shrink_to`` on its longer
    side is shrunk by a whole factor, to no less than ``shrink_to`` (see :data:`HASH_SIDE`);
    ``shrink_to=None`` keeps the full size. The array is read-only.
    """
    accepted = ", ".join(sorted(limits.formats))
    if not data:
        raise ImageRefusedError("not_an_image", "the file is empty (0 bytes)")
    if len(data) > limits.max_bytes:
        raise ImageRefusedError(
            "too_large",
            f"the file is {len(data):,} bytes; images of at most {limits.max_bytes:,} bytes are accepted",
        )

    # Image.open reads only the header: no pixel is decoded until load().
    try:
        img = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as exc:
        raise _too_many_pixels(None, limits) from exc
    except Exception as exc:  # Pillow's header parsers raise many types on hostile input
        if isinstance(exc, MemoryError):
            raise
        raise ImageRefusedError(
            "not_an_image", f"not an image Vigil can read (accepted formats: {accepted})"
        ) from exc

    with img:
        fmt = _FORMAT_ALIASES.get(img.format or "", img.format or "unknown")
        if fmt not in limits.formats:
            raise ImageRefusedError(
                "unsupported_format", f"{fmt} images are not accepted (accepted formats: {accepted})"
            )
        width, height = img.size
        if width <= 0 or height <= 0:
            raise ImageRefusedError("not_an_image", f"the image declares no pixels ({width}x{height})")
        pillow_limit = Image.MAX_IMAGE_PIXELS
        if width * height > limits.max_pixels or (pillow_limit and width * height > pillow_limit):
            raise _too_many_pixels((width, height), limits)

        orientation = _exif_orientation(img)
        factor = _shrink_factor(img.size, shrink_to)
        if factor > 1 and fmt == "JPEG":
            # JPEG decodes at 1/2, 1/4 or 1/8 scale for a fraction of the time and memory; Pillow
            # picks the largest of those that keeps the picture at least this large.
            img.draft(None, (-(-width // factor), -(-height // factor)))
        try:
            img.load()
            rgb = _to_rgb(img)
        except Image.DecompressionBombError as exc:
            raise _too_many_pixels((width, height), limits) from exc
        except Exception as exc:  # decoders raise OSError, SyntaxError, ValueError, zlib.error ...
            if isinstance(exc, MemoryError):
                raise
            raise ImageRefusedError(
                "not_an_image", f"the {fmt} image could not be decoded (truncated or corrupt): {exc}"
            ) from exc

    factor = _shrink_factor(rgb.size, shrink_to)  # what JPEG's scaling left to do, or all of it
    if factor > 1:
        rgb = rgb.reduce(factor)
    if orientation in _ORIENTATION_FIX:
        rgb = rgb.transpose(_ORIENTATION_FIX[orientation])
    return np.asarray(rgb, dtype=np.uint8)


def _too_many_pixels(size: tuple[int, int] | None, limits: ImageLimits) -> ImageRefusedError:
    declared = (
        f"declares {size[0]}x{size[1]} = {size[0] * size[1]:,} pixels" if size else "declares too many pixels"
    )
    return ImageRefusedError(
        "too_many_pixels",
        f"the image {declared}; at most {limits.max_pixels:,} are accepted (a decompression bomb?)",
    )


# EXIF orientation -> the transposition that turns the stored pixels upright (as Pillow's
# ImageOps.exif_transpose does; done by hand because the EXIF block does not survive conversions).
_ORIENTATION_FIX = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def _exif_orientation(img: Image.Image) -> int:
    """The EXIF orientation tag (1 = upright), or 1 when there is none or the EXIF is unreadable."""
    try:
        value = img.getexif().get(0x0112, 1)
    except Exception:  # a broken EXIF block is no reason to refuse the picture
        return 1
    return value if isinstance(value, int) else 1


def _shrink_factor(size: tuple[int, int], shrink_to: int | None) -> int:
    """The whole factor that shrinks ``size`` the most while its longer side stays >= ``shrink_to``."""
    if shrink_to is None:
        return 1
    return max(1, max(size) // shrink_to)


def _to_rgb(img: Image.Image) -> Image.Image:
    """``img`` (its current, i.e. first, frame) as 8-bit RGB, whatever its mode."""
    if img.mode == "RGB" and "transparency" not in img.info:
        return img
    if img.mode in _ALPHA_MODES or "transparency" in img.info:
        # Transparent pixels still hold colour values nobody sees (often black, sometimes anything
        # the author put there); hash what is shown on a white page instead.
        rgba = img.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    if img.mode.startswith("I") or img.mode == "F":
        # 16-bit and float greyscale (PNG, TIFF): Pillow's convert() clips to 0..255 instead of
        # rescaling, which would turn most 16-bit images white.
        grey = np.asarray(img, dtype=np.float32)
        if img.mode.startswith("I;16") or (img.mode == "I" and grey.max(initial=0) > 255):
            grey = grey / 257.0
        elif img.mode == "F" and grey.max(initial=0) <= 1.0:
            grey = grey * 255.0
        grey8 = np.clip(np.rint(grey), 0, 255).astype(np.uint8)
        return Image.fromarray(grey8).convert("RGB")
    return img.convert("RGB")  # palette, greyscale, 1-bit, CMYK, YCbCr


@dataclass(frozen=True, slots=True)
class PdqHash:
    """A PDQ hash (64 lower-case hex characters) and the quality (0-100) PDQ gave it."""

    value: str
    quality: int

    def is_matchable(self, quality_threshold: int = DEFAULT_QUALITY_THRESHOLD) -> bool:
        return self.quality >= quality_threshold

    def unmatchable_reason(self, quality_threshold: int = DEFAULT_QUALITY_THRESHOLD) -> str | None:
        """Why this hash is not matched, or None when it is."""
        if self.is_matchable(quality_threshold):
            return None
        return (
            f"PDQ quality {self.quality} is below {quality_threshold}: the image is too flat or too "
            "small for its hash to be matched reliably"
        )


def pdq_hash(image: RgbImage) -> PdqHash:
    """The PDQ hash of an (height, width, 3) ``uint8`` RGB image."""
    bits, quality = pdqhash.compute(_checked(image))
    return PdqHash(_to_hex(bits), int(quality))


def pdq_dihedral(image: RgbImage) -> tuple[PdqHash, ...]:
    """The eight PDQ hashes of ``image`` turned and flipped, the original's first.

    The order is ``pdqhash``'s: original, rotated 90°, 180°, 270°, flipped vertically, flipped
    horizontally, rotated 90° and flipped vertically, rotated 90° and flipped horizontally. Matching
    a query with all eight against a bank's hashes catches mirrored and rotated copies.
    """
    vectors, quality = pdqhash.compute_dihedral(_checked(image))
    return tuple(PdqHash(_to_hex(bits), int(quality)) for bits in vectors)


@dataclass(frozen=True, slots=True)
class Crop:
    """A crop as the fractions of the width (``left``, ``right``) and height cut off each border."""

    left: float
    top: float
    right: float
    bottom: float

    def apply(self, image: RgbImage) -> RgbImage:
        height, width = image.shape[:2]
        top, bottom = round(height * self.top), height - round(height * self.bottom)
        left, right = round(width * self.left), width - round(width * self.right)
        return image[top:bottom, left:right]


def _centre(fraction: float) -> Crop:
    return Crop(fraction, fraction, fraction, fraction)


DEFAULT_CROPS: tuple[Crop, ...] = (
    *(_centre(f) for f in (0.025, 0.05, 0.075, 0.10)),
    *(Crop(f, 0, 0, 0) for f in (0.05, 0.10)),
    *(Crop(0, f, 0, 0) for f in (0.05, 0.10)),
    *(Crop(0, 0, f, 0) for f in (0.05, 0.10)),
    *(Crop(0, 0, 0, f) for f in (0.05, 0.10)),
)
"""The crops whose hashes a bank that holds the media stores (12: ``pdq_crop_variants``).

Chosen by measurement (``bench/robustness.py`` on 200 generated photos, JPEG-compressed after the
crop): a PDQ hash tolerates about 1.5% of the width more or less on a border. The centre crops of
2.5-10% in steps of 2.5% make crops of 3%, 5% and 8% off every border match 100%, 100% and 99% of
the time (without them: 4%, 0%, 0%). The one-sided crops of 5% and 10% catch a strip cut off one
side (a caption, a watermark) of about those widths (100%), but a 7% strip only 75% of the time;
one-sided 7.5% crops (4 more hashes) would close that gap. Uneven crops (a different amount off each
border) are mostly still missed (0-5% each: 54%; 0-10%: 12%): covering them would take hundreds of
hashes per image. No unrelated image came within 31 bits of any of these hashes: over 2,000
unrelated images against 200 banked with their variants, the nearest was 58 bits away (74 without
the variants).
"""


def pdq_crop_variants(image: RgbImage, crops: tuple[Crop, ...] = DEFAULT_CROPS) -> tuple[PdqHash, ...]:
    """The PDQ hashes of ``image`` with its borders cropped, one per crop in ``crops``.

    These are extra hashes for a bank built from the media itself (``vigil bank add --media``):
    stored beside the image's own hash, they let copies with a border cropped off match. They are of
    no use for hash lists received from partners, who share hashes, not media. The query side needs
    nothing extra: its dihedral hashes also meet the crops of mirrored or rotated copies.
    """
    checked = _checked(image)
    return tuple(pdq_hash(np.ascontiguousarray(crop.apply(checked))) for crop in crops)


def hamming(a_hex: str, b_hex: str) -> int:
    """The number of bits in which two hex hashes of the same length differ."""
    if len(a_hex) != len(b_hex):
        raise ValueError(f"hashes of different lengths ({len(a_hex)} and {len(b_hex)} hex characters)")
    return (int(a_hex, 16) ^ int(b_hex, 16)).bit_count()


def _checked(image: RgbImage) -> RgbImage:
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f"expected an (height, width, 3) uint8 RGB array, got {image.shape} {image.dtype}")
    if image.shape[0] == 0 or image.shape[1] == 0:
        raise ValueError(f"cannot hash an image with no pixels ({image.shape[1]}x{image.shape[0]})")
    return image


def _to_hex(bits: npt.NDArray[np.integer]) -> str:
    # pdqhash gives the 256 bits most significant first, the order of PDQ's reference hex form.
    return np.packbits(np.asarray(bits, dtype=np.uint8)).tobytes().hex()
