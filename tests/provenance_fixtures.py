"""Test pictures made by the tests themselves: generated pixels, C2PA-signed files, XMP tags, watermarks.

Nothing here is downloaded or committed as a binary: every picture is drawn from numbers, and the
C2PA certificates are made on the spot with ``cryptography``.
"""

from __future__ import annotations

import datetime
import io
import json
import struct

import c2pa
import numpy as np
import numpy.typing as npt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from PIL import Image, ImageDraw

Rgb = npt.NDArray[np.uint8]

AI_SOURCE = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
CAPTURE_SOURCE = "http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture"


def photo(height: int, width: int, seed: int = 0) -> Rgb:
    """A photo-like picture: smooth colour waves plus sensor-like noise."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width]
    waves = np.dstack([128 + 100 * np.sin(x / 37.0 + k) * np.cos(y / 53.0 - k) for k in range(3)])
    return np.clip(waves + rng.normal(0, 8, (height, width, 3)), 0, 255).astype(np.uint8)


def flat(colour: tuple[int, int, int], size: int = 512) -> Rgb:
    return np.tile(np.array(colour, dtype=np.uint8), (size, size, 1))


def gradient(size: int = 512) -> Rgb:
    ramp = np.tile(np.linspace(0, 255, size, dtype=np.uint8), (size, 1))
    return np.dstack([ramp, ramp.T, np.full_like(ramp, 128)])


def shapes_and_text(size: int = 512) -> Rgb:
    img = Image.new("RGB", (size, size), (240, 240, 235))
    draw = ImageDraw.Draw(img)
    draw.ellipse((40, 40, 220, 220), fill=(200, 40, 40))
    draw.rectangle((260, 80, 470, 300), fill=(40, 90, 200))
    draw.polygon([(100, 480), (250, 300), (400, 480)], fill=(30, 160, 60))
    for row in range(6):
        draw.text((20, 320 + 25 * row), "Quarterly report: revenue up 4% on last year", fill=(0, 0, 0))
    return np.asarray(img)


def encode(rgb: Rgb, fmt: str, **options: object) -> bytes:
    out = io.BytesIO()
    Image.fromarray(rgb).save(out, fmt, **options)
    return out.getvalue()


# --- invisible watermark ------------------------------------------------------------------------


def embed_watermark(rgb: Rgb, bits: tuple[int, ...], strength: float = 36.0) -> Rgb:
    """``rgb`` marked as the reference Stable Diffusion scripts do (``dwtDct`` on 8-bit BGR pixels).

    Written for the tests from the method's description, not taken from ``invisible-watermark``
    (which cannot be imported without torch). Checked once against the real encoder: its marks of
    'StableDiffusionV1' and 'SDV2' on a 1024x1024 picture read back from PNG with 0 wrong bits.
    """
    pixels = rgb.astype(np.float64)
    red, green, blue = pixels[..., 0], pixels[..., 1], pixels[..., 2]
    luma = 0.299 * red + 0.587 * green + 0.114 * blue
    u = np.clip(np.rint(0.492 * (blue - luma) + 128), 0, 255)
    rows, cols = u.shape[0] // 4 * 4, u.shape[1] // 4 * 4
    quarter = u[:rows, :cols]
    approx = (quarter[0::2, 0::2] + quarter[0::2, 1::2] + quarter[1::2, 0::2] + quarter[1::2, 1::2]) / 2
    delta = np.zeros_like(approx)
    n = 0
    for i in range(0, approx.shape[0] - 3, 4):
        for j in range(0, approx.shape[1] - 3, 4):
            block = approx[i : i + 4, j : j + 4].ravel()
            pos = int(np.argmax(np.abs(block[1:]))) + 1
            value = block[pos]
            bit = bits[n % len(bits)]
            moved = (abs(value) // strength + 0.25 + 0.5 * bit) * strength
            delta[i + pos // 4, j + pos % 4] = np.copysign(moved, value) - value
            n += 1
    # a change d of one approximation coefficient moves each pixel of its 2x2 block by d/2
    u_change = np.zeros_like(u)
    u_change[:rows, :cols] = np.kron(delta, np.ones((2, 2))) / 2
    # back to RGB with Y and V unchanged (OpenCV's YUV->BGR: B = Y + 2.032 (U-128), G = Y - 0.395 (U-128) ...)
    marked = pixels.copy()
    marked[..., 2] += 2.032 * u_change
    marked[..., 1] -= 0.395 * u_change
    return np.clip(np.rint(marked), 0, 255).astype(np.uint8)


# --- XMP ---------------------------------------------------------------------------------------


def xmp_packet(source_type: str, as_attribute: bool = True) -> bytes:
    """An XMP packet tagging the IPTC digital source type, in either of XMP's two spellings."""
    if as_attribute:
        description = f'<rdf:Description rdf:about="" Iptc4xmpExt:DigitalSourceType="{source_type}"/>'
    else:
        description = (
            '<rdf:Description rdf:about="">'
            f'<Iptc4xmpExt:DigitalSourceType rdf:resource="{source_type}"/>'
            "</rdf:Description>"
        )
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/">'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
        'xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/">'
        f"{description}</rdf:RDF></x:xmpmeta>"
        '<?xpacket end="w"?>'
    ).encode()


def jpeg_with_xmp(jpeg: bytes, packet: bytes) -> bytes:
    """``jpeg`` with an XMP APP1 segment right after its start-of-image marker."""
    payload = b"http://ns.adobe.com/xap/1.0/\x00" + packet
    return jpeg[:2] + b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload + jpeg[2:]


# --- C2PA --------------------------------------------------------------------------------------


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Vigil Test Lab"),
        ]
    )


def _key_usage(signer: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=signer,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=not signer,
        crl_sign=not signer,
        encipher_only=False,
        decipher_only=False,
    )


def make_signer_credentials(signer_name: str = "Vigil Test Generator") -> tuple[bytes, bytes]:
    """A fresh ES256 test CA and a signing certificate it issued: (PEM chain, PEM private key)."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(_name("Vigil Test CA"))
        .issuer_name(_name("Vigil Test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(_key_usage(signer=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(signer_name))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(signer=True), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    chain = cert.public_bytes(serialization.Encoding.PEM) + ca.public_bytes(serialization.Encoding.PEM)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return chain, private


def sign_c2pa(
    asset: bytes, mime: str, credentials: tuple[bytes, bytes], source_type: str, generator: str
) -> bytes:
    """``asset`` with an embedded C2PA manifest whose ``c2pa.created`` action names ``source_type``."""
    manifest = {
        "claim_generator_info": [{"name": generator, "version": "2.1"}],
        "title": "generated picture",
        "assertions": [
            {
                "label": "c2pa.actions",
                "data": {"actions": [{"action": "c2pa.created", "digitalSourceType": source_type}]},
            }
        ],
    }
    chain, private = credentials
    signer = c2pa.Signer.from_info(c2pa.C2paSignerInfo(c2pa.C2paSigningAlg.ES256, chain, private, None))
    out = io.BytesIO()
    with c2pa.Builder(json.dumps(manifest)) as builder:
        builder.sign(signer, mime, io.BytesIO(asset), out)
    return out.getvalue()


def tamper_jpeg_pixels(jpeg: bytes) -> bytes:
    """``jpeg`` with one byte of its compressed pixel data changed (its metadata untouched)."""
    scan = jpeg.rfind(b"\xff\xda")
    position = scan + (len(jpeg) - scan) // 2
    changed = bytearray(jpeg)
    changed[position] = 0x55 if changed[position] != 0x55 else 0x56
    return bytes(changed)
