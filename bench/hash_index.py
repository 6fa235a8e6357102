"""Exact PDQ matching at platform scale: Vigil's HammingIndex against threatexchange and brute force.

    .venv/bin/python bench/hash_index.py                  # 1M and 10M stored hashes (~10 minutes on 2 cores)
    .venv/bin/python bench/hash_index.py --quick          # smoke run (20k and 100k hashes, seconds)
    .venv/bin/python bench/hash_index.py --designs        # also the design alternatives (see below)
    .venv/bin/python bench/hash_index.py --sizes 1000000  # other sizes

Every index gets the same random 256-bit hashes (ids 0..n-1) and the same queries, all at the PDQ
threshold of 31: half are a stored hash with 0-31 random bits flipped (a planted match), half are
random (almost surely no match). Rows:

* ``vigil``: ``vigil.detect.hashing.index.HammingIndex`` (multi-index hashing in NumPy, one
  ``add`` of all hashes); single queries timed from the hex string (``hex_to_bytes`` + ``query``),
  the batch with ``hashes_from_hex`` + ``query_many``.
* ``threatexchange``: ``threatexchange.signal_type.pdq.pdq_index.PDQIndex`` (faiss
  ``IndexBinaryMultiHash``, 16 maps of 16 bits, exact for thresholds <= 31), built from
  ``(hex, id)`` entries as its constructor takes them; single queries with ``PDQIndex.query(hex)``.
  ``PDQIndex`` has no batch call, so the batch uses the faiss wrapper underneath it,
  ``PDQIndex.index.search_with_distance_in_result(hexes, 31)`` (one OpenMP thread, see below, as
  Vigil's batch uses one core). ``pdq_index2.PDQIndex2`` is left out: it is a float ``IndexFlatL2``
  over 256 unpacked bits, 1 KiB per hash (10 GiB at 10M) and a full scan per query.
* ``brute force``: a NumPy popcount scan (XOR of the four 64-bit words, ``np.bitwise_count``, stored
  column-major, blocks of rows kept in cache across a batch); its answers are the truth that recall
  is measured against.

With ``--designs``, also the alternatives the design was chosen from: Vigil's index forced to 16
chunks of 16 bits (threatexchange's layout), faiss ``IndexBinaryMultiHash(256, 16, 16)`` called
directly (threatexchange without its Python wrapper), the same with Vigil's 10M layout (11 maps of
23 bits), and faiss ``IndexBinaryFlat`` range search (brute force in C++).

faiss runs with one OpenMP thread (``--omp-threads``): with its default of one thread per core, a
single query's parallel region waits for a second thread that the other tenants of this shared
2-core machine keep descheduled, and threatexchange's latency became bimodal (at 100k hashes:
median 447 us, 90th percentile 21 ms, against 237 us and 272 us with one thread; its batch was 6x
slower too). One thread is its best case here, and matches Vigil, which uses one core.

Each index is built and measured in its own subprocess, one after another, so the memory of one is
freed before the next is built and the resident-set growth during build is that index's own (the
caller's copy of the input is not counted); "peak RSS" is the worker's high-water mark, input
and build transients included, which is what has to fit in the machine's memory. Single-query latency is over the first ``--single``
queries, one call each; batch throughput over all ``--queries``. The machine is shared and noisy:
read the ratios, which compare rows measured in the same run, rather than absolute times.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

THRESHOLD = 31
ROOT = Path(__file__).resolve().parent.parent

Results = list[list[tuple[int, int]]]  # per query: (id, distance)


# --------------------------------------------------------------------------------------------------
# Data: deterministic from (seed, n), so every subprocess sees the same hashes and queries


def make_hashes(n: int, seed: int) -> np.ndarray:
    return np.random.default_rng([seed, n]).integers(0, 256, size=(n, 32), dtype=np.uint8)


def make_queries(hashes: np.ndarray, count: int, seed: int) -> np.ndarray:
    """Even positions: a stored hash with 0-31 distinct bits flipped; odd positions: random."""
    rng = np.random.default_rng([seed, len(hashes), 1])
    queries = rng.integers(0, 256, size=(count, 32), dtype=np.uint8)
    for i in range(0, count, 2):
        q = hashes[rng.integers(len(hashes))].copy()
        flips = rng.choice(256, size=int(rng.integers(0, THRESHOLD + 1)), replace=False)
        bits = np.unpackbits(q)
        bits[flips] ^= 1
        queries[i] = np.packbits(bits)
    return queries


def to_hex(hashes: np.ndarray) -> list[str]:
    raw = hashes.tobytes().hex()
    return [raw[i : i + 64] for i in range(0, len(raw), 64)]


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


# --------------------------------------------------------------------------------------------------
# The indexes under test: build(hashes, hexes) -> (single(i) -> results, batch() -> results, extra)


class BruteForce:
    """Exact by construction: every stored hash's distance to every query."""

    def __init__(self, hashes: np.ndarray) -> None:
        # Column-major: each XOR is a contiguous array against a scalar, the fastest NumPy form.
        self.columns = np.ascontiguousarray(hashes.view(np.uint64).reshape(-1, 4).T)
        self.nbytes = self.columns.nbytes

    def search(self, queries: np.ndarray, threshold: int, block: int = 1 << 18) -> Results:
        qwords = queries.view(np.uint64).reshape(-1, 4)
        out: Results = [[] for _ in range(len(queries))]
        n = self.columns.shape[1]
        xor = np.empty(min(block, n), dtype=np.uint64)
        cnt = np.empty(min(block, n), dtype=np.uint8)
        dist = np.empty(min(block, n), dtype=np.uint16)
        for lo in range(0, n, block):
            cols = self.columns[:, lo : lo + block]
            m = cols.shape[1]
            for qi, qw in enumerate(qwords):
                d = dist[:m]
                d[:] = 0
                for w in range(4):
                    np.bitwise_xor(cols[w], qw[w], out=xor[:m])
                    np.bitwise_count(xor[:m], out=cnt[:m])
                    d += cnt[:m]
                hits = np.flatnonzero(d <= threshold)
                out[qi].extend(zip((hits + lo).tolist(), d[hits].tolist(), strict=True))
        return out


