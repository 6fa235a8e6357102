"""Everything Vigil reads from a media file's bytes at intake, before the bytes are dropped.

Vigil keeps no media: the API edge hashes a file (``hashing/media.py``) and calls
:func:`media_signals`, whose signals are stored with the content item and join the detectors'
signals in every decision. It runs the analysers that need the bytes themselves:

* provenance from the file's structure, whether or not it decodes as a picture: the C2PA manifest
  (``provenance/c2pa.py``) and the IPTC digital source type in its XMP (``provenance/metadata.py``);
* on the picture, decoded once under :class:`ImageLimits`: nudity (``image/nudity.py``) and the
  generators' invisible watermark (``provenance/watermark.py``).

Hostile input never raises: each analyser that cannot run, or refuses the file, is listed in
:attr:`MediaAnalysis.skipped` with the reason, and the others still run. Analysers whose packages
are missing (the optional ``media`` extra: ``pip install 'vigil[media]'``) are skipped the same way.

Bounds: the file size and pixel count are those of ``limits``; the picture is decoded at most
4095 pixels on its longer side (larger ones are shrunk by a whole factor, as for hashing); nudity
runs on a 320x320 copy; the watermark is read only from a picture decoded at full size, since any
resizing destroys it, and not from JPEG files, whose compression does.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace

from PIL import Image

from vigil.detect.hashing.pdq import DEFAULT_LIMITS, ImageLimits, ImageRefusedError, RgbImage, decode_image
from vigil.detect.provenance.watermark import watermark_signals
from vigil.domain.signals import Signal

log = logging.getLogger(__name__)

ANALYSIS_SIDE = 2048
"""Pictures shorter than twice this on their longer side are analysed at full size (see ``decode_image``)."""

_EXTRA = "the media extra is not installed (pip install 'vigil[media]')"


@dataclass(frozen=True, slots=True)
class MediaAnalysis:
    """The signals read from one media file, and the analysers that did not run, each with why."""

    signals: tuple[Signal, ...]
    skipped: tuple[str, ...]


def media_signals(data: bytes, media_id: str, limits: ImageLimits = DEFAULT_LIMITS) -> MediaAnalysis:
    """The nudity and provenance signals in ``data``, each carrying ``media_id``.

    Never raises for bad input: a file that is not an image, or is refused as one, gets no image
    signals (the reason is in ``skipped``) but is still read for provenance metadata.
    """
    signals: list[Signal] = []
    skipped: list[str] = []

    def run(name: str, analyse: Callable[[], list[Signal]], expected: tuple[type[Exception], ...]) -> None:
        try:
            signals.extend(analyse())
        except expected as exc:
            skipped.append(f"{name}: {exc}")
        except MemoryError:
            raise
        except Exception as exc:  # a bug or a library failure on one file must not sink the item
            log.exception("media analyser %s failed on media %s", name, media_id)
            skipped.append(f"{name}: failed ({type(exc).__name__}: {exc})")

    if len(data) > limits.max_bytes:
        skipped.append(f"all: the file is {len(data):,} bytes; at most {limits.max_bytes:,} are analysed")
        return MediaAnalysis((), tuple(skipped))

    try:
        from vigil.detect.provenance.c2pa import C2paReadError, c2pa_signals
    except ImportError:
        skipped.append(f"c2pa: {_EXTRA}")
    else:
        run("c2pa", lambda: c2pa_signals(data), (C2paReadError,))
    try:
        from vigil.detect.provenance.metadata import XmpError, metadata_signals
    except ImportError:
        skipped.append(f"iptc_metadata: {_EXTRA}")
    else:
        run("iptc_metadata", lambda: metadata_signals(data), (XmpError,))

    try:
        image = decode_image(data, limits, shrink_to=ANALYSIS_SIDE)
    except ImageRefusedError as exc:
        skipped.append(f"nudity, invisible_watermark: not analysed as an image ({exc.reason}): {exc}")
    else:
        _image_signals(data, image, run, skipped)
    return MediaAnalysis(tuple(replace(s, media_id=media_id) for s in signals), tuple(skipped))


def _image_signals(
    data: bytes,
    image: RgbImage,
    run: Callable[[str, Callable[[], list[Signal]], tuple[type[Exception], ...]], None],
    skipped: list[str],
) -> None:
    from vigil.detect.image.nudity import NudityUnavailableError, nudity_available, nudity_signals

    if nudity_available():
        run("nudity", lambda: nudity_signals(image), (NudityUnavailableError,))
    else:
        skipped.append(f"nudity: {_EXTRA}")

    declared = _declared_size(data)
    if data.startswith(b"\xff\xd8"):
        # JPEG rounds away the coefficients the mark lives in (gone at quality 90 in the tests; one of
        # the test marks outlived quality 95): reading it would cost ~240 ms at 2048x2048 for nothing
        skipped.append("invisible_watermark: not read from JPEG files, whose compression erases it")
    elif declared is not None and sorted(declared) == sorted(image.shape[:2]):
        run("invisible_watermark", lambda: watermark_signals(image), ())
    else:
        skipped.append(
            "invisible_watermark: the picture was analysed shrunk (it is at least "
            f"{2 * ANALYSIS_SIDE} pixels long), which erases any watermark"
        )


def _declared_size(data: bytes) -> tuple[int, int] | None:
    """The picture's size from its header (cheap: no pixel is decoded)."""
    try:
        with Image.open(io.BytesIO(data)) as img:
            return img.size
    except Exception:  # it decoded a moment ago; a header that cannot be read again is no size
        return None
