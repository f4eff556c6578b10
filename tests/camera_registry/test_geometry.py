"""View sectors and image↔ground mapping."""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely

from camera_registry.geometry import (
    apply_homography,
    ground_to_image,
    homography_from_pose,
    image_to_ground,
    view_sectors,
)
from skynet.errors import BadInputError


def test_sector_area_and_orientation() -> None:
    sectors = view_sectors([0.0, 0.0], [0.0, 0.0], [90.0, 0.0], [60.0, 360.0], [100.0, 20.0])
    assert sectors[0].area == pytest.approx(math.pi * 100**2 / 6, rel=5e-3)
    assert sectors[1].area == pytest.approx(math.pi * 20**2, rel=5e-3)
    assert sectors[0].contains(shapely.Point(50.0, 0.0))  # heading 90° looks east
    assert not sectors[0].contains(shapely.Point(-50.0, 0.0))
    assert not sectors[0].contains(shapely.Point(0.0, 50.0))
    assert all(shapely.is_valid(sectors))


def pose(heading: float = 40.0) -> np.ndarray:
    return homography_from_pose(
        1000.0,
        2000.0,
        height_m=8.0,
        heading_deg=heading,
        tilt_deg=35.0,
        fov_deg=70.0,
        image_width=1280,
        image_height=720,
    )


@pytest.mark.parametrize("heading", [0.0, 40.0, 90.0, 215.0])
def test_image_centre_lands_on_the_optical_axis(heading: float) -> None:
    ground = image_to_ground(pose(heading), [[640.0, 360.0]])[0]
    distance = 8.0 / math.tan(math.radians(35.0))
    expected = (
        1000.0 + distance * math.sin(math.radians(heading)),
        2000.0 + distance * math.cos(math.radians(heading)),
    )
    np.testing.assert_allclose(ground, expected, atol=1e-6)


def test_lower_pixels_are_nearer_and_left_is_left() -> None:
    h = pose(0.0)  # looking north
    centre, bottom, left = image_to_ground(h, [[640, 360], [640, 719], [0, 360]])
    assert bottom[1] < centre[1]  # nearer the camera
    assert left[0] < centre[0]  # image left is west when facing north


def test_ground_image_round_trip() -> None:
    h = pose()
    pixels = np.random.default_rng(1).uniform([0, 200], [1280, 720], size=(200, 2))
    np.testing.assert_allclose(ground_to_image(h, image_to_ground(h, pixels)), pixels, atol=1e-6)


def test_horizon_maps_to_infinity_error() -> None:
    h = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 1.0, -5.0]])
    with pytest.raises(BadInputError, match="infinity"):
        apply_homography(h, [[0.0, 5.0]])


def test_pose_needs_a_downward_tilt() -> None:
    with pytest.raises(BadInputError):
        homography_from_pose(
            0,
            0,
            height_m=5,
            heading_deg=0,
            tilt_deg=0,
            fov_deg=60,
            image_width=640,
            image_height=360,
        )
