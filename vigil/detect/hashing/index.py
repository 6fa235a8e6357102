"""Exact Hamming-distance search over 256-bit PDQ hashes, at platform scale.

A bank of known media can hold tens of millions of PDQ hashes, and every uploaded image is looked up
against all of them: "which stored hashes are within distance *t* of this one?". Recall has to be
exact (a missed CSAM match is not an acceptable approximation), so approximate nearest-neighbour
indexes are out. ``HammingIndex`` answers the question exactly with *multi-index hashing* (Norouzi,
Punjani & Fleet, "Fast search in Hamming space with multi-index hashing", CVPR 2012):

* Each hash is cut into ``m`` disjoint chunks of ``b`` bits, and every chunk gets a table from chunk
  value to the rows holding it (a bucket).
* Pigeonhole: if two hashes differ in at most ``t`` bits and the chunks are given radii ``r_i`` with
  ``sum(r_i + 1) >= t + 1``, some chunk differs in at most ``r_i`` bits (otherwise the distance would
  be at least ``sum(r_i + 1) > t``). So probing, for each chunk, every value within ``r_i`` bits of
  the query's chunk finds *every* hash within ``t``; the candidates are then verified with a
  vectorised popcount of the XOR. Nothing within ``t`` can be missed, whatever the data.
* The chunk width is chosen per stored segment from its size, so that a bucket holds about one hash
  (``2**b`` close to ``n``): at 10 million hashes that is 11 chunks of 23-24 bits, which for the PDQ
  threshold of 31 means about 2,900 probes and 2,900 candidates per query instead of the ~41,000
  candidates of 16 chunks of 16 bits (the layout of ``threatexchange``'s ``PDQIndex``). The
  per-query radii come from a cost model, so any threshold works; where probing would cost more
  than reading everything (large thresholds, tiny segments), the segment is scanned instead.

``bench/RESULTS.md`` (section "Hamming index") has the numbers behind these choices, the
calibration of the cost model, and the comparison with ``threatexchange`` and a brute-force scan.

Why segments: the bucket tables are flat sorted arrays (compact, and fast to probe from NumPy), which
cannot take inserts in place. So new hashes go to a small buffer that is scanned; a full buffer
becomes an immutable segment, and segments of similar size are merged (a log-structured merge, as
in Lucene or LevelDB): each segment is kept 4x larger than the next, so a hash is re-indexed O(log n)
times over its life and a query visits O(log n) segments. Nothing is rebuilt per add; the largest
segment is rebuilt only once the smaller ones together reach a quarter of it (seconds at 10 million
hashes, inside the add that tips it over). Removal marks a tombstone; a segment that is more than a quarter tombstones is rebuilt without them,
so removed hashes never come back in results and memory stays bounded.

Hashes are NumPy ``uint8`` arrays of 32 bytes in the order of the usual 64-character hex form
(``hex_to_bytes``/``hashes_from_hex`` convert). Not thread-safe for writes: callers that add or
remove while others query must hold a lock around the writes and the queries.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

HASH_BYTES = 32
HASH_BITS = 8 * HASH_BYTES
DEFAULT_THRESHOLD = 31  # the industry's PDQ match threshold (docs/media-matching.md, "Thresholds")

U8Array = npt.NDArray[np.uint8]
U32Array = npt.NDArray[np.uint32]
I64Array = npt.NDArray[np.int64]
U64Array = npt.NDArray[np.uint64]
Match = tuple[int, int]  # (id, distance)

# Cost model, in units of one bucket probe (a random read of one offset, in DRAM at these table
# sizes). A candidate costs about as much (its posting and its hash are two more random reads, but
# they overlap); a scan streams a row through XOR and popcount, several times cheaper; every probed
# segment adds ~20 NumPy calls that a scan of a small one does not. ``bench/hash_index.py
# --calibrate`` fits these per query (bench/RESULTS.md, section "Hamming index"): on the shared
# 2-core reference VM a probe took 27-137 ns, a candidate 30-79 ns, a scanned row 5.5-8 ns and
# probing's fixed cost 22-85 us, varying from run to run. The constants sit inside those ranges, and
# only near the crossovers (tiny segments, thresholds above ~50) do they decide anything: under
# every fit the 10M layout stays 11 chunks; the others move by up to 3 chunks or 10 bits of threshold.
_PROBE_COST = 1.0
_CANDIDATE_COST = 1.0
_SCAN_COST_PER_ROW = 0.2
_QUERY_OVERHEAD = 1000.0

# Segment layout limits: chunks of at most 30 bits (tables of 2**30 offsets are already 4 GiB), and
# bucket tables no larger than the postings they point into (memory per hash stays ~130 bytes).
_MAX_CHUNK_BITS = 30
_MIN_CHUNKS = 8
_MAX_CHUNKS = 64
_TABLE_TO_POSTINGS_RATIO = 1.25

_BUFFER_LIMIT = 4096  # hashes held unindexed (scanned, ~25 us a query) before they become a segment
_MERGE_FACTOR = 4  # segments are kept at least this many times larger than the next smaller one
_COMPACT_FRACTION = 0.25  # a segment with more tombstones than this is rebuilt without them

_MAX_PROBES_PER_BLOCK = 1 << 16  # 20-50 queries a block: intermediates stay in cache (256 was 2x slower)
_SCAN_ROWS_PER_BLOCK = 1 << 15  # 1 MiB of hashes: stays in cache while a batch of queries scans it

_HEX64 = re.compile(r"[0-9a-fA-F]{64}")


# --------------------------------------------------------------------------------------------------
# Hex helpers


def hex_to_bytes(hex64: str) -> U8Array:
    """A PDQ hash in its 64-character hex form (either case) as 32 ``uint8`` values."""
    if not isinstance(hex64, str) or not _HEX64.fullmatch(hex64):
        shown = repr(hex64) if len(repr(hex64)) <= 80 else repr(hex64)[:77] + "..."
        raise ValueError(f"{shown} is not a PDQ hash (64 hexadecimal characters)")
    return np.frombuffer(bytes.fromhex(hex64), dtype=np.uint8).copy()


def hashes_from_hex(hexes: Sequence[str]) -> U8Array:
    """64-character hex PDQ hashes as an ``(n, 32)`` ``uint8`` array, row i from ``hexes[i]``.

    Decodes everything in one ``bytes.fromhex`` call (a million hashes in well under a second); only
    when that fails is each value checked, so the error can name the first bad row.
    """
    n = len(hexes)
    if n == 0:
        return np.zeros((0, HASH_BYTES), dtype=np.uint8)
    joined = "".join(hexes) if all(isinstance(h, str) and len(h) == 64 for h in hexes) else None
    if joined is not None:
        try:
            raw = bytes.fromhex(joined)
        except ValueError:
            raw = b""
        # fromhex skips whitespace, so a value with spaces decodes short: the length catches it.
        if len(raw) == n * HASH_BYTES:
            return np.frombuffer(raw, dtype=np.uint8).reshape(n, HASH_BYTES).copy()
    for row, value in enumerate(hexes):
        try:
            hex_to_bytes(value)
        except ValueError as exc:
            raise ValueError(f"row {row}: {exc}") from None
    raise AssertionError("unreachable: every row decoded on its own")  # pragma: no cover


# --------------------------------------------------------------------------------------------------
# Bit twiddling


_BYTE_SUM = np.uint32(0x01010101)
_TOP_BYTE = np.uint32(24)


def _within(x: U64Array, threshold: int) -> tuple[I64Array, U32Array]:
    """Rows of ``x`` (``(n, 4)`` ``uint64``, XORed hashes) with popcount <= ``threshold``, and their
    popcounts (the Hamming distances)."""
    counts: U8Array = _bitwise_count(x)
    # Sum the four byte-sized counts in one multiply (the top byte of v * 0x01010101 is the sum of
    # v's bytes): 5x faster than adding strided columns. Partial sums stay below 256, so no carry
    # spoils the top byte, but the full sum wraps 256 (a complement) to 0: fixed up among the hits.
    dist: U32Array = (counts.view(np.uint32).reshape(-1) * _BYTE_SUM) >> _TOP_BYTE
    hit = np.flatnonzero(dist <= threshold)
    dist = dist[hit]
    wrapped = np.flatnonzero(dist == 0)
    if len(wrapped):
        complement = counts[hit[wrapped], 0] != 0  # a distance of 0 has no bit set anywhere
        if complement.any():
            dist[wrapped[complement]] = HASH_BITS
            keep = dist <= threshold
            hit, dist = hit[keep], dist[keep]
    return hit, dist


_BYTE_POPCOUNT = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint8)


def _bitwise_count_lut(x: U64Array) -> U8Array:
    """``np.bitwise_count`` for NumPy < 2.0: a byte lookup table, summed per 64-bit word."""
    per_byte = _BYTE_POPCOUNT[x.view(np.uint8)].reshape(*x.shape, 8)
    out: U8Array = per_byte.sum(axis=-1, dtype=np.uint8)
    return out


_bitwise_count: Any = getattr(np, "bitwise_count", _bitwise_count_lut)


def _to_words(hashes: U8Array) -> U64Array:
    """``(n, 32)`` bytes as ``(n, 4)`` native ``uint64``: four XORs and popcounts per distance."""
    words: U64Array = np.ascontiguousarray(hashes).view(np.uint64).reshape(-1, 4)
    return words


@functools.cache
def _masks(width: int, radius: int) -> I64Array:
    """Every ``width``-bit value with at most ``radius`` bits set, lightest first (the probe offsets);
    none for a radius of -1 (a chunk left unprobed)."""
    bits = np.int64(1) << np.arange(width, dtype=np.int64)
    levels = [np.zeros(1 if radius >= 0 else 0, dtype=np.int64)]
    for _ in range(min(radius, width)):
        prev = levels[-1]
        # Add one bit above the highest set bit, so each mask is generated exactly once.
        grown = prev[:, None] | bits[None, :]
        levels.append(grown[bits[None, :] > prev[:, None]])
    out = np.concatenate(levels)
    out.setflags(write=False)
    return out


def _layout(chunks: int) -> tuple[tuple[int, int], ...]:
    """``chunks`` contiguous (start bit, width) pieces covering all 256 bits, widths differing by <= 1."""
    base, extra = divmod(HASH_BITS, chunks)
    widths = [base + 1] * extra + [base] * (chunks - extra)
    starts = [sum(widths[:i]) for i in range(chunks)]
    return tuple(zip(starts, widths, strict=True))


def _chunk_values(words_be: list[U64Array], start: int, width: int) -> U64Array:
    """Bits ``[start, start + width)`` of each hash (bit 0 = most significant bit of byte 0).

    ``words_be`` are the four 64-bit words read big-endian, so bit order matches the hex form; a
    chunk may straddle two words.
    """
    word, offset = divmod(start, 64)
    if offset + width <= 64:
        shifted = words_be[word] >> np.uint64(64 - offset - width)
        out: U64Array = shifted & np.uint64((1 << width) - 1)
        return out
    high = 64 - offset
    low = width - high
    out = (words_be[word] & np.uint64((1 << high) - 1)) << np.uint64(low)
    out |= words_be[word + 1] >> np.uint64(64 - low)
    return out


# --------------------------------------------------------------------------------------------------
# Query planning


def _allocate_radii(widths: Sequence[int], rows: int, threshold: int) -> tuple[list[int], float]:
    """Per-chunk probe radii covering ``threshold`` at the least estimated cost, and that cost.

    Needs ``sum(r_i + 1) >= threshold + 1`` (r_i = -1 leaves chunk i unprobed). Raising r_i by one
    adds C(b_i, r_i + 1) probes, a cost that grows with r_i, so giving each of the ``threshold + 1``
    units to the currently cheapest chunk is optimal (a separable convex allocation). Returns an
    infinite cost when the chunks cannot cover the threshold.
    """
    radii = [-1] * len(widths)
    per_probe = [_PROBE_COST + _CANDIDATE_COST * rows / (1 << w) for w in widths]
    cost = 0.0
    for _ in range(threshold + 1):
        best, best_cost = -1, math.inf
        for i, w in enumerate(widths):
            if radii[i] < w:
                extra = math.comb(w, radii[i] + 1) * per_probe[i]
                if extra < best_cost:
                    best, best_cost = i, extra
        if best < 0:
            return radii, math.inf
        radii[best] += 1
        cost += best_cost
    return radii, cost


def _scan_cost(rows: int) -> float:
    return rows * _SCAN_COST_PER_ROW


def _choose_layout(rows: int) -> tuple[tuple[int, int], ...]:
    """The chunking for a segment of ``rows`` hashes, or ``()`` where scanning it is cheaper.

    Wider chunks mean fewer candidates per probe but more probes and larger tables; the cheapest
    layout at the default threshold whose tables fit the memory budget wins. In practice ``2**b``
    lands near ``rows``: one hash per bucket.
    """
    best: tuple[tuple[int, int], ...] = ()
    best_cost = _scan_cost(rows)
    for chunks in range(_MIN_CHUNKS, _MAX_CHUNKS + 1):
        layout = _layout(chunks)
        widths = [w for _, w in layout]
        if max(widths) > _MAX_CHUNK_BITS:
            continue
        if sum(1 << w for w in widths) > _TABLE_TO_POSTINGS_RATIO * chunks * rows:
            continue
        _, cost = _allocate_radii(widths, rows, DEFAULT_THRESHOLD)
        if cost + _QUERY_OVERHEAD < best_cost:
            best, best_cost = layout, cost + _QUERY_OVERHEAD
    return best


@dataclass(frozen=True, slots=True)
class _Plan:
    """Probes for one threshold on one segment: probe p reads slot ``(key[c] + base[c]) ^ mask[p]``, c = chunk[p]."""

    chunk: I64Array
    mask: I64Array

    @property
    def probes(self) -> int:
        return len(self.mask)


# --------------------------------------------------------------------------------------------------
# Segments


class _Segment:
    """An immutable block of hashes with its bucket tables; only its tombstones change.

    Rows are sorted by id, so ``ids`` doubles as the id -> row lookup (binary search) without a
    dictionary that would cost more memory than the hashes themselves.

    The chunk tables are laid end to end in ``offsets``, widest first, and point into ``postings``
    (rows of the segment, chunk after chunk). Chunk ``c``'s bucket for value ``v`` is
    ``postings[offsets[s] : offsets[s + 1]]`` with slot ``s = bases[c] + v``: a table's last bucket
    ends where the next table's first begins, so no table needs an end marker of its own, and each
    base is a multiple of its table's size (the sizes are powers of two, largest first), so
    ``(key ^ mask) + base == (key + base) ^ mask`` and a probe's slot is one XOR.
    """

    __slots__ = (
        "_key_weights",
        "_plans",
        "bases",
        "dead",
        "dead_count",
        "ids",
        "layout",
        "offsets",
        "postings",
        "words",
    )

    def __init__(self, ids: I64Array, words: U64Array) -> None:
        """Index ``words`` (``(n, 4)`` ``uint64``) under ``ids`` (unique, sorted ascending)."""
        n = len(ids)
        self.ids = ids
        self.words = words
        self.dead = np.zeros(n, dtype=np.bool_)
        self.dead_count = 0
        self.layout = _choose_layout(n)
        self._plans: dict[int, _Plan | None] = {}
        m = len(self.layout)
        table_sizes = [1 << w for _, w in self.layout]
        assert table_sizes == sorted(table_sizes, reverse=True), "bases must stay aligned"
        self.bases = np.cumsum([0, *table_sizes[:-1]], dtype=np.int64)
        offset_type = np.int32 if m * n < 2**31 else np.int64
        self.offsets = np.empty(sum(table_sizes) + 1, dtype=offset_type)
        self.offsets[-1] = m * n
        self.postings = np.empty(m * n, dtype=np.int32)
        # A query's slot bases come from a matrix product of its unpacked bits (exact in float64,
        # since slots are < 2**53), plus the table bases: far fewer NumPy calls than shifting words.
        self._key_weights = np.zeros((HASH_BITS, m), dtype=np.float64)
        if m == 0:
            return
        words_be = [words[:, i].byteswap() for i in range(4)]
        rows = np.arange(n, dtype=np.uint64)
        for c, (start, width) in enumerate(self.layout):
            keys = _chunk_values(words_be, start, width)
            # Sorting (key << 32 | row) orders rows by bucket in one fast 64-bit sort (3x faster than
            # argsort), and the low half is then the posting list.
            packed = (keys << np.uint64(32)) | rows
            packed.sort()
            self.postings[c * n : (c + 1) * n] = packed.astype(np.uint32).view(np.int32)
            del packed
            counts = np.bincount(keys.view(np.int64), minlength=1 << width)
            table = self.offsets[self.bases[c] : self.bases[c] + (1 << width)]
            table[0] = c * n
            table[1:] = np.cumsum(counts[:-1]) + c * n
            self._key_weights[start : start + width, c] = 2.0 ** np.arange(width - 1, -1, -1)

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def live(self) -> int:
        return len(self.ids) - self.dead_count

    @property
    def nbytes(self) -> int:
        arrays = (self.ids, self.words, self.dead, self.offsets, self.postings)
        return sum(a.nbytes for a in arrays)

    def live_rows(self) -> tuple[I64Array, U64Array]:
        if self.dead_count == 0:
            return self.ids, self.words
        keep = ~self.dead
        return self.ids[keep], self.words[keep]

    def find(self, ids: I64Array) -> I64Array:
        """Rows holding live ``ids`` (those not here are left out)."""
        pos = np.searchsorted(self.ids, ids)
        inside = pos < len(self.ids)
        pos = pos[inside]
        found = pos[self.ids[pos] == ids[inside]]
        live: I64Array = found[~self.dead[found]]
        return live

    def plan(self, threshold: int) -> _Plan | None:
        """The probes for ``threshold``, or None where scanning this segment is cheaper."""
        if threshold in self._plans:
            return self._plans[threshold]
        plan: _Plan | None = None
        if self.layout:
            widths = [w for _, w in self.layout]
            radii, cost = _allocate_radii(widths, len(self), threshold)
            if cost + _QUERY_OVERHEAD < _scan_cost(len(self)):
                masks = [_masks(w, r) for w, r in zip(widths, radii, strict=True)]
                chunk = np.repeat(np.arange(len(widths), dtype=np.int64), [len(m) for m in masks])
                plan = _Plan(chunk, np.concatenate(masks))
        self._plans[threshold] = plan
        return plan

    def search(self, queries: U8Array, threshold: int) -> tuple[I64Array, I64Array, U32Array]:
        """(query number, id, distance) of every live hash within ``threshold`` of each query."""
        plan = self.plan(threshold)
        if plan is None:
            owner, rows, dist = _scan(self.words, _to_words(queries), threshold)
        else:
            owner, rows, dist = self._probe(plan, queries, threshold)
        if self.dead_count and len(rows):
            keep = ~self.dead[rows]
            owner, rows, dist = owner[keep], rows[keep], dist[keep]
        return owner, self.ids[rows], dist

    def _probe(self, plan: _Plan, queries: U8Array, threshold: int) -> tuple[I64Array, I64Array, U32Array]:
        # Written for few NumPy calls: at small sizes their overhead, not memory, is the cost.
        k = len(queries)
        # Every probe's slot: the query's chunk value plus its table's base, XOR the probe's mask.
        qbase = (np.unpackbits(queries, axis=1) @ self._key_weights).astype(np.int64) + self.bases
        slots = np.take(qbase, plan.chunk, axis=1)
        slots ^= plan.mask
        slots = slots.reshape(-1)
        starts = self.offsets[slots]
        lengths = self.offsets[slots + 1] - starts
        ends = np.cumsum(lengths)
        total = int(ends[-1])
        if total == 0:
            return _NO_HITS
        # Concatenate the buckets without a Python loop: output position j lies in bucket p and
        # reads postings[starts[p] + j - (ends[p] - lengths[p])].
        pos = np.repeat(starts - (ends - lengths), lengths)
        pos += np.arange(total, dtype=pos.dtype)
        rows = self.postings[pos]
        # Verify: XOR with the query words, contiguous per candidate, then popcount.
        cand = np.take(self.words, rows, axis=0)
        qwords = _to_words(queries)
        if k == 1:
            owner = np.zeros(total, dtype=np.intp)
        else:
            per_query = np.add.reduceat(lengths, np.arange(0, len(lengths), plan.probes))
            owner = np.repeat(np.arange(k, dtype=np.intp), per_query)
        # (A gather of the query rows: broadcasting XOR over a length-4 axis is several times slower.)
        cand ^= np.take(qwords, owner, axis=0)
        hit, dist = _within(cand, threshold)
        if len(hit) == 0:
            return _NO_HITS
        found = rows[hit].astype(np.int64)
        owners = owner[hit].astype(np.int64)
        # A hash close to the query in several chunks is found once per chunk: keep one of each.
        if len(hit) > 1:
            _, first = np.unique(owners * len(self) + found, return_index=True)
            owners, found, dist = owners[first], found[first], dist[first]
        return owners, found, dist


_NO_HITS: tuple[I64Array, I64Array, U32Array] = (
    np.zeros(0, dtype=np.int64),
    np.zeros(0, dtype=np.int64),
    np.zeros(0, dtype=np.uint32),
)


def _scan(words: U64Array, query_words: U64Array, threshold: int) -> tuple[I64Array, I64Array, U32Array]:
    """Brute force: (query number, row, distance) of every row within ``threshold``, exact by definition."""
    owners: list[I64Array] = []
    found: list[I64Array] = []
    dists: list[U32Array] = []
    n = len(words)
    block = min(n, _SCAN_ROWS_PER_BLOCK)
    scratch = np.empty((block, 4), dtype=np.uint64)
    for qi, qw in enumerate(query_words):
        # XOR against a contiguous copy of the query: NumPy's broadcast over a length-4 axis is
        # several times slower than np.tile plus a flat XOR.
        tiled = np.tile(qw, (block, 1))
        for lo in range(0, n, block):
            rows = words[lo : lo + block]
            x = np.bitwise_xor(rows, tiled[: len(rows)], out=scratch[: len(rows)])
            hit, dist = _within(x, threshold)
            if len(hit):
                owners.append(np.full(len(hit), qi, dtype=np.int64))
                found.append(hit + lo)
                dists.append(dist)
    if not found:
        return _NO_HITS
    return np.concatenate(owners), np.concatenate(found), np.concatenate(dists)


# --------------------------------------------------------------------------------------------------
# The index


class HammingIndex:
    """Every stored PDQ hash within a Hamming distance of a query, exactly; ids are int64.

    ``add`` and ``remove`` are incremental (amortised O(log n) per hash, no full rebuild);
    ``query``/``query_many`` take the threshold per call (banks have their own thresholds) and
    return ``(id, distance)`` pairs sorted by distance then id, each id at most once. Any threshold
    from 0 to 256 is exact. At 10 million hashes a query at 31 takes ~0.4 ms, at 48 ~7 ms; from
    about 70 up, probing would cost more than a full scan (~65 ms), so the index scans.

    Each id holds one hash; adding an id that is already present is refused (remove it first).
    Different ids may hold the same hash. Memory is about 130 bytes per hash at 10 million hashes
    (the hash, its id, and 11 bucket tables); ``nbytes`` reports it.
    """

    def __init__(self) -> None:
        self._segments: list[_Segment] = []
        self._buffer_ids = np.zeros(0, dtype=np.int64)
        self._buffer_words = np.zeros((0, 4), dtype=np.uint64)

    def __len__(self) -> int:
        return len(self._buffer_ids) + sum(s.live for s in self._segments)

    @property
    def nbytes(self) -> int:
        """Bytes held by the index's arrays (the hashes, ids, tombstones and bucket tables)."""
        buffered = self._buffer_ids.nbytes + self._buffer_words.nbytes
        return buffered + sum(s.nbytes for s in self._segments)

    @property
    def segment_sizes(self) -> list[int]:
        """Live hashes per segment, largest first, then the unindexed buffer (for tests and tuning)."""
        return [s.live for s in self._segments] + [len(self._buffer_ids)]

    # ---- writes ----------------------------------------------------------------------------------

    def add(self, ids: npt.NDArray[np.integer[Any]], hashes: U8Array) -> None:
        """Store ``hashes[i]`` (``(n, 32)`` ``uint8``) under ``ids[i]`` (integers, new to the index).

        Raises ValueError, storing nothing, if an id repeats within ``ids`` or is already stored.
        """
        ids64 = _check_ids(ids)
        hashes = _check_hashes(hashes, "hashes")
        if len(ids64) != len(hashes):
            raise ValueError(f"add() got {len(ids64)} ids but {len(hashes)} hashes; pass one id per hash")
        if len(ids64) == 0:
            return
        ascending = bool(np.all(ids64[1:] > ids64[:-1]))  # bulk loads usually are: no sort needed
        unique = ids64 if ascending else np.unique(ids64)
        if len(unique) != len(ids64):
            values, counts = np.unique(ids64, return_counts=True)
            repeated = values[counts > 1]
            raise ValueError(f"ids repeat within one add(): {_some(repeated)}; each id holds one hash")
        present = self._present(unique)
        if len(present):
            raise ValueError(f"ids already in the index: {_some(present)}; remove them first to replace")
        words = _to_words(hashes).copy()
        if len(ids64) >= _BUFFER_LIMIT:
            if not ascending:
                order = np.argsort(ids64)
                ids64, words = ids64[order], words[order]
            self._segments.append(_Segment(ids64, words))
            self._settle()
            return
        self._buffer_ids = np.concatenate([self._buffer_ids, ids64])
        self._buffer_words = np.concatenate([self._buffer_words, words])
        if len(self._buffer_ids) >= _BUFFER_LIMIT:
            self._flush()

    def remove(self, ids: npt.NDArray[np.integer[Any]]) -> int:
        """Remove the hashes stored under ``ids``; ids not in the index are ignored. Returns how many.

        Removed ids never appear in results again (until added anew), even before compaction.
        """
        ids64 = np.unique(_check_ids(ids))
        if len(ids64) == 0:
            return 0
        removed = 0
        if len(self._buffer_ids):
            keep = ~np.isin(self._buffer_ids, ids64)
            removed += int(len(keep) - keep.sum())
            self._buffer_ids, self._buffer_words = self._buffer_ids[keep], self._buffer_words[keep]
        compact = False
        for segment in self._segments:
            rows = segment.find(ids64)
            if len(rows):
                segment.dead[rows] = True
                segment.dead_count += len(rows)
                removed += len(rows)
                compact = compact or segment.dead_count > _COMPACT_FRACTION * len(segment)
        if compact:
            self._settle()
        return removed

    def compact(self) -> None:
        """Rebuild everything into one segment: after a bulk load, or to drop every tombstone now."""
        parts = [s.live_rows() for s in self._segments]
        parts.append((self._buffer_ids, self._buffer_words))
        self._segments = []
        self._buffer_ids = np.zeros(0, dtype=np.int64)
        self._buffer_words = np.zeros((0, 4), dtype=np.uint64)
        if sum(len(i) for i, _ in parts):
            self._segments.append(_merge(parts))

    def _flush(self) -> None:
        order = np.argsort(self._buffer_ids, kind="stable")
        self._segments.append(_Segment(self._buffer_ids[order], self._buffer_words[order]))
        self._buffer_ids = np.zeros(0, dtype=np.int64)
        self._buffer_words = np.zeros((0, 4), dtype=np.uint64)
        self._settle()

    def _settle(self) -> None:
        """Drop tombstones where a segment has too many, and merge segments of similar size.

        Keeping each segment ``_MERGE_FACTOR`` times larger than the next keeps the number of
        segments (and so per-query overhead) logarithmic, while each hash is re-indexed only
        O(log n) times over its life.
        """
        segments: list[_Segment] = []
        for s in self._segments:
            if s.live == 0:
                continue
            if s.dead_count > _COMPACT_FRACTION * len(s):
                s = _merge([s.live_rows()])
            segments.append(s)
        segments.sort(key=lambda s: s.live, reverse=True)
        merged = True
        while merged:
            merged = False
            for i in range(len(segments) - 1, 0, -1):
                if segments[i].live * _MERGE_FACTOR > segments[i - 1].live:
                    # Merge this one and every smaller one into its larger neighbour.
                    tail = segments[i - 1 :]
                    del segments[i - 1 :]
                    segments.append(_merge([s.live_rows() for s in tail]))
                    segments.sort(key=lambda s: s.live, reverse=True)
                    merged = True
                    break
        self._segments = segments

    def _present(self, ids: I64Array) -> I64Array:
        """Those of ``ids`` (unique) that are stored now."""
        found = [ids[np.isin(ids, self._buffer_ids)]]
        found += [s.ids[s.find(ids)] for s in self._segments]
        out: I64Array = np.concatenate(found)
        return out

    # ---- reads -----------------------------------------------------------------------------------

    def query(self, hash: U8Array, threshold: int = DEFAULT_THRESHOLD) -> list[Match]:
        """``(id, distance)`` of every stored hash within ``threshold`` bits of ``hash`` (32 ``uint8``)."""
        hash = _check_hashes(hash, "hash", single=True)
        return self._search(hash.reshape(1, HASH_BYTES), _check_threshold(threshold))[0]

    def query_many(self, hashes: U8Array, threshold: int = DEFAULT_THRESHOLD) -> list[list[Match]]:
        """``query`` for each row of ``hashes`` (``(m, 32)`` ``uint8``), vectorised over the batch."""
        hashes = _check_hashes(hashes, "hashes")
        threshold = _check_threshold(threshold)
        results: list[list[Match]] = []
        for lo in range(0, len(hashes), 256):
            results.extend(self._search(hashes[lo : lo + 256], threshold))
        return results

    def _search(self, queries: U8Array, threshold: int) -> list[list[Match]]:
        k = len(queries)
        owners: list[I64Array] = []
        ids: list[I64Array] = []
        dists: list[npt.NDArray[Any]] = []
        for segment in self._segments:
            plan = segment.plan(threshold)
            step = k if plan is None else max(1, _MAX_PROBES_PER_BLOCK // plan.probes)
            for lo in range(0, k, step):
                o, i, d = segment.search(queries[lo : lo + step], threshold)
                if len(i):
                    owners.append(o + lo)
                    ids.append(i)
                    dists.append(d)
        if len(self._buffer_ids):
            o, rows, d = _scan(self._buffer_words, _to_words(queries), threshold)
            if len(rows):
                owners.append(o)
                ids.append(self._buffer_ids[rows])
                dists.append(d)
        if not ids:  # the usual answer: most media match nothing
            return [[] for _ in range(k)]
        owner = np.concatenate(owners)
        found = np.concatenate(ids)
        dist = np.concatenate(dists).astype(np.int64)
        order = np.lexsort((found, dist, owner))
        owner, found, dist = owner[order], found[order], dist[order]
        bounds = np.searchsorted(owner, np.arange(k + 1)).tolist()
        pairs = list(zip(found.tolist(), dist.tolist(), strict=True))
        return [pairs[bounds[q] : bounds[q + 1]] for q in range(k)]


def _merge(parts: Sequence[tuple[I64Array, U64Array]]) -> _Segment:
    ids = np.concatenate([i for i, _ in parts])
    words = np.concatenate([w for _, w in parts])
    order = np.argsort(ids, kind="stable")
    return _Segment(ids[order], words[order])


# --------------------------------------------------------------------------------------------------
# Argument checks: errors say what was passed and what is accepted


def _check_ids(ids: npt.NDArray[np.integer[Any]]) -> I64Array:
    arr = np.asarray(ids)
    if arr.ndim != 1 or not (np.issubdtype(arr.dtype, np.integer) or arr.size == 0):
        raise ValueError(f"ids must be a 1-d integer array, got {arr.dtype} with shape {arr.shape}")
    if arr.dtype == np.uint64 and arr.size and int(arr.max()) > np.iinfo(np.int64).max:
        raise ValueError("ids must fit in int64")
    out: I64Array = arr.astype(np.int64, copy=False)
    return out


def _check_hashes(hashes: U8Array, name: str, *, single: bool = False) -> U8Array:
    shape = f"({HASH_BYTES},)" if single else f"(n, {HASH_BYTES})"
    ok = (
        isinstance(hashes, np.ndarray)
        and hashes.dtype == np.uint8
        and (
            hashes.shape == (HASH_BYTES,) if single else (hashes.ndim == 2 and hashes.shape[1] == HASH_BYTES)
        )
    )
    if not ok:
        got = (
            f"{hashes.dtype} array of shape {hashes.shape}"
            if isinstance(hashes, np.ndarray)
            else type(hashes).__name__
        )
        raise ValueError(
            f"{name} must be a uint8 array of shape {shape}, got {got}; "
            "hex_to_bytes()/hashes_from_hex() convert from the 64-character hex form"
        )
    out: U8Array = np.ascontiguousarray(hashes)
    return out


def _check_threshold(threshold: int) -> int:
    if isinstance(threshold, bool) or not isinstance(threshold, int | np.integer):
        raise ValueError(f"threshold must be an integer from 0 to {HASH_BITS}, got {threshold!r}")
    if not 0 <= threshold <= HASH_BITS:
        raise ValueError(f"threshold must be from 0 to {HASH_BITS} bits, got {threshold}")
    return int(threshold)


def _some(values: npt.NDArray[Any], limit: int = 5) -> str:
    shown = ", ".join(str(v) for v in values[:limit].tolist())
    return shown + (f" and {len(values) - limit} more" if len(values) > limit else "")
