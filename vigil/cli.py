"""The ``vigil`` command line.

Bad input exits with status 2 and one line on stderr; data goes to stdout (``--json`` for machines).
"""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import asdict, fields, is_dataclass
from datetime import UTC, date, datetime, timedelta
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from vigil import __version__
from vigil.classify import ClassifyInput, bounded_lines, classify_record, read_inputs
from vigil.config import Settings
from vigil.detect.hashing.banks import BankFileError, BankFormat, export_bank, parse_bank_file
from vigil.detect.hashing.media import bank_hashes
from vigil.detect.hashing.video import VideoHashingUnavailableError, VideoRefusedError
from vigil.detect.text.classifier import TextClassifier
from vigil.domain.hashes import InvalidHashError, ListedHash, format_vpdq, normalise_hash, parse_hash_type
from vigil.domain.ids import utcnow
from vigil.domain.jurisdictions import UnknownCountryError
from vigil.domain.roles import BOUND_ROLES, Role
from vigil.domain.taxonomy import Category
from vigil.enforce.evidence import (
    KEYS_SETTING,
    EvidenceIntegrityError,
    EvidenceKeyError,
    EvidenceVault,
    KeyRing,
)
from vigil.enforce.hotline import HotlineConfigError
from vigil.intake.contact import ContactConfigError, load_contact
from vigil.intake.safeguards import LegalConfigError
from vigil.pipeline.admin import Admin
from vigil.pipeline.service import Pipeline
from vigil.policy.loader import DEFAULT_PACK, PolicyValidationError, load_policy_paths
from vigil.review.queues import QueueConfigError
from vigil.review.strikes import StrikeRulesError
from vigil.scan import batched, expand, hash_file, hash_files, scan_results
from vigil.store import audit as audit_store
from vigil.store import banks as bank_store
from vigil.store import keys as key_store
from vigil.store import policies as policy_store
from vigil.store import statements as statement_store
from vigil.store.db import Store
from vigil.transparency import daily as daily_figures
from vigil.transparency import periodic
from vigil.transparency.sor import ExportFormat, export_lines

app = typer.Typer(
    help="Vigil: a trust & safety engine. Detect, decide, act, review, answer, account.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
policy_app = typer.Typer(help="Check, install and list policies.", no_args_is_help=True)
bank_app = typer.Typer(help="Manage hash banks.", no_args_is_help=True)
audit_app = typer.Typer(help="The tamper-evident audit chain.", no_args_is_help=True)
key_app = typer.Typer(help="API keys.", no_args_is_help=True)
report_app = typer.Typer(help="Transparency figures.", no_args_is_help=True)
app.add_typer(policy_app, name="policy")
app.add_typer(bank_app, name="bank")
app.add_typer(audit_app, name="audit")
app.add_typer(key_app, name="key")
evidence_app = typer.Typer(help="Encrypted evidence: retention and key rotation.", no_args_is_help=True)
app.add_typer(evidence_app, name="evidence")
app.add_typer(report_app, name="report")
sor_app = typer.Typer(help="Statements of reasons (DSA Art. 17).", no_args_is_help=True)
app.add_typer(sor_app, name="sor")

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
    store = Store(Settings().database_url)
    if not initialise and not store.is_initialised():
        _fail(
            f"no Vigil database at {store.display_url()}; run 'vigil init' first (or set VIGIL_DATABASE_URL)"
        )
    store.migrate()
    return store


@app.callback(invoke_without_command=True)
def _root(
    version: Annotated[bool, typer.Option("--version", help="print the version and exit")] = False,
) -> None:
    if version:
        sys.stdout.write(f"vigil {__version__}\n")
        raise typer.Exit(0)


@app.command()
def init(as_json: JsonOption = False) -> None:
    """Create or migrate the database, load the default policy pack, create an admin key (printed once)."""
    store = _store(initialise=True)
    admin = Admin(store)
    with store.transaction() as session:
        existing = {p.id for p in policy_store.list_policies(session)}
    pack = load_policy_paths([DEFAULT_PACK])
    # policies already in force are left alone: an operator's edits survive every `make run`; and
    # only the pack's own are counted as in force, not the policies an operator wrote beside them
    kept = [d.id for d in pack if d.id in existing]
    applied = admin.apply_policies([d for d in pack if d.id not in existing], "vigil init")
    info, token = admin.create_key(Role.ADMIN, "created by vigil init", None, "vigil init")
    if as_json:
        _print_json(
            {
                "database": store.display_url(),
                "policies": applied,
                "already_in_force": kept,
                "admin_key": token,
                "key_id": info.id,
            }
        )
        return
    out.print(f"database ready: {store.display_url()}", highlight=False)
    out.print(f"default policy pack: {len(applied)} policies added, {len(kept)} already in force")
    out.print(f"admin API key (shown once, store it safely): {token}", highlight=False, soft_wrap=True)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="address to listen on")] = None,
    port: Annotated[int | None, typer.Option(help="port to listen on", min=1, max=65535)] = None,
) -> None:
    """Serve the HTTP API (and deliver webhooks) on 127.0.0.1:8080."""
    import uvicorn

    from vigil.api.app import create_app
    from vigil.web.oidc import OidcConfigError

    settings = Settings()
    host = host or settings.host
    port = port or settings.port
    # the egress policy refuses webhooks to Vigil's own port: it must be the port actually served
    settings = settings.model_copy(update={"host": host, "port": port})
    store = _store()
    try:
        application = create_app(settings, store)
    except (
        QueueConfigError,
        StrikeRulesError,
        ContactConfigError,
        LegalConfigError,
        EvidenceKeyError,
        HotlineConfigError,
        OidcConfigError,
    ) as exc:
        _fail(str(exc))
    if not application.state.vault.enabled:
        sys.stderr.write(
            f"vigil: warning: evidence preservation is off; set {KEYS_SETTING} to keep evidence\n"
        )
    out.print(f"Vigil {__version__} listening on http://{host}:{port} (OpenAPI at /openapi.json)")
    uvicorn.run(application, host=host, port=port, log_level="warning")


