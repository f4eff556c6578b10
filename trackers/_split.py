"""Splitting a motion blob that holds two vehicles side by side or one above the other.

A vehicle's silhouette (a box seen from above the road) is convex and fills
most of its bounding box. Two vehicles that touch in the picture (an e-bike
beside a car, a car in front of a truck it hides in part) make one blob
shaped like an L or a T, whose bounding box is much larger than its two
parts' boxes together. For such a blob, every straight cut across it
(between two rows, or two columns) is scored at once from the per-row
(per-column) extents of its pixels with prefix minima and maxima; the cut
whose two parts have the smallest boxes in total wins, and the blob is split
there when that total is at most ``max_area_share`` of the blob's box and
each part is solid and large enough to be a vehicle. A convex silhouette
(one vehicle's hexagon, however it is turned) has no such cut.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class SplitLimits:
    """When a blob is cut (see the module docstring); sizes in work-image pixels."""

    max_fill: float
    max_area_share: float
    min_part_share: float
    min_part_fill: float
    min_width: float
    min_height: float


def split_joined(stats: FloatArray, labels: NDArray[np.int32], limits: SplitLimits) -> FloatArray:
    """``stats`` (x, y, w, h, area of labels 1..n) with joined blobs replaced by their two parts.

    Only blobs filling at most ``max_fill`` of their box and at least twice
    the smallest vehicle along some axis are examined (a few per frame; the
    rest cost one comparison).
    """
    x, y, w, h, area = (stats[:, k] for k in range(5))
    fill = area / np.maximum(w * h, 1.0)
    big = (w >= 2 * limits.min_width) | (h >= 2 * limits.min_height)
    candidates = np.flatnonzero((fill <= limits.max_fill) & big)
    parts: list[FloatArray] = []
    split: list[int] = []
    for index in candidates.tolist():
        x0, y0, width, height = int(x[index]), int(y[index]), int(w[index]), int(h[index])
        mask = labels[y0 : y0 + height, x0 : x0 + width] == index + 1
        found = _best_cut(mask, limits)
        if found is not None:
            found[:, 0] += x0
            found[:, 1] += y0
            parts.append(found)
            split.append(index)
    if not parts:
        return stats
    return np.concatenate([np.delete(stats, split, axis=0), *parts])


def _best_cut(mask: NDArray[np.bool_], limits: SplitLimits) -> FloatArray | None:
    """The two parts' stats (relative to the mask) of its best cut, or None."""
    best: tuple[float, FloatArray] | None = None
    for transposed in (False, True):
        cut = _cut_across(mask.T if transposed else mask, limits, transposed)
        if cut is not None and (best is None or cut[0] < best[0]):
            best = cut
    if best is None or best[0] > limits.max_area_share * mask.size:
        return None
    return best[1]


def _cut_across(
    grid: NDArray[np.bool_], limits: SplitLimits, transposed: bool
) -> tuple[float, FloatArray] | None:
    """Best cut between two rows of ``grid``: (the parts' total box area, their stats)."""
    rows, cols = grid.shape
    if rows < 2:
        return None
    min_across, min_along = limits.min_width, limits.min_height
    if transposed:
        min_across, min_along = min_along, min_across
    present = grid.any(axis=1)  # every row of a connected blob's box has some of it
    left = np.where(present, np.argmax(grid, axis=1), cols).astype(np.float64)
    right = np.where(present, cols - np.argmax(grid[:, ::-1], axis=1), 0).astype(np.float64)
    count = grid.sum(axis=1, dtype=np.float64)
    upper_width = np.maximum.accumulate(right)[:-1] - np.minimum.accumulate(left)[:-1]
    upper_left = np.minimum.accumulate(left)[:-1]
    lower_left = np.minimum.accumulate(left[::-1])[::-1][1:]
    lower_width = np.maximum.accumulate(right[::-1])[::-1][1:] - lower_left
    upper_rows = np.arange(1, rows, dtype=np.float64)
    lower_rows = rows - upper_rows
    upper_count = np.cumsum(count)[:-1]
    lower_count = count.sum() - upper_count
    upper_box, lower_box = upper_rows * upper_width, lower_rows * lower_width
    least = limits.min_part_share * count.sum()
    ok = (upper_count >= least) & (lower_count >= least)
    ok &= (upper_rows >= min_along) & (lower_rows >= min_along)
    ok &= (upper_width >= min_across) & (lower_width >= min_across)
    ok &= (upper_count >= limits.min_part_fill * upper_box) & (
        lower_count >= limits.min_part_fill * lower_box
    )
    if not ok.any():
        return None
    total = np.where(ok, upper_box + lower_box, np.inf)
    at = int(np.argmin(total))
    parts = np.array(
        [
            [upper_left[at], 0.0, upper_width[at], upper_rows[at], upper_count[at]],
            [lower_left[at], upper_rows[at], lower_width[at], lower_rows[at], lower_count[at]],
        ]
    )
    if transposed:
        parts = parts[:, [1, 0, 3, 2, 4]]
    return float(total[at]), parts
