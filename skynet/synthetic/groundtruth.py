"""Per-camera ground truth of rendered footage, in MOTChallenge form.

Each row is ``frame, id, x, y, w, h, conf, class, visibility``:

* ``frame`` is 1-based; ``x, y, w, h`` is the box of the vehicle's projected
  3D box clipped to the image (pixels, top-left origin);
* ``id`` is the camera track id, ``vehicle_id + 1`` (MOT ids are positive);
  :meth:`ClipGroundTruth.track_map` maps it back to the vehicle;
* ``conf`` is 1 (every row counts), ``class`` is the vehicle class code + 1
  (see :data:`skynet.synthetic.traffic.VEHICLE_CLASSES`);
* ``visibility`` is the share of the vehicle's in-image silhouette not hidden
  by nearer vehicles, counted on the label mask rendered in the same pass.
  A vehicle is *occluded* when it is below 1. Fully hidden vehicles
  (visibility 0) get no row.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np
from numpy.typing import NDArray

from skynet.errors import BadInputError
from skynet.synthetic.render import CameraRenderer, RenderedFrame, write_video
from skynet.synthetic.traffic import Traffic
from trackers.boxes import xywh_to_xyxy, xyxy_to_xywh
from trackers.mot import MotRecords, write_mot

MOT_COLUMNS: Final = ("frame", "id", "x", "y", "w", "h", "conf", "class", "visibility")


def mot_rows(
    frame_number: int, frame: RenderedFrame, *, min_height_px: float = 0.0
) -> NDArray[np.float64]:
    """MOT rows ``(k, 9)`` of one frame rendered with labels.

    Hidden vehicles are dropped, and so are boxes shorter than ``min_height_px``
    (0 keeps every visible vehicle, however far).
    """
    if frame.visible_px is None:
        msg = "ground truth needs frames rendered with labels=True"
        raise BadInputError(msg, field="labels")
    if frame.ids.size == 0:
        return np.empty((0, len(MOT_COLUMNS)), dtype=np.float64)
    tall = (frame.boxes[:, 3] - frame.boxes[:, 1]) >= min_height_px
    shown = (frame.visible_px > 0) & tall
    boxes = frame.boxes[shown]
    count = int(shown.sum())
    return np.column_stack(
        [
            np.full(count, frame_number, dtype=np.float64),
            frame.ids[shown] + 1.0,
            boxes[:, 0],
            boxes[:, 1],
            boxes[:, 2] - boxes[:, 0],
            boxes[:, 3] - boxes[:, 1],
            np.ones(count),
            frame.class_code[shown] + 1.0,
            frame.visibility[shown],
        ]
    ).reshape(count, len(MOT_COLUMNS))


@dataclass(frozen=True, eq=False)
class ClipGroundTruth:
    """What one camera saw over one clip: MOT rows and where the clip sits in time."""

    camera_id: str
    rows: NDArray[np.float64]
    start_s: float
    fps: float
    n_frames: int

    @property
    def vehicle_ids(self) -> NDArray[np.int64]:
        """Vehicles that appear in the clip."""
        return np.unique(self.rows[:, 1].astype(np.int64) - 1)

    def track_map(self) -> dict[int, int]:
        """Camera track id → vehicle id."""
        return {int(v) + 1: int(v) for v in self.vehicle_ids.tolist()}

    def occluded(self) -> NDArray[np.bool_]:
        """Rows whose vehicle is partly hidden by a nearer one."""
        return np.asarray(self.rows[:, 8] < 1.0, dtype=bool)

    def write(self, directory: str | Path) -> tuple[Path, Path]:
        """Write ``gt.txt`` (MOT) and ``track_map.csv``; returns both paths."""
        folder = Path(directory)
        folder.mkdir(parents=True, exist_ok=True)
        gt_path = folder / "gt.txt"
        write_mot(gt_path, as_records(self.rows))
        map_path = folder / "track_map.csv"
        write_track_map(map_path, [(self.camera_id, t, v) for t, v in self.track_map().items()])
        return gt_path, map_path


def as_records(rows: NDArray[np.float64]) -> MotRecords:
    """Ground-truth rows as :class:`trackers.mot.MotRecords` (class, visibility as extras)."""
    data = np.asarray(rows, dtype=np.float64).reshape(-1, len(MOT_COLUMNS))
    return MotRecords(
        frames=data[:, 0].astype(np.int64),
        ids=data[:, 1].astype(np.int64),
        boxes=xywh_to_xyxy(data[:, 2:6]),
        scores=data[:, 6],
        extra=data[:, 7:9],
    )


def rows_from_records(records: MotRecords) -> NDArray[np.float64]:
    """The inverse of :func:`as_records` for a file read with ``trackers.mot.read_mot``."""
    if records.extra.shape[1] < 2:
        msg = "ground truth needs the class and visibility columns (MOT16+ layout)"
        raise BadInputError(msg, field="columns")
    return np.column_stack(
        [
            records.frames,
            records.ids,
            xyxy_to_xywh(records.boxes),
            records.scores,
            records.extra[:, :2],
        ]
    ).reshape(-1, len(MOT_COLUMNS))


def write_track_map(path: str | Path, rows: Iterable[tuple[str, int, int]]) -> None:
    """Write ``camera_id,track_id,vehicle_id`` rows with a header."""
    with Path(path).open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["camera_id", "track_id", "vehicle_id"])
        writer.writerows(rows)


def record_clip(
    renderer: CameraRenderer,
    traffic: Traffic,
    *,
    start_s: float,
    n_frames: int,
    fps: float | None = None,
    video_path: str | Path | None = None,
    codec: str | None = None,
    min_height_px: float = 0.0,
) -> ClipGroundTruth:
    """Render a clip (writing the video when ``video_path`` is given) and collect its truth."""
    rate = fps or renderer.camera.fps
    collected: list[NDArray[np.float64]] = []

    def frames() -> Iterable[NDArray[np.uint8]]:
        clip = renderer.clip(traffic, start_s=start_s, n_frames=n_frames, fps=rate, labels=True)
        for number, frame in enumerate(clip, start=1):
            collected.append(mot_rows(number, frame, min_height_px=min_height_px))
            yield frame.image

    if video_path is None:
        for _ in frames():
            pass
    else:
        write_video(video_path, frames(), rate, codec=codec)
    rows = np.concatenate(collected) if collected else np.empty((0, len(MOT_COLUMNS)))
    return ClipGroundTruth(
        camera_id=renderer.camera.id, rows=rows, start_s=start_s, fps=rate, n_frames=n_frames
    )
