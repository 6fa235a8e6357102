"""``vigil bank``: create banks, add, import and export hashes."""

from __future__ import annotations

import sys
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from vigil.cli.shared import CLI_ACTOR, JsonOption, _fail, _print_json, _store, out
from vigil.config import Settings
from vigil.detect.hashing.banks import BankFormat, export_bank, parse_bank_file
from vigil.detect.hashing.media import bank_hashes
from vigil.detect.hashing.video import VideoHashingUnavailableError, VideoRefusedError
from vigil.detect.registry import SIGNAL_TYPES
from vigil.domain.hashes import ListedHash
from vigil.domain.taxonomy import Category
from vigil.pipeline.admin import Admin
from vigil.store import banks as bank_store

bank_app = typer.Typer(help="Manage hash banks.", no_args_is_help=True)


def _category(value: str) -> Category:
    try:
        return Category(value)
    except ValueError:
        _fail(f"unknown category {value!r}; expected one of {', '.join(c.value for c in Category)}")


@bank_app.command("create")
def bank_create(
    name: str,
    category: Annotated[str, typer.Option(help="a Vigil category key, e.g. csam, terrorism, ncii")],
    threshold: Annotated[int, typer.Option(help="PDQ match distance", min=0, max=256)] = 31,
    source: Annotated[str, typer.Option(help="who supplies the hashes, e.g. ncmec, gifct")] = "",
    as_json: JsonOption = False,
) -> None:
    """Create an empty bank."""
    bank = Admin(_store()).create_bank(name, _category(category), source, threshold, CLI_ACTOR)
    if as_json:
        _print_json(bank)
    else:
        out.print(f"bank {bank.name} created ({bank.category.value}, threshold {bank.threshold})")


@bank_app.command("list")
def bank_list(as_json: JsonOption = False) -> None:
    """List banks with their hash counts."""
    with _store().transaction() as session:
        banks = bank_store.list_banks(session)
    if as_json:
        _print_json(banks)
        return
    table = Table("bank", "category", "source", "hashes", "version", "threshold", "enabled")
    for b in banks:
        table.add_row(
            b.name,
            b.category.value,
            b.source,
            str(b.hash_count),
            str(b.version),
            str(b.threshold),
            "yes" if b.enabled else "no",
        )
    out.print(table)


@bank_app.command("add")
def bank_add(
    name: str,
    values: Annotated[
        list[str] | None, typer.Argument(help="hash values of --type; without --type, more --media files")
    ] = None,
    hash_type: Annotated[
        str | None, typer.Option("--type", help="pdq, md5, sha256, vpdq or a plugin's type")
    ] = None,
    media: Annotated[
        list[Path] | None, typer.Option("--media", help="files to hash and add: --media FILE...")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Add hashes to a bank: --type TYPE VALUE..., or --media FILE... to hash files."""
    hashes: list[ListedHash] = []
    files = list(media or [])
    if values and hash_type is None and files:
        # an option takes one value, so in `--media a.jpg b.jpg` the second file arrives as a
        # positional value; without --type those can only be files, as the docs write the command
        files.extend(Path(v) for v in values)
        values = None
    if values:
        if hash_type is None:
            _fail("give --type (pdq, md5, sha256 or vpdq) for the hash values, or --media for files")
        kind = SIGNAL_TYPES.parse(hash_type)
        hashes.extend(ListedHash(kind.name, kind.normalise(v)) for v in values)
    for path in files:
        try:
            data = path.read_bytes()
        except OSError as exc:
            _fail(f"cannot read {path}: {exc.strerror}")
        try:
            hashes.extend(
                bank_hashes(data, note=path.name, quality_threshold=Settings().pdq_quality_threshold)
            )
        except (VideoRefusedError, VideoHashingUnavailableError) as exc:
            _fail(f"{path}: {exc}; nothing was added")
    if not hashes:
        _fail("nothing to add: give hash values with --type, or --media FILE")
    report = Admin(_store()).add_hashes(name, hashes, CLI_ACTOR)
    if as_json:
        _print_json({"added": report.added, "duplicates": report.duplicates, "version": report.version})
    else:
        out.print(
            f"{report.added} added, {report.duplicates} already present; bank {name} is at version {report.version}"
        )


@bank_app.command("import")
def bank_import(
    name: str,
    file: Annotated[Path, typer.Argument(help="the hash list")],
    fmt: Annotated[
        BankFormat, typer.Option("--format", help="csv, plain or threatexchange")
    ] = BankFormat.CSV,
    hash_type: Annotated[str | None, typer.Option("--type", help="hash type of a plain list")] = None,
    partial: Annotated[
        bool, typer.Option("--partial", help="import the good rows even if some are refused")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Import a hash list; by default nothing is imported if any row is refused."""
    try:
        text = file.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        _fail(f"cannot read {file}: {exc}")
    store = _store()
    with store.transaction() as session:
        category = bank_store.get_bank(session, name).category
    parsed = parse_bank_file(text, fmt, category, SIGNAL_TYPES.parse(hash_type).name if hash_type else None)
    report = Admin(store).import_hashes(name, parsed, partial, CLI_ACTOR)
    if as_json:
        _print_json({"file": str(file), "format": fmt, **asdict(report)})
    else:
        for row in report.refused:
            out.print(f"line {row.line}: {row.reason}", highlight=False, markup=False)
        out.print(
            f"rows accepted: {report.accepted}, refused: {len(report.refused)}; added: {report.added}, "
            f"already present: {report.duplicates}; bank {name} at version {report.version}",
            soft_wrap=True,
        )
    if not report.imported:
        first = report.refused[0]
        _fail(
            f"{len(report.refused)} rows refused, nothing imported (first: line {first.line}: {first.reason});"
            " fix the file or use --partial"
        )


@bank_app.command("export")
def bank_export(
    name: str,
    fmt: Annotated[BankFormat, typer.Option("--format", help="csv or threatexchange")] = BankFormat.CSV,
) -> None:
    """Write a bank to stdout in Vigil's CSV, or as threatexchange's ``<type> <value>`` lines."""
    if fmt is BankFormat.PLAIN:
        _fail("export writes csv or threatexchange (a plain list cannot say each hash's type)")
    with _store().transaction() as session:
        bank_store.get_bank(session, name)  # refuse an unknown bank before writing anything
        for line in export_bank(bank_store.export_rows(session, name), fmt):
            sys.stdout.write(line)
