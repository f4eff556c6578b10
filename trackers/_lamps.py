"""Night: a blob that holds the lamps of several vehicles split into one part per vehicle.

At night lamps, glare and beams join vehicles into one motion blob; the
lamps are what is sure. A lamp's core (a much brightened spot) is white on
the front of a vehicle and red on its back; a vehicle shows one lamp (an
e-bike, a three-wheeler) or a pair at one height, its cores alike in size
and a few core sizes apart. So the cores of a blob are grouped into
vehicles (same colour, same row, similar size, close enough for one
vehicle's width), and when a blob holds two or more such groups each of its
pixels goes to the group it most plausibly belongs to: the body of a
vehicle lies over and beside its lamps (the lamps sit low on its nearest
face), so a pixel costs its distance outside the group's lamp span across
and its distance below the lamps, in the group's own core sizes, and little
for lying above them. Each part then gets the night trims of one vehicle.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

import cv2
import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]
_T = TypeVar("_T", bound=np.generic)
_NO_BOXES = np.zeros((0, 4), dtype=np.int32)
_NO_OWNERS = np.zeros(0, dtype=np.int64)


@dataclass(frozen=True, slots=True)
class BlobWindow:
    """The part of the work image that holds every blob: crops read only there.

    Pixel coordinates found inside a crop are moved back to the work image
    with :attr:`top` and :attr:`left`.
    """

    rows: slice
    cols: slice

    @classmethod
    def around(cls, stats: FloatArray) -> BlobWindow:
        """The window holding every blob of ``stats`` (x, y, w, h, …)."""
        x0, y0 = int(stats[:, 0].min()), int(stats[:, 1].min())
        x1, y1 = int((stats[:, 0] + stats[:, 2]).max()), int((stats[:, 1] + stats[:, 3]).max())
        return cls(slice(y0, y1), slice(x0, x1))

    @property
    def top(self) -> int:
        return self.rows.start or 0

    @property
    def left(self) -> int:
        return self.cols.start or 0

    def crop(self, image: NDArray[_T]) -> NDArray[_T]:
        return image[self.rows, self.cols]


@dataclass(frozen=True, slots=True)
class LampGrouping:
    """When two lamp cores belong to one vehicle (in core heights) and what a pixel costs."""

    rise: float
    max_gap: float = 5.0
    max_row_offset: float = 0.75
    max_size_ratio: float = 2.0
    above_cost: float = 0.15
    below_slack: float = 1.0


@dataclass(frozen=True, slots=True)
class LampCores:
    """The lamp cores of a frame's blobs, in crop coordinates: box, blob label and colour."""

    boxes: NDArray[np.int32]  # (k, 4): x, y, w, h
    centres: FloatArray  # (k, 2)
    owner: NDArray[np.int64]  # the label of the blob holding each core
    white: NDArray[np.bool_]  # a headlight (white), else a tail light (red)

    def extents(
        self, window: BlobWindow, count: int
    ) -> tuple[tuple[FloatArray, ...], tuple[FloatArray, ...]]:
        """Per label 1..count-1, (top, bottom, left, right) of its white cores, then of its red.

        Inf where a label has none. Both colours in one pass (label and
        colour as one key): the per-frame cost is the number of calls.
        """
        key = self.owner + count * (~self.white)
        at = np.concatenate([key, key + 2 * count])  # top then left, bottom then right
        box = self.boxes
        near = box[:, [1, 0]] + [window.top, window.left]
        far = near + box[:, [3, 2]]
        low = np.full(4 * count, np.inf)
        high = np.full(4 * count, -np.inf)
        np.minimum.at(low, at, near.T.ravel())
        np.maximum.at(high, at, far.T.ravel())
        top, left = low.reshape(2, 2, count)[:, :, 1:]
        bottom, right = high.reshape(2, 2, count)[:, :, 1:]
        return (top[0], bottom[0], left[0], right[0]), (top[1], bottom[1], left[1], right[1])


