"""IPTC ``DigitalSourceType`` in the XMP metadata of an image.

The IPTC photo-metadata standard names how a picture was made with a term from the NewsCodes
vocabulary ``http://cv.iptc.org/newscodes/digitalsourcetype/``; generators and editors that label
their output (Adobe Firefly, Google, Meta, Midjourney, Microsoft among others) write
``trainedAlgorithmicMedia`` or ``compositeWithTrainedAlgorithmicMedia`` into the XMP property
``Iptc4xmpExt:DigitalSourceType``. The property exists in XMP only: IPTC's older binary IIM format
(the "IPTC" block of JPEGs) has no field for it, so there is nothing to read there.

An XMP tag is a claim anyone can write or strip; it is read as the maker's own statement (score
:data:`SCORE`), not as proof, and its absence means nothing.

The XMP packet is found by walking the file's own structure (JPEG segments up to the image data,
PNG chunks, WebP RIFF chunks), never by searching the bytes, and parsed with ``defusedxml``, which
refuses DTDs and entity declarations (no billion-laughs, no external entities). Packets larger than
:data:`MAX_XMP_BYTES` are ignored.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from xml.etree.ElementTree import Element

from defusedxml import ElementTree as SafeElementTree
from defusedxml.common import DefusedXmlException

from vigil.domain.signals import Evidence, Signal, SignalKind

DETECTOR = "iptc_metadata"

SCORE = 1.0
"""An explicit digital-source-type tag: the file's own statement of how it was made."""

MAX_XMP_BYTES = 1024 * 1024
"""XMP packets larger than this are not parsed (a JPEG's main XMP packet is at most 64 KB)."""

SOURCE_TYPE_PREFIX = "http://cv.iptc.org/newscodes/digitalsourcetype/"

AI_SOURCE_TYPES: dict[str, str] = {
    "trainedAlgorithmicMedia": "ai_generated",
    "algorithmicMedia": "ai_generated",
    "compositeWithTrainedAlgorithmicMedia": "ai_edited",
    "compositeSynthetic": "ai_edited",
}
"""The NewsCodes digital source types that say a generator made the picture, or part of it, and the
label each becomes. ``algorithmicMedia`` (made by an algorithm without training data) is grouped with
``trainedAlgorithmicMedia``: either way no camera saw it. ``algorithmicallyEnhanced`` (a phone's
noise reduction) and the capture types (``digitalCapture`` ...) are not AI-generation claims.
C2PA manifests use the same vocabulary (``c2pa.py``)."""

_IPTC_EXT = "{http://iptc.org/std/Iptc4xmpExt/2008-02-29/}"
_RDF = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}"
_JPEG_XMP = b"http://ns.adobe.com/xap/1.0/\x00"


class XmpError(ValueError):
    """An XMP packet that Vigil will not parse (malformed, too large, or with entity declarations)."""


def source_type_label(value: str) -> tuple[str, str] | None:
    """The short NewsCodes term and the Vigil label for a digital-source-type value naming AI generation.

    Accepts the full IRI (as IPTC and C2PA write it) or the bare term.
    """
    term = value.strip().removeprefix(SOURCE_TYPE_PREFIX).rstrip("/")
    label = AI_SOURCE_TYPES.get(term)
    return (term, label) if label else None


def find_xmp(data: bytes) -> bytes | None:
    """The first XMP packet embedded in a JPEG, PNG or WebP file, or ``None`` when there is none.

    Truncated or malformed containers yield ``None`` (or the packet found before the damage).
    """
    return next(_packets(data), None)


def digital_source_types(xmp: bytes) -> tuple[str, ...]:
    """Every ``Iptc4xmpExt:DigitalSourceType`` value in an XMP packet, as written.

    Raises :class:`XmpError` for a packet that is too large, malformed, or declares entities.
    """
    if len(xmp) > MAX_XMP_BYTES:
        raise XmpError(f"the XMP packet is {len(xmp):,} bytes; at most {MAX_XMP_BYTES:,} are parsed")
    try:
        root = SafeElementTree.fromstring(_strip_packet_wrapper(xmp))
    except DefusedXmlException as exc:
        raise XmpError(f"the XMP packet declares a DTD or entities, which are refused: {exc}") from exc
    except SafeElementTree.ParseError as exc:
        raise XmpError(f"the XMP packet is not well-formed XML: {exc}") from exc
    return tuple(_source_type_values(root))


