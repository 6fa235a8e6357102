"""``vigil audit``: verify the tamper-evident audit chain."""

from __future__ import annotations

import sys

import typer

from vigil.cli.shared import JsonOption, _print_json, _store, out
from vigil.store import audit as audit_store

audit_app = typer.Typer(help="The tamper-evident audit chain.", no_args_is_help=True)


@audit_app.command("verify")
def audit_verify(as_json: JsonOption = False) -> None:
    """Prove the audit chain intact, or name its first broken link (exit status 1)."""
    with _store().transaction() as session:
        verdict = audit_store.verify(session)
    if as_json:
        _print_json(
            {
                "intact": verdict.intact,
                "events_checked": verdict.events_checked,
                "head_hash": verdict.head_hash,
                "first_broken_seq": verdict.broken.seq if verdict.broken else None,
                "reason": verdict.broken.reason if verdict.broken else None,
            }
        )
    elif verdict.broken is None:
        out.print(
            f"audit chain intact: {verdict.events_checked} events, head {verdict.head_hash}",
            highlight=False,
            soft_wrap=True,
        )
    else:
        sys.stderr.write(f"audit chain broken at event {verdict.broken.seq}: {verdict.broken.reason}\n")
    if verdict.broken is not None:
        raise typer.Exit(1)
