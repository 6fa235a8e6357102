"""HammingIndex: every stored PDQ hash within the threshold, never a removed one, never twice.

Each test compares against a brute-force reference (the definition of the answer). Small indexes
would normally just be scanned, so ``probe_everything`` forces the multi-index probing path (chunk
tables on every segment, probing at any threshold) to test it on data small enough to be quick.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vigil.detect.hashing import index as index_module
from vigil.detect.hashing.index import HammingIndex, hashes_from_hex, hex_to_bytes

Matches = list[tuple[int, int]]


BITS_SET = np.array([bin(b).count("1") for b in range(256)], dtype=np.int64)  # per byte value


def brute_force(ids: np.ndarray, hashes: np.ndarray, query: np.ndarray, threshold: int) -> Matches:
    bits = BITS_SET[hashes ^ query].sum(axis=1)
    found = [(int(i), int(d)) for i, d in zip(ids, bits, strict=True) if d <= threshold]
    return sorted(found, key=lambda m: (m[1], m[0]))


def flip(hash: np.ndarray, bits: np.ndarray | list[int]) -> np.ndarray:
    unpacked = np.unpackbits(hash)
    unpacked[np.asarray(bits, dtype=np.int64)] ^= 1
    return np.packbits(unpacked)


def random_hashes(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.integers(0, 256, size=(n, 32), dtype=np.uint8)


@pytest.fixture
def probe_everything(monkeypatch: pytest.MonkeyPatch) -> None:
    """Chunk tables on every segment (18 chunks of 14-15 bits: chunks straddle 64-bit words) and
    probing at every threshold, however small the segment."""
    monkeypatch.setattr(index_module, "_choose_layout", lambda rows: index_module._layout(18))
    monkeypatch.setattr(index_module, "_SCAN_COST_PER_ROW", float("inf"))


def planted_bank(rng: np.random.Generator, query: np.ndarray, threshold: int, others: int) -> np.ndarray:
    """Random hashes plus one at every distance 0..threshold + 2 from ``query``."""
    planted = [flip(query, rng.choice(256, size=d, replace=False)) for d in range(threshold + 3)]
    return np.concatenate([np.array(planted), random_hashes(rng, others)])


# ---- exactness -----------------------------------------------------------------------------------


@pytest.mark.parametrize("threshold", [0, 1, 16, 31, 32, 48, 64])
def test_every_hash_within_the_threshold_is_found_at_every_distance(threshold: int) -> None:
    rng = np.random.default_rng(threshold)
    query = random_hashes(rng, 1)[0]
    hashes = planted_bank(rng, query, threshold, others=25_000)
    ids = rng.permutation(len(hashes)).astype(np.int64) * 7 + 3
    index = HammingIndex()
    index.add(ids, hashes)
    index.compact()
    assert index._segments[0].layout, "a 25,000-hash segment is indexed, not scanned"

    found = index.query(query, threshold)

    assert found == brute_force(ids, hashes, query, threshold)
    assert sorted(d for _, d in found) == list(range(threshold + 1))  # one planted at each distance


@pytest.mark.usefixtures("probe_everything")
@pytest.mark.parametrize("threshold", [0, 31, 32, 64])
def test_probing_finds_planted_neighbours_in_segment_and_buffer(threshold: int) -> None:
    rng = np.random.default_rng(100 + threshold)
    query = random_hashes(rng, 1)[0]
    hashes = planted_bank(rng, query, threshold, others=500)
    ids = np.arange(len(hashes), dtype=np.int64)
    index = HammingIndex()
    half = len(hashes) // 2
    index.add(ids[half:], hashes[half:])
    index.compact()  # the second half is a probed segment ...
    index.add(ids[:half], hashes[:half])  # ... the first half (the planted ones) waits in the buffer

    assert index.query(query, threshold) == brute_force(ids, hashes, query, threshold)
    index.compact()
    assert index.query(query, threshold) == brute_force(ids, hashes, query, threshold)


@pytest.mark.usefixtures("probe_everything")
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    stored=st.lists(st.binary(min_size=32, max_size=32), max_size=30),
    base=st.integers(min_value=0, max_value=29),
    flips=st.lists(st.integers(min_value=0, max_value=255), max_size=70),
    threshold=st.integers(min_value=0, max_value=64),
    indexed=st.integers(min_value=0, max_value=30),
)
def test_matches_brute_force_on_any_small_index(
    stored: list[bytes], base: int, flips: list[int], threshold: int, indexed: int
) -> None:
    hashes = np.frombuffer(b"".join(stored), dtype=np.uint8).reshape(-1, 32)
    ids = np.arange(len(hashes), dtype=np.int64)
    # The query is a stored hash with some bits flipped (near matches), or arbitrary if none stored.
    query = hashes[base % len(hashes)] if len(hashes) else np.zeros(32, dtype=np.uint8)
    query = flip(query, sorted(set(flips)))
    index = HammingIndex()
    index.add(ids[:indexed], hashes[:indexed])
    index.compact()
    index.add(ids[indexed:], hashes[indexed:])

    expected = brute_force(ids, hashes, query, threshold)
    assert index.query(query, threshold) == expected
    assert index.query_many(np.stack([query, query]), threshold) == [expected, expected]


def test_query_many_answers_each_query_as_query_does() -> None:
    rng = np.random.default_rng(7)
    hashes = random_hashes(rng, 30_000)
    index = HammingIndex()
    index.add(np.arange(len(hashes), dtype=np.int64), hashes)
    queries = np.array([flip(hashes[i], rng.choice(256, size=i % 40, replace=False)) for i in range(300)])

    batch = index.query_many(queries, 31)

    assert batch == [index.query(q, 31) for q in queries]
    assert [len(b) for b in batch] == [1 if i % 40 <= 31 else 0 for i in range(300)]


def test_any_threshold_up_to_256_is_exact_including_the_complement() -> None:
    rng = np.random.default_rng(8)
    hashes = random_hashes(rng, 20_000)
    query = hashes[5]
    hashes[6] = ~query  # distance 256: its four 64-bit popcounts of 64 sum to 256, not 0
    ids = np.arange(len(hashes), dtype=np.int64)
    index = HammingIndex()
    index.add(ids, hashes)

    for threshold in (100, 128, 255, 256):
        assert index.query(query, threshold) == brute_force(ids, hashes, query, threshold)
    assert index.query(query, 0) == [(5, 0)]


def test_the_popcount_fallback_for_numpy_before_2_gives_the_same_answers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(index_module, "_bitwise_count", index_module._bitwise_count_lut)
    rng = np.random.default_rng(15)
    hashes = random_hashes(rng, 20_000)
    query = hashes[3]
    hashes[4] = ~query
    hashes[5] = flip(query, list(range(0, 256, 9)))  # distance 29
    ids = np.arange(len(hashes), dtype=np.int64)
    index = HammingIndex()
    index.add(ids, hashes)

    assert index.query(query, 31) == [(3, 0), (5, 29)]
    assert index.query(query, 256) == brute_force(ids, hashes, query, 256)


# ---- duplicates, ids, empty ----------------------------------------------------------------------


def test_the_same_hash_under_several_ids_is_returned_for_each_id_once() -> None:
    rng = np.random.default_rng(9)
    hashes = random_hashes(rng, 20_000)
    hashes[100:110] = hashes[7]  # eleven ids share one hash
    index = HammingIndex()
    index.add(np.arange(len(hashes), dtype=np.int64), hashes)
    query = flip(hashes[7], [0, 100, 200])

    found = index.query(query, 31)

    # Distance 3 leaves most chunks equal, so each hash is a candidate many times over: still once.
    assert found == [(i, 3) for i in [7, *range(100, 110)]]


def test_an_id_already_stored_is_refused_and_nothing_is_added() -> None:
    rng = np.random.default_rng(10)
    index = HammingIndex()
    index.add(np.array([1, 2, 3]), random_hashes(rng, 3))

    with pytest.raises(ValueError, match=r"already in the index: 2; remove them first"):
        index.add(np.array([4, 2]), random_hashes(rng, 2))
    with pytest.raises(ValueError, match=r"repeat within one add\(\): 5"):
        index.add(np.array([5, 5]), random_hashes(rng, 2))
    assert len(index) == 3


def test_an_empty_index_finds_nothing() -> None:
    index = HammingIndex()
    query = np.zeros(32, dtype=np.uint8)

    assert len(index) == 0
    assert index.query(query, 64) == []
    assert index.query_many(np.stack([query, query]), 31) == [[], []]
    assert index.query_many(np.zeros((0, 32), dtype=np.uint8), 31) == []
    assert index.remove(np.array([1, 2])) == 0


# ---- incremental add and remove ------------------------------------------------------------------


def test_hashes_added_after_a_query_are_found_by_the_next_one() -> None:
    rng = np.random.default_rng(11)
    hashes = random_hashes(rng, 30_000)
    query = hashes[0]
    index = HammingIndex()
    index.add(np.arange(20_000, dtype=np.int64), hashes[:20_000])
    assert index.query(query, 31) == [(0, 0)]

    near = flip(query, [1, 2, 3, 4])
    index.add(np.array([20_000]), near[None, :])  # into the buffer
    index.add(np.arange(20_001, 30_000, dtype=np.int64), hashes[20_001:])  # a segment of its own

    assert index.query(query, 31) == [(0, 0), (20_000, 4)]
    assert len(index) == 30_000


def test_removed_hashes_are_never_returned_and_may_be_added_again() -> None:
    rng = np.random.default_rng(12)
    hashes = random_hashes(rng, 20_000)
    query = hashes[0]
    hashes[1] = flip(query, [9])
    ids = np.arange(len(hashes), dtype=np.int64)
    index = HammingIndex()
    index.add(ids, hashes)
    index.add(np.array([50_000]), flip(query, [3, 4])[None, :])  # one in the buffer too

    assert index.remove(np.array([1, 50_000, 123_456])) == 2  # unknown ids are ignored
    assert index.query(query, 31) == [(0, 0)]
    assert len(index) == 19_999

    index.add(np.array([1]), hashes[1][None, :])
    assert index.query(query, 31) == [(0, 0), (1, 1)]


def test_removing_most_hashes_compacts_the_segment_and_keeps_answers_exact() -> None:
    rng = np.random.default_rng(13)
    hashes = random_hashes(rng, 40_000)
    ids = np.arange(len(hashes), dtype=np.int64)
    index = HammingIndex()
    index.add(ids, hashes)
    before = index.nbytes

    gone = ids[ids % 3 != 0]  # two thirds
    assert index.remove(gone) == len(gone)

    assert index.nbytes < before / 2  # tombstoned rows were dropped, not just marked
    kept = ids % 3 == 0
    for i in (0, 1, 2, 3):
        query = flip(hashes[i], [0, 1])
        assert index.query(query, 31) == brute_force(ids[kept], hashes[kept], query, 31)


def test_many_small_adds_merge_into_few_segments_and_stay_exact() -> None:
    rng = np.random.default_rng(14)
    hashes = random_hashes(rng, 60_000)
    ids = np.arange(len(hashes), dtype=np.int64)
    index = HammingIndex()
    for lo in range(0, len(hashes), 3_000):
        index.add(ids[lo : lo + 3_000], hashes[lo : lo + 3_000])

    sizes = index.segment_sizes
    assert sum(sizes) == 60_000
    assert len(sizes) <= 4  # segments, each 4x the next, plus the buffer
    queries = np.array(
        [flip(hashes[i], rng.choice(256, size=20, replace=False)) for i in range(0, 60_000, 2_999)]
    )
    for query, found in zip(queries, index.query_many(queries, 31), strict=True):
        assert found == brute_force(ids, hashes, query, 31)


# ---- input checks and hex --------------------------------------------------------------------------


def test_hex_is_read_in_either_case_and_bad_rows_are_named() -> None:
    value = "f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22" + "ab"
    assert hex_to_bytes(value.upper()).tobytes() == bytes.fromhex(value)
    assert hashes_from_hex([value, value.upper()]).shape == (2, 32)
    assert hashes_from_hex([]).shape == (0, 32)

    with pytest.raises(ValueError, match=r"row 1: .* is not a PDQ hash \(64 hexadecimal characters\)"):
        hashes_from_hex([value, value[:-2] + " a"])
    with pytest.raises(ValueError, match=r"not a PDQ hash"):
        hex_to_bytes(value[:-1])


def test_wrong_arguments_are_refused_with_what_would_be_accepted() -> None:
    index = HammingIndex()
    with pytest.raises(ValueError, match=r"uint8 array of shape \(n, 32\), got int64 array"):
        index.add(np.array([1]), np.zeros((1, 32), dtype=np.int64))
    with pytest.raises(ValueError, match=r"1 ids but 2 hashes"):
        index.add(np.array([1]), np.zeros((2, 32), dtype=np.uint8))
    with pytest.raises(ValueError, match=r"threshold must be from 0 to 256 bits, got 257"):
        index.query(np.zeros(32, dtype=np.uint8), 257)
    with pytest.raises(ValueError, match=r"shape \(32,\)"):
        index.query(np.zeros((1, 32), dtype=np.uint8), 31)
