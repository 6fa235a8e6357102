"""The ``vigil`` application and its top-level commands: init, serve, demo, hash, classify, scan."""

from __future__ import annotations

import logging
import os
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from vigil import __version__
from vigil.classify import ClassifyInput, bounded_lines, classify_record, read_inputs
from vigil.cli.shared import JsonOption, _fail, _print_json, _store, out
from vigil.config import Settings
from vigil.detect.text.classifier import TextClassifier
from vigil.domain.hashes import format_vpdq
from vigil.domain.roles import Role
from vigil.enforce.evidence import (
    KEYS_SETTING,
    EvidenceKeyError,
)
from vigil.enforce.hotline import HotlineConfigError
from vigil.intake.contact import ContactConfigError
from vigil.intake.safeguards import LegalConfigError
from vigil.pipeline.admin import Admin
from vigil.pipeline.service import Pipeline
from vigil.policy.loader import DEFAULT_PACK, load_policy_paths
from vigil.review.queues import QueueConfigError
from vigil.review.strikes import StrikeRulesError
from vigil.scan import batched, expand, hash_file, hash_files, scan_results
from vigil.store import policies as policy_store

app = typer.Typer(
    help="Vigil: a trust & safety engine. Detect, decide, act, review, answer, account.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


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
    from vigil.api.app import create_app
    from vigil.cli.serving import serve_app
    from vigil.observe.logs import configure_logging
    from vigil.web.oidc import OidcConfigError

    settings = Settings()
    configure_logging(settings.log_format, settings.log_level)  # before anything logs
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
        warning = f"evidence preservation is off; set {KEYS_SETTING} to keep evidence"
        if settings.log_format == "json":  # a log shipper reads standard error: JSON lines only
            logging.getLogger("vigil.serve").warning(warning)
        else:
            sys.stderr.write(f"vigil: warning: {warning}\n")
    out.print(f"Vigil {__version__} listening on http://{host}:{port} (OpenAPI at /openapi.json)")
    serve_app(application, settings, host, port)  # SIGTERM: finish the requests in flight, exit 0


@app.command()
def demo(
    seed: Annotated[int, typer.Option(help="the same seed plays the same traffic")] = 7,
    rate: Annotated[float, typer.Option(help="posts per second", min=0.1, max=200)] = 10.0,
    duration: Annotated[
        float | None, typer.Option(help="stop after this many seconds (default: run until Ctrl-C)", min=1)
    ] = None,
    port: Annotated[int, typer.Option(help="port to serve Vigil on", min=1, max=65535)] = 8080,
    database: Annotated[Path, typer.Option(help="the demo's own SQLite file, made anew on every run")] = Path(
        "var/demo.db"
    ),
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


FirstStageOnlyOption = Annotated[
    bool, typer.Option("--first-stage-only", help="lexicons only, no sentence-embedding stage")
]


@app.command()
def classify(
    text: Annotated[str | None, typer.Option("--text", help="classify this text instead of stdin")] = None,
    language: Annotated[
        str | None, typer.Option("--language", help="the language, if known (ISO 639-1), for --text")
    ] = None,
    first_stage_only: FirstStageOnlyOption = False,
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


@app.command("eval")
def evaluate(
    corpus: Annotated[
        Path, typer.Argument(help="a labelled split, JSON lines (tests/data/text_corpus/README.md)")
    ],
    pack: Annotated[
        list[Path] | None, typer.Option("--pack", help="policy files or folders (default: the default pack)")
    ] = None,
    first_stage_only: FirstStageOnlyOption = False,
    as_json: JsonOption = False,
) -> None:
    """Measure the classifier and a policy pack on a labelled split: flags, review routing and
    automatic actions per category, language and kind, with confidence intervals."""
    from vigil.detect.text.calibrate import CorpusFileError, read_items
    from vigil.evaluate import render, report, run, to_json
    from vigil.policy.engine import PolicySet, compile_policy
    from vigil.policy.loader import PolicyValidationError

    try:
        items = read_items(corpus)
        definitions = load_policy_paths(pack or [DEFAULT_PACK])
    except (OSError, CorpusFileError, PolicyValidationError) as error:
        _fail(str(error).splitlines()[0] if str(error) else repr(error))
    if not items:
        _fail(f"{corpus}: no items")
    policies = PolicySet([compile_policy(d, 1) for d in definitions])
    result = report(run(items, TextClassifier(use_second_stage=not first_stage_only), policies))
    if as_json:
        _print_json(to_json(result))
    else:
        out.print(render(result), highlight=False, markup=False, soft_wrap=True)


def _print_classification(record: dict[str, Any]) -> None:
    flagged = ", ".join(record["flagged"]) or "nothing flagged"
    out.print(f"{record['id'] or '-'} [{record['language'] or '?'}] {flagged}", highlight=False, markup=False)
    for signal in record["signals"]:
        spans = "; ".join(repr(e["text"]) for e in signal["evidence"][:3])
        # a context signal names no category: its frame (the label) says what it is
        what = signal["category"] or signal["kind"]
        out.print(
            f"  {what:<12} {signal['score']:.2f} {signal['label']} {spans}",
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
