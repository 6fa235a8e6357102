"""How robust Vigil's PDQ matching is, how often it matches unrelated images, and what it costs.

    .venv/bin/python bench/robustness.py            # full run (a few minutes on 2 cores)
    .venv/bin/python bench/robustness.py --quick    # smoke run (fewer images, well under a minute)

Prints Markdown tables (pasted into ``bench/RESULTS.md``):

1. **Recall per edit.** A bank of generated 512x512 photo-like images (the generator and the edits of
   ``tests/unit/test_pdq.py``). Each is edited, and the edited copy counts as found when one of its
   eight dihedral hashes is within 31 bits of its original's hash or, for the "with crop variants"
   rows, of the original's hash and its ``pdq_crop_variants``. Queries that are crops are also
   JPEG-compressed at quality 70, as a re-upload would be.
2. **False matches.** Unrelated generated images (different seeds), all eight dihedral hashes each,
   against the whole bank with its crop variants: how many come within 31 bits of anything, and the
   nearest distance seen.
3. **Cost per image.** On generated 512x512 JPEGs (quality 90): ``pdqhash.compute`` alone on
   decoded pixels, Pillow's plain decode, the two together (the least any caller does), and
   Vigil's ``decode_image`` + ``pdq_hash`` / ``pdq_dihedral`` / ``pdq_crop_variants``.
4. **Shrinking large images** (``HASH_SIDE``): the distance between the hash of a large image
   shrunk by ``decode_image`` before hashing and the hash at full size, and the time each takes;
   for comparison, the same with the image resized to exactly 1536 on its longer side (box filter).

Single-threaded; the machine may be shared and noisy, so compare rows of one run.
"""

from __future__ import annotations

import argparse
import functools
import io
import os
import platform
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pdqhash
import PIL
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.unit.test_pdq import (  # noqa: E402 - the same images and edits as the tests
    border_cropped,
    encode,
    greyscale,
    half_size,
    jpeg_q70,
    mirrored,
    photo_like,
    rotated_90,
    watermarked,
)
from vigil.detect.hashing.pdq import (  # noqa: E402
    DEFAULT_CROPS,
    HASH_SIDE,
    PdqHash,
    decode_image,
    hamming,
    pdq_crop_variants,
    pdq_dihedral,
    pdq_hash,
)

THRESHOLD = 31
Rgb = np.ndarray


def uneven_crop(seed: int, most: float) -> Callable[[Rgb], Rgb]:
    """A crop removing a random 0-``most`` of each border independently (seeded)."""
    left, top, right, bottom = np.random.default_rng(seed).uniform(0, most, 4)

    def crop(image: Rgb) -> Rgb:
        h, w = image.shape[:2]
        return np.ascontiguousarray(
            image[round(h * top) : h - round(h * bottom), round(w * left) : w - round(w * right)]
        )

    return crop


def one_side_crop(seed: int, fraction: float) -> Callable[[Rgb], Rgb]:
    return border_cropped(fraction, "ltrb"[seed % 4])


def recall_table(n_bank: int) -> tuple[list[tuple[str, str, int, int, float, int]], list[list[PdqHash]]]:
    plain_edits: list[tuple[str, Callable[[int], Callable[[Rgb], Rgb]]]] = [
        ("half size (bilinear)", lambda _: half_size),
        ("JPEG quality 70", lambda _: jpeg_q70),
        ("watermark (4% high, 60% opaque)", lambda _: watermarked),
        ("greyscale", lambda _: greyscale),
        ("mirrored", lambda _: mirrored),
        ("rotated 90°", lambda _: rotated_90),
    ]
    crops: list[tuple[str, Callable[[int], Callable[[Rgb], Rgb]]]] = [
        ("crop 3% off each border", lambda _: border_cropped(0.03)),
        ("crop 5% off each border", lambda _: border_cropped(0.05)),
        ("crop 8% off each border", lambda _: border_cropped(0.08)),
        ("crop 5% off one side", lambda seed: one_side_crop(seed, 0.05)),
        ("crop 7% off one side", lambda seed: one_side_crop(seed, 0.07)),
        ("crop 10% off one side", lambda seed: one_side_crop(seed, 0.10)),
        ("crop 0-5% off each border, uneven", lambda seed: uneven_crop(seed, 0.05)),
        ("crop 0-10% off each border, uneven", lambda seed: uneven_crop(seed, 0.10)),
    ]
    distances: dict[tuple[str, str], list[int]] = {}
    banks: list[list[PdqHash]] = []
    for seed in range(1000, 1000 + n_bank):
        image = photo_like(seed)
        own, variants = pdq_hash(image), pdq_crop_variants(image)
        banks.append([own, *variants])
        for name, make in plain_edits:
            query = pdq_dihedral(make(seed)(image))
            distances.setdefault((name, "plain"), []).append(_nearest(query, [own]))
        for name, make in crops:
            query = pdq_dihedral(jpeg_q70(make(seed)(image)))
            distances.setdefault((name, "plain"), []).append(_nearest(query, [own]))
            distances.setdefault((name, "with crop variants"), []).append(_nearest(query, [own, *variants]))
    rows = [
        (name, bank, int(np.sum(np.array(d) <= THRESHOLD)), len(d), float(np.mean(d)), int(max(d)))
        for (name, bank), d in distances.items()
    ]
    return rows, banks


