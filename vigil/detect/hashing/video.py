"""Hashing videos: vPDQ, the PDQ hash of one frame a second, on frames decoded by PyAV.

vPDQ is Meta's video hash (the ``vpdq`` package, whose C++ this module follows step by step): the
frames are decoded by FFmpeg and numbered in the order the decoder gives them out; every frame whose
number is a multiple of ``int(seconds_per_hash * frame_rate)`` is converted to RGB24 at the video's
own size by swscale (area averaging, BT.601, the range its pixel format implies) and PDQ-hashed
exactly as a photo is; its timestamp is ``frame_number / frame_rate`` in 32-bit floats, as the C++
computes it. Same frames, same pixels, same hash: hash lists made with ``vpdq`` match Vigil's hashes
of the same videos (``bench/RESULTS.md``: identical frame hashes for 8-bit videos of even height).

Why PyAV rather than ``vpdq`` itself: ``vpdq`` is compiled against the FFmpeg libraries installed on
the machine, so installing it needs a C++ toolchain and FFmpeg's development packages; PyAV's wheels
carry their own FFmpeg, so video hashing installs with ``pip`` alone. One difference remains, and it
is FFmpeg's, not Vigil's: the swscale of FFmpeg 8 (in PyAV 16 and later) converts frames of odd
height and 10-bit frames to RGB slightly differently from FFmpeg 7.1 and older, so ``vpdq`` built
against an older FFmpeg hashes those frames a few bits away (at most 4 in the benchmark). vpdq's own
conversion call, run on FFmpeg 8's swscale, gives Vigil's pixels exactly.

A video is hostile input like any other. Before any frame is decoded, the container is read under a
time limit, with FFmpeg's probing bounded and only the demuxers of the containers that
:func:`looks_like_video` recognises allowed (no playlists that open other files): files that are not
video, are longer than ``max_seconds`` or have frames larger than ``max_pixels`` are refused with a
clear error. Decoding then stops at ``max_seconds`` of frames, by count and by timestamp, whatever
the container claimed, and any decoding error refuses the video rather than hashing part of it.
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from vigil.detect.hashing.pdq import RgbImage, pdq_hash
from vigil.domain.hashes import VideoFrame

if TYPE_CHECKING:
    from av.container import InputContainer
    from av.video.frame import VideoFrame as DecodedFrame
    from av.video.stream import VideoStream

SECONDS_PER_HASH = 1.0  # threatexchange's and HMA's rate: one frame hash a second
MIN_HASHABLE_SIDE = 5  # vpdq's MIN_HASHABLE_DIM: smaller frames are not hashed

# What av.open may do with an upload. The demuxers are those of the containers looks_like_video
# recognises (a demuxer name such as "mov,mp4,..." matches if any of its names is listed), so no
# playlist or concat demuxer opens further files; probing is held to FFmpeg's own defaults (5 MB,
# 5 s), written out so that the frame rate it finds is the one vpdq finds, and never more.
_CONTAINER_OPTIONS = {
    "format_whitelist": "mov,mp4,matroska,webm,avi,flv,mpeg,mpegts",
    "protocol_whitelist": "file",
    "probesize": "5000000",
    "analyzeduration": "5000000",
}


class VideoRefusedError(ValueError):
    """A file that is not hashed as a video, and why (said so a person can act on it)."""


class VideoHashingUnavailableError(RuntimeError):
    """This installation cannot hash video bytes (PyAV, the ``av`` package, does not import)."""


@dataclass(frozen=True, slots=True)
class VideoLimits:
    max_bytes: int = 2 * 1024 * 1024 * 1024
    max_seconds: float = 3 * 3600.0
    max_pixels: int = 3840 * 2160  # 4K UHD frames
    probe_timeout_seconds: float = 20.0  # opening the container, and then each read from it


DEFAULT_VIDEO_LIMITS = VideoLimits()


@dataclass(frozen=True, slots=True)
class VideoInfo:
    seconds: float
    width: int
    height: int
    container: str
    frame_rate: float  # frames a second: the stream's average rate, else its base rate (as vpdq)


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


def probe_video(path: Path, limits: VideoLimits = DEFAULT_VIDEO_LIMITS) -> VideoInfo:
    """Read a video's duration and frame size without decoding it; refuse what is over the limits."""
    with _opened(str(path), limits) as (_, info):
        return info


def hash_video_file(path: Path, limits: VideoLimits = DEFAULT_VIDEO_LIMITS) -> tuple[VideoFrame, ...]:
    """The vPDQ hash of the video at ``path``: a frame a second, each with its PDQ quality."""
    return _hash(str(path), limits)


def hash_video_bytes(data: bytes, limits: VideoLimits = DEFAULT_VIDEO_LIMITS) -> tuple[VideoFrame, ...]:
    """The vPDQ hash of a video held in memory, read from memory (no temporary file)."""
    return _hash(io.BytesIO(data), limits)


