"""Cutting a blob of two touching vehicles into its parts (trackers._split)."""

from __future__ import annotations

import cv2
import numpy as np

from trackers._split import SplitLimits, split_joined

LIMITS = SplitLimits(
    max_fill=0.75,
    max_area_share=0.7,
    min_part_share=0.15,
    min_part_fill=0.6,
    min_width=5.0,
    min_height=8.0,
)


def blobs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Component stats (x, y, w, h, area) and labels of a binary mask."""
    _, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), 8, cv2.CV_32S)
    return stats[1:].astype(np.float64), np.asarray(labels, dtype=np.int32)


def test_an_l_shaped_blob_is_cut_into_its_two_vehicles() -> None:
    mask = np.zeros((120, 160), dtype=np.uint8)
    mask[20:60, 40:100] = 1  # a car
    mask[60:100, 30:50] = 1  # an e-bike below its left end, touching it
    stats, labels = blobs(mask)
    assert stats.shape[0] == 1
    parts = split_joined(stats, labels, LIMITS)
    assert parts.shape == (2, 5)
    boxes = {tuple(int(v) for v in row[:4]) for row in parts}
    assert boxes == {(40, 20, 60, 40), (30, 60, 20, 40)}
    assert parts[:, 4].sum() == stats[0, 4]  # every pixel in one part


def test_a_convex_vehicle_is_left_whole() -> None:
    mask = np.zeros((120, 160), dtype=np.uint8)
    hexagon = np.array([[50, 20], [110, 20], [130, 50], [110, 90], [50, 90], [30, 50]], np.int32)
    cv2.fillConvexPoly(mask, hexagon, 1)
    mask[10:30, 120:150] = 1  # a separate blob, solid: not examined
    stats, labels = blobs(mask)
    assert np.array_equal(split_joined(stats, labels, LIMITS), stats)


def test_parts_too_small_for_a_vehicle_are_not_cut_off() -> None:
    mask = np.zeros((120, 160), dtype=np.uint8)
    mask[20:60, 40:100] = 1
    mask[60:66, 30:50] = 1  # a low strip (a shadow): shorter than the smallest vehicle
    stats, labels = blobs(mask)
    assert np.array_equal(split_joined(stats, labels, LIMITS), stats)
