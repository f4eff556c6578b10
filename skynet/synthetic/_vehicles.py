"""Vehicles as shaded 3D boxes: corners, projection, visible faces, depth order, drawing.

All geometry is computed for every vehicle at once; only the final polygon
fills are per face (one ``cv2.fillConvexPoly`` each). Vehicles are drawn far
to near so nearer boxes cover farther ones, and each box's silhouette is
written into a label mask in the same order, which gives exact visibility.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import cv2
import numpy as np
import shapely
from numpy.typing import NDArray

from skynet.synthetic._projection import Projector
from skynet.synthetic.traffic import VehicleStates

FloatArray = NDArray[np.float64]

#: Sub-pixel bits for OpenCV polygon fills.
SHIFT: Final = 4
_SCALE: Final = float(1 << SHIFT)
#: Vehicles with a corner closer than this to the camera plane are not drawn.
NEAR_M: Final = 0.5
#: Corner signs (forward, right, up) of the 8 box corners.
_CORNERS: Final = np.array(
    [[f, r, z] for f in (1.0, -1.0) for r in (-1.0, 1.0) for z in (0.0, 1.0)], dtype=np.float64
)
#: Faces as corner indices (convex quads) with their outward normal in (forward, right, up).
FACE_FRONT, FACE_BACK, FACE_LEFT, FACE_RIGHT, FACE_TOP = range(5)
_FACES: Final = np.array(
    [[0, 1, 3, 2], [4, 5, 7, 6], [0, 1, 5, 4], [2, 3, 7, 6], [1, 3, 7, 5]], dtype=np.int64
)
_FACE_NORMALS: Final = np.array(
    [[1.0, 0.0, 0.0], [-1.0, 0.0, 0.0], [0.0, -1.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]
)
#: Window band on the side faces: share of the face's height and length it spans.
_WINDOW_HEIGHT: Final = (0.58, 0.9)
_WINDOW_ALONG: Final = (0.08, 0.92)
_GLASS_BGR: Final = np.array([62.0, 52.0, 46.0])
#: Per class, which of front/back/left/right faces have glass (e-bikes have none,
#: trucks only a windscreen).
_GLAZED: Final = np.array(
    [
        [True, True, True, True],
        [True, True, True, True],
        [True, False, False, False],
        [True, False, True, True],
        [False, False, False, False],
        [True, True, True, True],
    ]
)
#: Direction towards the sun (east, north, up), unit length.
_SUN: Final = np.array([0.45, -0.35, 0.82]) / np.linalg.norm([0.45, -0.35, 0.82])


@dataclass(frozen=True, eq=False)
class Boxes:
    """Projected boxes of the drawable vehicles, sorted far to near."""

    rows: NDArray[np.int64]  # rows of the VehicleStates, in drawing order
    corners_px: FloatArray  # (k, 8, 2)
    corners_world: FloatArray  # (k, 8, 3)
    depth: FloatArray  # (k,) distance of the box centre
    visible_faces: NDArray[np.bool_]  # (k, 5)
    face_colour: FloatArray  # (k, 5, 3)
    axes: FloatArray  # (k, 3, 3): forward, right, up unit vectors
    corners_fixed: NDArray[np.int32]  # (k, 8, 2) corners in OpenCV fixed point
    windows_fixed: NDArray[np.int32]  # (k, 4, 4, 2) window quads of the side faces
    glazed: NDArray[np.bool_]  # (k, 4) which side faces show a window
    glass_colour: FloatArray  # (k, 3)

    def __len__(self) -> int:
        return int(self.rows.shape[0])

    @property
    def bbox(self) -> FloatArray:
        """``(k, 4)`` x0, y0, x1, y1 of each box's projected corners (not clipped)."""
        lo = self.corners_px.min(axis=1)
        hi = self.corners_px.max(axis=1)
        return np.concatenate([lo, hi], axis=1)


