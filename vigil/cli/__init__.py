"""The ``vigil`` command line.

Bad input exits with status 2 and one line on stderr; data goes to stdout (``--json`` for machines).

One module per command group (``policy``, ``bank``, ``audit``, ``key``, ``evidence``, ``report``,
``sor``), ``root`` for the application and its top-level commands, ``worker`` for ``vigil worker``,
``shared`` for what they all use.
"""

from __future__ import annotations

import sys
from typing import Any

import typer

from vigil.cli.audit import audit_app
from vigil.cli.bank import bank_app
from vigil.cli.cluster import cluster_app
from vigil.cli.evidence import evidence_app
from vigil.cli.key import key_app
from vigil.cli.policy import policy_app
from vigil.cli.report import report_app
from vigil.cli.root import app
from vigil.cli.shared import UsageProblem
from vigil.cli.sor import sor_app
from vigil.cli.worker import worker
from vigil.detect.hashing.banks import BankFileError
from vigil.domain.hashes import InvalidHashError
from vigil.domain.jurisdictions import UnknownCountryError
from vigil.policy.loader import PolicyValidationError
from vigil.store import banks as bank_store

__all__ = ["UsageProblem", "app", "main"]

# the order of `vigil --help`
app.command()(worker)
app.add_typer(policy_app, name="policy")
app.add_typer(bank_app, name="bank")
app.add_typer(audit_app, name="audit")
app.add_typer(key_app, name="key")
app.add_typer(evidence_app, name="evidence")
app.add_typer(report_app, name="report")
app.add_typer(sor_app, name="sor")
app.add_typer(cluster_app, name="cluster")

# ---- entry point ----------------------------------------------------------------------------------

_BAD_INPUT: tuple[type[Exception], ...] = (
    UsageProblem,
    BankFileError,
    PolicyValidationError,
    bank_store.BankError,
    bank_store.BankNotFoundError,
    InvalidHashError,
    UnknownCountryError,
)


def _one_line(message: str) -> str:
    return " ".join(message.split())


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; bad input ends with one line on stderr and exit status 2."""
    command: Any = typer.main.get_command(app)
    try:
        # without standalone mode, an Exit raised by a command comes back as the return value
        result = command.main(args=argv, prog_name="vigil", standalone_mode=False)
        if isinstance(result, int) and result:
            sys.exit(result)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        sys.stderr.write("vigil: aborted\n")
        sys.exit(130)
    except typer.TyperException as exc:
        if type(exc).__name__ == "NoArgsIsHelpError":  # a bare group: show its help, as --help would
            sys.stdout.write(str(exc) + "\n")
            sys.exit(0)
        # format_message, not str(): str() of a missing option names the Python parameter ("Missing
        # parameter: day"); format_message names what the user types ("Missing option '--date'.")
        sys.stderr.write(f"vigil: {_one_line(exc.format_message())} (see --help)\n")
        sys.exit(2)
    except _BAD_INPUT as exc:
        sys.stderr.write(f"vigil: {_one_line(str(exc))}\n")
        sys.exit(2)
