"""Axis-aligned boxes: the per-frame detection value type and box conversions.

Boxes travel as ``(N, 4)`` float64 arrays. Inside the tracker they are corner
form ``x1, y1, x2, y2`` (pixels, x right, y down); MOTChallenge files use
top-left plus size ``x, y, w, h``; the Kalman state uses centre plus size
``cx, cy, w, h``. The converters are plain array expressions over all rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from skynet.errors import BadInputError

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def xywh_to_xyxy(boxes: npt.ArrayLike) -> FloatArray:
    """Top-left + size (MOTChallenge) → corners."""
    xywh = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    return np.concatenate([xywh[:, :2], xywh[:, :2] + xywh[:, 2:]], axis=1)


def xyxy_to_xywh(boxes: npt.ArrayLike) -> FloatArray:
    """Corners → top-left + size (MOTChallenge)."""
    xyxy = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    return np.concatenate([xyxy[:, :2], xyxy[:, 2:] - xyxy[:, :2]], axis=1)


def xyxy_to_cxcywh(boxes: npt.ArrayLike) -> FloatArray:
    """Corners → centre + size (the Kalman measurement)."""
    xyxy = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    return np.concatenate([(xyxy[:, :2] + xyxy[:, 2:]) * 0.5, xyxy[:, 2:] - xyxy[:, :2]], axis=1)


def cxcywh_to_xyxy(boxes: npt.ArrayLike) -> FloatArray:
    """Centre + size → corners."""
    cxcywh = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    half = cxcywh[:, 2:] * 0.5
    return np.concatenate([cxcywh[:, :2] - half, cxcywh[:, :2] + half], axis=1)


@dataclass(frozen=True, slots=True)
class Detections:
    """The boxes one detector produced for one frame.

    ``boxes`` are corners ``(N, 4)``, ``scores`` the detector's confidence in
    ``[0, 1]``, ``classes`` an optional integer class per box (tracks only
    associate with boxes of their own class when given). Build it with
    :meth:`from_arrays`, which checks shapes and values once so that the
    tracker's hot path need not.
    """

    boxes: FloatArray
    scores: FloatArray
    classes: IntArray | None = None

    @classmethod
    def from_arrays(
        cls,
        boxes_xyxy: npt.ArrayLike,
        scores: npt.ArrayLike,
        classes: npt.ArrayLike | None = None,
        *,
        source: str | None = None,
    ) -> Detections:
        """Validated detections; ``source`` names the input in error messages."""
        boxes = np.asarray(boxes_xyxy, dtype=np.float64)
        if boxes.size == 0:
            boxes = boxes.reshape(0, 4)
        if boxes.ndim != 2 or boxes.shape[1] != 4:
            msg = f"boxes must have shape (N, 4), got {boxes.shape}"
            raise BadInputError(msg, source=source, field="boxes")
        count = boxes.shape[0]
        score_array = np.asarray(scores, dtype=np.float64).reshape(-1)
        if score_array.shape[0] != count:
            msg = f"{score_array.shape[0]} scores for {count} boxes"
            raise BadInputError(msg, source=source, field="scores")
        if not (np.isfinite(boxes).all() and np.isfinite(score_array).all()):
            msg = "boxes and scores must be finite"
            raise BadInputError(msg, source=source, field="boxes")
        if (boxes[:, 2:] < boxes[:, :2]).any():
            msg = "boxes must have x2 >= x1 and y2 >= y1"
            raise BadInputError(msg, source=source, field="boxes")
        class_array = None
        if classes is not None:
            class_array = np.asarray(classes, dtype=np.int64).reshape(-1)
            if class_array.shape[0] != count:
                msg = f"{class_array.shape[0]} classes for {count} boxes"
                raise BadInputError(msg, source=source, field="classes")
        return cls(boxes, score_array, class_array)

    @classmethod
    def empty(cls) -> Detections:
        """No detection in this frame."""
        return cls(np.zeros((0, 4)), np.zeros(0))

    def __len__(self) -> int:
        return int(self.boxes.shape[0])