def _nearest(query: Sequence[PdqHash], bank: Sequence[PdqHash]) -> int:
    return min(hamming(q.value, b.value) for q in query for b in bank)


def _bits(hashes: Sequence[PdqHash]) -> np.ndarray:
    packed = np.frombuffer(bytes.fromhex("".join(h.value for h in hashes)), dtype=np.uint8)
    return np.unpackbits(packed).reshape(len(hashes), 256).astype(np.float32)


def false_matches(banks: list[list[PdqHash]], n_unrelated: int) -> dict[str, tuple[int, int, int]]:
    """Per bank kind: (queries with a match, pairs within 31 bits, nearest distance)."""
    query_bits = []
    for seed in range(500_000, 500_000 + n_unrelated):
        query_bits.append(_bits(pdq_dihedral(photo_like(seed))))
    queries = np.stack(query_bits)  # (n, 8, 256)
    out = {}
    for kind, bank in (
        ("hash only", [b[0] for b in banks]),
        ("hash + crop variants", [h for b in banks for h in b]),
    ):
        b = _bits(bank)
        flat = queries.reshape(-1, 256)
        d = flat.sum(1)[:, None] + b.sum(1)[None, :] - 2 * (flat @ b.T)
        per_query = d.reshape(n_unrelated, 8, -1).min(axis=(1, 2))
        out[f"{kind} ({len(bank):,} hashes)"] = (
            int((per_query <= THRESHOLD).sum()),
            int((d <= THRESHOLD).sum()),
            int(per_query.min()),
        )
    return out


def timings(n: int, repeats: int) -> list[tuple[str, float]]:
    """Images per second of each step; the steps take turns, and each keeps its best round."""
    images = [photo_like(seed) for seed in range(2000, 2000 + n)]
    jpegs = [encode(image, "JPEG", quality=90) for image in images]
    decoded = [np.asarray(Image.open(io.BytesIO(data)).convert("RGB")) for data in jpegs]
    few = jpegs[: max(1, n // 5)]  # crop variants cost 13 hashes an image

    def pillow_decode(data: bytes) -> Rgb:
        return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))

    def bank_add(data: bytes) -> object:
        image = decode_image(data)
        return pdq_hash(image), pdq_crop_variants(image)

    steps: list[tuple[str, Callable[[], object], int]] = [
        (
            "`pdqhash.compute` alone (pixels already decoded)",
            lambda: [pdqhash.compute(a) for a in decoded],
            n,
        ),
        ("`pdqhash.compute_dihedral` alone", lambda: [pdqhash.compute_dihedral(a) for a in decoded], n),
        ("Pillow decode alone (open, RGB, array)", lambda: [pillow_decode(d) for d in jpegs], n),
        ("Pillow decode + `pdqhash.compute`", lambda: [pdqhash.compute(pillow_decode(d)) for d in jpegs], n),
        ("`decode_image` alone", lambda: [decode_image(d) for d in jpegs], n),
        ("`decode_image` + `pdq_hash`", lambda: [pdq_hash(decode_image(d)) for d in jpegs], n),
        (
            "`decode_image` + `pdq_dihedral` (a query)",
            lambda: [pdq_dihedral(decode_image(d)) for d in jpegs],
            n,
        ),
        (
            f"`decode_image` + `pdq_hash` + `pdq_crop_variants` (bank add: {1 + len(DEFAULT_CROPS)} hashes)",
            lambda: [bank_add(d) for d in few],
            len(few),
        ),
    ]
    best = [float("inf")] * len(steps)
    for _ in range(repeats):
        for i, (_, work, _) in enumerate(steps):
            start = time.perf_counter()
            work()
            best[i] = min(best[i], time.perf_counter() - start)
    return [(name, items / seconds) for (name, _, items), seconds in zip(steps, best, strict=True)]


def large_image(seed: int, width: int, height: int, fmt: str = "JPEG") -> bytes:
    """A generated photo blown up to ``width`` x ``height`` with its own fine grain."""
    small = Image.fromarray(photo_like(seed)).resize((width, height), Image.Resampling.BICUBIC)
    grain = np.random.default_rng(seed).integers(-12, 13, (height, width, 1), dtype=np.int16)
    pixels = np.clip(np.asarray(small).astype(np.int16) + grain, 0, 255).astype(np.uint8)
    return encode(pixels, fmt, quality=90) if fmt == "JPEG" else encode(pixels, fmt, compress_level=1)


