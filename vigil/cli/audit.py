"""``vigil audit``: verify the tamper-evident audit chain."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from vigil.cli.shared import JsonOption, _print_json, _store, out
from vigil.domain.ids import utcnow
from vigil.store import audit as audit_store

audit_app = typer.Typer(help="The tamper-evident audit chain.", no_args_is_help=True)


@audit_app.command("verify")
def audit_verify(
    full: Annotated[
        bool, typer.Option("--full", help="Walk the whole chain, not only what follows the last checkpoint.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Prove the audit chain intact since its last checkpoint (the whole chain with --full), record a
    new checkpoint, or name its first broken link (exit status 1)."""
    found = audit_store.seal_and_check(_store(), utcnow(), full=full)
    verdict = found.verdict
    if as_json:
        _print_json(found.to_json())
    elif verdict.broken is None:
        start = found.started_from
        since = f" after the checkpoint at event {start.seq}" if start else ""
        out.print(
            f"audit chain intact: {verdict.events_checked} events{since}, head {verdict.head_hash}",
            highlight=False,
            soft_wrap=True,
        )
    else:
        sys.stderr.write(f"audit chain broken at event {verdict.broken.seq}: {verdict.broken.reason}\n")
    if verdict.broken is not None:
        raise typer.Exit(1)
