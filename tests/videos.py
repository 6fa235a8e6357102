"""Videos for tests, made with FFmpeg from generated photo-like scenes.

A video here is a sequence of scenes (one generated image each), every scene held for a number of
seconds, encoded as H.264 in MP4: the shape of real footage (shots that change) with frames that
PDQ hashes with full quality.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np

from tests.images import photo_like

FFMPEG = shutil.which("ffmpeg")


def make_video(
    path: Path,
    scenes: list[int],
    seconds_per_scene: float = 1.0,
    size: int = 256,
    fps: int = 10,
    crf: int = 20,
) -> Path:
    """An MP4 at ``path`` showing ``photo_like(seed)`` for each seed in ``scenes``, in order."""
    if FFMPEG is None:
        raise RuntimeError("the video tests need FFmpeg (Debian package ffmpeg; .ci/run installs it)")
    frames_per_scene = round(seconds_per_scene * fps)
    raw = b"".join(
        np.ascontiguousarray(photo_like(seed, size)).astype(np.uint8).tobytes() * frames_per_scene
        for seed in scenes
    )
    command = [
        FFMPEG,
        "-v",
        "error",
        "-y",
        "-f",
        "rawvideo",
        "-pix_fmt",
        "rgb24",
        "-s",
        f"{size}x{size}",
        "-r",
        str(fps),
        "-i",
        "-",
        "-c:v",
        "libx264",
        "-crf",
        str(crf),
        "-pix_fmt",
        "yuv420p",
        str(path),
    ]
    subprocess.run(command, input=raw, check=True)
    return path


def transcode(source: Path, target: Path, *arguments: str) -> Path:
    """``source`` re-encoded by FFmpeg with extra ``arguments`` (a filter, a bitrate, a cut)."""
    if FFMPEG is None:
        raise RuntimeError("the video tests need FFmpeg (Debian package ffmpeg; .ci/run installs it)")
    subprocess.run(
        [FFMPEG, "-v", "error", "-y", "-i", str(source), *arguments, "-pix_fmt", "yuv420p", str(target)],
        check=True,
    )
    return target
