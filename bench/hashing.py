"""What Vigil's image hashing costs against bare ``pdqhash``, and how ``vigil scan`` scales.

    .venv/bin/python bench/hashing.py                # 2,000 JPEGs (2-4 minutes on 2 cores)
    .venv/bin/python bench/hashing.py --quick        # 200 JPEGs, a smoke run (under a minute)
    .venv/bin/python bench/hashing.py --profile      # also cProfile Vigil's per-file work (row b)

The images are photo-like JPEGs (``tests/images.py``: a smooth colour field, a gradient, shapes, a
word, grain) saved at quality 85; their longer side is drawn from 320-1024 px in steps of 32 and
their shape from 1:1, 4:3, 3:2 and 16:9, landscape or portrait. They are generated on every core
and kept under the temporary directory in a folder named after the parameters, so later runs reuse
them (the first run spends about a minute more making them). Vigil shrinks only much larger
images before hashing, so it hashes these at full size, as the bare rows do, and the two hashes
must agree (checked; a ``--max-side`` large enough for Vigil to shrink images fails that check).

Rows, all measured in one run:

a. ``bare pdqhash.compute``: ``PIL.Image.open`` + ``convert("RGB")`` + ``np.asarray`` +
   ``pdqhash.compute``, the least a user of the package does; ``bare pdqhash.compute_dihedral``:
   the same with the eight dihedral hashes, which is what Vigil computes.
b. ``vigil.scan.hash_file``: Vigil's per-file work in this process (what ``--workers 1`` does per
   file): read, size check, MD5 + SHA-256, bounded decode (header checks, EXIF orientation), the
   dihedral PDQ hashes, hex encoding. The three in-process rows are interleaved file by file, in
   rotating order, so that the noise of a shared machine falls on all three alike.
   Diagnostics: ``scan_results + JSON`` is what the main process of ``vigil scan`` adds per file
   (bank look-ups and the policy decision in one SQLite transaction, and the JSON line), in this
   process; ``bare compute_dihedral, 1/2 processes`` is what two processes get out of the machine
   right now for bare hashing (every 8th file, pooled as ``vigil.scan.hash_files`` pools).
c/d. ``vigil scan DIR --json --workers 1`` and ``--workers 2`` as subprocesses, end to end
   (start-up, store check, hashing, look-ups, decisions, JSON lines to a file). The store is a fresh
   SQLite database after ``vigil init`` (the default policy pack) with one PDQ bank of 1,000 random
   hashes plus the hash of every 100th image, so 1% of the files match. The images are in two
   halves (``a/`` and ``b/``) scanned in the order 1-a, 2-a, 2-b, 1-b, so that a drift in the
   machine's load falls on both worker counts alike; each row adds up its two halves, two process
   start-ups included (one start-up, a scan of an empty folder, is also timed alone). The 2-process
   calibration rows are run in the same 1, 2, 2, 1 order.

Columns: ``images/s`` by the wall clock. ``CPU ms/image`` is the CPU time of the processes doing
the work (for subprocesses and pools: them and their children, from ``RUSAGE_CHILDREN``), which
other tenants disturb less than the wall clock. ``cores used`` is that CPU time over the wall time,
and ``others' cores`` what everything else on the machine kept busy meanwhile (from ``/proc/stat``,
hypervisor steal included; one figure for the three interleaved rows): on 2 cores, 2 workers can
only go 2x faster when the others use next to nothing. The per-core overhead is Vigil's time over
the bare time: of the totals, and the median of the per-file ratios (robust to unlucky files).
"""

from __future__ import annotations

import argparse
import cProfile
import functools
import importlib.metadata
import io
import json
import math
import os
import platform
import pstats
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pdqhash
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.images import encode, photo_like  # noqa: E402 - the tests' generator
from vigil.config import Settings  # noqa: E402
from vigil.pipeline.service import Pipeline  # noqa: E402
from vigil.scan import HashedFile, batched, hash_file, scan_results  # noqa: E402
from vigil.store.db import Store  # noqa: E402

ASPECTS = (1.0, 4 / 3, 3 / 2, 16 / 9)
SIDE_STEP = 32  # photo_like caches two float arrays per size: keep the number of sizes small
BANK_RANDOM_HASHES = 1000
BANK_EVERY = 100  # every 100th image's own hash goes into the bank too
CALIBRATION_EVERY = 8


