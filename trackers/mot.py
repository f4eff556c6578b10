"""MOTChallenge text files: detections and ground truth in, tracks out.

One record per line, comma-separated: ``frame, id, x, y, w, h, conf`` and
optional further columns (world coordinates in MOT15, class and visibility in
MOT16+), frames counted from 1, ``(x, y)`` the box's top-left pixel. The
whole file is parsed at once by NumPy; a malformed file raises
:class:`~skynet.errors.BadInputError` naming the file and the line.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from skynet.errors import BadInputError
from trackers.boxes import Detections, FloatArray, IntArray, xywh_to_xyxy, xyxy_to_xywh
from trackers.track import TrackFrame

#: frame, id, x, y, w, h: the columns every MOTChallenge file has.
REQUIRED_COLUMNS = 6
_COLUMN_NAMES = ("frame", "id", "x", "y", "w", "h", "conf")


@dataclass(frozen=True, slots=True)
class MotRecords:
    """All records of one file as parallel arrays, in file order.

    ``boxes`` are corners ``x1, y1, x2, y2``; ``scores`` is the ``conf``
    column (1.0 where the file has none); ``extra`` holds any further
    columns unparsed, ``(N, k)``.
    """

    frames: IntArray
    ids: IntArray
    boxes: FloatArray
    scores: FloatArray
    extra: FloatArray

    def __len__(self) -> int:
        return int(self.frames.shape[0])

    def per_frame(self, first: int = 1, last: int | None = None) -> list[Detections]:
        """Detections for each frame ``first..last`` (inclusive), empty ones included.

        ``last`` defaults to the highest frame in the file.
        """
        if last is None:
            last = int(self.frames.max()) if len(self) else first - 1
        if last < first:
            return []
        inside = (self.frames >= first) & (self.frames <= last)
        frames = self.frames[inside]
        order = np.argsort(frames, kind="stable")
        counts = np.bincount(frames - first, minlength=last - first + 1)
        bounds = np.cumsum(counts)[:-1]
        boxes = np.split(self.boxes[inside][order], bounds)
        scores = np.split(self.scores[inside][order], bounds)
        return [Detections(b, s) for b, s in zip(boxes, scores, strict=True)]


def read_mot(path: str | Path) -> MotRecords:
    """Read a MOTChallenge ``det.txt`` / ``gt.txt`` / results file."""
    source = Path(path)
    try:
        text = source.read_text(encoding="utf-8")
    except FileNotFoundError:
        msg = "file not found"
        raise BadInputError(msg, source=str(source)) from None
    except (OSError, UnicodeDecodeError) as error:
        msg = f"cannot read: {error}"
        raise BadInputError(msg, source=str(source)) from error
    lines = text.splitlines()
    numbered = [(number, line) for number, line in enumerate(lines, start=1) if line.strip()]
    if not numbered:
        return _records(np.zeros((0, 7)))
    line_numbers = np.array([number for number, _ in numbered])
    table = _parse(source, numbered)
    _check(source, table, line_numbers)
    return _records(table)


def write_mot(path: str | Path, records: MotRecords) -> None:
    """Write records as MOTChallenge lines.

    The ``extra`` columns follow ``conf`` when there are any (ground truth's
    class and visibility, MOT16+); otherwise the three MOT15 world columns
    are written as ``-1``.
    """
    xywh = xyxy_to_xywh(records.boxes)
    extra = records.extra if records.extra.shape[1] else np.full((len(records), 3), -1.0)
    table = np.column_stack([records.frames, records.ids, xywh, records.scores, extra])
    formats = ["%d", "%d", "%.3f", "%.3f", "%.3f", "%.3f", "%.6g"] + ["%.6g"] * extra.shape[1]
    try:
        np.savetxt(path, table, fmt=formats, delimiter=",")
    except OSError as error:
        msg = f"cannot write: {error}"
        raise BadInputError(msg, source=str(path)) from error


def records_from_tracks(frames: Iterable[TrackFrame], first_frame: int = 1) -> MotRecords:
    """Tracker output as records; ``TrackFrame.frame`` 0 becomes ``first_frame``."""
    chunks = [frame for frame in frames if len(frame)]
    if not chunks:
        return _records(np.zeros((0, 7)))
    return MotRecords(
        frames=np.concatenate(
            [np.full(len(frame), frame.frame + first_frame, dtype=np.int64) for frame in chunks]
        ),
        ids=np.concatenate([frame.ids for frame in chunks]),
        boxes=np.concatenate([frame.boxes for frame in chunks]),
        scores=np.concatenate([frame.scores for frame in chunks]),
        extra=np.zeros((sum(len(frame) for frame in chunks), 0)),
    )


def _parse(source: Path, numbered: Sequence[tuple[int, str]]) -> FloatArray:
    """All lines as one float table; on failure, find and name the bad line."""
    try:
        table = np.loadtxt([line for _, line in numbered], delimiter=",", ndmin=2)
    except ValueError:
        _raise_for_first_bad_line(source, numbered)
        raise  # pragma: no cover - the scan above always finds the culprit
    if table.shape[1] < REQUIRED_COLUMNS:
        msg = (
            f"{table.shape[1]} fields, MOTChallenge needs at least {REQUIRED_COLUMNS} "
            "(frame,id,x,y,w,h)"
        )
        raise BadInputError(msg, source=str(source), record=f"line {numbered[0][0]}")
    return np.asarray(table, dtype=np.float64)


def _raise_for_first_bad_line(source: Path, numbered: Sequence[tuple[int, str]]) -> None:
    expected = len(numbered[0][1].split(","))
    for number, line in numbered:
        fields = line.split(",")
        if len(fields) != expected:
            msg = f"{len(fields)} fields where line {numbered[0][0]} has {expected}"
            raise BadInputError(msg, source=str(source), record=f"line {number}")
        for column, text in enumerate(fields):
            try:
                float(text)
            except ValueError:
                name = _COLUMN_NAMES[column] if column < len(_COLUMN_NAMES) else None
                msg = f"{text.strip()!r} is not a number"
                raise BadInputError(
                    msg, source=str(source), record=f"line {number}", field=name
                ) from None


def _check(source: Path, table: FloatArray, line_numbers: IntArray) -> None:
    """Frames and ids integral, frames >= 1, finite boxes with w, h >= 0."""
    checks = (
        ("frame", ~np.isfinite(table[:, 0]) | (table[:, 0] != np.round(table[:, 0])), "an integer"),
        ("frame", table[:, 0] < 1, ">= 1 (MOTChallenge counts frames from 1)"),
        ("id", ~np.isfinite(table[:, 1]) | (table[:, 1] != np.round(table[:, 1])), "an integer"),
        ("x", ~np.isfinite(table[:, 2:6]).all(axis=1), "finite (x, y, w, h)"),
        ("w", (table[:, 4] < 0) | (table[:, 5] < 0), ">= 0 (w and h)"),
    )
    for name, bad, requirement in checks:
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            msg = f"must be {requirement}"
            raise BadInputError(
                msg, source=str(source), record=f"line {line_numbers[row]}", field=name
            )


def _records(table: FloatArray) -> MotRecords:
    count = table.shape[0]
    scores = table[:, 6] if table.shape[1] > 6 else np.ones(count)
    return MotRecords(
        frames=table[:, 0].astype(np.int64),
        ids=table[:, 1].astype(np.int64),
        boxes=xywh_to_xyxy(table[:, 2:6]),
        scores=np.ascontiguousarray(scores),
        extra=np.ascontiguousarray(table[:, 7:]),
    )
