"""PDQ: a banked image is still found after everyday edits, unrelated images are not, bad files are refused.

The images are generated (seeded), photo-like enough for PDQ: smooth colour fields, shapes, a word
of text and grain. Flat colours would not do: PDQ gives them a low quality and Vigil does not
match those.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest
from PIL import Image, ImageDraw

from tests.images import encode, load_font, photo_like
from vigil.detect.hashing.pdq import (
    DEFAULT_CROPS,
    DEFAULT_QUALITY_THRESHOLD,
    ImageLimits,
    ImageRefusedError,
    PdqHash,
    decode_image,
    hamming,
    pdq_crop_variants,
    pdq_dihedral,
    pdq_hash,
)

MATCH_THRESHOLD = 31  # the industry default PDQ distance, and a new bank's default
Rgb = np.ndarray


# --- everyday edits ---------------------------------------------------------------------------------


def half_size(image: Rgb) -> Rgb:
    h, w = image.shape[:2]
    return np.asarray(Image.fromarray(image).resize((w // 2, h // 2), Image.Resampling.BILINEAR))


def jpeg_q70(image: Rgb) -> Rgb:
    return decode_image(encode(image, "JPEG", quality=70))


def watermarked(image: Rgb) -> Rgb:
    """A handle in the bottom-right corner: white text 4% of the height, 60% opaque."""
    base = Image.fromarray(image).convert("RGBA")
    layer = Image.new("RGBA", base.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    font = load_font(max(8, base.height * 4 // 100))
    width = draw.textlength("@vigil", font=font)
    margin = base.width * 3 // 100
    xy = (int(base.width - width - margin), int(base.height - base.height * 6 // 100 - margin))
    draw.text(xy, "@vigil", fill=(255, 255, 255, 153), font=font)
    return np.asarray(Image.alpha_composite(base, layer).convert("RGB"))


def greyscale(image: Rgb) -> Rgb:
    return np.asarray(Image.fromarray(image).convert("L").convert("RGB"))


def mirrored(image: Rgb) -> Rgb:
    return np.ascontiguousarray(image[:, ::-1])


def rotated_90(image: Rgb) -> Rgb:
    return np.ascontiguousarray(np.rot90(image))


def border_cropped(fraction: float, sides: str = "ltrb") -> Callable[[Rgb], Rgb]:
    def crop(image: Rgb) -> Rgb:
        h, w = image.shape[:2]
        dy, dx = round(h * fraction), round(w * fraction)
        top, bottom = (dy if "t" in sides else 0), h - (dy if "b" in sides else 0)
        left, right = (dx if "l" in sides else 0), w - (dx if "r" in sides else 0)
        return np.ascontiguousarray(image[top:bottom, left:right])

    return crop


def distance_to_bank(query: Rgb, bank: list[PdqHash]) -> int:
    """How a query meets a bank: the nearest of the query's eight dihedral hashes to any bank hash."""
    return min(hamming(q.value, b.value) for q in pdq_dihedral(query) for b in bank)


BANK_SEEDS = range(1000, 1006)


@dataclass(frozen=True)
class Banked:
    image: Rgb
    hash: PdqHash
    crop_variants: tuple[PdqHash, ...]


@pytest.fixture(scope="module")
def bank() -> list[Banked]:
    images = [photo_like(seed) for seed in BANK_SEEDS]
    return [Banked(image, pdq_hash(image), pdq_crop_variants(image)) for image in images]


@pytest.mark.parametrize(
    "edit",
    [half_size, jpeg_q70, watermarked, greyscale, mirrored, rotated_90],
    ids=lambda edit: edit.__name__,
)
def test_a_banked_image_is_still_matched_after_an_everyday_edit(
    bank: list[Banked], edit: Callable[[Rgb], Rgb]
) -> None:
    for banked in bank:
        assert banked.hash.quality >= DEFAULT_QUALITY_THRESHOLD
        assert distance_to_bank(edit(banked.image), [banked.hash]) <= MATCH_THRESHOLD


@pytest.mark.parametrize(
    "crop",
    [border_cropped(0.05), border_cropped(0.03), border_cropped(0.08), border_cropped(0.05, "b")],
    ids=["5% each border", "3% each border", "8% each border", "5% off the bottom"],
)
def test_a_border_crop_is_matched_by_the_banks_crop_variants_and_missed_without_them(
    bank: list[Banked], crop: Callable[[Rgb], Rgb]
) -> None:
    for banked in bank:
        query = jpeg_q70(crop(banked.image))
        assert distance_to_bank(query, [banked.hash]) > MATCH_THRESHOLD
        assert distance_to_bank(query, [banked.hash, *banked.crop_variants]) <= MATCH_THRESHOLD


