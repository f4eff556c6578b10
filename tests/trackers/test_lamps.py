"""Night blobs holding the lamps of several vehicles split per vehicle (trackers._lamps)."""

from __future__ import annotations

import cv2
import numpy as np

from trackers._lamps import BlobWindow, LampGrouping, find_cores, split_by_lamps

GROUPING = LampGrouping(rise=70.0)


def night_blob(lamps: list[tuple[int, int, bool]]) -> tuple[np.ndarray, ...]:
    """One blob (a dark rectangle) holding 3×3 lamp cores at (x, y), white or red."""
    difference = np.zeros((120, 160), dtype=np.float32)
    chroma = np.zeros_like(difference)
    mask = np.zeros((120, 160), dtype=np.uint8)
    mask[10:100, 20:140] = 1
    difference[mask > 0] = -30.0  # a dark body
    for x, y, white in lamps:
        difference[y : y + 3, x : x + 3] = 150.0
        chroma[y : y + 3, x : x + 3] = 5.0 if white else 120.0
    _, labels, stats, _ = cv2.connectedComponentsWithStats(mask, 8, cv2.CV_32S)
    return stats[1:].astype(np.float64), np.asarray(labels, np.int32), difference, chroma


def split(lamps: list[tuple[int, int, bool]]) -> tuple[np.ndarray, np.ndarray]:
    stats, labels, difference, chroma = night_blob(lamps)
    window = BlobWindow.around(stats)
    crop = [np.ascontiguousarray(window.crop(a)) for a in (labels, difference, chroma)]
    cores = find_cores(crop[0], crop[1], crop[2], GROUPING.rise)
    out, out_labels, moved = split_by_lamps(stats, crop[0], cores, window, GROUPING)
    assert moved.owner.max() <= out.shape[0]
    return out, out_labels


def test_one_vehicle_with_a_lamp_pair_stays_whole() -> None:
    stats = night_blob([(40, 80, True), (52, 80, True)])[0]
    out, _ = split([(40, 80, True), (52, 80, True)])
    assert out.shape[0] == 1
    assert np.array_equal(out[0], stats[0])


def test_two_vehicles_lamps_in_one_blob_are_cut_apart() -> None:
    # a car's headlights low on the left, a far car's tail lights high on the right
    out, out_labels = split([(30, 85, True), (42, 85, True), (110, 30, False), (122, 30, False)])
    assert out.shape[0] == 2
    assert out[:, 4].sum() == 120 * 90  # every pixel goes to one part
    left, right = sorted(out.tolist(), key=lambda row: row[0])
    assert left[0] == 20 and right[0] + right[2] == 140
    assert left[0] + left[2] <= right[0] + right[2] and right[0] > 60
    assert set(np.unique(out_labels).tolist()) == {1, 2}


def test_white_and_red_lamps_are_not_one_vehicle() -> None:
    out, _ = split([(60, 60, True), (72, 60, False)])
    assert out.shape[0] == 2


def test_the_window_maps_crop_pixels_back() -> None:
    stats = np.array([[10.0, 20.0, 5.0, 5.0, 25.0], [30.0, 5.0, 4.0, 40.0, 160.0]])
    window = BlobWindow.around(stats)
    assert (window.top, window.left) == (5, 10)
    image = np.arange(100 * 100).reshape(100, 100)
    assert window.crop(image).shape == (40, 24)
    assert window.crop(image)[0, 0] == image[5, 10]
