"""Realistic camera poses by kind, and the ground homography and range they imply.

A pose is drawn within what deployments use for each kind (pole height, tilt,
lens). The tilt is kept at least :data:`HORIZON_MARGIN_DEG` steeper than half
the vertical field of view, so the image's top edge still looks at the ground:
the footprint is bounded and ``range_m`` is where it ends (the farther top
corner), never an arbitrary number.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
from numpy.typing import ArrayLike, NDArray

from camera_registry.geometry import apply_homography, homography_from_pose

FloatArray = NDArray[np.float64]

#: Image sizes (width, height): 720p for most, 360p for cheap community cameras.
HD: Final = (1280, 720)
SD: Final = (640, 360)
#: The image's top edge looks at least this far below the horizon (degrees).
HORIZON_MARGIN_DEG: Final = 4.0


@dataclass(frozen=True)
class PoseRange:
    """Uniform ranges a kind's pose is drawn from; ``hd_share`` is P(1280×720)."""

    height_m: tuple[float, float]
    fov_deg: tuple[float, float]
    tilt_deg: tuple[float, float]
    hd_share: float


POSE_RANGES: Final = {
    "road": PoseRange((6.0, 8.0), (50.0, 70.0), (20.0, 35.0), 0.9),
    "checkpoint": PoseRange((6.0, 8.0), (50.0, 60.0), (20.0, 32.0), 1.0),
    "village": PoseRange((4.5, 6.5), (60.0, 90.0), (25.0, 40.0), 0.5),
    "community": PoseRange((4.0, 5.5), (70.0, 90.0), (28.0, 40.0), 0.25),
    "other": PoseRange((5.0, 7.0), (55.0, 75.0), (22.0, 36.0), 0.6),  # street cameras
}


@dataclass(frozen=True)
class Poses:
    """Pose columns, one row per camera."""

    height_m: FloatArray
    fov_deg: FloatArray
    tilt_deg: FloatArray
    image_width: NDArray[np.int64]
    image_height: NDArray[np.int64]


def vertical_fov_deg(fov_deg: ArrayLike, width: ArrayLike, height: ArrayLike) -> FloatArray:
    """Vertical field of view of a pinhole camera with square pixels."""
    ratio = np.asarray(height, dtype=np.float64) / np.asarray(width, dtype=np.float64)
    half = np.arctan(np.tan(np.radians(fov_deg) / 2.0) * ratio)
    return np.asarray(np.degrees(2.0 * half), dtype=np.float64)


def sample_poses(kinds: list[str], rng: np.random.Generator) -> Poses:
    """Draw a pose for each camera kind (all cameras at once)."""
    table = [POSE_RANGES[kind] for kind in kinds]
    low = np.array([[r.height_m[0], r.fov_deg[0], r.tilt_deg[0]] for r in table]).reshape(-1, 3)
    high = np.array([[r.height_m[1], r.fov_deg[1], r.tilt_deg[1]] for r in table]).reshape(-1, 3)
    hd = rng.random(len(kinds)) < np.array([r.hd_share for r in table])
    draws = rng.random((len(kinds), 3))
    height_m = low[:, 0] + draws[:, 0] * (high[:, 0] - low[:, 0])
    fov = low[:, 1] + draws[:, 1] * (high[:, 1] - low[:, 1])
    width = np.where(hd, HD[0], SD[0]).astype(np.int64)
    image_height = np.where(hd, HD[1], SD[1]).astype(np.int64)
    steepest = high[:, 2]
    shallowest = np.minimum(
        np.maximum(low[:, 2], vertical_fov_deg(fov, width, image_height) / 2 + HORIZON_MARGIN_DEG),
        steepest,
    )
    tilt = shallowest + draws[:, 2] * (steepest - shallowest)
    return Poses(height_m, fov, tilt, width, image_height)


def ground_view(
    x: float,
    y: float,
    heading_deg: float,
    *,
    height_m: float,
    tilt_deg: float,
    fov_deg: float,
    image_width: int,
    image_height: int,
) -> tuple[FloatArray, float]:
    """The image→ground homography and the range (m) where the footprint ends."""
    homography = homography_from_pose(
        x,
        y,
        height_m=height_m,
        heading_deg=heading_deg,
        tilt_deg=tilt_deg,
        fov_deg=fov_deg,
        image_width=image_width,
        image_height=image_height,
    )
    top_corners = apply_homography(homography, [[0.0, 0.0], [float(image_width), 0.0]])
    reach = float(np.max(np.hypot(top_corners[:, 0] - x, top_corners[:, 1] - y)))
    return homography, reach