SHRINK_TO = (512, 768, 1024, 1536)
LARGE = (
    (1600, 1200, "JPEG"),
    (3000, 2000, "JPEG"),
    (4000, 3000, "JPEG"),
    (6000, 4000, "JPEG"),
    (3000, 2000, "PNG"),
)


def resized_exactly(data: bytes, side: int) -> Rgb:
    img = Image.open(io.BytesIO(data)).convert("RGB")
    scale = side / max(img.size)
    return np.asarray(img.resize((round(img.width * scale), round(img.height * scale)), Image.Resampling.BOX))


def shrinking(per_size: int) -> list[tuple[str, float, list[tuple[float, int, float]]]]:
    """Per image size: full-size ms, then per way of shrinking (mean distance, max distance, ms)."""
    ways: list[Callable[[bytes], Rgb]] = [
        *(functools.partial(decode_image, shrink_to=side) for side in SHRINK_TO),
        functools.partial(resized_exactly, side=1536),
    ]
    rows = []
    for width, height, fmt in LARGE:
        full_ms: list[float] = []
        found: list[tuple[list[int], list[float]]] = [([], []) for _ in ways]
        for i in range(per_size):
            data = large_image(3000 + 17 * i + width, width, height, fmt)
            start = time.perf_counter()
            full = pdq_hash(decode_image(data, shrink_to=None))
            full_ms.append(1000 * (time.perf_counter() - start))
            for way, (distances, ms) in zip(ways, found, strict=True):
                start = time.perf_counter()
                shrunk = pdq_hash(way(data))
                ms.append(1000 * (time.perf_counter() - start))
                distances.append(hamming(full.value, shrunk.value))
        cells = [(float(np.mean(d)), max(d), float(np.mean(t))) for d, t in found]
        rows.append((f"{width}x{height} {fmt}", float(np.mean(full_ms)), cells))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer images: a smoke run")
    args = parser.parse_args()
    n_bank, n_unrelated, n_timing, repeats, n_large = (
        (40, 300, 40, 2, 2) if args.quick else (200, 2000, 200, 5, 10)
    )

    print(
        f"<!-- bench/robustness.py{' --quick' if args.quick else ''}: Python {platform.python_version()}, "
        f"pdqhash {pdqhash.__version__}, Pillow {PIL.__version__}, numpy {np.__version__}, "
        f"{platform.machine()}, {len(os.sched_getaffinity(0))} CPUs -->\n"
    )
    start = time.perf_counter()
    rows, banks = recall_table(n_bank)
    print(f"Recall over {n_bank} generated 512x512 images, threshold {THRESHOLD}:\n")
    print("| edit | bank holds | recall | mean distance | max distance |")
    print("| --- | --- | ---: | ---: | ---: |")
    for name, bank, found, total, mean, most in rows:
        print(f"| {name} | {bank} | {found}/{total} ({found / total:.1%}) | {mean:.1f} | {most} |")

    print(
        f"\nFalse matches: {n_unrelated:,} unrelated 512x512 images (8 dihedral hashes each), threshold {THRESHOLD}:\n"
    )
    print("| bank | queries matching anything | pairs within 31 | nearest distance |")
    print("| --- | ---: | ---: | ---: |")
    for kind, (queries, pairs, nearest) in false_matches(banks, n_unrelated).items():
        print(f"| {kind} | {queries} of {n_unrelated:,} | {pairs} | {nearest} |")

    print(
        f"\nCost per image, {n_timing} generated 512x512 JPEGs (quality 90), one thread, best of {repeats} rounds:\n"
    )
    print("| step | images/s | ms/image |")
    print("| --- | ---: | ---: |")
    for name, rate in timings(n_timing, repeats):
        print(f"| {name} | {rate:,.0f} | {1000 / rate:.1f} |")

    print(
        f"\nShrinking large images before hashing ({n_large} per size; Vigil's default is shrink_to={HASH_SIDE}): "
        "distance to the full-size hash (mean / max bits) and ms per image, decode included:\n"
    )
    heads = [f"`shrink_to={side}`" for side in SHRINK_TO] + ["resized to 1536 (box)"]
    print("| image | full size | " + " | ".join(heads) + " |")
    print("| --- | ---: | " + " | ".join("---:" for _ in heads) + " |")
    for size, full_ms, cells in shrinking(n_large):
        shown = [f"{mean:.1f} / {most}, {ms:.0f} ms" for mean, most, ms in cells]
        print(f"| {size} | {full_ms:.0f} ms | " + " | ".join(shown) + " |")
    print(f"\n<!-- {time.perf_counter() - start:.0f} s -->")


if __name__ == "__main__":
    main()
