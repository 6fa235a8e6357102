"""What every command group of the ``vigil`` command line shares: the console, JSON output,
the store and the one-line refusal of bad input."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict, is_dataclass
from datetime import datetime
from enum import Enum
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console

from vigil.config import Settings
from vigil.store.db import Store

CLI_ACTOR = "cli"
JsonOption = Annotated[bool, typer.Option("--json", help="machine-readable output")]
out = Console()


class UsageProblem(Exception):
    """Bad input to a command: reported on one line, exit status 2."""


def _fail(message: str) -> NoReturn:
    raise UsageProblem(message)


def _jsonable(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return _jsonable(asdict(value))
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    return value


def _print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(_jsonable(value), ensure_ascii=False) + "\n")


def _store(initialise: bool = False) -> Store:
    """The store, migrated to the newest schema; only ``vigil init`` may create one."""
    store = Store.from_settings(Settings())
    if not initialise and not store.is_initialised():
        _fail(
            f"no Vigil database at {store.display_url()}; run 'vigil init' first (or set VIGIL_DATABASE_URL)"
        )
    store.migrate()
    return store