# ---- the images ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ImageSet:
    count: int
    min_side: int
    max_side: int
    quality: int
    seed: int

    @property
    def key(self) -> str:
        return f"vigil-bench-hashing-v1-n{self.count}-{self.min_side}-{self.max_side}-q{self.quality}-s{self.seed}"


def _make_image(job: tuple[ImageSet, int, str]) -> tuple[int, int, int]:
    spec, index, path = job
    rng = np.random.default_rng((spec.seed, index))
    longer = int(rng.choice(range(spec.min_side, spec.max_side + 1, SIDE_STEP)))
    shorter = max(1, round(longer / float(rng.choice(ASPECTS))))
    width, height = (longer, shorter) if rng.random() < 0.7 else (shorter, longer)
    square = photo_like(spec.seed * 1_000_003 + index, longer)
    top, left = (longer - height) // 2, (longer - width) // 2
    pixels = np.ascontiguousarray(square[top : top + height, left : left + width])
    data = encode(pixels, "JPEG", quality=spec.quality)
    Path(path).write_bytes(data)
    return width, height, len(data)


def image_folder(spec: ImageSet, cache: Path) -> tuple[Path, float]:
    """The folder of generated JPEGs (halves ``a/`` and ``b/``), made unless cached; its set-up seconds."""
    folder = cache / spec.key
    if (folder / "done.json").exists():
        return folder, 0.0
    started = time.perf_counter()
    building = cache / f"{spec.key}.building-{os.getpid()}"
    shutil.rmtree(building, ignore_errors=True)
    for half in "ab":
        (building / half).mkdir(parents=True)
    jobs = [(spec, i, str(building / "ab"[i % 2] / f"img-{i:05d}.jpg")) for i in range(spec.count)]
    print(f"generating {spec.count} JPEGs for {folder} ...", file=sys.stderr, flush=True)
    with ProcessPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        made = list(pool.map(_make_image, jobs, chunksize=8))
    pixels = sum(w * h for w, h, _ in made)
    summary = {"images": len(made), "megapixels": pixels / 1e6, "bytes": sum(b for *_, b in made)}
    (building / "done.json").write_text(json.dumps(summary))
    shutil.rmtree(folder, ignore_errors=True)  # a half-made folder from an interrupted older version
    try:
        building.rename(folder)
    except OSError:  # another run finished first: use its images
        shutil.rmtree(building, ignore_errors=True)
    return folder, time.perf_counter() - started


def files_of(folder: Path) -> list[str]:
    """The images in scan order (as ``vigil.scan.expand`` walks the folder)."""
    return [str(p) for half in "ab" for p in sorted((folder / half).iterdir())]


# ---- measuring ------------------------------------------------------------------------------------

_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def machine_busy_s() -> float:
    """CPU seconds all processes on the machine have used (and the hypervisor stolen); NaN off Linux."""
    try:
        with open("/proc/stat") as stat:
            fields = [int(v) for v in stat.readline().split()[1:9]]
    except (OSError, ValueError):
        return math.nan
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields
    return (user + nice + system + irq + softirq + steal) / _TICK


def children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@dataclass
class Usage:
    """Wall seconds, our CPU seconds (this process and reaped children), the machine's busy seconds."""

    wall: float = 0.0
    cpu: float = 0.0
    busy: float = 0.0

    def __add__(self, other: Usage) -> Usage:
        return Usage(self.wall + other.wall, self.cpu + other.cpu, self.busy + other.busy)

    @property
    def others_cores(self) -> float:
        return max(0.0, self.busy - self.cpu) / self.wall


def measured(work: Callable[[], Any]) -> tuple[Any, Usage]:
    t0, c0, b0 = time.perf_counter(), time.process_time() + children_cpu_s(), machine_busy_s()
    result = work()
    t1, c1, b1 = time.perf_counter(), time.process_time() + children_cpu_s(), machine_busy_s()
    return result, Usage(t1 - t0, c1 - c0, b1 - b0)


@dataclass
class Row:
    name: str
    images: int
    wall_s: float
    cpu_s: float
    others_cores: float

    @classmethod
    def of(cls, name: str, images: int, usage: Usage) -> Row:
        return cls(name, images, usage.wall, usage.cpu, usage.others_cores)

    @property
    def per_s(self) -> float:
        return self.images / self.wall_s

    @property
    def cpu_ms(self) -> float:
        return 1000 * self.cpu_s / self.images


# ---- in-process rows --------------------------------------------------------------------------------


def bare_compute(path: str) -> Any:
    return pdqhash.compute(np.asarray(Image.open(path).convert("RGB")))


