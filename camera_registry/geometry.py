"""View geometry: sector polygons and image↔ground mapping, vectorised.

Angles follow the registry's convention: heading clockwise from north, so a
direction ``a`` is the unit vector ``(sin a, cos a)`` in (east, north).
"""

from __future__ import annotations

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray

from skynet.errors import BadInputError

FloatArray = NDArray[np.float64]

#: Points along the arc of a view sector; enough for < 0.3% area error at 90°.
ARC_POINTS = 24


def view_sectors(
    xs: ArrayLike,
    ys: ArrayLike,
    headings_deg: ArrayLike,
    fovs_deg: ArrayLike,
    ranges_m: ArrayLike,
    *,
    arc_points: int = ARC_POINTS,
) -> NDArray[np.object_]:
    """Polygons of what each camera sees on the ground, in the metric CRS.

    A sector is the apex at the camera and an arc of radius ``range`` spanning
    ``heading ± fov/2``; a 360° camera sees a disc.
    """
    x = np.asarray(xs, dtype=np.float64)
    y = np.asarray(ys, dtype=np.float64)
    heading = np.radians(np.asarray(headings_deg, dtype=np.float64))
    fov = np.radians(np.asarray(fovs_deg, dtype=np.float64))
    reach = np.asarray(ranges_m, dtype=np.float64)
    full = fov >= 2.0 * np.pi - 1e-9
    steps = np.linspace(-0.5, 0.5, arc_points)
    angles = heading[:, None] + fov[:, None] * steps[None, :]
    arc_x = x[:, None] + reach[:, None] * np.sin(angles)
    arc_y = y[:, None] + reach[:, None] * np.cos(angles)
    apex = np.stack([x, y], axis=-1)[:, None, :]
    arc = np.stack([arc_x, arc_y], axis=-1)
    rings = np.concatenate([apex, arc, apex], axis=1)
    out = np.empty(x.shape[0], dtype=object)
    if np.any(~full):
        out[~full] = shapely.polygons(rings[~full])
    if np.any(full):
        discs = shapely.buffer(shapely.points(x[full], y[full]), reach[full], quad_segs=16)
        out[full] = discs
    return out


def apply_homography(matrix: ArrayLike, points: ArrayLike) -> FloatArray:
    """Map ``(N, 2)`` points through a 3×3 homography (projective division)."""
    h = np.asarray(matrix, dtype=np.float64).reshape(3, 3)
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    mapped = pts @ h[:, :2].T + h[:, 2]
    w = mapped[:, 2:3]
    if np.any(np.abs(w) < 1e-12):
        msg = "a point maps to infinity (on the horizon line of the homography)"
        raise BadInputError(msg, field="homography")
    return np.asarray(mapped[:, :2] / w, dtype=np.float64)


def image_to_ground(homography: ArrayLike, pixels: ArrayLike) -> FloatArray:
    """Ground coordinates (metric CRS) of image pixels ``(u, v)``."""
    return apply_homography(homography, pixels)


def ground_to_image(homography: ArrayLike, ground: ArrayLike) -> FloatArray:
    """Image pixels of ground points, through the inverse homography."""
    inverse = np.linalg.inv(np.asarray(homography, dtype=np.float64).reshape(3, 3))
    return apply_homography(inverse, ground)


def projection_from_pose(
    x: float,
    y: float,
    *,
    height_m: float,
    heading_deg: float,
    tilt_deg: float,
    fov_deg: float,
    image_width: int,
    image_height: int,
) -> FloatArray:
    """The 3×4 pinhole projection ``K [R | -R C]`` of a camera at ``(x, y, height)``.

    ``tilt_deg`` is the pitch below the horizon, ``fov_deg`` the horizontal
    field of view; the principal point is the image centre and pixels are
    square (the registry's camera model).
    """
    if not 0.0 < tilt_deg < 90.0 or height_m <= 0.0 or not 0.0 < fov_deg < 180.0:
        msg = "a camera pose needs 0 < tilt < 90°, height > 0 and 0 < fov < 180°"
        raise BadInputError(msg, field="pose")
    focal = 0.5 * image_width / np.tan(np.radians(fov_deg) / 2.0)
    intrinsics = np.array(
        [[focal, 0.0, image_width / 2.0], [0.0, focal, image_height / 2.0], [0.0, 0.0, 1.0]]
    )
    heading, tilt = np.radians(heading_deg), np.radians(tilt_deg)
    forward = np.array(
        [np.sin(heading) * np.cos(tilt), np.cos(heading) * np.cos(tilt), -np.sin(tilt)]
    )
    right = np.array([np.cos(heading), -np.sin(heading), 0.0])
    down = np.cross(forward, right)
    rotation = np.stack([right, down, forward])  # rows: camera axes in world coordinates
    centre = np.array([x, y, height_m])
    return np.asarray(
        intrinsics @ np.column_stack([rotation, -rotation @ centre]), dtype=np.float64
    )


def homography_from_pose(
    x: float,
    y: float,
    *,
    height_m: float,
    heading_deg: float,
    tilt_deg: float,
    fov_deg: float,
    image_width: int,
    image_height: int,
) -> FloatArray:
    """Image→ground homography of the camera of :func:`projection_from_pose`.

    A ground point ``(X, Y, 0)`` projects through the columns 0, 1 and 3 of
    the 3×4 projection; the inverse of that 3×3 map, normalised so that
    ``H[2, 2] == 1``, takes pixels to the ground.
    """
    projection = projection_from_pose(
        x, y, height_m=height_m, heading_deg=heading_deg, tilt_deg=tilt_deg, fov_deg=fov_deg,
        image_width=image_width, image_height=image_height,
    )  # fmt: skip
    pixel_to_ground = np.linalg.inv(projection[:, [0, 1, 3]])
    return np.asarray(pixel_to_ground / pixel_to_ground[2, 2], dtype=np.float64)
