"""Frame sources: a video file, an image folder or a network stream, all through OpenCV.

Every source yields :class:`Frame` values stamped on the true clock (UTC
seconds): the container's own timestamp when it has one, else
``start_s + index / fps``, in both cases plus the camera's ``clock_offset_s``.

What counts as bad input (each raises :class:`~skynet.errors.BadInputError`
naming the source, and the frame index where a stream breaks):

* a missing or empty file, an empty image folder, an unreadable image;
* a video OpenCV cannot open or whose first frame cannot be decoded (corrupt
  file, unknown codec);
* a video that stops before the frame count its container announces
  (truncated in the middle): raised when the break is reached, after the
  frames before it were delivered. Sources without a count (live streams,
  containers that do not say) cannot tell a break from the end: there a
  failed read ends the iteration quietly, and :attr:`FrameSource.frames_read`
  says how far it got;
* a stream that cannot be reached within ``open_timeout_s``.

Example::

    with open_source("clip.mp4", start_s=1_700_000_000.0, clock_offset_s=-2.5) as frames:
        for frame in frames:
            ...
"""

from __future__ import annotations

import math
import os
import re
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Final

import cv2
import numpy as np
from numpy.typing import NDArray

from skynet.errors import BadInputError

ImageU8 = NDArray[np.uint8]

#: Image files an image folder may hold (compared case-insensitively).
IMAGE_SUFFIXES: Final = frozenset(
    {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".ppm", ".pgm"}
)
#: Frames a container may announce beyond what it really holds without the
#: video counting as truncated: counts estimated from the duration are off
#: by a frame or two (the real highway clip announces 750 and holds 748), so
#: a shortfall of ``max(COUNT_TOLERANCE, 1 %)`` passes; a video cut in the
#: middle misses far more.
COUNT_TOLERANCE: Final = 3
_STREAM_SCHEME: Final = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")


@dataclass(frozen=True, slots=True)
class Frame:
    """One decoded frame: its 0-based index, its true UTC time and the BGR image."""

    index: int
    time_s: float
    image: ImageU8


class FrameSource:
    """Base of the sources: iterate once for frames; use as a context manager.

    ``fps`` is the frame rate used for timestamps, ``frame_count`` the number
    of frames when the source knows it (``None`` for live streams), ``size``
    the frame ``(width, height)``.
    """

    name: str
    fps: float
    frame_count: int | None
    size: tuple[int, int]

    def __init__(self) -> None:
        self.frames_read = 0

    def __iter__(self) -> Iterator[Frame]:
        raise NotImplementedError

    def close(self) -> None:
        """Release what the source holds (idempotent)."""

    def __enter__(self) -> FrameSource:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()


