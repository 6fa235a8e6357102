"""``vigil key``: create, list, rotate and revoke API keys."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from vigil.cli.shared import CLI_ACTOR, JsonOption, _fail, _print_json, _store, out
from vigil.domain.roles import BOUND_ROLES, Role
from vigil.pipeline.admin import Admin
from vigil.store import keys as key_store

key_app = typer.Typer(help="API keys.", no_args_is_help=True)


@key_app.command("create")
def key_create(
    role: Annotated[str, typer.Option(help=f"one of {', '.join(r.value for r in Role)}")],
    label: Annotated[str, typer.Option(help="what the key is for")] = "",
    bound_to: Annotated[str | None, typer.Option(help="organisation or authority, for bound roles")] = None,
    as_json: JsonOption = False,
) -> None:
    """Create an API key (printed once)."""
    try:
        parsed = Role(role)
    except ValueError:
        _fail(f"unknown role {role!r}; expected one of {', '.join(r.value for r in Role)}")
    if (parsed in BOUND_ROLES) != (bound_to is not None):
        _fail(
            f"--bound-to is {'required' if parsed in BOUND_ROLES else 'not allowed'} for role {parsed.value}"
        )
    store = _store()
    with store.transaction() as session:
        problem = key_store.binding_problem(session, parsed, bound_to)
    if problem is not None:
        _fail(problem)
    info, token = Admin(store).create_key(parsed, label, bound_to, CLI_ACTOR)
    if as_json:
        _print_json({"id": info.id, "role": info.role, "key": token})
    else:
        out.print(f"{info.role.value} key {info.id} (shown once): {token}", highlight=False, soft_wrap=True)


@key_app.command("list")
def key_list(as_json: JsonOption = False) -> None:
    """List keys (never their secrets)."""
    with _store().transaction() as session:
        keys = key_store.list_keys(session)
    if as_json:
        _print_json(keys)
        return
    table = Table("id", "role", "label", "bound to", "created", "revoked")
    for k in keys:
        table.add_row(
            k.id,
            k.role.value,
            k.label,
            k.bound_to or "",
            k.created_at.isoformat(timespec="seconds"),
            k.revoked_at.isoformat(timespec="seconds") if k.revoked_at else "",
        )
    out.print(table)


@key_app.command("rotate")
def key_rotate(key_id: str, as_json: JsonOption = False) -> None:
    """Replace a key by a new one of the same role; the old one stops working at once."""
    rotated = Admin(_store()).rotate_key(key_id, CLI_ACTOR)
    if rotated is None:
        _fail(f"no active key {key_id!r}")
    info, token = rotated
    if as_json:
        _print_json({"id": info.id, "role": info.role, "key": token, "replaces": key_id})
    else:
        out.print(
            f"{info.role.value} key {info.id} replaces {key_id} (shown once): {token}",
            highlight=False,
            soft_wrap=True,
        )


@key_app.command("revoke")
def key_revoke(key_id: str) -> None:
    """Revoke a key; it stops working at once."""
    if Admin(_store()).revoke_key(key_id, CLI_ACTOR) is None:
        _fail(f"no key {key_id!r}")
    out.print(f"key {key_id} revoked")