@app.command()
def demo(
    seed: Annotated[int, typer.Option(help="the same seed plays the same traffic")] = 7,
    rate: Annotated[float, typer.Option(help="posts per second", min=0.1, max=200)] = 10.0,
    duration: Annotated[
        float | None, typer.Option(help="stop after this many seconds (default: run until Ctrl-C)", min=1)
    ] = None,
    port: Annotated[int, typer.Option(help="port to serve Vigil on", min=1, max=65535)] = 8080,
    database: Annotated[
        Path, typer.Option(help="the demo's own SQLite file, made anew on every run")
    ] = Path("var/demo.db"),
    as_json: Annotated[
        bool, typer.Option("--json", help="no dashboard; print what the run did as JSON at the end")
    ] = False,
) -> None:
    """Watch Vigil work: serve it on a fresh database and play a messaging platform against it."""
    from vigil.demo.runner import DemoError, DemoOptions, run_demo
    from vigil.demo.summary import print_summary

    options = DemoOptions(seed=seed, rate=rate, duration=duration, port=port, database=database)
    try:
        summary = run_demo(options, Console(stderr=True) if as_json else out, live=not as_json)
    except DemoError as exc:
        _fail(str(exc))
    if as_json:
        _print_json(summary.to_json())
    else:
        print_summary(summary, out)


@app.command("hash")
def hash_command(
    files: Annotated[list[Path], typer.Argument(help="files to hash")],
    as_json: JsonOption = False,
) -> None:
    """Print the PDQ hash (with quality), MD5 and SHA-256 of each file, and a video's vPDQ hash."""
    failed = 0
    for path in files:
        hashed = hash_file(str(path))
        found = hashed.fingerprint
        record = {
            "path": str(path),
            "pdq": found.pdq[0] if found and found.pdq else None,
            "pdq_quality": found.pdq_quality if found else None,
            "md5": found.md5 if found else None,
            "sha256": found.sha256 if found else None,
            "vpdq": format_vpdq(found.vpdq) if found and found.vpdq else None,
            "error": hashed.error,
        }
        failed += hashed.error is not None
        if as_json:
            _print_json(record)
        elif hashed.error:
            sys.stderr.write(f"vigil: {path}: {hashed.error}\n")
        else:
            pdq = (
                f"{record['pdq']} (quality {record['pdq_quality']})" if record["pdq"] else "- (not an image)"
            )
            if found and found.vpdq:
                pdq = f"- (a video: vpdq of {len(found.vpdq)} frames)"
            elif found and found.video_refused:
                pdq = f"- (a video not hashed: {found.video_refused})"
            out.print(
                f"{path}\n  pdq    {pdq}\n  md5    {record['md5']}\n  sha256 {record['sha256']}",
                highlight=False,
                markup=False,
                soft_wrap=True,
            )
    if failed:
        raise typer.Exit(1)


