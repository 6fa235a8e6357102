"""Hashing videos: vPDQ, the PDQ hash of one frame a second (the ``vpdq`` package, on FFmpeg).

Video hashing is an optional extra (``pip install 'vigil[video]'``): ``vpdq`` builds against the
FFmpeg libraries, which must be on the machine (Debian: ``ffmpeg`` and the ``libav*-dev`` packages).
Without it, Vigil still takes the whole-file MD5 and SHA-256 of a video and still matches vPDQ hashes
that a platform computed itself; only hashing video bytes needs the extra.

A video is hostile input like any other. Before any frame is decoded, ``ffprobe`` (run with a time
limit) reads the container: files that are not video, are longer than ``max_seconds`` or have
frames larger than ``max_pixels`` are refused with a clear error, so decoding time stays bounded.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from vigil.domain.hashes import VideoFrame

SECONDS_PER_HASH = 1.0  # threatexchange's and HMA's rate: one frame hash a second


class VideoRefusedError(ValueError):
    """A file that is not hashed as a video, and why (said so a person can act on it)."""


class VideoHashingUnavailableError(RuntimeError):
    """This installation cannot hash video bytes (the ``video`` extra or FFmpeg is missing)."""


@dataclass(frozen=True, slots=True)
class VideoLimits:
    max_bytes: int = 2 * 1024 * 1024 * 1024
    max_seconds: float = 3 * 3600.0
    max_pixels: int = 3840 * 2160  # 4K UHD frames
    probe_timeout_seconds: float = 20.0


DEFAULT_VIDEO_LIMITS = VideoLimits()


@dataclass(frozen=True, slots=True)
class VideoInfo:
    seconds: float
    width: int
    height: int
    container: str


# Signatures of the containers platforms receive video in; anything else is not tried as video.
_FTYP = b"ftyp"  # MP4, MOV, 3GP (ISO base media), at offset 4
_EBML = b"\x1a\x45\xdf\xa3"  # Matroska, WebM
_RIFF_AVI = (b"RIFF", b"AVI ")
_FLV = b"FLV"
_MPEG_PS = b"\x00\x00\x01\xba"


def looks_like_video(data: bytes) -> bool:
    """Whether ``data`` starts like a video container (a cheap check before running FFmpeg on it)."""
    head = data[:16]
    return (
        head[4:8] == _FTYP
        or head.startswith((_EBML, _FLV, _MPEG_PS))
        or (head[:4] == _RIFF_AVI[0] and head[8:12] == _RIFF_AVI[1])
        or _looks_like_mpeg_ts(data)
    )


def _looks_like_mpeg_ts(data: bytes) -> bool:
    return len(data) >= 188 * 3 and all(data[i * 188] == 0x47 for i in range(3))


def video_hashing_available() -> bool:
    """Whether video bytes can be hashed here (``vpdq`` importable and ``ffprobe`` on the path)."""
    try:
        import vpdq  # noqa: F401
    except ImportError:
        return False
    return shutil.which("ffprobe") is not None


def probe_video(path: Path, limits: VideoLimits = DEFAULT_VIDEO_LIMITS) -> VideoInfo:
    """Read a video's duration and frame size without decoding it; refuse what is over the limits."""
    ffprobe = shutil.which("ffprobe")
    if ffprobe is None:
        raise VideoHashingUnavailableError("video hashing needs FFmpeg's ffprobe on the PATH")
    command = [
        ffprobe,
        "-v",
        "error",
        "-show_entries",
        "format=duration,format_name:stream=codec_type,width,height",
        "-of",
        "json",
        str(path),
    ]
    try:
        done = subprocess.run(  # noqa: S603 (a fixed program and arguments, no shell)
            command, capture_output=True, timeout=limits.probe_timeout_seconds, check=False
        )
    except subprocess.TimeoutExpired:
        raise VideoRefusedError(
            f"reading the video's container took longer than {limits.probe_timeout_seconds:g} s"
        ) from None
    try:
        report = json.loads(done.stdout or b"{}")
    except ValueError:
        report = {}
    streams = [s for s in report.get("streams", []) if s.get("codec_type") == "video"]
    if done.returncode != 0 or not streams:
        raise VideoRefusedError("not a readable video (no video stream found)")
    width, height = int(streams[0].get("width") or 0), int(streams[0].get("height") or 0)
    try:
        seconds = float(report.get("format", {}).get("duration", "nan"))
    except (TypeError, ValueError):
        seconds = math.nan
    if not math.isfinite(seconds) or seconds <= 0:
        raise VideoRefusedError("the video does not say how long it is")
    if seconds > limits.max_seconds:
        raise VideoRefusedError(f"the video is {seconds:.0f} s long; the limit is {limits.max_seconds:.0f} s")
    if width <= 0 or height <= 0:
        raise VideoRefusedError("the video does not say its frame size")
    if width * height > limits.max_pixels:
        raise VideoRefusedError(
            f"video frames of {width}x{height} are larger than {limits.max_pixels} pixels"
        )
    return VideoInfo(seconds, width, height, str(report.get("format", {}).get("format_name", "")))


def hash_video_file(path: Path, limits: VideoLimits = DEFAULT_VIDEO_LIMITS) -> tuple[VideoFrame, ...]:
    """The vPDQ hash of the video at ``path``: a frame a second, each with its PDQ quality."""
    try:
        import vpdq
    except ImportError:
        raise VideoHashingUnavailableError(
            "video hashing needs the video extra: pip install 'vigil[video]' (and FFmpeg's libraries)"
        ) from None
    probe_video(path, limits)
    try:
        features = vpdq.computeHash(str(path), seconds_per_hash=SECONDS_PER_HASH, thread_count=1)
    except Exception:  # vpdq raises a bare Exception for any file FFmpeg cannot decode
        raise VideoRefusedError("the video could not be decoded") from None
    if not features:
        raise VideoRefusedError("the video has no frames that could be decoded")
    return tuple(VideoFrame(f.hex, int(f.quality), round(float(f.timestamp), 3)) for f in features)


def hash_video_bytes(data: bytes, limits: VideoLimits = DEFAULT_VIDEO_LIMITS) -> tuple[VideoFrame, ...]:
    """The vPDQ hash of a video held in memory (FFmpeg reads files, so it passes through a temp file)."""
    descriptor, name = tempfile.mkstemp(prefix="vigil-video-")
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
        return hash_video_file(Path(name), limits)
    finally:
        os.unlink(name)