def project_boxes(
    states: VehicleStates,
    projector: Projector,
    *,
    brightness: float | FloatArray = 1.0,
    haze_bgr: tuple[float, float, float] = (205.0, 198.0, 190.0),
    haze_m: float = 500.0,
) -> Boxes:
    """Corners, visible faces and shading of every vehicle in view, far first.

    ``brightness`` scales colours (a number, or per-channel BGR gains: the
    camera's exposure and white balance); colours fade towards ``haze_bgr``
    with distance, like the ground behind them.
    """
    heading = np.radians(states.heading_deg)
    forward = np.stack([np.sin(heading), np.cos(heading), np.zeros_like(heading)], axis=-1)
    right = np.stack([np.cos(heading), -np.sin(heading), np.zeros_like(heading)], axis=-1)
    up = np.broadcast_to(np.array([0.0, 0.0, 1.0]), forward.shape)
    axes = np.stack([forward, right, up], axis=1)
    half = np.stack([states.length / 2.0, states.width / 2.0, states.height], axis=-1)
    offsets = (_CORNERS[None, :, :] * half[:, None, :]) @ axes  # (n, 8, 3)
    centre = np.stack([states.x, states.y, np.zeros_like(states.x)], axis=-1)
    corners = centre[:, None, :] + offsets
    pixels, depth = projector.project(corners)
    keep = (depth.min(axis=1) > NEAR_M) & _overlaps_image(pixels, projector)
    if not keep.any():
        return _NO_BOXES  # nothing in the picture: half the frames of a recorded clip
    order = np.argsort(-depth.mean(axis=1)[keep], kind="stable")
    rows = np.flatnonzero(keep)[order]
    corners = corners[rows]
    camera = projector.centre
    face_centres = corners[:, _FACES].mean(axis=2)  # (k, 5, 3)
    normals = np.einsum("fa,kab->kfb", _FACE_NORMALS, axes[rows])
    visible = np.einsum("kfb,kfb->kf", normals, camera - face_centres) > 0.0
    light = 0.55 + 0.45 * np.clip(normals @ _SUN, 0.0, 1.0)
    light[:, FACE_TOP] = np.minimum(light[:, FACE_TOP] * 1.08, 1.1)
    colour = states.colour[rows].astype(np.float64)[:, None, :] * light[..., None] * brightness
    windows, _ = projector.project(_window_quads(corners))
    glass = np.broadcast_to(_GLASS_BGR * brightness, (rows.shape[0], 3))
    fog = (1.0 - np.exp(-depth[rows].mean(axis=1) / haze_m))[:, None]
    haze = np.asarray(haze_bgr, dtype=np.float64)
    colour = colour * (1.0 - fog[..., None]) + haze * fog[..., None]
    glass = glass * (1.0 - fog) + haze * fog
    return Boxes(
        rows=rows,
        corners_px=pixels[rows],
        corners_world=corners,
        depth=depth[rows].mean(axis=1),
        visible_faces=visible,
        face_colour=np.clip(colour, 0.0, 255.0),
        axes=axes[rows],
        corners_fixed=fixed_point(pixels[rows]),
        windows_fixed=fixed_point(windows),
        glazed=_GLAZED[states.class_code[rows]] & visible[:, :4],
        glass_colour=glass,
    )


def _no_boxes() -> Boxes:
    """The boxes of a picture with no vehicle: every field empty, typed as when full."""
    real, whole = np.empty((0,), dtype=np.float64), np.empty((0,), dtype=np.intp)
    return Boxes(
        rows=whole,
        corners_px=real.reshape(0, 8, 2),
        corners_world=real.reshape(0, 8, 3),
        depth=real,
        visible_faces=np.empty((0, 5), dtype=bool),
        face_colour=real.reshape(0, 5, 3),
        axes=real.reshape(0, 3, 3),
        corners_fixed=np.empty((0, 8, 2), dtype=np.int32),
        windows_fixed=np.empty((0, 4, 4, 2), dtype=np.int32),
        glazed=np.empty((0, 4), dtype=bool),
        glass_colour=real.reshape(0, 3),
    )


_NO_BOXES: Final = _no_boxes()


