"""``vigil evidence``: evidence retention and key rotation."""

from __future__ import annotations

import typer

from vigil.cli.shared import CLI_ACTOR, JsonOption, _fail, _print_json, _store, out
from vigil.config import Settings
from vigil.domain.ids import utcnow
from vigil.enforce.evidence import (
    KEYS_SETTING,
    EvidenceIntegrityError,
    EvidenceKeyError,
    EvidenceVault,
    KeyRing,
)

evidence_app = typer.Typer(help="Encrypted evidence: retention and key rotation.", no_args_is_help=True)


def _vault() -> EvidenceVault:
    settings = Settings()
    try:
        keys = KeyRing.from_settings(settings)
    except EvidenceKeyError as exc:
        _fail(str(exc))
    return EvidenceVault(_store(), keys, utcnow, settings.evidence_retention_days)


@evidence_app.command("purge")
def evidence_purge(as_json: JsonOption = False) -> None:
    """Delete the evidence whose retention period has ended (each deletion is audited)."""
    deleted = _vault().purge_expired()
    if as_json:
        _print_json({"deleted": deleted})
    else:
        out.print(f"{deleted} evidence items deleted at the end of their retention period")


@evidence_app.command("rotate")
def evidence_rotate(as_json: JsonOption = False) -> None:
    """Re-encrypt all evidence under the first key of VIGIL_EVIDENCE_KEYS; then the others can go."""
    vault = _vault()
    if not vault.enabled:
        _fail(f"no evidence keys: set {KEYS_SETTING} to the new key first, then the keys in use")
    try:
        rotated = vault.rotate(CLI_ACTOR)
    except EvidenceIntegrityError as exc:
        _fail(f"{exc}; put that key back in {KEYS_SETTING} (after the new one) and run this again")
    assert vault.keys is not None
    if as_json:
        _print_json({"rotated": rotated, "key_id": vault.keys.current_id})
    else:
        out.print(
            f"{rotated} evidence items re-encrypted under key {vault.keys.current_id!r}", highlight=False
        )
