"""C2PA manifests: signed statements of how a picture was made.

A C2PA ("Content Credentials") manifest is a claim embedded in the file and signed with an X.509
certificate: who signed it, which tool wrote it (the claim generator), and what was done (the
``c2pa.actions`` assertion, whose ``digitalSourceType`` says ``trainedAlgorithmicMedia`` for an
AI-generated picture). ``c2pa-python`` (bindings to the reference Rust SDK) reads and validates it:
the signature, the certificate chain's structure, and the hash binding the claim to the pixels, so a
picture edited after signing reads back as invalid.

What Vigil makes of it (:func:`c2pa_signals`), one signal per file with a manifest:

* ``ai_generated`` / ``ai_edited``: a valid manifest whose active claim records an AI digital
  source type (the same vocabulary as IPTC, ``metadata.AI_SOURCE_TYPES``), score 1.0;
* ``c2pa_manifest``: a valid manifest that claims no AI generation, score 1.0 (a policy may use it,
  e.g. to trust a camera's capture claim);
* ``c2pa_invalid``: a manifest that fails validation (edited after signing, broken signature),
  score 1.0; the evidence lists what it claimed anyway.

"Valid" means the signature and bindings hold, not that the signer is trustworthy: Vigil loads no
trust list, so a self-made certificate validates too. The signer's name is in the evidence for a
reviewer or a policy to judge. Remote manifests and OCSP are never fetched (hostile files must not
make Vigil open network connections); a file that only points to a remote manifest has none here.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import c2pa

from vigil.detect.provenance.metadata import source_type_label
from vigil.domain.signals import Evidence, Signal, SignalKind

DETECTOR = "c2pa"

MAX_BYTES = 50 * 1024 * 1024
"""Files larger than this are not read for a manifest (the same bound as images: ``ImageLimits``)."""

_SETTINGS = {"verify": {"remote_manifest_fetch": False, "ocsp_fetch": False}}


class C2paReadError(ValueError):
    """A file whose C2PA data could not be read (not a supported format, corrupt, or too large)."""


@dataclass(frozen=True, slots=True)
class Manifest:
    """What Vigil reads from a file's active C2PA manifest."""

    valid: bool
    validation_state: str  # the SDK's word: Valid, Trusted, Invalid
    failures: tuple[str, ...]  # validation failure codes (e.g. assertion.dataHash.mismatch)
    generator: str  # the claim generator (name and version of the tool that wrote the manifest)
    signer: str  # the signing certificate's common name and issuer
    source_types: tuple[str, ...]  # digitalSourceType values of the active claim's actions


_context: c2pa.Context | None = None


def _reader_context() -> c2pa.Context:
    global _context
    if _context is None:
        _context = c2pa.Context(c2pa.Settings.from_dict(_SETTINGS))
    return _context


def read_manifest(data: bytes) -> Manifest | None:
    """The active manifest in ``data``, or ``None`` when the file carries no C2PA data.

    Raises :class:`C2paReadError` for a file larger than :data:`MAX_BYTES`, of a type the SDK does
    not read, or whose container is corrupt.
    """
    if len(data) > MAX_BYTES:
        raise C2paReadError(f"the file is {len(data):,} bytes; at most {MAX_BYTES:,} are read for C2PA")
    if not data:
        raise C2paReadError("the file is empty (0 bytes)")
    try:
        reader = c2pa.Reader.try_create(None, io.BytesIO(data), None, _reader_context())
        if reader is None:
            return None
        with reader:
            active = reader.get_active_manifest()
            state = reader.get_validation_state() or ""
            results = reader.get_validation_results()
    except c2pa.C2paError as exc:
        raise C2paReadError(f"C2PA data could not be read: {exc}") from exc
    if active is None:
        return None
    failures = _failure_codes(results)
    return Manifest(
        # the SDK lists "signingCredential.untrusted" as a failure when no trust list is loaded (never,
        # here) yet calls the manifest Valid: its state is the verdict on integrity
        valid=state in ("Valid", "Trusted"),
        validation_state=state,
        failures=failures,
        generator=_generator(active),
        signer=_signer(active.get("signature_info")),
        source_types=tuple(dict.fromkeys(_source_types(active))),
    )


def c2pa_signals(data: bytes) -> list[Signal]:
    """The provenance signal for ``data``'s C2PA manifest; none when the file has no manifest.

    Raises :class:`C2paReadError` as :func:`read_manifest` does.
    """
    manifest = read_manifest(data)
    if manifest is None:
        return []
    claims = [found for value in manifest.source_types if (found := source_type_label(value))]
    described = (
        f"C2PA manifest by {manifest.generator or 'an unnamed generator'}, signed by "
        f"{manifest.signer or 'an unnamed signer'}"
    )
    if claims:
        described += "; digital source type " + ", ".join(term for term, _ in claims)
    if not manifest.valid:
        label = "c2pa_invalid"
        failed = ", ".join(manifest.failures) or manifest.validation_state
        text = f"{described}; validation failed: {failed}"
        note = "The manifest does not match the file: edited after signing, or a broken signature."
    else:
        labels = {lbl for _, lbl in claims}
        label = next((lbl for lbl in ("ai_generated", "ai_edited") if lbl in labels), "c2pa_manifest")
        text = described
        note = (
            f"Signature and content binding {manifest.validation_state.lower()}; Vigil checks no trust "
            "list, so judge the signer by name."
        )
    return [
        Signal(
            detector=DETECTOR,
            kind=SignalKind.PROVENANCE,
            category=None,
            score=1.0,
            label=label,
            evidence=(Evidence(0, 0, text, note),),
        )
    ]


def _failure_codes(results: dict[str, Any] | None) -> tuple[str, ...]:
    if not results:
        return ()
    active = results.get("activeManifest") or {}
    return tuple(str(item.get("code", "")) for item in active.get("failure", ()) if isinstance(item, dict))


def _generator(manifest: dict[str, Any]) -> str:
    infos = manifest.get("claim_generator_info")
    if isinstance(infos, list) and infos and isinstance(infos[0], dict):
        info = infos[0]
        return " ".join(str(info[key]) for key in ("name", "version") if info.get(key))
    return str(manifest.get("claim_generator") or "")  # claims of version 1


def _signer(info: Any) -> str:
    if not isinstance(info, dict):
        return ""
    name, issuer = str(info.get("common_name") or ""), str(info.get("issuer") or "")
    if name and issuer:
        return f"{name} (issuer {issuer})"
    return name or issuer


def _source_types(manifest: dict[str, Any]) -> list[str]:
    found: list[str] = []
    for assertion in manifest.get("assertions") or ():
        if not isinstance(assertion, dict) or not str(assertion.get("label", "")).startswith("c2pa.actions"):
            continue
        data = assertion.get("data") or {}
        for action in data.get("actions") or ():
            if isinstance(action, dict) and isinstance(action.get("digitalSourceType"), str):
                found.append(action["digitalSourceType"])
    return found