def build_vigil(hashes: np.ndarray, hexes: list[str], layout16: bool = False) -> dict[str, Any]:
    from vigil.detect.hashing import index as vigil_index

    if layout16:
        # Threatexchange's layout, for the design comparison: 16 chunks of 16 bits in every segment.
        vigil_index._choose_layout = lambda rows: vigil_index._layout(16)
    index = vigil_index.HammingIndex()
    index.add(np.arange(len(hashes), dtype=np.int64), hashes)
    hex_to_bytes, hashes_from_hex = vigil_index.hex_to_bytes, vigil_index.hashes_from_hex

    def single(q: str) -> list[tuple[int, int]]:
        return index.query(hex_to_bytes(q), THRESHOLD)

    def batch(qs: list[str]) -> Results:
        return index.query_many(hashes_from_hex(qs), THRESHOLD)

    layout = [[w for _, w in s.layout] for s in index._segments]
    return {
        "single": single,
        "batch": batch,
        "nbytes": index.nbytes,
        "note": f"chunks {layout}",
        "keep": index,
    }


def build_threatexchange(hashes: np.ndarray, hexes: list[str]) -> dict[str, Any]:
    from threatexchange.signal_type.pdq.pdq_index import PDQIndex

    index: Any = PDQIndex(entries=zip(hexes, range(len(hexes)), strict=True))

    def single(q: str) -> list[tuple[int, int]]:
        return [(m.metadata, m.similarity_info.distance) for m in index.query(q)]

    def batch(qs: list[str]) -> Results:
        found = index.index.search_with_distance_in_result(qs, THRESHOLD)
        return [[(int(i), int(d)) for i, _, d in found[q]] for q in qs]

    return {"single": single, "batch": batch, "nbytes": None, "note": "PDQIndex", "keep": index}