def test_unrelated_images_do_not_match_a_bank_with_crop_variants() -> None:
    """1,000 unrelated images (all eight dihedral hashes each) against 100 banked images x 13 hashes."""
    bank: list[PdqHash] = []
    for seed in range(100):
        image = photo_like(seed, 128)
        bank += [pdq_hash(image), *pdq_crop_variants(image)]
    queries = [h for seed in range(50_000, 51_000) for h in pdq_dihedral(photo_like(seed, 128))]
    assert len(bank) == 100 * (1 + len(DEFAULT_CROPS))
    assert len(queries) == 8_000

    # all 10.4 million distances at once: |a xor b| = |a| + |b| - 2 a.b over the 256 bits
    a, b = _bits(queries), _bits(bank)
    distances = a.sum(1)[:, None] + b.sum(1)[None, :] - 2 * (a @ b.T)
    nearest = int(distances.min())
    assert nearest > MATCH_THRESHOLD, f"an unrelated image came within {nearest} bits of a banked one"


def _bits(hashes: list[PdqHash]) -> np.ndarray:
    packed = np.frombuffer(bytes.fromhex("".join(h.value for h in hashes)), dtype=np.uint8)
    return np.unpackbits(packed).reshape(len(hashes), 256).astype(np.float32)


# --- the hashes themselves --------------------------------------------------------------------------


def test_a_flat_image_gets_a_low_quality_and_is_not_matchable() -> None:
    flat = np.full((256, 256, 3), (40, 120, 200), dtype=np.uint8)
    found = pdq_hash(flat)
    assert found.quality < DEFAULT_QUALITY_THRESHOLD
    assert not found.is_matchable()
    assert f"quality {found.quality} is below 50" in (found.unmatchable_reason() or "")


def test_a_photo_like_image_is_matchable() -> None:
    found = pdq_hash(photo_like(7, 256))
    assert found.quality >= DEFAULT_QUALITY_THRESHOLD
    assert found.is_matchable()
    assert found.unmatchable_reason() is None


def test_hashes_are_64_lower_case_hex_and_dihedral_starts_with_the_original() -> None:
    image = photo_like(8, 256)
    found = pdq_hash(image)
    dihedral = pdq_dihedral(image)
    assert len(found.value) == 64
    assert found.value == found.value.lower()
    int(found.value, 16)
    assert len(dihedral) == 8
    assert dihedral[0] == found
    assert len(pdq_crop_variants(image)) == len(DEFAULT_CROPS)


def test_hamming_counts_differing_bits() -> None:
    assert hamming("0" * 64, "0" * 64) == 0
    assert hamming("0" * 64, "f" * 64) == 256
    assert hamming("0" * 63 + "1", "0" * 63 + "3") == 1
    with pytest.raises(ValueError, match="different lengths"):
        hamming("00", "000")


def test_pdq_hash_refuses_arrays_that_are_not_rgb_bytes() -> None:
    with pytest.raises(ValueError, match="uint8 RGB"):
        pdq_hash(np.zeros((16, 16), dtype=np.uint8))


# --- decoding ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "options"),
    [("PNG", {}), ("GIF", {}), ("WEBP", {"lossless": True}), ("BMP", {}), ("TIFF", {})],
)
def test_every_lossless_format_decodes_to_the_pixels_saved(fmt: str, options: dict[str, object]) -> None:
    source = Image.fromarray(photo_like(9, 256))
    if fmt == "GIF":
        source = source.convert("P")  # GIF holds 256 colours: compare with what it can hold
    decoded = decode_image(encode(source, fmt, **options))
    assert decoded.dtype == np.uint8
    assert np.array_equal(decoded, np.asarray(source.convert("RGB")))


def test_a_jpeg_decodes_to_nearly_the_same_hash() -> None:
    image = photo_like(9, 256)
    decoded = decode_image(encode(image, "JPEG", quality=95))
    assert decoded.shape == (256, 256, 3)
    assert hamming(pdq_hash(decoded).value, pdq_hash(image).value) <= 8


@pytest.mark.parametrize(
    "convert",
    [
        lambda img: img.convert("RGBA"),
        lambda img: img.convert("P"),
        lambda img: img.convert("L"),
        lambda img: Image.fromarray(np.asarray(img.convert("L")).astype(np.uint16) * 257),
    ],
    ids=["RGBA", "palette", "greyscale", "16-bit greyscale"],
)
def test_other_colour_modes_decode_to_rgb_with_the_same_hash(
    convert: Callable[[Image.Image], Image.Image],
) -> None:
    image = photo_like(10, 256)
    decoded = decode_image(encode(convert(Image.fromarray(image)), "PNG"))
    assert decoded.shape == (256, 256, 3)
    assert hamming(pdq_hash(decoded).value, pdq_hash(greyscale(image)).value) <= 8


def test_a_cmyk_jpeg_decodes_to_rgb() -> None:
    image = photo_like(11, 256)
    decoded = decode_image(encode(Image.fromarray(image).convert("CMYK"), "JPEG", quality=95))
    assert hamming(pdq_hash(decoded).value, pdq_hash(image).value) <= 8


