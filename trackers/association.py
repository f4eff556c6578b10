"""Matching predicted track boxes to detections: IoU matrix and optimal assignment."""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment

from trackers.boxes import FloatArray, IntArray

_TINY = float(np.finfo(np.float64).tiny)


def iou_matrix(boxes_a: FloatArray, boxes_b: FloatArray) -> FloatArray:
    """Intersection over union of every corner box in ``a`` with every one in ``b``.

    ``(A, 4)`` × ``(B, 4)`` → ``(A, B)`` by broadcasting an ``(A, 1)`` column
    against a ``(B,)`` row per coordinate; pairs with an empty union score 0.
    """
    a_x1, a_y1, a_x2, a_y2 = (boxes_a[:, i, None] for i in range(4))
    b_x1, b_y1, b_x2, b_y2 = boxes_b.T
    width = np.minimum(a_x2, b_x2) - np.maximum(a_x1, b_x1)
    height = np.minimum(a_y2, b_y2) - np.maximum(a_y1, b_y1)
    intersection = np.maximum(width, 0.0) * np.maximum(height, 0.0)
    union = (a_x2 - a_x1) * (a_y2 - a_y1) + (b_x2 - b_x1) * (b_y2 - b_y1) - intersection
    iou: FloatArray = intersection / np.maximum(union, _TINY)
    return iou


def match(similarity: FloatArray, minimum: float) -> tuple[IntArray, IntArray]:
    """Rows and columns of the pairing that maximises total similarity.

    Pairs below ``minimum`` count as unpaired (they are zeroed before solving,
    so the solver never trades a good pair for a useless one). Returns two
    aligned index arrays, sorted by row; deterministic.
    """
    if similarity.size == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty.copy()
    gated = np.where(similarity >= minimum, similarity, 0.0)
    rows, cols = linear_sum_assignment(gated, maximize=True)
    keep = gated[rows, cols] > 0.0
    return np.asarray(rows[keep], dtype=np.int64), np.asarray(cols[keep], dtype=np.int64)