def find_cores(
    labels: NDArray[np.int32],
    difference: NDArray[np.float32],
    chroma: NDArray[np.float32],
    rise: float,
) -> LampCores:
    """Lamp cores: connected spots brightened past ``rise`` inside a blob.

    White when most of a core's pixels change colour by less than a quarter
    of their brightening (a headlight), else red (a tail light).
    """
    core = ((difference > rise) & (labels > 0)).view(np.uint8)
    count, cores, core_stats, centres = cv2.connectedComponentsWithStats(core, connectivity=8)
    if count <= 1:
        return LampCores(_NO_BOXES, np.zeros((0, 2)), _NO_OWNERS, np.zeros(0, dtype=bool))
    cores = np.asarray(cores, dtype=np.int32)
    on = cores > 0
    which = cores[on]
    owner = np.zeros(count, dtype=np.int64)
    owner[which] = labels[on]
    white_px = chroma[on] < 0.25 * difference[on]
    boxes = np.asarray(core_stats).astype(np.int32)
    white = np.bincount(which, weights=white_px, minlength=count) * 2 > boxes[:, 4]
    middle = np.asarray(centres).astype(np.float64)
    return LampCores(boxes[1:, :4], middle[1:], owner[1:], white[1:])


def split_by_lamps(
    stats: FloatArray,
    labels: NDArray[np.int32],
    cores: LampCores,
    window: BlobWindow,
    grouping: LampGrouping,
    *,
    groups: tuple[IntArray, int] | None = None,
) -> tuple[FloatArray, NDArray[np.int32], LampCores]:
    """``stats``, cropped ``labels`` and ``cores`` with each blob of several lamp groups cut.

    ``labels`` is a crop of ``window``; ``stats`` rows are labels 1..n in
    work-image coordinates. Blobs with fewer than two groups keep their
    pixels and relative order; each core moves to its part's label.
    ``groups`` is :func:`group_cores` of ``cores`` when already known.
    """
    if cores.owner.size < 2:
        return stats, labels, cores
    group, count = groups if groups is not None else group_cores(cores, grouping)
    per_blob = np.bincount(cores.owner[_first_of(group, count)], minlength=stats.shape[0] + 1)
    split_blobs = np.flatnonzero(per_blob >= 2)
    if split_blobs.size == 0:
        return stats, labels, cores
    return _cut(stats, labels, split_blobs, cores, group, count, window, grouping)


def group_cores(cores: LampCores, grouping: LampGrouping) -> tuple[IntArray, int]:
    """Each core's vehicle group (cores of one blob, alike and side by side), and the count."""
    owner, white, centres = cores.owner, cores.white, cores.centres
    if owner.size <= 1:
        return np.zeros(owner.size, dtype=np.intp), owner.size
    core_stats = cores.boxes
    size = np.maximum(core_stats[:, 3], 1).astype(np.float64)
    larger = np.maximum(size[:, None], size[None, :])
    ratio = larger / np.minimum(size[:, None], size[None, :])
    dx = np.abs(centres[:, None, 0] - centres[None, :, 0])
    dy = np.abs(centres[:, None, 1] - centres[None, :, 1])
    pair = (
        (owner[:, None] == owner[None, :])
        & (white[:, None] == white[None, :])
        & (dy <= grouping.max_row_offset * larger + 1.0)
        & (dx <= grouping.max_gap * larger + 1.0)
        & (ratio <= grouping.max_size_ratio)
    )
    # each core takes the smallest index it reaches (a few cores: a few rounds)
    label = np.arange(owner.size)
    while True:
        reached = np.where(pair, label[None, :], owner.size).min(axis=1)
        if np.array_equal(reached, label):
            break
        label = reached
    # the roots (cores that kept their own index) numbered in order: np.unique's result
    root = label == np.arange(owner.size)
    rank = np.cumsum(root) - 1
    return np.asarray(rank[label], dtype=np.intp), int(rank[-1] + 1)


def _first_of(group: IntArray, groups: int) -> IntArray:
    """The index of one core of each group."""
    first = np.full(groups, -1, dtype=np.intp)
    first[group[::-1]] = np.arange(group.size)[::-1]
    return first