def test_transparent_areas_are_hashed_as_white() -> None:
    rgba = np.zeros((64, 64, 4), dtype=np.uint8)  # fully transparent black
    decoded = decode_image(encode(Image.fromarray(rgba, "RGBA"), "PNG"))
    assert (decoded == 255).all()


def test_an_animated_gif_is_hashed_by_its_first_frame() -> None:
    first = Image.fromarray(photo_like(12, 256)).convert("P")
    other = Image.fromarray(photo_like(13, 256)).convert("P")
    decoded = decode_image(encode(first, "GIF", save_all=True, append_images=[other]))
    assert np.array_equal(decoded, np.asarray(first.convert("RGB")))


@pytest.mark.parametrize(
    ("fmt", "size", "shrunk"),
    [("JPEG", (3000, 2000), (1000, 1500)), ("PNG", (2400, 1600), (800, 1200))],
)
def test_a_large_image_is_shrunk_before_hashing_without_moving_its_hash_much(
    fmt: str, size: tuple[int, int], shrunk: tuple[int, int]
) -> None:
    big = Image.fromarray(photo_like(14, 512)).resize(size, Image.Resampling.BICUBIC)
    data = encode(big, fmt, quality=90) if fmt == "JPEG" else encode(big, fmt, compress_level=1)
    small = decode_image(data)
    full = decode_image(data, shrink_to=None)
    assert small.shape == (*shrunk, 3)  # by a whole factor (2), the longer side still >= 1024
    assert full.shape == (size[1], size[0], 3)
    assert hamming(pdq_hash(small).value, pdq_hash(full).value) <= 8


def test_the_exif_orientation_is_applied() -> None:
    image = photo_like(15, 256)[:, :200]
    exif = Image.Exif()
    exif[0x0112] = 6  # stored rotated: turn 90 degrees clockwise to view
    decoded = decode_image(encode(image, "JPEG", quality=95, exif=exif.tobytes()))
    assert decoded.shape == (200, 256, 3)


# --- refusals ---------------------------------------------------------------------------------------


def _png_declaring(width: int, height: int) -> bytes:
    """A PNG of ~70 bytes whose header declares ``width`` x ``height`` greyscale pixels."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


def _refusal(data: bytes, limits: ImageLimits | None = None) -> ImageRefusedError:
    with pytest.raises(ImageRefusedError) as caught:
        decode_image(data) if limits is None else decode_image(data, limits)
    return caught.value


def test_a_truncated_jpeg_is_not_an_image() -> None:
    data = encode(photo_like(16, 256), "JPEG", quality=90)
    refused = _refusal(data[: len(data) // 2])
    assert refused.reason == "not_an_image"
    assert "truncated" in str(refused)


def test_a_text_file_named_jpg_is_not_an_image() -> None:
    refused = _refusal(b"Dear moderator,\nthis file is called photo.jpg but it is a letter.\n")
    assert refused.reason == "not_an_image"
    assert "JPEG" in str(refused)  # says what would have been accepted


def test_an_empty_file_is_not_an_image() -> None:
    refused = _refusal(b"")
    assert refused.reason == "not_an_image"
    assert "empty" in str(refused)


def test_a_png_decompression_bomb_is_refused_before_decoding() -> None:
    bomb = _png_declaring(100_000, 100_000)
    assert len(bomb) < 100
    refused = _refusal(bomb)
    assert refused.reason == "too_many_pixels"
    assert "64,000,000" in str(refused)


def test_the_pixel_limit_holds_even_with_pillows_own_guard_switched_off(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", None)
    refused = _refusal(_png_declaring(100_000, 100_000))
    assert refused.reason == "too_many_pixels"
    assert "100000x100000" in str(refused)
    refused = _refusal(encode(photo_like(17, 128), "PNG"), ImageLimits(max_pixels=10_000))
    assert refused.reason == "too_many_pixels"
    assert "128x128 = 16,384 pixels" in str(refused)


def test_a_file_over_the_size_limit_is_refused_unread() -> None:
    data = encode(photo_like(18, 128), "PNG")
    refused = _refusal(data, ImageLimits(max_bytes=1_000))
    assert refused.reason == "too_large"
    assert "at most 1,000 bytes" in str(refused)


@pytest.mark.parametrize("fmt", ["PPM", "ICO", "TGA"])
def test_an_image_in_a_format_not_on_the_list_is_refused(fmt: str) -> None:
    refused = _refusal(encode(photo_like(19, 64), fmt))
    assert refused.reason == "unsupported_format"
    assert f"{fmt} images are not accepted" in str(refused)


def test_the_format_list_is_configurable() -> None:
    data = encode(photo_like(20, 64), "BMP")
    assert _refusal(data, ImageLimits(formats=frozenset({"JPEG", "PNG"}))).reason == "unsupported_format"
    assert decode_image(data, ImageLimits(formats=frozenset({"BMP"}))).shape == (64, 64, 3)
