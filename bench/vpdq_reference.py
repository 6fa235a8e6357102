"""Vigil's vPDQ (PyAV) against the reference ``vpdq`` package, frame by frame, on generated videos.

    .venv/bin/python bench/vpdq_reference.py     # 9 videos of 10 s or less, about half a minute

Vigil hashes videos with vPDQ's algorithm on frames decoded by PyAV (``vigil/detect/hashing/video.py``)
instead of calling ``vpdq``, which is compiled against the FFmpeg libraries of the machine. Hash lists
made with ``vpdq`` must still match, so this compares the two on the same files: the frames hashed
(how many, which frame numbers, which timestamps), the Hamming distance between corresponding frame
hashes, their PDQ qualities, and whether Vigil's own matcher (``VpdqBankIndex``, threshold 31,
quality 50) finds Vigil's hash of a video in a bank holding ``vpdq``'s hash of it, with the shares of
frames matched both ways. Times are the best of three runs of each, interleaved, in this process.

The videos are made with PyAV from ``tests/images.py``'s photo-like scenes, one scene a second, and
vary what the hash depends on: frame size (square, 16:9, portrait, odd), frame rate (10, 24, 25,
29.97), codec (H.264, MPEG-4 Part 2, VP9 in WebM), quality, colour tags (BT.709, full range), bit
depth, and edits through ``tests/videos.py``'s ``transcode`` (scaled and cut, greyscale, re-encoded).

The reference is the ``vpdq`` package itself (``pip install vpdq`` builds it against the system's
FFmpeg development libraries); without it this script stops with exit status 1. It also exits 1
when any video's frames or timestamps differ, or a video does not match ``vpdq``'s hash of it 100%
both ways; frame hashes a few bits apart are reported, not failed (``bench/RESULTS.md`` says why).
"""

from __future__ import annotations

import importlib.metadata
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

try:
    import vpdq
except ImportError:
    sys.exit(
        "bench/vpdq_reference.py compares Vigil with the reference vpdq package, which is not installed: "
        "pip install vpdq (it builds against FFmpeg's development libraries)"
    )

import av
import numpy as np
from av.video.frame import VideoFrame as AvFrame
from av.video.stream import VideoStream

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.images import photo_like  # noqa: E402 - the tests' generator
from tests.videos import make_video, transcode  # noqa: E402
from vigil.detect.hashing.digest_detector import BankRef  # noqa: E402
from vigil.detect.hashing.video import SECONDS_PER_HASH, hash_video_file, probe_video  # noqa: E402
from vigil.detect.hashing.video_detector import VideoEntry, VpdqBankIndex  # noqa: E402
from vigil.domain.hashes import VideoFrame  # noqa: E402
from vigil.domain.taxonomy import Category  # noqa: E402

SECONDS = 10
RUNS = 3
BANK = BankRef("reference", 1, Category.TERRORISM)
AVCOL_SPC_BT709 = 1  # FFmpeg's AVColorSpace
AVCOL_RANGE_JPEG = 2  # FFmpeg's AVColorRange: full range


@dataclass(frozen=True, slots=True)
class Made:
    """A video encoded here with PyAV: one photo-like scene a second."""

    width: int
    height: int
    fps: Fraction
    codec: str
    suffix: str
    pix_fmt: str = "yuv420p"
    options: dict[str, str] = field(default_factory=dict)
    colorspace: int | None = None
    color_range: int | None = None


@dataclass(frozen=True, slots=True)
class Video:
    name: str
    make: Callable[[Path], Path]