def build_brute(hashes: np.ndarray, hexes: list[str]) -> dict[str, Any]:
    brute = BruteForce(hashes)

    def single(q: str) -> list[tuple[int, int]]:
        return brute.search(np.frombuffer(bytes.fromhex(q), dtype=np.uint8).reshape(1, 32), THRESHOLD)[0]

    def batch(qs: list[str]) -> Results:
        return brute.search(
            np.frombuffer(bytes.fromhex("".join(qs)), dtype=np.uint8).reshape(-1, 32), THRESHOLD
        )

    return {"single": single, "batch": batch, "nbytes": brute.nbytes, "note": "NumPy scan", "keep": brute}


def build_faiss(hashes: np.ndarray, hexes: list[str], kind: str) -> dict[str, Any]:
    import faiss

    if kind == "mih":
        index: Any = faiss.IndexBinaryMultiHash(256, 16, 16)
        index.nflip = THRESHOLD // 16  # as threatexchange sets it: exact for thresholds <= 31
    elif kind == "mih-wide":
        # Vigil's 10M layout in faiss: 11 maps of 23 bits (253 of the 256 bits), nflip 2:
        # 11 * (2 + 1) > 31, so some map is within 2 flips of every hash within 31 (exact).
        index = faiss.IndexBinaryMultiHash(256, 11, 23)
        index.nflip = -(-(THRESHOLD + 1) // 11) - 1
    else:
        index = faiss.IndexBinaryFlat(256)
    index.add(hashes)

    def search(qs: np.ndarray) -> Results:
        lims, dist, ids = index.range_search(qs, THRESHOLD + 1)  # faiss ranges are strict: < radius
        return [
            list(zip(ids[lims[i] : lims[i + 1]].tolist(), dist[lims[i] : lims[i + 1]].tolist(), strict=True))
            for i in range(len(qs))
        ]

    def single(q: str) -> list[tuple[int, int]]:
        return search(np.frombuffer(bytes.fromhex(q), dtype=np.uint8).reshape(1, 32))[0]

    def batch(qs: list[str]) -> Results:
        return search(np.frombuffer(bytes.fromhex("".join(qs)), dtype=np.uint8).reshape(-1, 32))

    return {"single": single, "batch": batch, "nbytes": None, "note": f"faiss {kind}", "keep": index}


METHODS: dict[str, tuple[str, Callable[[np.ndarray, list[str]], dict[str, Any]]]] = {
    "vigil": ("Vigil HammingIndex", build_vigil),
    "threatexchange": ("threatexchange PDQIndex", build_threatexchange),
    "brute": ("brute-force NumPy scan", build_brute),
    "vigil16": ("Vigil, 16x16-bit chunks", lambda h, x: build_vigil(h, x, layout16=True)),
    "faiss-mih": ("faiss IndexBinaryMultiHash 16x16", lambda h, x: build_faiss(h, x, "mih")),
    "faiss-mih-wide": ("faiss IndexBinaryMultiHash 11x23", lambda h, x: build_faiss(h, x, "mih-wide")),
    "faiss-flat": ("faiss IndexBinaryFlat", lambda h, x: build_faiss(h, x, "flat")),
}
MAIN_METHODS = ["vigil", "threatexchange", "brute"]
DESIGN_METHODS = ["vigil16", "faiss-mih", "faiss-mih-wide", "faiss-flat"]


# --------------------------------------------------------------------------------------------------
# One method at one size, in a subprocess


def worker(method: str, n: int, queries: int, single: int, seed: int, out: Path) -> None:
    hashes = make_hashes(n, seed)
    qhex = to_hex(make_queries(hashes, queries, seed))
    hexes = to_hex(hashes) if method == "threatexchange" else []
    gc.collect()
    before = rss_bytes()
    start = time.perf_counter()
    built = METHODS[method][1](hashes, hexes)
    build_s = time.perf_counter() - start
    gc.collect()
    rss_delta = rss_bytes() - before

    built["single"](qhex[0])  # warm up (first-touch, lazily built plans)
    latencies = []
    single_results: Results = []
    for q in qhex[:single]:
        t = time.perf_counter()
        found = built["single"](q)
        latencies.append(time.perf_counter() - t)
        single_results.append(found)
    start = time.perf_counter()
    batch_results = built["batch"](qhex)
    batch_s = time.perf_counter() - start

    out.write_text(
        json.dumps(
            {
                "build_s": build_s,
                "rss_delta": rss_delta,
                # Linux reports ru_maxrss in KiB: the whole worker at its peak, input and build included.
                "peak_rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
                "nbytes": built["nbytes"],
                "note": built["note"],
                "latencies": latencies,
                "batch_s": batch_s,
                "single_results": single_results,
                "batch_results": batch_results,
            }
        )
    )


def run_method(method: str, n: int, args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "result.json"
        cmd = [sys.executable, __file__, "--worker", method, "--n", str(n), "--out", str(out)]
        cmd += ["--queries", str(args.queries), "--single", str(args.single), "--seed", str(args.seed)]
        start = time.perf_counter()
        env = os.environ | {"OMP_NUM_THREADS": str(args.omp_threads)}
        subprocess.run(cmd, check=True, cwd=ROOT, env=env)
        result: dict[str, Any] = json.loads(out.read_text())
        print(f"  {method:15} n={n:>11,}: done in {time.perf_counter() - start:6.1f} s", file=sys.stderr)
        return result


# --------------------------------------------------------------------------------------------------
# Calibration of the index's cost model


def calibrate(n: int, seed: int, queries: int = 100) -> str:
    """Fit the constants of ``index.py``'s cost model (probe, candidate, scanned row, per-segment call).

    One segment of ``n`` random hashes is indexed with two chunk layouts (11 chunks of 23-24 bits: a
    bucket holds ~n/2**23 hashes; 16 of 16 bits: ~n/2**16), so probes and candidates vary
    independently, and probed at several thresholds with single queries; a least-squares fit of the
    median time per query on (1, probes, expected candidates) gives the per-call overhead and the
    cost of one probe and one candidate. Scanning the same segment gives the cost per row.
    """
    from vigil.detect.hashing import index as vigil_index

    hashes = make_hashes(n, seed)
    qs = make_queries(hashes, queries, seed)
    ids = np.arange(n, dtype=np.int64)
    words = vigil_index._to_words(hashes)
    choose = vigil_index._choose_layout
    samples: list[tuple[int, float, float]] = []  # probes, expected candidates, median seconds
    lines = [
        "| chunks | threshold | probes | expected candidates | median µs |",
        "| ---: | ---: | ---: | ---: | ---: |",
    ]
    try:
        for chunks in (11, 16):

            def forced(rows: int, c: int = chunks) -> tuple[tuple[int, int], ...]:
                return vigil_index._layout(c)

            vigil_index._choose_layout = forced
            segment = vigil_index._Segment(ids, words)
            widths = np.array([w for _, w in segment.layout])
            for threshold in (0, 7, 15, 23, 31):
                plan = segment.plan(threshold)
                if plan is None:
                    continue
                candidates = float(np.sum(n / 2.0 ** widths[plan.chunk]))
                segment.search(qs[:1], threshold)  # warm up
                times = []
                for q in qs:
                    t = time.perf_counter()
                    segment.search(q[None, :], threshold)
                    times.append(time.perf_counter() - t)
                samples.append((plan.probes, candidates, float(np.median(times))))
                lines.append(
                    f"| {chunks} | {threshold} | {plan.probes:,} | {candidates:,.0f} | {samples[-1][2] * 1e6:,.0f} |"
                )
            del segment
    finally:
        vigil_index._choose_layout = choose
    fit = np.array([[1.0, p, c] for p, c, _ in samples])
    overhead, probe, candidate = np.linalg.lstsq(fit, np.array([t for _, _, t in samples]), rcond=None)[0]

    def median_scan(rows: int, repeat: int) -> float:
        times = []
        for q in qs[:repeat]:
            t = time.perf_counter()
            vigil_index._scan(words[:rows], vigil_index._to_words(q[None, :]), 31)
            times.append(time.perf_counter() - t)
        return float(np.median(times))

    row = median_scan(n, 20) / n
    # What a scan costs besides its rows: the probe path's fixed cost is counted over and above it.
    scan_fixed = median_scan(1024, len(qs)) - 1024 * row
    extra = overhead - scan_fixed
    lines += [
        "",
        f"fit over {len(samples)} configurations, {n:,} hashes, single queries: probed segment fixed "
        f"{overhead * 1e6:.1f} µs, per probe {probe * 1e9:.1f} ns, per candidate {candidate * 1e9:.1f} ns; "
        f"scan {row * 1e9:.2f} ns per row, fixed {scan_fixed * 1e6:.1f} µs",
        f"in probe units (index.py's constants): candidate {candidate / probe:.2f} "
        f"(_CANDIDATE_COST {vigil_index._CANDIDATE_COST}), scanned row {row / probe:.2f} "
        f"(_SCAN_COST_PER_ROW {vigil_index._SCAN_COST_PER_ROW}), probing's extra fixed cost {extra / probe:,.0f} "
        f"(_QUERY_OVERHEAD {vigil_index._QUERY_OVERHEAD:,.0f})",
        "",
        "what the constants decide, with index.py's and with the fitted ones: chunks per segment "
        "(0: scanned) / the largest threshold probed rather than scanned",
        "",
        "| segment | index.py's constants | fitted |",
        "| ---: | ---: | ---: |",
    ]
    fitted = (1.0, candidate / probe, row / probe, extra / probe)
    for size in (8192, 20_000, 100_000, 1_000_000, 4_000_000, 10_000_000, 40_000_000):
        current, refit = _decisions(vigil_index, size, None), _decisions(vigil_index, size, fitted)
        lines.append(f"| {size:,} | {current} | {refit} |")
    return "\n".join(lines)


def _decisions(vigil_index: Any, rows: int, constants: tuple[float, float, float, float] | None) -> str:
    """The layout ``index.py`` picks for a segment of ``rows``, and where it stops probing, under
    ``constants`` (probe, candidate, scanned row, overhead; None: the module's own)."""
    names = ("_PROBE_COST", "_CANDIDATE_COST", "_SCAN_COST_PER_ROW", "_QUERY_OVERHEAD")
    saved = [getattr(vigil_index, name) for name in names]
    try:
        for name, value in zip(names, constants or saved, strict=True):
            setattr(vigil_index, name, value)
        layout = vigil_index._choose_layout(rows)
        if not layout:
            return "0 / -"
        widths = [w for _, w in layout]
        scan = vigil_index._scan_cost(rows)
        probed = [
            t
            for t in range(vigil_index.HASH_BITS + 1)
            if vigil_index._allocate_radii(widths, rows, t)[1] + vigil_index._QUERY_OVERHEAD < scan
        ]
        return f"{len(layout)} / {max(probed, default=-1)}"
    finally:
        for name, value in zip(names, saved, strict=True):
            setattr(vigil_index, name, value)


# --------------------------------------------------------------------------------------------------
# Report


def as_set(results: Sequence[Sequence[Sequence[int]]]) -> set[tuple[int, int, int]]:
    return {(qi, int(i), int(d)) for qi, found in enumerate(results) for i, d in found}


def recall(result: dict[str, Any], truth: dict[str, Any]) -> tuple[float, int, int]:
    """(recall over all single and batch answers, answers missed, answers not in the truth)."""
    got = as_set(result["single_results"]) | {
        (q + 10**6, i, d) for q, i, d in as_set(result["batch_results"])
    }
    want = as_set(truth["single_results"]) | {(q + 10**6, i, d) for q, i, d in as_set(truth["batch_results"])}
    return (len(got & want) / len(want) if want else 1.0), len(want - got), len(got - want)


def fmt_bytes(result: dict[str, Any], n: int) -> str:
    rss = f"{result['rss_delta'] / n:.0f}"
    computed = f" ({result['nbytes'] / n:.0f})" if result["nbytes"] else ""
    return rss + computed


def report(rows: dict[int, dict[str, dict[str, Any]]], args: argparse.Namespace) -> str:
    lines = [
        f"threshold {THRESHOLD}; {args.single} single queries, {args.queries} in the batch; "
        "half planted within 0-31 of a stored hash, half random",
        "",
        "| stored | index | build s | bytes/hash RSS (arrays) | peak RSS GB | single median µs "
        "| single p99 µs | batch queries/s | recall | missed | extra |",
        "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for n, results in rows.items():
        truth = results["brute"]
        for method, r in results.items():
            lat = np.array(r["latencies"]) * 1e6
            rec, missed, extra = recall(r, truth)
            lines.append(
                f"| {n:,} | {METHODS[method][0]} | {r['build_s']:.1f} | {fmt_bytes(r, n)} "
                f"| {r['peak_rss'] / 2**30:.2f} | {np.median(lat):,.0f} | {np.percentile(lat, 99):,.0f} "
                f"| {args.queries / r['batch_s']:,.0f} | {rec:.2%} | {missed} | {extra} |"
            )
    lines += [
        "",
        "Ratios: the other index's figure divided by Vigil's (time, bytes), so above 1 means Vigil is"
        " faster or smaller.",
        "",
        "| stored | Vigil vs | build time | memory (RSS) | single median | single p99 | batch throughput |",
        "| ---: | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for n, results in rows.items():
        vigil = results["vigil"]
        vl = np.array(vigil["latencies"])
        for other in [m for m in results if m != "vigil"]:
            o = results[other]
            ol = np.array(o["latencies"])
            lines.append(
                f"| {n:,} | {METHODS[other][0]} | {o['build_s'] / vigil['build_s']:.2g}x "
                f"| {o['rss_delta'] / max(vigil['rss_delta'], 1):.2g}x "
                f"| **{np.median(ol) / np.median(vl):.3g}x** | {np.percentile(ol, 99) / np.percentile(vl, 99):.3g}x "
                f"| **{o['batch_s'] / vigil['batch_s']:.3g}x** |"
            )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="1000000,10000000", help="stored hashes, comma separated")
    parser.add_argument("--queries", type=int, default=2000, help="queries in the batch")
    parser.add_argument("--single", type=int, default=200, help="queries timed one call each")
    parser.add_argument("--seed", type=int, default=20261101)
    parser.add_argument("--quick", action="store_true", help="smoke run: 20k and 100k hashes, 200 queries")
    parser.add_argument("--designs", action="store_true", help="also the design alternatives")
    parser.add_argument("--omp-threads", type=int, default=1, help="OpenMP threads for faiss (see above)")
    parser.add_argument("--methods", help="comma separated subset of " + ",".join(METHODS))
    parser.add_argument(
        "--calibrate", action="store_true", help="fit index.py's cost model at the first of --sizes"
    )
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--n", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(args.worker, args.n, args.queries, args.single, args.seed, args.out)
        return
    if args.quick:
        args.sizes, args.queries, args.single = "20000,100000", 200, 50
    if args.calibrate:
        print(calibrate(int(args.sizes.split(",")[0]), args.seed))
        return
    methods = (
        args.methods.split(",") if args.methods else MAIN_METHODS + (DESIGN_METHODS if args.designs else [])
    )
    if "brute" not in methods:
        methods.append("brute")  # the truth for recall
    if "vigil" not in methods:
        methods.insert(0, "vigil")  # the ratios' reference
    rows: dict[int, dict[str, dict[str, Any]]] = {}
    for n in [int(s) for s in args.sizes.split(",")]:
        rows[n] = {m: run_method(m, n, args) for m in methods}
    print(report(rows, args))


if __name__ == "__main__":
    main()
