"""Provenance: C2PA manifests, IPTC digital source types, generator watermarks (pictures made by the tests)."""

from __future__ import annotations

import io
import zlib

import pytest
from PIL import Image, PngImagePlugin

from tests.provenance_fixtures import (
    AI_SOURCE,
    CAPTURE_SOURCE,
    embed_watermark,
    encode,
    flat,
    jpeg_with_xmp,
    make_signer_credentials,
    photo,
    sign_c2pa,
    tamper_jpeg_pixels,
    xmp_packet,
)
from vigil.detect.hashing.pdq import RgbImage, decode_image
from vigil.detect.provenance.c2pa import C2paReadError, c2pa_signals, read_manifest
from vigil.detect.provenance.metadata import (
    XmpError,
    digital_source_types,
    find_xmp,
    metadata_signals,
    source_type_label,
)
from vigil.detect.provenance.watermark import KNOWN_MARKS, KnownMark, read_watermark, watermark_signals
from vigil.domain.signals import SignalKind


@pytest.fixture(scope="module")
def credentials() -> tuple[bytes, bytes]:
    return make_signer_credentials("Vigil Test Generator")


@pytest.fixture(scope="module")
def clean_jpeg() -> bytes:
    return encode(photo(256, 256), "JPEG", quality=90)


@pytest.fixture(scope="module")
def ai_signed_jpeg(credentials: tuple[bytes, bytes], clean_jpeg: bytes) -> bytes:
    return sign_c2pa(clean_jpeg, "image/jpeg", credentials, AI_SOURCE, "Diffusion Studio")


# --- C2PA --------------------------------------------------------------------------------------


def test_signed_ai_manifest_gives_ai_generated_with_generator_and_signer(ai_signed_jpeg: bytes) -> None:
    manifest = read_manifest(ai_signed_jpeg)
    assert manifest is not None
    assert manifest.valid
    assert manifest.source_types == (AI_SOURCE,)

    (signal,) = c2pa_signals(ai_signed_jpeg)
    assert (signal.detector, signal.kind, signal.category) == ("c2pa", SignalKind.PROVENANCE, None)
    assert (signal.label, signal.score) == ("ai_generated", 1.0)
    text = signal.evidence[0].text
    assert "Diffusion Studio 2.1" in text
    assert "Vigil Test Generator" in text
    assert "Vigil Test Lab" in text
    assert "trainedAlgorithmicMedia" in text


def test_manifest_edited_after_signing_is_invalid(ai_signed_jpeg: bytes) -> None:
    tampered = tamper_jpeg_pixels(ai_signed_jpeg)
    manifest = read_manifest(tampered)
    assert manifest is not None
    assert not manifest.valid

    (signal,) = c2pa_signals(tampered)
    assert signal.label == "c2pa_invalid"
    assert "validation failed" in signal.evidence[0].text
    assert "trainedAlgorithmicMedia" in signal.evidence[0].text  # what it claimed, for the reviewer


def test_camera_capture_manifest_is_reported_without_ai_claim(
    credentials: tuple[bytes, bytes], clean_jpeg: bytes
) -> None:
    signed = sign_c2pa(clean_jpeg, "image/jpeg", credentials, CAPTURE_SOURCE, "Test Camera")
    (signal,) = c2pa_signals(signed)
    assert signal.label == "c2pa_manifest"
    assert "Test Camera" in signal.evidence[0].text


def test_signed_png_is_read_too(credentials: tuple[bytes, bytes]) -> None:
    signed = sign_c2pa(encode(photo(256, 256), "PNG"), "image/png", credentials, AI_SOURCE, "Gen")
    assert [s.label for s in c2pa_signals(signed)] == ["ai_generated"]


def test_unsigned_pictures_have_no_manifest(clean_jpeg: bytes) -> None:
    assert read_manifest(clean_jpeg) is None
    assert c2pa_signals(encode(photo(64, 64), "PNG")) == []


@pytest.mark.parametrize("data", [b"", b"plain text, not a picture", b"\xff\xd8\xff\xe0 truncated"])
def test_c2pa_reader_refuses_non_pictures_with_a_clear_error(data: bytes) -> None:
    with pytest.raises(C2paReadError):
        read_manifest(data)