class VideoSource(FrameSource):
    """A video file or a network stream read with ``cv2.VideoCapture``.

    The first frame is decoded on opening, so that a corrupt file or unknown
    codec fails at once rather than in the middle of a pipeline.
    """

    def __init__(
        self,
        uri: str,
        *,
        start_s: float,
        fps: float | None,
        clock_offset_s: float,
        open_timeout_s: float,
    ) -> None:
        super().__init__()
        self.name = uri
        self.is_stream = bool(_STREAM_SCHEME.match(uri))
        self._capture: cv2.VideoCapture | None = _open_capture(uri, self.is_stream, open_timeout_s)
        self._origin_s = start_s + clock_offset_s
        capture = self._capture
        self.fps = _frame_rate(capture.get(cv2.CAP_PROP_FPS), fps, uri)
        announced = capture.get(cv2.CAP_PROP_FRAME_COUNT)
        self.frame_count = (
            int(announced) if not self.is_stream and math.isfinite(announced) and announced > 0
            else None
        )  # fmt: skip
        self._first = self._read_first()
        self.size = (int(self._first.shape[1]), int(self._first.shape[0]))
        self._first_stamp_s = math.nan
        self._last_stamp_s = -math.inf
        self._use_stamps = True

    def _read_first(self) -> ImageU8:
        ok, image = self._capture.read() if self._capture is not None else (False, None)
        if not ok or image is None:
            self.close()
            msg = "no frame could be decoded (corrupt file or unsupported codec)"
            raise BadInputError(msg, source=self.name, record=0)
        return _as_bgr(image)

    def __iter__(self) -> Iterator[Frame]:
        if self._capture is None or self.frames_read:
            msg = "a frame source can be iterated once"
            raise BadInputError(msg, source=self.name)
        image: ImageU8 | None = self._first
        while image is not None:
            yield Frame(self.frames_read, self._stamp(self.frames_read), image)
            self.frames_read += 1
            image = self._next_image()

    def _next_image(self) -> ImageU8 | None:
        capture = self._capture
        if capture is None:
            return None
        ok, image = capture.read()
        if ok and image is not None:
            return _as_bgr(image)
        expected = self.frame_count
        slack = max(COUNT_TOLERANCE, math.ceil(0.01 * expected)) if expected else 0
        if expected is not None and self.frames_read < expected - slack:
            msg = (
                f"the video breaks at frame {self.frames_read} of the {expected} its "
                "container announces (truncated or corrupt)"
            )
            raise BadInputError(msg, source=self.name, record=self.frames_read)
        return None

    def _stamp(self, index: int) -> float:
        """The container's timestamp (from the first frame's) while usable, else index / fps.

        Stamps must increase; at the first that does not, the source falls back
        to counting frames for the rest of the clip.
        """
        if self._use_stamps and self._capture is not None:
            stamp_s = self._capture.get(cv2.CAP_PROP_POS_MSEC) / 1000.0
            if index == 0:
                self._first_stamp_s = stamp_s
            if math.isfinite(stamp_s) and stamp_s > self._last_stamp_s:
                self._last_stamp_s = stamp_s
                return self._origin_s + (stamp_s - self._first_stamp_s)
            self._use_stamps = False
        return self._origin_s + index / self.fps

    def close(self) -> None:
        if self._capture is not None:
            self._capture.release()
            self._capture = None


class ImageFolderSource(FrameSource):
    """The image files of one folder in sorted name order, one frame each."""

    def __init__(
        self, folder: Path, *, start_s: float, fps: float | None, clock_offset_s: float
    ) -> None:
        super().__init__()
        self.name = str(folder)
        self.paths: Sequence[Path] = sorted(
            p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
        )
        if not self.paths:
            msg = f"the folder holds no image ({', '.join(sorted(IMAGE_SUFFIXES))})"
            raise BadInputError(msg, source=self.name)
        if fps is None:
            msg = "an image folder has no frame rate: give fps"
            raise BadInputError(msg, source=self.name, field="fps")
        self.fps = _frame_rate(0.0, fps, self.name)
        self.frame_count = len(self.paths)
        self._origin_s = start_s + clock_offset_s
        self._first = self._load(0)
        self.size = (int(self._first.shape[1]), int(self._first.shape[0]))

    def _load(self, index: int) -> ImageU8:
        path = self.paths[index]
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if image is None:
            msg = f"cannot read image {path.name}"
            raise BadInputError(msg, source=self.name, record=index)
        return np.asarray(image, dtype=np.uint8)

    def __iter__(self) -> Iterator[Frame]:
        if self.frames_read:
            msg = "a frame source can be iterated once"
            raise BadInputError(msg, source=self.name)
        for index in range(len(self.paths)):
            image = self._first if index == 0 else self._load(index)
            if (image.shape[1], image.shape[0]) != self.size:
                msg = f"image {self.paths[index].name} is {image.shape[1]}x{image.shape[0]}, "
                msg += f"the folder's first is {self.size[0]}x{self.size[1]}"
                raise BadInputError(msg, source=self.name, record=index)
            yield Frame(index, self._origin_s + index / self.fps, image)
            self.frames_read = index + 1


