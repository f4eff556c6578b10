"""Full pinhole projection (3×4) of a camera, from its pose or from its ground homography.

The registry keeps only the image→ground homography; drawing a vehicle's roof
needs heights too. With the registry's camera model (principal point at the
image centre, square pixels) the homography fixes the whole camera: the focal
length follows from the rotation's first two columns being orthonormal, and
the third column is their cross product.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
from numpy.typing import ArrayLike, NDArray

from camera_registry.geometry import projection_from_pose
from skynet.errors import BadInputError

__all__ = ["Projector", "projection_from_homography", "projection_from_pose"]

FloatArray = NDArray[np.float64]


def projection_from_homography(
    homography: ArrayLike, image_width: int, image_height: int
) -> FloatArray:
    """The 3×4 projection whose ground plane (z = 0) is the given image→ground homography."""
    to_image = np.linalg.inv(np.asarray(homography, dtype=np.float64).reshape(3, 3))
    cx, cy = image_width / 2.0, image_height / 2.0
    centred = np.array([[1.0, 0.0, -cx], [0.0, 1.0, -cy], [0.0, 0.0, 1.0]]) @ to_image
    a1, a2 = centred[:, 0], centred[:, 1]
    c1, d1 = a1[0] * a2[0] + a1[1] * a2[1], a1[2] * a2[2]
    c2, d2 = a1[0] ** 2 + a1[1] ** 2 - a2[0] ** 2 - a2[1] ** 2, a1[2] ** 2 - a2[2] ** 2
    inverse_f2 = -(c1 * d1 + c2 * d2) / max(c1 * c1 + c2 * c2, 1e-300)
    if not inverse_f2 > 0.0:
        msg = "the homography is not that of a pinhole camera looking down at the ground"
        raise BadInputError(msg, field="homography")
    focal = 1.0 / np.sqrt(inverse_f2)
    intrinsics = np.array([[focal, 0.0, cx], [0.0, focal, cy], [0.0, 0.0, 1.0]])
    scaled = np.linalg.inv(intrinsics) @ to_image
    scale = 0.5 * (np.linalg.norm(scaled[:, 0]) + np.linalg.norm(scaled[:, 1]))
    r1, r2, t = scaled[:, 0] / scale, scaled[:, 1] / scale, scaled[:, 2] / scale
    centre_ground = np.asarray(homography, dtype=np.float64).reshape(3, 3) @ np.array([cx, cy, 1.0])
    depth = (
        r1[2] * centre_ground[0] / centre_ground[2]
        + r2[2] * centre_ground[1] / centre_ground[2]
        + t[2]
    )
    if depth < 0.0:
        r1, r2, t = -r1, -r2, -t
    u, _, vt = np.linalg.svd(np.column_stack([r1, r2, np.cross(r1, r2)]))
    rotation = u @ vt
    camera_z = -(rotation.T @ t)[2]
    if camera_z < 0.0:
        rotation[:, 2] = -rotation[:, 2]
    return np.asarray(intrinsics @ np.column_stack([rotation, t]), dtype=np.float64)


@dataclass(frozen=True, eq=False)
class Projector:
    """Projects world points ``(x, y, z)`` to pixels, with their depth along the optical axis."""

    matrix: FloatArray
    width: int
    height: int

    @classmethod
    def from_homography(
        cls,
        homography: ArrayLike,
        width: int,
        height: int,
        *,
        out_size: tuple[int, int] | None = None,
    ) -> Projector:
        """Camera of ``homography`` (for a ``width × height`` image), resized to ``out_size``."""
        matrix = projection_from_homography(homography, width, height)
        if out_size is not None and out_size != (width, height):
            sx, sy = out_size[0] / width, out_size[1] / height
            matrix = np.diag([sx, sy, 1.0]) @ matrix
            width, height = out_size
        return cls(matrix=matrix, width=width, height=height)

    @property
    def ground_to_image(self) -> FloatArray:
        """3×3 homography ground ``(x, y, 1)`` → pixel."""
        return np.asarray(self.matrix[:, [0, 1, 3]], dtype=np.float64)

    @cached_property
    def centre(self) -> FloatArray:
        """The camera's position ``(x, y, z)`` in the world (solved once: asked every frame)."""
        return np.asarray(-np.linalg.solve(self.matrix[:, :3], self.matrix[:, 3]), dtype=np.float64)

    def project(self, points: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Pixels ``(..., 2)`` and depths ``(...)`` of world points ``(..., 3)``."""
        homogeneous = points @ self.matrix[:, :3].T + self.matrix[:, 3]
        depth = homogeneous[..., 2]
        safe = np.where(np.abs(depth) < 1e-9, 1e-9, depth)
        return homogeneous[..., :2] / safe[..., None], depth