def encode(path: Path, spec: Made, first_scene: int) -> Path:
    with av.open(str(path), "w") as container:
        stream = container.add_stream(spec.codec, rate=spec.fps, options=spec.options)
        assert isinstance(stream, VideoStream)
        stream.width, stream.height, stream.pix_fmt = spec.width, spec.height, spec.pix_fmt
        if spec.colorspace is not None:
            stream.codec_context.colorspace = spec.colorspace
        if spec.color_range is not None:
            stream.codec_context.color_range = spec.color_range
        per_scene = round(spec.fps)
        side = max(spec.width, spec.height)
        for number in range(SECONDS * per_scene):
            image = np.ascontiguousarray(
                photo_like(first_scene + number // per_scene, side)[: spec.height, : spec.width]
            )
            frame = AvFrame.from_ndarray(image.astype(np.uint8), format="rgb24")
            frame.pts, frame.time_base = number, 1 / spec.fps
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


def videos() -> list[Video]:
    def made(name: str, spec: Made, first_scene: int) -> Video:
        return Video(name, lambda path: encode(path.with_suffix(spec.suffix), spec, first_scene))

    def edited(name: str, source: Video, suffix: str, *arguments: str) -> Video:
        return Video(
            name,
            lambda path: transcode(
                source.make(path.with_name(path.name + "-source")), path.with_suffix(suffix), *arguments
            ),
        )

    tests_video = Video(
        "H.264 256x256 10 fps CRF 20 MP4 (make_video)",
        lambda path: make_video(path.with_suffix(".mp4"), list(range(100, 100 + SECONDS))),
    )
    hd = made(
        "H.264 640x360 29.97 fps CRF 28, tagged BT.709",
        Made(
            640,
            360,
            Fraction(30000, 1001),
            "libx264",
            ".mp4",
            options={"crf": "28"},
            colorspace=AVCOL_SPC_BT709,
        ),
        200,
    )
    return [
        tests_video,
        hd,
        made(
            "H.264 240x320 (portrait) 24 fps CRF 18 MKV",
            Made(240, 320, Fraction(24), "libx264", ".mkv", options={"crf": "18"}),
            300,
        ),
        made(
            "MPEG-4 321x241 (odd) 25 fps q 4 MP4",
            Made(321, 241, Fraction(25), "mpeg4", ".mp4", options={"qmin": "4", "qmax": "4"}),
            400,
        ),
        made(
            "VP9 320x240 24 fps CRF 32 WebM, full range",
            Made(
                320,
                240,
                Fraction(24),
                "libvpx-vp9",
                ".webm",
                options={"crf": "32", "b": "0"},
                color_range=AVCOL_RANGE_JPEG,
            ),
            500,
        ),
        made(
            "H.264 10-bit 480x270 25 fps CRF 20 MP4",
            Made(480, 270, Fraction(25), "libx264", ".mp4", pix_fmt="yuv420p10le", options={"crf": "20"}),
            600,
        ),
        edited(
            "make_video cut 3 s + 5 s, scaled to 160x120",
            tests_video,
            ".mp4",
            "-ss",
            "3",
            "-t",
            "5",
            "-vf",
            "scale=160:120",
        ),
        edited("the BT.709 video in greyscale (hue=s=0)", hd, ".mp4", "-vf", "hue=s=0"),
        edited(
            "make_video at 24 fps in MPEG-4 q 5",
            tests_video,
            ".mp4",
            "-r",
            "24",
            "-c:v",
            "mpeg4",
            "-q:v",
            "5",
        ),
    ]


@dataclass(frozen=True, slots=True)
class Row:
    name: str
    ours: int
    reference: int
    numbers_same: bool
    times_same: bool
    distances: list[int]
    quality_diff: int
    query_percent: float
    bank_percent: float
    ratio: float


def elapsed(work: Callable[[], Any]) -> float:
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def distance(a: str, b: str) -> int:
    return (int(a, 16) ^ int(b, 16)).bit_count()


def compare(name: str, path: Path) -> Row:
    ours = hash_video_file(path)
    reference = vpdq.computeHash(str(path), seconds_per_hash=SECONDS_PER_HASH, thread_count=1)
    frame_mod = max(1, int(SECONDS_PER_HASH * probe_video(path).frame_rate))
    # Vigil's frames are the decoded frames numbered 0, frame_mod, 2 * frame_mod ... by construction
    numbers_same = [i * frame_mod for i in range(len(ours))] == [f.frame_number for f in reference]
    times_same = [f.timestamp for f in ours] == [round(float(f.timestamp), 3) for f in reference]
    pairs = list(zip(ours, reference, strict=False))
    banked = tuple(VideoFrame(f.hex, int(f.quality), round(float(f.timestamp), 3)) for f in reference)
    index = VpdqBankIndex([VideoEntry(1, banked, BANK, 31)], quality_threshold=50)
    found = index.match(ours)
    ours_s, reference_s = [], []
    for _ in range(RUNS):  # interleaved, so that a change in the machine's load falls on both
        ours_s.append(elapsed(lambda: hash_video_file(path)))
        reference_s.append(
            elapsed(lambda: vpdq.computeHash(str(path), seconds_per_hash=SECONDS_PER_HASH, thread_count=1))
        )
    return Row(
        name,
        len(ours),
        len(reference),
        numbers_same,
        times_same,
        [distance(a.pdq, b.hex) for a, b in pairs],
        max((abs(a.quality - int(b.quality)) for a, b in pairs), default=0),
        found[0].query_percent if found else 0.0,
        found[0].bank_percent if found else 0.0,
        min(ours_s) / min(reference_s),
    )


def linked_ffmpeg() -> str:
    """The libswscale this process loaded besides PyAV's own: the one ``vpdq`` was built against."""
    try:
        maps = Path("/proc/self/maps").read_text()
    except OSError:
        return "unknown"
    names = {
        line.rsplit("/", 1)[-1]
        for line in maps.splitlines()
        if "libswscale" in line and "av.libs" not in line
    }
    return ", ".join(sorted(names)) or "unknown"


def table(rows: Sequence[Row]) -> str:
    lines = [
        "| video | frames (Vigil / vpdq) | frame numbers, timestamps identical | Hamming mean | Hamming max | quality diff max | VpdqBankIndex match (query / bank) | time Vigil / vpdq |",
        "|---|---:|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        same = f"{'yes' if r.numbers_same else 'NO'}, {'yes' if r.times_same else 'NO'}"
        mean = statistics.fmean(r.distances) if r.distances else float("nan")
        lines.append(
            f"| {r.name} | {r.ours} / {r.reference} | {same} | {mean:.2f} | {max(r.distances, default=0)} | "
            f"{r.quality_diff} | {r.query_percent:.0f}% / {r.bank_percent:.0f}% | {r.ratio:.2f}x |"
        )
    return "\n".join(lines)


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="vigil-vpdq-") as workdir:
        rows = []
        for number, video in enumerate(videos()):
            path = video.make(Path(workdir) / f"video-{number}")
            rows.append(compare(video.name, path))
    print(
        f"<!-- bench/vpdq_reference.py: Python {sys.version.split()[0]}, av {av.__version__} "
        f"(libswscale {'.'.join(map(str, av.library_versions['libswscale']))}), "
        f"vpdq {importlib.metadata.version('vpdq')} (on {linked_ffmpeg()}) -->\n"
    )
    print(table(rows))
    frames = [d for r in rows for d in r.distances]
    exact = sum(d == 0 for d in frames)
    print(
        f"\n{exact} of {len(frames)} frame hashes identical; mean distance {statistics.fmean(frames):.3f}, "
        f"max {max(frames)}; time Vigil / vpdq: median {statistics.median(r.ratio for r in rows):.2f}x"
    )
    same_frames = all(r.numbers_same and r.times_same and r.ours == r.reference for r in rows)
    all_match = all(r.query_percent == 100.0 and r.bank_percent == 100.0 for r in rows)
    print(
        f"same frames and timestamps everywhere: {same_frames}; 100% matches both ways everywhere: {all_match}"
    )
    return 0 if same_frames and all_match else 1


if __name__ == "__main__":
    sys.exit(main())