def test_truncated_signed_file_does_not_crash(ai_signed_jpeg: bytes) -> None:
    for cut in (len(ai_signed_jpeg) // 3, len(ai_signed_jpeg) - 500):
        try:
            signals = c2pa_signals(ai_signed_jpeg[:cut])
        except C2paReadError:
            continue
        assert all(s.label != "ai_generated" for s in signals)


# --- IPTC / XMP --------------------------------------------------------------------------------


def test_jpeg_tagged_as_ai_generated_gives_a_signal(clean_jpeg: bytes) -> None:
    tagged = jpeg_with_xmp(clean_jpeg, xmp_packet(AI_SOURCE))
    assert Image.open(io.BytesIO(tagged)).size == (256, 256)  # still a valid JPEG

    (signal,) = metadata_signals(tagged)
    assert (signal.detector, signal.kind, signal.category) == ("iptc_metadata", SignalKind.PROVENANCE, None)
    assert (signal.label, signal.score) == ("ai_generated", 1.0)
    assert signal.evidence[0].text == "XMP Iptc4xmpExt:DigitalSourceType = trainedAlgorithmicMedia"


def test_png_with_compressed_xmp_element_form_is_read() -> None:
    info = PngImagePlugin.PngInfo()
    packet = xmp_packet(
        "http://cv.iptc.org/newscodes/digitalsourcetype/compositeWithTrainedAlgorithmicMedia", False
    )
    info.add_itxt("XML:com.adobe.xmp", packet.decode(), zip=True)
    png = encode(photo(64, 64), "PNG", pnginfo=info)
    assert [s.label for s in metadata_signals(png)] == ["ai_edited"]


def test_webp_xmp_is_read() -> None:
    webp = encode(photo(64, 64), "WEBP", xmp=xmp_packet(AI_SOURCE))
    assert [s.label for s in metadata_signals(webp)] == ["ai_generated"]


def test_capture_source_types_are_not_ai_claims(clean_jpeg: bytes) -> None:
    tagged = jpeg_with_xmp(clean_jpeg, xmp_packet(CAPTURE_SOURCE))
    assert digital_source_types(find_xmp(tagged) or b"") == (CAPTURE_SOURCE,)
    assert metadata_signals(tagged) == []
    assert source_type_label("algorithmicallyEnhanced") is None
    assert source_type_label("trainedAlgorithmicMedia") == ("trainedAlgorithmicMedia", "ai_generated")


def test_pictures_without_xmp_give_nothing(clean_jpeg: bytes) -> None:
    assert metadata_signals(clean_jpeg) == []
    assert metadata_signals(encode(photo(32, 32), "PNG")) == []
    assert metadata_signals(b"not a picture") == []
    assert metadata_signals(clean_jpeg[:40]) == []


def test_entity_expansion_in_xmp_is_refused(clean_jpeg: bytes) -> None:
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>'
        b'<x:xmpmeta xmlns:x="adobe:ns:meta/">&b;</x:xmpmeta>'
    )
    with pytest.raises(XmpError, match="entities"):
        metadata_signals(jpeg_with_xmp(clean_jpeg, bomb))


def test_malformed_and_oversized_xmp_are_refused(clean_jpeg: bytes) -> None:
    with pytest.raises(XmpError, match="well-formed"):
        metadata_signals(jpeg_with_xmp(clean_jpeg, b"<x:xmpmeta><unclosed"))
    with pytest.raises(XmpError, match="at most"):
        digital_source_types(b" " * (1024 * 1024 + 1))


def test_compressed_xmp_bomb_is_cut_at_the_bound() -> None:
    huge = zlib.compress(b"<" + b"a" * (20 * 1024 * 1024))
    chunk = b"XML:com.adobe.xmp\x00\x01\x00\x00\x00" + huge
    png = encode(photo(16, 16), "PNG")
    iend = png.rfind(b"IEND") - 4
    crc = zlib.crc32(b"iTXt" + chunk).to_bytes(4, "big")
    bombed = png[:iend] + len(chunk).to_bytes(4, "big") + b"iTXt" + chunk + crc + png[iend:]
    packet = find_xmp(bombed)
    assert packet is not None
    assert len(packet) == 1024 * 1024 + 1
    with pytest.raises(XmpError):
        metadata_signals(bombed)


# --- invisible watermark -----------------------------------------------------------------------


@pytest.mark.parametrize("mark", KNOWN_MARKS, ids=[m.generator for m in KNOWN_MARKS])
def test_generator_watermark_in_a_png_is_found(mark: KnownMark) -> None:
    marked = embed_watermark(photo(512, 512, seed=3), mark.bits)
    png = encode(marked, "PNG")
    found = read_watermark(_decoded(png))
    assert found is not None
    assert found.mark == mark
    assert found.errors <= mark.max_errors

    (signal,) = watermark_signals(_decoded(png))
    assert (signal.detector, signal.label, signal.category) == ("invisible_watermark", "ai_generated", None)
    assert mark.generator in signal.evidence[0].text
    assert 0 < signal.score < 1


def test_watermark_does_not_survive_jpeg() -> None:
    """Documented limit: the dwtDct mark lives in exact coefficient values that JPEG rounds away."""
    marked = embed_watermark(photo(512, 512, seed=3), KNOWN_MARKS[0].bits)
    assert read_watermark(_decoded(encode(marked, "PNG"))) is not None
    assert read_watermark(_decoded(encode(marked, "JPEG", quality=90))) is None


@pytest.mark.parametrize("seed", range(4))
def test_clean_pictures_carry_no_watermark(seed: int) -> None:
    assert read_watermark(photo(512, 512, seed=seed)) is None
    assert watermark_signals(photo(384, 640, seed=seed)) == []


def test_flat_and_tiny_pictures_carry_no_watermark() -> None:
    assert read_watermark(flat((200, 200, 200))) is None
    assert read_watermark(photo(100, 100)) is None  # below 256x256 the encoder refuses to mark


def _decoded(data: bytes) -> RgbImage:
    return decode_image(data, shrink_to=None)