def open_source(
    uri: str | Path,
    *,
    start_s: float | None = None,
    fps: float | None = None,
    clock_offset_s: float = 0.0,
    open_timeout_s: float = 5.0,
) -> FrameSource:
    """Open a video file, an image folder or a stream URL (``rtsp://``, ``http://`` …).

    ``start_s`` is the UTC time of the first frame on the camera's clock;
    it defaults to 0 (clip-relative times) for files and folders and to now
    for live streams. ``fps`` overrides the container's rate (a folder
    needs it). ``clock_offset_s`` is added to every stamp (the camera's clock
    error, see :class:`camera_registry.Camera`).
    """
    if not math.isfinite(clock_offset_s):
        msg = f"clock offset must be finite, got {clock_offset_s}"
        raise BadInputError(msg, source=str(uri), field="clock_offset_s")
    text = str(uri)
    if _STREAM_SCHEME.match(text) and not text.lower().startswith("file://"):
        origin = start_s if start_s is not None else _now_s()
        return VideoSource(
            text, start_s=origin, fps=fps, clock_offset_s=clock_offset_s,
            open_timeout_s=open_timeout_s,
        )  # fmt: skip
    path = Path(text.removeprefix("file://"))
    origin = start_s if start_s is not None else 0.0
    if path.is_dir():
        return ImageFolderSource(path, start_s=origin, fps=fps, clock_offset_s=clock_offset_s)
    if not path.exists():
        msg = "file not found"
        raise BadInputError(msg, source=str(path))
    if path.stat().st_size == 0:
        msg = "the file is empty"
        raise BadInputError(msg, source=str(path))
    return VideoSource(
        str(path), start_s=origin, fps=fps, clock_offset_s=clock_offset_s,
        open_timeout_s=open_timeout_s,
    )  # fmt: skip


@contextmanager
def _native_stderr_silenced() -> Iterator[None]:
    """Mute what native code writes to fd 2 (OpenCV's built-in AVI reader prints raw
    bytes of a corrupt file there); our own error names the problem instead."""
    try:
        saved = os.dup(2)
    except OSError:
        yield
        return
    try:
        with open(os.devnull, "wb") as sink:
            os.dup2(sink.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _open_capture(uri: str, is_stream: bool, open_timeout_s: float) -> cv2.VideoCapture:
    """A ``VideoCapture`` through FFmpeg that is open, or a :class:`BadInputError`."""
    timeout_ms = max(int(open_timeout_s * 1000), 1)
    params = [
        cv2.CAP_PROP_OPEN_TIMEOUT_MSEC,
        timeout_ms,
        cv2.CAP_PROP_READ_TIMEOUT_MSEC,
        timeout_ms,
    ]
    if cv2.getNumThreads() == 1:  # a worker of a pool that fills the cores (skynet._workers)
        params += [cv2.CAP_PROP_N_THREADS, 1]  # FFmpeg's decode threads would only contend
    try:
        capture = cv2.VideoCapture(uri, cv2.CAP_FFMPEG, params)
        if not capture.isOpened():
            with _native_stderr_silenced():
                capture = cv2.VideoCapture(uri)
    except cv2.error as error:
        msg = f"OpenCV cannot open it: {error}"
        raise BadInputError(msg, source=uri) from error
    if not capture.isOpened():
        what = "the stream cannot be reached" if is_stream else "OpenCV cannot open the video"
        msg = f"{what} (unreachable, corrupt or unsupported)"
        raise BadInputError(msg, source=uri)
    return capture


def _frame_rate(announced: float, requested: float | None, name: str) -> float:
    """The rate to stamp frames with: the caller's, else the container's."""
    rate = requested if requested is not None else announced
    if not (math.isfinite(rate) and rate > 0.0):
        msg = "unknown frame rate: give fps" if requested is None else f"bad fps {requested}"
        raise BadInputError(msg, source=name, field="fps")
    return float(rate)


def _as_bgr(image: NDArray[np.integer[Any] | np.floating[Any]]) -> ImageU8:
    """Three-channel 8-bit BGR whatever the decoder produced."""
    if image.ndim == 2:
        return np.asarray(cv2.cvtColor(image, cv2.COLOR_GRAY2BGR), dtype=np.uint8)
    if image.shape[2] == 4:
        return np.asarray(cv2.cvtColor(image, cv2.COLOR_BGRA2BGR), dtype=np.uint8)
    return np.asarray(image, dtype=np.uint8)


def _now_s() -> float:
    """The wall clock (UTC seconds): where a live stream's frames start."""
    return time.time()
