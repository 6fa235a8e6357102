"""Videos for tests, made with PyAV (FFmpeg inside its wheel) from generated photo-like scenes.

A video here is a sequence of scenes (one generated image each), every scene held for a number of
seconds, encoded as H.264 in MP4: the shape of real footage (shots that change) with frames that
PDQ hashes with full quality. No ``ffmpeg`` program is needed: PyAV encodes, decodes and filters.
"""

from __future__ import annotations

from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import av
import av.filter
import numpy as np
from av.video.frame import VideoFrame
from av.video.stream import VideoStream

from tests.images import photo_like


def make_video(
    path: Path,
    scenes: list[int],
    seconds_per_scene: float = 1.0,
    size: int = 256,
    fps: int = 10,
    crf: int = 20,
) -> Path:
    """An H.264 video (yuv420p) at ``path`` showing ``photo_like(seed)`` for each seed in ``scenes``.

    The container follows the suffix of ``path`` (MP4 for ``.mp4``, Matroska for ``.mkv`` ...).
    """
    frames_per_scene = round(seconds_per_scene * fps)
    images = (np.ascontiguousarray(photo_like(seed, size)).astype(np.uint8) for seed in scenes)
    frames = (VideoFrame.from_ndarray(image, format="rgb24") for image in images)
    _encode(
        path, (f for frame in frames for f in [frame] * frames_per_scene), "libx264", fps, {"crf": str(crf)}
    )
    return path


def transcode(source: Path, target: Path, *arguments: str) -> Path:
    """``source`` re-encoded into ``target`` (yuv420p, container by suffix) as ``ffmpeg`` would.

    ``arguments`` are the few ``ffmpeg`` output options the tests use, and no others:

    * ``-ss S``: start ``S`` seconds in; ``-t S``: keep ``S`` seconds;
    * ``-vf FILTERS``: FFmpeg filters, comma-separated (``scale=160:160``, ``hue=s=0``), with no
      comma inside a filter's own arguments;
    * ``-r N``: ``N`` frames a second, frames dropped or repeated (FFmpeg's ``fps`` filter);
    * ``-c:v CODEC``: ``libx264`` (the default) or ``mpeg4``;
    * ``-crf N`` (libx264) and ``-q:v N`` (mpeg4's quantiser, here held at ``N`` by the encoder's
      ``qmin`` and ``qmax``: PyAV cannot set the per-frame quality that ``ffmpeg -q:v`` sets).

    Any other option raises ``ValueError`` naming it.
    """
    options = _parse(arguments)
    start = float(options.get("-ss", "0"))
    length = float(options["-t"]) if "-t" in options else None
    codec = options.get("-c:v", "libx264")
    if codec not in ("libx264", "mpeg4"):
        raise ValueError(f"transcode: -c:v {codec} is not supported (libx264 or mpeg4)")
    encoder_options: dict[str, str] = {}
    if "-crf" in options:
        encoder_options["crf"] = options["-crf"]
    if "-q:v" in options:
        encoder_options |= {"qmin": options["-q:v"], "qmax": options["-q:v"]}
    filters = [f for f in options.get("-vf", "").split(",") if f]
    with av.open(str(source)) as container:
        stream = container.streams.video[0]
        rate = Fraction(options["-r"]) if "-r" in options else stream.average_rate or Fraction(25)
        if "-r" in options:
            filters.append(f"fps={options['-r']}")
        frames = _cut(container.decode(stream), start, length)
        _encode(target, _filtered(stream, filters, frames), codec, rate, encoder_options)
    return target


_TAKES_VALUE = ("-ss", "-t", "-vf", "-r", "-c:v", "-crf", "-q:v")


def _parse(arguments: tuple[str, ...]) -> dict[str, str]:
    if len(arguments) % 2:
        raise ValueError(f"transcode: options come in pairs, got {arguments}")
    options = dict(zip(arguments[::2], arguments[1::2], strict=True))
    for name in options:
        if name not in _TAKES_VALUE:
            raise ValueError(f"transcode: option {name} is not supported (only {' '.join(_TAKES_VALUE)})")
    return options


def _cut(frames: Iterator[VideoFrame], start: float, length: float | None) -> Iterator[VideoFrame]:
    """The frames from ``start`` seconds for ``length`` seconds, timed from the first frame."""
    first: float | None = None
    for frame in frames:
        time = frame.time or 0.0
        first = time if first is None else first
        if time - first < start - 1e-6:
            continue
        if length is not None and time - first >= start + length - 1e-6:
            return
        yield frame


def _filtered(stream: VideoStream, filters: list[str], frames: Iterator[VideoFrame]) -> Iterator[VideoFrame]:
    """``frames`` through a chain of FFmpeg filters (``name=arguments``), as ``-vf`` applies them."""
    if not filters:
        yield from frames
        return
    graph = av.filter.Graph()
    nodes = [graph.add_buffer(template=stream)]
    for spec in filters:
        name, _, args = spec.partition("=")
        nodes.append(graph.add(name, args or None))
    nodes.append(graph.add("buffersink"))
    graph.link_nodes(*nodes).configure()
    for frame in frames:
        graph.vpush(frame)
        yield from _drain(graph)
    graph.vpush(None)
    yield from _drain(graph)


def _drain(graph: av.filter.Graph) -> Iterator[VideoFrame]:
    while True:
        try:
            yield graph.vpull()
        except (av.error.BlockingIOError, av.error.EOFError):
            return


def _encode(
    path: Path, frames: Iterator[VideoFrame], codec: str, rate: Fraction | int, options: dict[str, str]
) -> None:
    """Encode ``frames`` at ``rate`` a second (numbered afresh from 0) into ``path``, yuv420p."""
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=rate, options=options)
        assert isinstance(stream, VideoStream)
        stream.pix_fmt = "yuv420p"
        for number, frame in enumerate(frames):
            if number == 0:
                stream.width, stream.height = frame.width, frame.height
            frame.pts, frame.time_base = number, Fraction(1) / Fraction(rate)
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
