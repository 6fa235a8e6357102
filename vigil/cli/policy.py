"""``vigil policy``: check, install and list policies."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from vigil.cli.shared import CLI_ACTOR, JsonOption, _fail, _print_json, _store, out
from vigil.pipeline.admin import Admin
from vigil.policy.loader import load_policy_paths
from vigil.store import policies as policy_store

policy_app = typer.Typer(help="Check, install and list policies.", no_args_is_help=True)


PathsArgument = Annotated[list[Path], typer.Argument(help="policy files or folders of *.yaml")]


def _load(paths: list[Path]) -> Any:
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        _fail(f"no such file or folder: {', '.join(missing)}")
    return load_policy_paths(paths)


@policy_app.command("validate")
def policy_validate(paths: PathsArgument, as_json: JsonOption = False) -> None:
    """Check policy files without installing them."""
    definitions = _load(paths)
    if as_json:
        _print_json({"valid": True, "policies": [d.id for d in definitions]})
    else:
        out.print(f"{len(definitions)} policies valid: {', '.join(d.id for d in definitions)}")


@policy_app.command("apply")
def policy_apply(paths: PathsArgument, as_json: JsonOption = False) -> None:
    """Install policies: a changed policy gets a new version, the old one is kept."""
    definitions = _load(paths)
    try:
        results = Admin(_store()).apply_policies(definitions, CLI_ACTOR)
    except policy_store.PolicyChangeConflict as exc:
        # another process changed one of these policies at the same moment: nothing was applied
        _fail(exc.message)
    if as_json:
        _print_json(results)
        return
    for r in results:
        out.print(f"{r.id}@{r.version} {'applied' if r.changed else 'unchanged'}")


@policy_app.command("list")
def policy_list(as_json: JsonOption = False) -> None:
    """The policy versions in force."""
    with _store().transaction() as session:
        stored = policy_store.list_policies(session)
    if as_json:
        _print_json([{k: v for k, v in asdict(p).items() if k != "source"} for p in stored])
        return
    table = Table("policy", "version", "mode", "applied", "by")
    for p in stored:
        table.add_row(
            p.id, str(p.version), p.mode.value, p.created_at.isoformat(timespec="seconds"), p.created_by
        )
    out.print(table)