def bare_dihedral(path: str) -> Any:
    return pdqhash.compute_dihedral(np.asarray(Image.open(path).convert("RGB")))


def interleaved(
    files: Sequence[str], functions: Sequence[Callable[[str], Any]]
) -> tuple[list[list[float]], list[float], list[list[Any]]]:
    """Each function on each file, in rotating order: wall seconds per file, CPU seconds, results."""
    walls: list[list[float]] = [[] for _ in functions]
    cpus = [0.0 for _ in functions]
    results: list[list[Any]] = [[] for _ in functions]
    for i, path in enumerate(files):
        for k in range(len(functions)):
            j = (i + k) % len(functions)
            c0, t0 = time.process_time(), time.perf_counter()
            result = functions[j](path)
            t1, c1 = time.perf_counter(), time.process_time()
            walls[j].append(t1 - t0)
            cpus[j] += c1 - c0
            results[j].append(result)
    return walls, cpus, results


def bare_pool(files: Sequence[str], processes: int) -> None:
    """Bare ``compute_dihedral`` over ``files`` on ``processes``, pooled as ``vigil.scan.hash_files`` pools."""
    if processes == 1:
        for path in files:
            bare_dihedral(path)
        return
    with ProcessPoolExecutor(max_workers=processes) as pool:
        for _ in pool.map(bare_dihedral, files, chunksize=16):
            pass


def bits_hex(bits: Any) -> str:
    return np.packbits(np.asarray(bits, dtype=np.uint8)).tobytes().hex()


# ---- vigil scan as a subprocess ------------------------------------------------------------------------


def vigil_command() -> list[str]:
    script = Path(sys.executable).parent / "vigil"
    return [str(script)] if script.exists() else [sys.executable, "-m", "vigil"]


def run_vigil(args: list[str], env: dict[str, str], stdout: Any = subprocess.DEVNULL) -> Usage:
    def run() -> None:
        proc = subprocess.run(
            [*vigil_command(), *args], env=env, stdout=stdout, stderr=subprocess.PIPE, text=True
        )
        if proc.returncode != 0:
            sys.exit(f"vigil {' '.join(args)} failed ({proc.returncode}): {proc.stderr.strip()}")

    return measured(run)[1]


def set_up_store(workdir: Path, bank_hashes: list[str], seed: int) -> dict[str, str]:
    """A fresh store after ``vigil init`` with one PDQ bank; the environment that points at it."""
    env = {**os.environ, "VIGIL_DATABASE_URL": f"sqlite:///{workdir / 'vigil.db'}"}
    rng = np.random.default_rng(seed)
    random_hashes = [
        rng.integers(0, 256, 32, dtype=np.uint8).tobytes().hex() for _ in range(BANK_RANDOM_HASHES)
    ]
    hash_list = workdir / "bank.txt"
    hash_list.write_text("\n".join([*random_hashes, *bank_hashes]) + "\n")
    run_vigil(["init", "--json"], env)
    run_vigil(["bank", "create", "bench-known", "--category", "terrorism", "--json"], env)
    run_vigil(
        ["bank", "import", "bench-known", str(hash_list), "--format", "plain", "--type", "pdq", "--json"], env
    )
    return env


def scan_output(path: Path) -> tuple[int, int, int]:
    """Lines, files with an error, files with a match in a ``vigil scan --json`` output."""
    lines = errors = matched = 0
    for line in path.read_text().splitlines():
        result = json.loads(line)
        lines += 1
        errors += result["error"] is not None
        matched += bool(result["matches"])
    return lines, errors, matched


# ---- the report -----------------------------------------------------------------------------------