@app.command()
def classify(
    text: Annotated[str | None, typer.Option("--text", help="classify this text instead of stdin")] = None,
    language: Annotated[
        str | None, typer.Option("--language", help="the language, if known (ISO 639-1), for --text")
    ] = None,
    first_stage_only: Annotated[
        bool, typer.Option("--first-stage-only", help="lexicons only, no sentence-embedding stage")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Classify texts: JSON lines {"id", "text"} on standard input, or --text; one result per item."""
    if text is None and sys.stdin.isatty():
        _fail('give --text "..." or JSON lines {"id": ..., "text": ...} on standard input')
    classifier = TextClassifier(use_second_stage=not first_stage_only)
    inputs = (
        iter([ClassifyInput(1, None, text, language)])
        if text is not None
        else read_inputs(bounded_lines(sys.stdin.buffer))
    )
    failed = 0
    for item in inputs:
        record = classify_record(classifier, item)
        failed += "error" in record
        if as_json:
            _print_json(record)
        elif "error" in record:
            sys.stderr.write(f"vigil: {record['error']}\n")
        else:
            _print_classification(record)
    if failed:
        raise typer.Exit(1)


def _print_classification(record: dict[str, Any]) -> None:
    flagged = ", ".join(record["flagged"]) or "nothing flagged"
    out.print(f"{record['id'] or '-'} [{record['language'] or '?'}] {flagged}", highlight=False, markup=False)
    for signal in record["signals"]:
        spans = "; ".join(repr(e["text"]) for e in signal["evidence"][:3])
        out.print(
            f"  {signal['category']:<12} {signal['score']:.2f} {signal['label']} {spans}",
            highlight=False,
            markup=False,
            soft_wrap=True,
        )


@app.command()
def scan(
    paths: Annotated[list[Path], typer.Argument(help="files and folders (recursive)")],
    as_json: JsonOption = False,
    workers: Annotated[int, typer.Option(help="processes hashing in parallel", min=1)] = os.cpu_count() or 1,
) -> None:
    """Hash files and folders and match them against the banks and policies (nothing is recorded)."""
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        _fail(f"no such file or folder: {', '.join(missing)}")
    pipeline = Pipeline(_store(), pdq_quality_threshold=Settings().pdq_quality_threshold)
    files = expand(paths)
    matched = 0
    with Progress(
        TextColumn("scanning"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        disable=as_json or not files,
    ) as progress:
        task = progress.add_task("scan", total=len(files), rate="")
        started = time.monotonic()
        done = 0
        for batch in batched(hash_files(files, workers), 64):
            for result in scan_results(pipeline, batch):
                done += 1
                matched += bool(result["matches"])
                if as_json:
                    _print_json(result)
                elif result["error"]:
                    progress.console.print(
                        f"{result['path']}: {result['error']}", markup=False, highlight=False
                    )
                elif result["matches"]:
                    banks = ", ".join(
                        f"{m['bank']} ({m['hash_type']} d={m['distance']})" for m in result["matches"]
                    )
                    out.print(
                        f"{result['path']}: {result['decision']['outcome']} - {banks}",
                        markup=False,
                        highlight=False,
                        soft_wrap=True,
                    )
            rate = done / max(time.monotonic() - started, 1e-9)
            progress.update(task, completed=done, rate=f"{rate:.0f} files/s")
    if not as_json:
        out.print(f"{len(files)} files scanned, {matched} matched")


# ---- policies -------------------------------------------------------------------------------------

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
    results = Admin(_store()).apply_policies(_load(paths), CLI_ACTOR)
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


# ---- banks ----------------------------------------------------------------------------------------


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
    hash_type: Annotated[str | None, typer.Option("--type", help="pdq, md5, sha256 or vpdq")] = None,
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
        kind = parse_hash_type(hash_type)
        hashes.extend(ListedHash(kind, normalise_hash(kind, v)) for v in values)
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
    parsed = parse_bank_file(text, fmt, category, parse_hash_type(hash_type) if hash_type else None)
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


# ---- audit ----------------------------------------------------------------------------------------


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


# ---- keys -----------------------------------------------------------------------------------------


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


# ---- report ---------------------------------------------------------------------------------------


@report_app.command("daily")
def report_daily(
    day: Annotated[str, typer.Option("--date", help="the UTC day, YYYY-MM-DD")],
    rebuild: Annotated[
        bool,
        typer.Option(
            "--rebuild",
            help="first recompute the day's counters from the decisions, notices, orders and appeals"
            " (a repair after a bug; audited)",
        ),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Print a day's transparency figures (UTC), as published at /v1/transparency/daily."""
    try:
        parsed = daily_figures.parse_day(day)
    except ValueError as exc:
        _fail(f"--date: {exc}")
    now = utcnow()
    if rebuild and parsed > now.date():
        _fail(f"--date {parsed.isoformat()} has not begun yet (UTC): there is nothing to rebuild")
    with _store().transaction() as session:
        if rebuild:
            figures = daily_figures.rebuild(session, parsed, CLI_ACTOR, now)
        else:
            figures = daily_figures.figures_of_day(session, parsed)
    if as_json:
        _print_json(figures.to_json())
        return
    summary = Table("figure", "value", title=f"Vigil daily figures, {parsed.isoformat()} (UTC)")
    for name, value in asdict(figures.summary).items():
        if isinstance(value, dict):  # the median's bucket
            value = value["label"]
        summary.add_row(name.replace("_", " "), "-" if value is None else str(value))
    out.print(summary)
    for name, rows in figures.breakdowns.items():
        if rows:
            columns = [f.name for f in fields(rows[0])]
            table = Table(*(c.replace("_", " ") for c in columns), title=name.replace("_", " "))
            for row in rows:
                table.add_row(*(str(getattr(row, c)) for c in columns))
            out.print(table)


@report_app.command("periodic")
def report_periodic(
    first: Annotated[str, typer.Option("--from", help="the first UTC day of the period, YYYY-MM-DD")],
    last: Annotated[str, typer.Option("--to", help="the last UTC day of the period, YYYY-MM-DD (included)")],
    output: Annotated[
        Path,
        typer.Option("--output", help="the folder to write the CSV files and report.html into (created)"),
    ],
    recipients: Annotated[
        Path | None,
        typer.Option(
            "--recipients",
            help="CSV of average monthly active recipients, lines country,count (an EU member state or EU);"
            " without it they are reported as not known to Vigil",
        ),
    ] = None,
) -> None:
    """Write the periodic transparency report (DSA Art. 15, 24): one CSV file per section of the
    harmonised templates and a readable report.html, for the UTC days --from to --to."""
    from vigil.web.public import periodic_report_html  # the web layer, loaded only when needed

    try:
        period = periodic.Period.of(daily_figures.parse_day(first), daily_figures.parse_day(last))
    except ValueError as exc:
        _fail(f"--from/--to: {exc}")
    given = None
    if recipients is not None:
        try:
            given = periodic.read_recipients(recipients)
        except OSError as exc:
            _fail(f"--recipients: cannot read {recipients}: {exc.strerror}")
        except ValueError as exc:
            _fail(f"--recipients: {exc}")
    store = _store()
    try:
        output.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        _fail(f"--output: cannot create the folder {output}: {exc.strerror or exc}")
    if not os.access(output, os.W_OK | os.X_OK):  # found before the work, not after it
        _fail(f"--output: cannot write into {output}: permission denied")
    with store.transaction() as session:
        report = periodic.periodic_report(session, period, given, utcnow())
    try:
        operator = load_contact(Settings().contact_file).operator.name
    except ContactConfigError as exc:
        _fail(str(exc))
    html = periodic_report_html(report, operator)
    try:
        written = periodic.write_report(report, output, html)
    except OSError as exc:
        _fail(f"--output: cannot write into {output}: {exc.strerror or exc}")
    # plain lines, never wrapped: scripts read the paths
    sys.stdout.write(
        f"periodic report {period.first.isoformat()} to {period.last.isoformat()} written to {output}:\n"
    )
    sys.stdout.writelines(f"  {path}\n" for path in written)


# ---- evidence -------------------------------------------------------------------------------------


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


# ---- statements of reasons -----------------------------------------------------------------------


def _export_day(option: str, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        if len(value) != 10:
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError:
        _fail(f"{option}: {value!r} is not a day (expected YYYY-MM-DD)")


@sor_app.command("export")
def sor_export(
    fmt: Annotated[
        ExportFormat, typer.Option("--format", help="jsonl (one statement a line) or csv (a column a field)")
    ] = ExportFormat.JSONL,
    first: Annotated[str | None, typer.Option("--from", help="first UTC day issued, YYYY-MM-DD")] = None,
    last: Annotated[str | None, typer.Option("--to", help="last UTC day issued, YYYY-MM-DD")] = None,
    output: Annotated[Path | None, typer.Option("--output", help="write to this file, not stdout")] = None,
) -> None:
    """Write the stored statements of reasons in the DSA Transparency Database's fields."""
    start, end = _export_day("--from", first), _export_day("--to", last)
    if start is not None and end is not None and start > end:
        _fail(f"--from {start.isoformat()} is after --to {end.isoformat()}")
    since = datetime.combine(start, datetime.min.time(), UTC) if start else None
    until = datetime.combine(end + timedelta(days=1), datetime.min.time(), UTC) if end else None
    try:
        target = output.open("w", encoding="utf-8", newline="") if output else sys.stdout
    except OSError as exc:
        _fail(f"--output: cannot write {output}: {exc.strerror}")
    try:
        with _store().transaction() as session:
            target.writelines(export_lines(statement_store.export(session, since, until), fmt))
    finally:
        if output:
            target.close()


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