def _hash(source: str | io.BytesIO, limits: VideoLimits) -> tuple[VideoFrame, ...]:
    import av

    with _opened(source, limits) as (container, info):
        try:
            frames = tuple(_hashed_frames(container, info, limits))
        except av.error.FFmpegError:
            raise VideoRefusedError("the video could not be decoded") from None
    if not frames:
        raise VideoRefusedError("the video has no frames that could be decoded")
    return frames


@contextmanager
def _opened(source: str | io.BytesIO, limits: VideoLimits) -> Iterator[tuple[InputContainer, VideoInfo]]:
    """The container, open, with what its first video stream says, once that passed the limits."""
    try:
        import av
    except ImportError:
        raise VideoHashingUnavailableError(
            "video hashing needs PyAV (the av package, a dependency of Vigil): pip install av"
        ) from None
    av.logging.set_level(None)  # FFmpeg's messages about broken uploads are not Vigil's to print
    timeout = limits.probe_timeout_seconds
    try:
        container = av.open(source, "r", container_options=_CONTAINER_OPTIONS, timeout=(timeout, timeout))
    except av.error.ExitError:  # the interrupt of the timeout
        raise VideoRefusedError(f"reading the video's container took longer than {timeout:g} s") from None
    except av.error.FFmpegError:
        raise VideoRefusedError("not a readable video (no video stream found)") from None
    with container:
        yield container, _checked(container, limits)


def _checked(container: InputContainer, limits: VideoLimits) -> VideoInfo:
    if not container.streams.video:
        raise VideoRefusedError("not a readable video (no video stream found)")
    stream = container.streams.video[0]  # vpdq hashes the first video stream
    seconds = container.duration / 1_000_000 if container.duration is not None else math.nan
    if not math.isfinite(seconds) or seconds <= 0:
        raise VideoRefusedError("the video does not say how long it is")
    if seconds > limits.max_seconds:
        raise VideoRefusedError(f"the video is {seconds:.0f} s long; the limit is {limits.max_seconds:.0f} s")
    width, height = stream.codec_context.width, stream.codec_context.height
    if width <= 0 or height <= 0:
        raise VideoRefusedError("the video does not say its frame size")
    if width * height > limits.max_pixels:
        raise VideoRefusedError(
            f"video frames of {width}x{height} are larger than {limits.max_pixels} pixels"
        )
    if width < MIN_HASHABLE_SIDE or height < MIN_HASHABLE_SIDE:
        raise VideoRefusedError(
            f"video frames of {width}x{height} are too small to hash (at least {MIN_HASHABLE_SIDE} pixels a side)"
        )
    rate = stream.average_rate or stream.base_rate  # vpdq: avg_frame_rate, else r_frame_rate
    if rate is None or rate <= 0:
        raise VideoRefusedError("the video does not say its frame rate")
    return VideoInfo(seconds, width, height, container.format.name, float(rate))


def _hashed_frames(container: InputContainer, info: VideoInfo, limits: VideoLimits) -> Iterator[VideoFrame]:
    """vpdq's FFmpegHasher: number the decoded frames, hash every ``frame_mod``-th one."""
    stream: VideoStream = container.streams.video[0]
    frame_mod = max(1, int(SECONDS_PER_HASH * info.frame_rate))  # vpdq truncates, as int() does
    rate = np.float32(info.frame_rate)  # the C++ divides in float, so timestamps are float32
    last = math.floor(limits.max_seconds * info.frame_rate)  # the last frame within max_seconds
    first_time: float | None = None
    for number, frame in enumerate(container.decode(stream)):
        # the container's duration was checked, but a file may lie about it: stop at max_seconds
        # of frames, counted at the frame rate and measured by the frames' own timestamps
        if frame.time is not None:
            first_time = frame.time if first_time is None else first_time
            if frame.time - first_time > limits.max_seconds:
                return
        if number > last:
            return
        if frame.width * frame.height > limits.max_pixels:  # the stream changed size mid-way
            raise VideoRefusedError(
                f"video frames of {frame.width}x{frame.height} are larger than {limits.max_pixels} pixels"
            )
        if number % frame_mod == 0:
            hashed = pdq_hash(_rgb(frame, info))
            timestamp = float(np.float32(number) / rate)
            yield VideoFrame(hashed.value, hashed.quality, round(timestamp, 3))


def _rgb(frame: DecodedFrame, info: VideoInfo) -> RgbImage:
    """The frame as vpdq's swscale context makes it: RGB24 at the stream's size, area averaging.

    vpdq calls ``sws_getContext``, which ignores the colour tags of frames: it converts with BT.601
    coefficients, from full range only for the ``yuvj`` pixel formats. PyAV's ``reformat`` follows
    the tags, so they are overridden; otherwise a video tagged BT.709 (most HD video) hashes up to
    about 30 bits away from vpdq's hash of it (10-32 bits a frame on a generated test video).
    """
    full_range = frame.format.name.startswith("yuvj")
    array = frame.to_ndarray(
        width=info.width,
        height=info.height,
        format="rgb24",
        interpolation="AREA",
        src_colorspace="ITU601",
        src_color_range="JPEG" if full_range else "MPEG",
    )
    return np.asarray(array, dtype=np.uint8)