def table(rows: Sequence[Row], baseline: Row) -> str:
    lines = [
        "| row | images | seconds | images/s | CPU ms/image | cores used | others' cores "
        "| time/image vs bare compute |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        ratio = (r.wall_s / r.images) / (baseline.wall_s / baseline.images)
        others = "-" if math.isnan(r.others_cores) else f"{r.others_cores:.2f}"
        lines.append(
            f"| {r.name} | {r.images:,} | {r.wall_s:.1f} | {r.per_s:.1f} | {r.cpu_ms:.1f} "
            f"| {r.cpu_s / r.wall_s:.2f} | {others} | {ratio:.2f}x |"
        )
    return "\n".join(lines)


def versions() -> str:
    pkgs = ", ".join(f"{p} {importlib.metadata.version(p)}" for p in ("pdqhash", "pillow", "numpy"))
    return f"Python {platform.python_version()}, {pkgs}, {os.cpu_count()} CPUs"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=2000)
    parser.add_argument("--quick", action="store_true", help="200 images")
    parser.add_argument("--min-side", type=int, default=320)
    parser.add_argument("--max-side", type=int, default=1024)
    parser.add_argument("--quality", type=int, default=85)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--cache", type=Path, default=Path(tempfile.gettempdir()), help="where the images are kept"
    )
    parser.add_argument("--profile", action="store_true", help="cProfile vigil.scan.hash_file afterwards")
    args = parser.parse_args(argv)
    count = 200 if args.quick else args.images
    if count < 2 * CALIBRATION_EVERY:
        parser.error(f"--images must be at least {2 * CALIBRATION_EVERY}")
    started = time.perf_counter()

    spec = ImageSet(count, args.min_side, args.max_side, args.quality, args.seed)
    folder, generated_s = image_folder(spec, args.cache)
    files = files_of(folder)
    info = json.loads((folder / "done.json").read_text())
    print(
        f"{len(files)} JPEGs, {info['megapixels']:.0f} megapixels, {info['bytes'] / 1e6:.0f} MB, in {folder}"
        + (f" (generated in {generated_s:.0f} s)" if generated_s else " (cached)"),
        file=sys.stderr,
        flush=True,
    )

    # Warm up: every file into the page cache; imports, decoders and first calls on a few files.
    for path in files:
        Path(path).read_bytes()
    for path in files[:5]:
        bare_compute(path), bare_dihedral(path), hash_file(path)

    # a + b: in this process, interleaved file by file.
    print("in-process rows ...", file=sys.stderr, flush=True)
    (walls, cpus, results), phase = measured(
        lambda: interleaved(files, (bare_compute, bare_dihedral, hash_file))
    )
    names = (
        "a. bare pdqhash.compute",
        "a. bare pdqhash.compute_dihedral",
        "b. vigil.scan.hash_file (1 process)",
    )
    base, dihedral, vigil = (
        Row(name, len(files), sum(w), cpu, phase.others_cores)
        for name, w, cpu in zip(names, walls, cpus, strict=True)
    )
    hashed: list[HashedFile] = results[2]
    mismatched = sum(
        h.fingerprint is None or h.fingerprint.pdq[0] != bits_hex(bare[0])
        for h, bare in zip(hashed, results[0], strict=True)
    )
    if mismatched:
        sys.exit(f"{mismatched} files hash differently in Vigil and bare pdqhash (shrunk? lower --max-side)")
    median_vs_compute = statistics.median(v / b for v, b in zip(walls[2], walls[0], strict=True))
    median_vs_dihedral = statistics.median(v / b for v, b in zip(walls[2], walls[1], strict=True))

    # What two processes get out of this machine now: bare hashing on 1 and 2 processes, order 1 2 2 1.
    print("2-process calibration ...", file=sys.stderr, flush=True)
    sample = files[::CALIBRATION_EVERY]
    halves = (sample[0::2], sample[1::2])
    pools = {1: Usage(), 2: Usage()}
    for processes, half in ((1, 0), (2, 0), (2, 1), (1, 1)):
        pools[processes] += measured(functools.partial(bare_pool, halves[half], processes))[1]
    pool1, pool2 = (
        Row.of(f"   bare compute_dihedral, {p} process{'es' if p > 1 else ''}", len(sample), pools[p])
        for p in (1, 2)
    )

    # c + d: vigil scan end to end, on a fresh store.
    with tempfile.TemporaryDirectory(prefix="vigil-bench-hashing-") as tmp:
        workdir = Path(tmp)
        known = [h.fingerprint.pdq[0] for h in hashed[::BANK_EVERY] if h.fingerprint]
        env = set_up_store(workdir, known, args.seed)

        # What the scan's main process adds per file, in this process on the same store.
        os.environ["VIGIL_DATABASE_URL"] = env["VIGIL_DATABASE_URL"]
        store = Store(env["VIGIL_DATABASE_URL"])
        pipeline = Pipeline(store, pdq_quality_threshold=Settings().pdq_quality_threshold)
        scan_results(pipeline, hashed[:1])  # loads the banks and policies

        def results_and_json() -> None:
            for batch in batched(hashed, 64):
                for result in scan_results(pipeline, batch):
                    json.dumps(result, ensure_ascii=False)

        result_row = Row.of(
            "   scan_results + JSON (main process's part)", len(files), measured(results_and_json)[1]
        )

        empty = workdir / "empty"
        empty.mkdir()
        startup = run_vigil(["scan", str(empty), "--json", "--workers", "1"], env)

        print("vigil scan rows ...", file=sys.stderr, flush=True)
        scans = {1: Usage(), 2: Usage()}
        checks = {1: (0, 0, 0), 2: (0, 0, 0)}
        for workers, half_name in ((1, "a"), (2, "a"), (2, "b"), (1, "b")):
            out = workdir / f"scan-{workers}-{half_name}.jsonl"
            with out.open("w") as stdout:
                scans[workers] += run_vigil(
                    ["scan", str(folder / half_name), "--json", "--workers", str(workers)], env, stdout
                )
            lines, errors, matched = scan_output(out)
            done = checks[workers]
            checks[workers] = (done[0] + lines, done[1] + errors, done[2] + matched)
        for workers, (lines, errors, _) in checks.items():
            if lines != len(files) or errors:
                sys.exit(
                    f"vigil scan --workers {workers}: {lines} results, {errors} errors for {len(files)} files"
                )
        scan1, scan2 = (
            Row.of(f"{'c' if w == 1 else 'd'}. vigil scan --json --workers {w}", len(files), scans[w])
            for w in (1, 2)
        )
        store.dispose()

    rows = [base, dihedral, vigil, result_row, pool1, pool2, scan1, scan2]
    print()
    print(
        f"`.venv/bin/python bench/hashing.py{' --quick' if args.quick else ''}` ({versions()}; "
        f"{time.perf_counter() - started - generated_s:.0f} s without generating the images)"
    )
    print()
    print(table(rows, base))
    print()
    print(
        f"- {len(files):,} JPEGs, {info['megapixels'] / len(files):.2f} megapixels and "
        f"{info['bytes'] / len(files) / 1e3:.0f} kB each on average; every Vigil hash equals bare "
        f"pdqhash's; {checks[1][2]} of the scanned files matched the bank. Calibration rows: every "
        f"{CALIBRATION_EVERY}th file."
    )
    print(
        f"- Vigil per-core overhead vs bare `compute`: {vigil.wall_s / base.wall_s - 1:+.1%} of the total "
        f"wall time, {median_vs_compute - 1:+.1%} median per file, {vigil.cpu_s / base.cpu_s - 1:+.1%} CPU "
        f"time (target: under +10%). Vs bare `compute_dihedral`: {vigil.wall_s / dihedral.wall_s - 1:+.1%}, "
        f"{median_vs_dihedral - 1:+.1%}, {vigil.cpu_s / dihedral.cpu_s - 1:+.1%}."
    )
    print(
        f"- `vigil scan --workers 1` end to end vs `hash_file` in process: "
        f"{scan1.wall_s / vigil.wall_s - 1:+.1%} wall, {scan1.cpu_ms - vigil.cpu_ms:+.1f} CPU ms/image; "
        f"one start-up (a scan of an empty folder) takes {startup.wall:.2f} s wall, {startup.cpu:.2f} s CPU "
        f"({2000 * startup.wall / len(files):.1f} ms/image in each scan row, which starts twice)."
    )
    print(
        f"- 2-worker speed-up vs 1 worker: {scan1.wall_s / scan2.wall_s:.2f}x wall (target: near 2x), "
        f"cores used {scan1.cpu_s / scan1.wall_s:.2f} -> {scan2.cpu_s / scan2.wall_s:.2f} while the rest of "
        f"the machine kept {scan1.others_cores:.2f} / {scan2.others_cores:.2f} cores busy; CPU per image "
        f"{scan2.cpu_ms / scan1.cpu_ms:.2f}x. Bare hashing got {pool1.wall_s / pool2.wall_s:.2f}x from 2 "
        f"processes in the same conditions. The main process's own serial work is "
        f"{result_row.cpu_ms:.1f} CPU ms/image ({result_row.cpu_s / (result_row.cpu_s + vigil.cpu_s):.0%} "
        f"of the CPU per file)."
    )
    if generated_s:
        print(f"- Set-up: generating the images took {generated_s:.0f} s (cached for later runs).")

    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        for path in files:
            hash_file(path)
        profiler.disable()
        stream = io.StringIO()
        pstats.Stats(profiler, stream=stream).sort_stats("tottime").print_stats(15)
        print()
        print("cProfile of vigil.scan.hash_file over the files, by own time:")
        print(stream.getvalue())


if __name__ == "__main__":
    main()
