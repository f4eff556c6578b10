"""A vehicle's box from its lamps through the camera's geometry (trackers._footprint)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from camera_registry.geometry import homography_from_pose, projection_from_pose
from trackers._footprint import (
    PAIRED_CLASSES_M,
    SINGLE_LAMP_CLASSES_M,
    LampGeometry,
    LampModel,
    body_boxes,
    camera_projection,
    single_lamp_boxes,
)
from trackers._lamps import BlobWindow, LampCores
from trackers.motion import _closed, _kernel

POSE = {"height_m": 6.0, "heading_deg": 30.0, "tilt_deg": 20.0, "fov_deg": 70.0}
SIZE = (640, 360)


def pose_projection() -> np.ndarray:
    return projection_from_pose(
        500_100.0, 4_200_050.0, **POSE, image_width=SIZE[0], image_height=SIZE[1]
    )


def pose_homography() -> np.ndarray:
    return homography_from_pose(
        500_100.0, 4_200_050.0, **POSE, image_width=SIZE[0], image_height=SIZE[1]
    )


def project(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    h = np.c_[points, np.ones(len(points))] @ matrix.T
    return h[:, :2] / h[:, 2:]


def test_the_homography_gives_back_the_whole_camera() -> None:
    """Heights project as the pose's camera does (UTM-sized coordinates included)."""
    recovered = camera_projection(pose_homography(), *SIZE)
    assert recovered is not None
    rng = np.random.default_rng(0)
    ahead = np.array([500_100.0, 4_200_050.0]) + 25.0 * np.array(
        [np.sin(np.radians(30.0)), np.cos(np.radians(30.0))]
    )
    points = np.c_[ahead + rng.uniform(-5, 5, (20, 2)), rng.uniform(0.0, 3.0, 20)]
    assert np.allclose(project(recovered, points), project(pose_projection(), points), atol=1e-3)


def test_a_homography_of_no_camera_gives_none() -> None:
    assert camera_projection(np.diag([1.0, -1.0, 1.0]), *SIZE) is None


def vehicle_box(
    matrix: np.ndarray, face: np.ndarray, heading: np.ndarray, size: np.ndarray
) -> np.ndarray:
    """The image box of a cuboid whose seen face is centred at ``face``, body behind it."""
    length, width, height = size
    right = np.array([heading[1], -heading[0]])
    corners = [
        np.r_[face + s * right * width / 2 - e * heading * length, z]
        for s in (-1, 1)
        for e in (0, 1)
        for z in (0.0, height)
    ]
    pixels = project(matrix, np.array(corners))
    return np.r_[pixels.min(axis=0), pixels.max(axis=0)]


@pytest.mark.parametrize("white", [True, False])
@pytest.mark.parametrize("kind", [0, 1, 2])
def test_a_lamp_pair_gives_its_vehicles_box(white: bool, kind: int) -> None:
    """A car, van or truck coming (head lamps) or going (tail lamps), seen obliquely."""
    matrix = pose_projection()
    geometry = LampGeometry.of(matrix)
    model = LampModel()
    size = PAIRED_CLASSES_M[kind]
    camera = np.array([500_100.0, 4_200_050.0])
    face = camera + np.array([9.0, 17.0])
    towards = (camera - face) / np.hypot(*(camera - face))
    turn = np.radians(25.0)
    heading = np.array(
        [
            towards[0] * np.cos(turn) - towards[1] * np.sin(turn),
            towards[0] * np.sin(turn) + towards[1] * np.cos(turn),
        ]
    )  # the seen face looks at the camera, a little turned
    right = np.array([heading[1], -heading[0]])
    lift = model.head_height_m if white else model.tail_height_m
    half_spacing = size[1] / 2 - model.side_inset_m
    lamps = project(
        matrix, np.array([np.r_[face + s * right * half_spacing, lift] for s in (-1, 1)])
    )
    box = body_boxes(geometry, lamps[:1], lamps[1:], np.array([white]))[0]
    assert np.allclose(box, vehicle_box(matrix, face, heading, size), atol=0.5)


def test_single_lamp_boxes_hold_the_lamp_and_grow_with_the_class() -> None:
    matrix = pose_projection()
    geometry = LampGeometry.of(matrix)
    camera = np.array([500_100.0, 4_200_050.0])
    lamp = project(matrix, np.array([np.r_[camera + np.array([6.0, 15.0]), 0.65]]))
    boxes = single_lamp_boxes(geometry, lamp, np.array([True]))
    assert boxes.shape == (1, len(SINGLE_LAMP_CLASSES_M), 4)
    e_bike, three_wheeler = boxes[0]
    assert e_bike[0] < lamp[0, 0] < e_bike[2] and e_bike[1] < lamp[0, 1] < e_bike[3]
    assert (three_wheeler[2] - three_wheeler[0]) > (e_bike[2] - e_bike[0])


def test_lamp_extents_by_colour_in_one_pass() -> None:
    cores = LampCores(
        boxes=np.array([[1, 2, 3, 4], [8, 2, 3, 3], [30, 5, 2, 2], [40, 6, 5, 5]], np.int32),
        centres=np.zeros((4, 2)),
        owner=np.array([1, 1, 2, 1]),
        white=np.array([True, True, False, False]),
    )
    heads, tails = cores.extents(BlobWindow(slice(10, 50), slice(100, 200)), 3)
    assert np.array_equal(np.array(heads)[:, 0], [12, 16, 101, 111])
    assert np.isinf(np.array(heads)[:, 1]).all()
    assert np.array_equal(np.array(tails), [[16, 15], [21, 17], [140, 130], [145, 132]])


def test_closing_around_the_foreground_is_the_whole_closing() -> None:
    rng = np.random.default_rng(1)
    kernel = _kernel(11)
    assert kernel is not None
    for _ in range(100):
        mask = np.zeros((180, 320), np.uint8)
        for _ in range(int(rng.integers(0, 5))):
            y, x = int(rng.integers(0, 180)), int(rng.integers(0, 320))
            patch = mask[y : y + int(rng.integers(1, 40)), x : x + int(rng.integers(1, 60))]
            patch[...] = rng.random(patch.shape) < 0.7
        whole = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, kernel)
        assert np.array_equal(_closed(mask, kernel), whole)
