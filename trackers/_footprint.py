"""A vehicle's body box from its lamps and the camera's ground geometry.

At night a motion blob is swollen by the light a vehicle casts (headlight
beams on the road, glare around the lamps) or shrunk to its lamps where the
body is too dark to see; neither outline is the vehicle's. Its lamps are
sure, and with the camera's calibration they say where the vehicle stands:
a pair of lamps sits at a known height on the face the camera sees, so the
two lamp pixels, back-projected onto that height's plane, give the face's
position on the ground and its width (lamps sit a little inside the body's
sides). The width picks a class (car, van, truck: the two-lamp vehicles),
whose nominal length and height complete a box standing on the ground and
stretching away from the camera behind the lit face; its projection is the
body's image box, free of beam and glare. A single central lamp (an
e-bike, a three-wheeler) gives the face's position but no width or heading:
it is taken as seen head-on (its axis along the camera's line of sight), and
both classes' boxes are offered (:func:`single_lamp_boxes`). The maps are
solved once per camera (:class:`LampGeometry`); a frame's lamps then go
through a few array operations together, whatever their number.

The camera model is the registry's (principal point at the image centre,
square pixels), under which the image→ground homography fixes the whole
pinhole projection (:func:`camera_projection`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

#: Nominal (length, width, height) in metres of the vehicles that carry a pair of lamps.
PAIRED_CLASSES_M: Final = np.array(
    [
        [4.5, 1.8, 1.5],  # car
        [5.2, 2.0, 2.1],  # van
        [8.5, 2.5, 3.2],  # truck
    ]
)


@dataclass(frozen=True, slots=True)
class LampModel:
    """Where lamps sit on a vehicle: height above the ground and inset from its sides (m)."""

    head_height_m: float = 0.65
    tail_height_m: float = 0.8
    side_inset_m: float = 0.3


def camera_projection(homography: npt.ArrayLike, width: int, height: int) -> FloatArray | None:
    """The 3×4 pinhole projection (world z up) whose ground plane is ``homography``'s.

    ``homography`` maps pixels of a ``width × height`` image to the ground.
    Its inverse is ``K [r1 r2 t]`` up to scale; with the principal point at
    the image centre, the focal length is the one that makes ``r1`` and
    ``r2`` orthogonal and of equal length (two equations in ``1/f²``, solved
    together by least squares), and ``r3 = r1 × r2`` oriented so that the
    camera lies above the ground. None when no positive focal length fits
    (not a camera looking down at the ground).
    """
    to_image = np.linalg.inv(np.asarray(homography, dtype=np.float64).reshape(3, 3))
    cx, cy = width / 2.0, height / 2.0
    centred = to_image - np.outer([cx, cy, 0.0], to_image[2])
    g1, g2 = centred[:, 0], centred[:, 1]
    # orthogonal: (g1x g2x + g1y g2y) u + g1z g2z = 0; equal length:
    # (|g1xy|² - |g2xy|²) u + g1z² - g2z² = 0, with u = 1 / f²
    a = np.array([g1[0] * g2[0] + g1[1] * g2[1], g1[:2] @ g1[:2] - g2[:2] @ g2[:2]])
    b = np.array([g1[2] * g2[2], g1[2] ** 2 - g2[2] ** 2])
    u = -float(a @ b) / max(float(a @ a), 1e-300)
    if not u > 0.0:
        return None
    focal = 1.0 / np.sqrt(u)
    intrinsics = np.array([[focal, 0.0, cx], [0.0, focal, cy], [0.0, 0.0, 1.0]])
    columns = np.linalg.solve(intrinsics, to_image)
    columns /= 0.5 * (np.linalg.norm(columns[:, 0]) + np.linalg.norm(columns[:, 1]))
    seen = np.asarray(homography, dtype=np.float64).reshape(3, 3) @ [cx, float(height), 1.0]
    if columns[2] @ (seen / seen[2]) < 0.0:  # the ground seen at the bottom: positive depth
        columns = -columns
    r1, r2, t = columns[:, 0], columns[:, 1], columns[:, 2]
    r3 = np.cross(r1, r2)
    rotation = np.column_stack([r1, r2, r3])
    if -(rotation.T @ t)[2] < 0.0:  # the camera below the ground: z points down
        r3 = -r3
    return np.asarray(intrinsics @ np.column_stack([r1, r2, r3, t]), dtype=np.float64)


@dataclass(frozen=True, eq=False)
class LampGeometry:
    """One camera's maps for lamp pairs, solved once per clip: every frame only multiplies.

    ``projection`` is the 3×4 pinhole projection (in the pixels the lamps are
    found in); ``to_planes`` (3×6) maps homogeneous pixels (as rows) onto the
    planes of the head lamps (first three columns) and of the tail lamps
    (last three); ``camera_xy`` is the camera's ground position.
    """

    projection: FloatArray
    to_planes: FloatArray
    camera_xy: FloatArray
    model: LampModel

    @classmethod
    def of(cls, projection: FloatArray, model: LampModel | None = None) -> LampGeometry:
        """The maps of ``projection`` for the lamp heights of ``model``."""
        model = model or LampModel()

        def plane(height_m: float) -> FloatArray:
            to_image = projection[:, [0, 1, 3]] + np.outer(projection[:, 2], [0.0, 0.0, height_m])
            return np.asarray(np.linalg.inv(to_image).T, dtype=np.float64)

        centre = -np.linalg.solve(projection[:, :3], projection[:, 3])
        planes = np.hstack([plane(model.head_height_m), plane(model.tail_height_m)])
        return cls(projection, planes, np.asarray(centre[:2], dtype=np.float64), model)


def body_boxes(
    geometry: LampGeometry,
    first: FloatArray,
    second: FloatArray,
    white: npt.NDArray[np.bool_],
) -> FloatArray:
    """Image boxes ``(k, 4)`` (x0, y0, x1, y1) of the vehicles whose lamp pairs are given.

    ``first`` and ``second`` ``(k, 2)`` are the two lamps' pixels, ``white``
    whether they are headlights (the front is seen) or tail lights (the
    back). Rows where a corner of the box falls behind the camera are NaN.
    Few vehicles a frame: the cost is the number of array operations, so
    both lamps and all eight corners go through each step together.
    """
    k = first.shape[0]
    pixels = np.ones((2 * k, 3))
    pixels[:k, :2], pixels[k:, :2] = first, second
    mapped = (pixels @ geometry.to_planes).reshape(2, k, 2, 3)
    on_plane = np.where(white[None, :, None], mapped[:, :, 0], mapped[:, :, 1])  # (2, k, 3)
    a, b = on_plane[..., :2] / on_plane[..., 2:]
    across = b - a
    spacing = np.sqrt(np.einsum("ij,ij->i", across, across))
    width = spacing + 2.0 * geometry.model.side_inset_m
    sizes = PAIRED_CLASSES_M[np.abs(width[:, None] - PAIRED_CLASSES_M[:, 1]).argmin(axis=1)]
    right = across / spacing[:, None]
    depth = right[:, ::-1] * _TURN  # a quarter turn; its sign picked to point away
    face = 0.5 * (a + b)
    depth *= np.copysign(sizes[:, 0], np.einsum("ij,ij->i", depth, face - geometry.camera_xy))[
        :, None
    ]
    half = right * (0.5 * width)[:, None]
    corners = face[:, None, :] + half[:, None, :] * _SIDES + depth[:, None, :] * _ENDS  # (k, 4, 2)
    p = geometry.projection
    floor = corners @ p[:, :2].T + p[:, 3]  # (k, 4, 3)
    projected = np.concatenate([floor, floor + (sizes[:, 2:3] * p[:, 2])[:, None, :]], axis=1)
    depths = projected[..., 2]
    image = projected[..., :2] / depths[..., None]
    boxes = np.concatenate([image.min(axis=1), image.max(axis=1)], axis=1)
    valid = depths.min(axis=1) > 1e-9  # NaN (a lamp at its plane's horizon) is not valid
    return np.asarray(np.where(valid[:, None], boxes, np.nan), dtype=np.float64)


#: Nominal (length, width, height) of the vehicles with one central lamp.
SINGLE_LAMP_CLASSES_M: Final = np.array([[1.8, 0.7, 1.6], [3.0, 1.4, 1.8]])


def single_lamp_boxes(
    geometry: LampGeometry, lamp: FloatArray, white: npt.NDArray[np.bool_]
) -> FloatArray:
    """Image boxes ``(k, c, 4)`` of each single-lamp class for lamps ``(k, 2)``, seen head-on."""
    k = lamp.shape[0]
    pixels = np.ones((k, 3))
    pixels[:, :2] = lamp
    mapped = (pixels @ geometry.to_planes).reshape(k, 2, 3)
    on_plane = np.where(white[:, None], mapped[:, 0], mapped[:, 1])
    face = on_plane[:, :2] / on_plane[:, 2:]
    depth = face - geometry.camera_xy
    depth /= np.sqrt(np.einsum("ij,ij->i", depth, depth))[:, None]
    right = depth[:, ::-1] * -_TURN
    sizes = SINGLE_LAMP_CLASSES_M  # (c, 3)
    half = right[:, None, :] * (0.5 * sizes[None, :, 1:2])  # (k, c, 2)
    back = depth[:, None, :] * sizes[None, :, 0:1]
    corners = face[:, None, None, :] + half[:, :, None, :] * _SIDES + back[:, :, None, :] * _ENDS
    p = geometry.projection
    floor = corners @ p[:, :2].T + p[:, 3]  # (k, c, 4, 3)
    roof = floor + (sizes[:, 2:3] * p[:, 2])[None, :, None, :]
    projected = np.concatenate([floor, roof], axis=2)
    depths = projected[..., 2]
    image = projected[..., :2] / depths[..., None]
    boxes = np.concatenate([image.min(axis=2), image.max(axis=2)], axis=2)
    valid = depths.min(axis=2) > 1e-9
    return np.asarray(np.where(valid[..., None], boxes, np.nan), dtype=np.float64)


_TURN: Final = np.array([-1.0, 1.0])
#: The four ground corners as (side, end) multiples of the half width and the length.
_SIDES: Final = np.array([-1.0, 1.0, -1.0, 1.0])[:, None]
_ENDS: Final = np.array([0.0, 0.0, 1.0, 1.0])[:, None]
