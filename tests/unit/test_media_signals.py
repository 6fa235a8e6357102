"""media_signals: everything read from a media file's bytes at intake, never crashing on bad input."""

from __future__ import annotations

import struct
import sys
import zlib

import pytest

from tests.provenance_fixtures import (
    AI_SOURCE,
    embed_watermark,
    encode,
    jpeg_with_xmp,
    make_signer_credentials,
    photo,
    sign_c2pa,
    xmp_packet,
)
from vigil.detect.hashing.pdq import ImageLimits
from vigil.detect.image import nudity
from vigil.detect.media_signals import MediaAnalysis, media_signals
from vigil.detect.provenance.watermark import KNOWN_MARKS


def _detectors(analysis: MediaAnalysis) -> list[tuple[str, str]]:
    return sorted((s.detector, s.label) for s in analysis.signals)


def test_clean_picture_gives_no_signals_and_skips_nothing() -> None:
    analysis = media_signals(encode(photo(512, 512), "PNG"), "m-1")
    assert analysis == MediaAnalysis((), ())


def test_ai_picture_gets_every_provenance_signal_with_its_media_id() -> None:
    marked = encode(embed_watermark(photo(512, 512, seed=4), KNOWN_MARKS[0].bits), "PNG")
    signed = sign_c2pa(marked, "image/png", make_signer_credentials(), AI_SOURCE, "Diffusion Studio")
    analysis = media_signals(signed, "m-2")
    assert _detectors(analysis) == [("c2pa", "ai_generated"), ("invisible_watermark", "ai_generated")]
    assert {s.media_id for s in analysis.signals} == {"m-2"}
    assert analysis.skipped == ()


def test_xmp_tag_is_read_even_when_the_picture_is_refused() -> None:
    tagged = jpeg_with_xmp(encode(photo(300, 300), "JPEG"), xmp_packet(AI_SOURCE))
    analysis = media_signals(tagged, "m-3", ImageLimits(max_pixels=10_000))
    assert _detectors(analysis) == [("iptc_metadata", "ai_generated")]
    assert any("too_many_pixels" in reason for reason in analysis.skipped)


def test_watermark_is_not_read_from_jpeg() -> None:
    analysis = media_signals(encode(photo(300, 300), "JPEG"), "m-8")
    assert analysis == MediaAnalysis(
        (), ("invisible_watermark: not read from JPEG files, whose compression erases it",)
    )


def _png_declaring(width: int, height: int) -> bytes:
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    ihdr = struct.pack(">I", len(header)) + b"IHDR" + header + struct.pack(">I", zlib.crc32(b"IHDR" + header))
    idat_data = zlib.compress(b"\x00" * 1000)
    idat = (
        struct.pack(">I", len(idat_data))
        + b"IDAT"
        + idat_data
        + struct.pack(">I", zlib.crc32(b"IDAT" + idat_data))
    )
    return b"\x89PNG\r\n\x1a\n" + ihdr + idat + b"\x00\x00\x00\x00IEND\xaeB`\x82"


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "not_an_image"),
        (b"just some text posted as a file", "not_an_image"),
        (b"%PDF-1.7\n" + b"0" * 200, "not_an_image"),
        (encode(photo(256, 256), "JPEG")[:700], "not_an_image"),
        (encode(photo(256, 256), "PNG")[:3000], "not_an_image"),
        (_png_declaring(100_000, 100_000), "too_many_pixels"),
    ],
    ids=["empty", "text", "pdf", "truncated-jpeg", "truncated-png", "decompression-bomb"],
)
def test_bad_input_gives_no_signals_and_says_why(data: bytes, reason: str) -> None:
    analysis = media_signals(data, "m-4")
    assert analysis.signals == ()
    assert any(r.startswith("nudity, invisible_watermark") and reason in r for r in analysis.skipped)


def test_oversized_file_is_not_read_at_all() -> None:
    analysis = media_signals(b"\xff\xd8" + b"\x00" * 5000, "m-5", ImageLimits(max_bytes=1000))
    assert analysis.signals == ()
    assert analysis.skipped == ("all: the file is 5,002 bytes; at most 1,000 are analysed",)


def test_watermark_is_not_read_from_a_shrunk_picture() -> None:
    analysis = media_signals(encode(photo(16, 4096), "PNG"), "m-6")
    assert analysis.signals == ()
    assert any(r.startswith("invisible_watermark: the picture was analysed shrunk") for r in analysis.skipped)


def test_without_the_media_extra_nudity_is_skipped_and_the_rest_still_runs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # a None entry in sys.modules makes `import onnxruntime` raise ImportError, as when it is absent
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    monkeypatch.setattr(nudity, "_session", None)
    assert not nudity.nudity_available()
    with pytest.raises(nudity.NudityUnavailableError, match="media extra"):
        nudity.raw_scores(photo(64, 64))

    tagged = jpeg_with_xmp(encode(photo(300, 300), "JPEG"), xmp_packet(AI_SOURCE))
    analysis = media_signals(tagged, "m-7")
    assert _detectors(analysis) == [("iptc_metadata", "ai_generated")]
    assert analysis.skipped[0] == "nudity: the media extra is not installed (pip install 'vigil[media]')"