def metadata_signals(data: bytes) -> list[Signal]:
    """Provenance signals for the AI-generation digital source types tagged in ``data``'s XMP.

    Raises :class:`XmpError` when an XMP packet is present but refused; a file without XMP, or
    whose tags name no AI generation, gives no signal.
    """
    xmp = find_xmp(data)
    if xmp is None:
        return []
    signals: list[Signal] = []
    for value in dict.fromkeys(digital_source_types(xmp)):
        found = source_type_label(value)
        if found is None:
            continue
        term, label = found
        signals.append(
            Signal(
                detector=DETECTOR,
                kind=SignalKind.PROVENANCE,
                category=None,
                score=SCORE,
                label=label,
                evidence=(
                    Evidence(
                        0,
                        0,
                        f"XMP Iptc4xmpExt:DigitalSourceType = {term}",
                        "The file's metadata says how it was made; a claim its maker (or anyone) "
                        "wrote, not verified by a signature.",
                    ),
                ),
            )
        )
    return signals


def _strip_packet_wrapper(xmp: bytes) -> bytes:
    # the <?xpacket ...?> processing instructions are legal XML, but some writers pad the packet
    # with NULs or whitespace after the end marker; cut at the closing tag of the XMP root
    end = xmp.rfind(b"</x:xmpmeta>")
    return xmp[: end + len(b"</x:xmpmeta>")] if end >= 0 else xmp.rstrip(b"\x00 \t\r\n")


def _source_type_values(root: Element) -> Iterator[str]:
    name = f"{_IPTC_EXT}DigitalSourceType"
    for element in root.iter():
        attribute = element.get(name)  # rdf:Description Iptc4xmpExt:DigitalSourceType="..."
        if attribute:
            yield attribute
        if element.tag == name:
            resource = element.get(f"{_RDF}resource")
            text = resource or (element.text or "")
            if text.strip():
                yield text.strip()


def _packets(data: bytes) -> Iterator[bytes]:
    if data.startswith(b"\xff\xd8"):
        yield from _jpeg_packets(data)
    elif data.startswith(b"\x89PNG\r\n\x1a\n"):
        yield from _png_packets(data)
    elif data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        yield from _webp_packets(data)


def _jpeg_packets(data: bytes) -> Iterator[bytes]:
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            return  # lost sync: a corrupt file
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:  # markers without a length
            pos += 2
            continue
        if marker in (0xDA, 0xD9):  # start of scan / end of image: metadata comes before
            return
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        if length < 2 or pos + 2 + length > len(data):
            return
        payload = data[pos + 4 : pos + 2 + length]
        if marker == 0xE1 and payload.startswith(_JPEG_XMP):
            yield payload[len(_JPEG_XMP) :]
        pos += 2 + length


def _png_packets(data: bytes) -> Iterator[bytes]:
    pos = 8
    while pos + 12 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        end = pos + 12 + length
        if end > len(data) or kind == b"IEND":
            return
        if kind == b"iTXt":
            packet = _png_itxt_xmp(data[pos + 8 : pos + 8 + length])
            if packet is not None:
                yield packet
        pos = end


def _png_itxt_xmp(chunk: bytes) -> bytes | None:
    keyword, _, rest = chunk.partition(b"\x00")
    if keyword != b"XML:com.adobe.xmp" or len(rest) < 2:
        return None
    compressed, method = rest[0], rest[1]
    # after the flags come a language tag and a translated keyword, each ended by a NUL
    _, _, rest = rest[2:].partition(b"\x00")
    _, _, text = rest.partition(b"\x00")
    if not compressed:
        return text
    if method != 0:
        return None
    inflater = zlib.decompressobj()
    try:
        packet = inflater.decompress(text, MAX_XMP_BYTES + 1)  # bounded: a zip bomb stops here
    except zlib.error:
        return None
    return packet


def _webp_packets(data: bytes) -> Iterator[bytes]:
    pos = 12
    while pos + 8 <= len(data):
        kind, length = struct.unpack("<4sI", data[pos : pos + 8])
        if pos + 8 + length > len(data):
            return
        if kind == b"XMP ":
            yield data[pos + 8 : pos + 8 + length]
        pos += 8 + length + (length & 1)  # chunks are padded to an even length