def _window_quads(corners: FloatArray) -> FloatArray:
    """``(k, 4, 4, 3)`` window corners on the front, back, left and right faces."""
    faces = corners[:, _FACES[:4]]  # (k, 4, 4, 3): bottom1, top1, top2, bottom2
    bottom1, top1, top2, bottom2 = (faces[:, :, i] for i in range(4))
    (h0, h1), (s0, s1) = _WINDOW_HEIGHT, _WINDOW_ALONG
    low1, high1 = bottom1 + (top1 - bottom1) * h0, bottom1 + (top1 - bottom1) * h1
    low2, high2 = bottom2 + (top2 - bottom2) * h0, bottom2 + (top2 - bottom2) * h1
    quad = [
        low1 + (low2 - low1) * s0,
        high1 + (high2 - high1) * s0,
        high1 + (high2 - high1) * s1,
        low1 + (low2 - low1) * s1,
    ]
    return np.stack(quad, axis=2)


def _overlaps_image(pixels: FloatArray, projector: Projector) -> NDArray[np.bool_]:
    """True for boxes whose projected bounding box meets the image."""
    lo, hi = pixels.min(axis=1), pixels.max(axis=1)
    return np.asarray(
        (hi[:, 0] >= 0)
        & (lo[:, 0] < projector.width)
        & (hi[:, 1] >= 0)
        & (lo[:, 1] < projector.height),
        dtype=bool,
    )


def fixed_point(pixels: FloatArray) -> NDArray[np.int32]:
    """Pixel coordinates in OpenCV's fixed point (``SHIFT`` fractional bits), kept finite."""
    return np.rint(np.clip(pixels, -1e5, 1e5) * _SCALE).astype(np.int32)


def draw_box(image: NDArray[np.uint8], boxes: Boxes, index: int) -> None:
    """Fill the visible faces of one box (they never overlap each other)."""
    points = boxes.corners_fixed[index]
    faces = np.flatnonzero(boxes.visible_faces[index]).tolist()
    colours = boxes.face_colour[index].tolist()
    for face in faces:
        cv2.fillConvexPoly(image, points[_FACES[face]], colours[face], cv2.LINE_AA, SHIFT)
    glass = boxes.glass_colour[index].tolist()
    for face in np.flatnonzero(boxes.glazed[index]).tolist():
        cv2.fillConvexPoly(image, boxes.windows_fixed[index, face], glass, cv2.LINE_AA, SHIFT)


def in_image_bbox(boxes: Boxes, width: int, height: int) -> FloatArray:
    """``(k, 4)`` x0, y0, x1, y1 of the part of each silhouette inside the image.

    Clamping the corners' box to the image is wrong for a box cut by the
    image border: a truck passing under a low camera has roof corners far
    outside the picture, and the clamped box would reach parts of the frame
    the truck does not cover. So those boxes (only those: inside the image
    the two agree) get the bounds of their convex hull clipped to the image.
    """
    if len(boxes) == 0:
        return np.empty((0, 4), dtype=np.float64)
    bbox = boxes.bbox
    clipped = bbox.copy()
    clipped[:, [0, 2]] = clipped[:, [0, 2]].clip(0.0, width)
    clipped[:, [1, 3]] = clipped[:, [1, 3]].clip(0.0, height)
    cut = np.flatnonzero(np.any(clipped != bbox, axis=1))
    if cut.size:
        hulls = shapely.convex_hull(shapely.multipoints(boxes.corners_px[cut]))
        inside = shapely.clip_by_rect(hulls, 0.0, 0.0, float(width), float(height))
        bounds = shapely.bounds(inside)
        empty = ~np.isfinite(bounds).all(axis=1)
        bounds[empty] = clipped[cut[empty]]
        clipped[cut] = bounds
    return clipped


def silhouette(boxes: Boxes, index: int) -> NDArray[np.int32]:
    """Convex hull of one box's projected corners, in fixed point."""
    return np.asarray(cv2.convexHull(boxes.corners_fixed[index]), dtype=np.int32)