def _cut(
    stats: FloatArray,
    labels: NDArray[np.int32],
    split_blobs: IntArray,
    cores: LampCores,
    group: IntArray,
    groups: int,
    window: BlobWindow,
    grouping: LampGrouping,
) -> tuple[FloatArray, NDArray[np.int32], LampCores]:
    """New labels and stats: each pixel of a split blob goes to its cheapest group."""
    core_stats, owner = cores.boxes, cores.owner
    # each group's lamp span (crop coordinates) and core size
    x0 = np.full(groups, np.inf)
    x1 = np.full(groups, -np.inf)
    bottom = np.full(groups, -np.inf)
    np.minimum.at(x0, group, core_stats[:, 0])
    np.maximum.at(x1, group, core_stats[:, 0] + core_stats[:, 2])
    np.maximum.at(bottom, group, core_stats[:, 1] + core_stats[:, 3])
    size = np.zeros(groups)
    np.maximum.at(size, group, np.maximum(core_stats[:, 3], 1).astype(np.float64))
    group_blob = np.zeros(groups, dtype=np.int64)
    group_blob[group] = owner
    splitting = np.isin(group_blob, split_blobs)
    chosen = np.flatnonzero(splitting)
    in_split = np.zeros(stats.shape[0] + 1, dtype=bool)
    in_split[split_blobs] = True
    rows, cols = np.nonzero(in_split[labels])
    blob = labels[rows, cols].astype(np.int64)
    col = cols[:, None] + 0.5
    row = rows[:, None] + 0.5
    g_x0, g_x1, g_bottom, g_size = x0[chosen], x1[chosen], bottom[chosen], size[chosen]
    across = np.maximum(np.maximum(g_x0 - col, col - g_x1), 0.0) / g_size
    below = row - g_bottom
    down = np.where(
        below > grouping.below_slack * g_size,
        below / g_size,
        np.maximum(-below, 0.0) / g_size * grouping.above_cost,
    )
    cost = across + down
    cost[blob[:, None] != group_blob[chosen][None, :]] = np.inf
    best = np.argmin(cost, axis=1)
    # new label numbers: kept blobs first (their rows unchanged), then one per group
    n = stats.shape[0]
    kept = np.flatnonzero(~in_split[1:])
    lut = np.zeros(n + 1, dtype=np.int32)
    lut[kept + 1] = np.arange(1, kept.size + 1, dtype=np.int32)
    out = labels.copy()
    np.copyto(out, lut[labels], where=labels > 0)
    part = kept.size + 1 + best.astype(np.int32)
    out[rows, cols] = part
    parts = chosen.size
    top, bottom, left, right = extents(best + 1, rows + window.top, cols + window.left, parts + 1)
    area = np.bincount(best, minlength=parts).astype(np.float64)
    part_stats = np.column_stack([left, top, right - left, bottom - top, area])
    part_stats[area == 0] = 0.0  # a group no pixel chose: an empty row, dropped as too small
    # each core to its part (a split blob's group) or its blob's new label
    part_of_group = np.zeros(groups, dtype=np.int64)
    part_of_group[chosen] = kept.size + 1 + np.arange(chosen.size)
    new_owner = np.where(splitting[group], part_of_group[group], lut[owner])
    moved = LampCores(cores.boxes, cores.centres, new_owner, cores.white)
    return np.concatenate([stats[kept], part_stats]), out, moved


def extents(
    owner: NDArray[np.integer[Any]], rows: NDArray[np.intp], cols: NDArray[np.intp], count: int
) -> tuple[FloatArray, ...]:
    """Per-label (top, bottom, left, right) of some pixels, skipping label 0; inf where none.

    Pixels are grouped by label with one sort and reduced per group
    (``ufunc.at`` over every pixel cost a tenth of the night detector).
    """
    top, left = np.full(count, np.inf), np.full(count, np.inf)
    bottom, right = np.full(count, -np.inf), np.full(count, -np.inf)
    if owner.size:
        order = np.argsort(owner, kind="stable")
        owned = owner[order]
        starts = np.flatnonzero(np.concatenate([[True], owned[1:] != owned[:-1]]))
        label = owned[starts]
        by_row, by_col = rows[order], cols[order]
        top[label] = np.minimum.reduceat(by_row, starts)
        bottom[label] = np.maximum.reduceat(by_row, starts) + 1
        left[label] = np.minimum.reduceat(by_col, starts)
        right[label] = np.maximum.reduceat(by_col, starts) + 1
    return top[1:], bottom[1:], left[1:], right[1:]
