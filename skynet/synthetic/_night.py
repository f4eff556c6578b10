"""Night lighting of vehicles: headlight beams on the road, lamps and their glare.

Beams are three ground trapezoids ahead of each vehicle, brighter near the
lamps (light falls off with distance), added to the picture. Lamps are small
bright discs on the front (white) and rear (red) faces with a glare sprite
whose size follows the lamp's distance; sprites are precomputed, so the
per-frame cost is a few additions on small image regions.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Final

import cv2
import numpy as np
from numpy.typing import NDArray

from skynet.synthetic._fleet import CLASS_CODE
from skynet.synthetic._projection import Projector
from skynet.synthetic._vehicles import FACE_BACK, FACE_FRONT, NEAR_M, Boxes, fixed_point

FloatArray = NDArray[np.float64]
ImageU8 = NDArray[np.uint8]

#: Beam bands: (start m, end m, half-width at start m, half-width at end m, added light 0..255).
#: Many thin bands with light falling off with distance stand in for a smooth gradient.
_BAND_EDGES_M: Final = np.array([0.0, 2.5, 5.0, 8.0, 11.5, 15.5, 20.0, 26.0])
_BANDS: Final = tuple(
    (
        float(near),
        float(far),
        0.9 + 0.16 * float(near),
        0.9 + 0.16 * float(far),
        float(52.0 * np.exp(-(near + far) / 2.0 / 10.0)),
    )
    for near, far in itertools.pairwise(_BAND_EDGES_M.tolist())
)
_BEAM_BGR: Final = np.array([0.85, 0.95, 1.0])
_HEAD_BGR: Final = np.array([235.0, 250.0, 255.0])
_TAIL_BGR: Final = np.array([40.0, 40.0, 255.0])
#: Glare sprite radii available (px).
_SPRITE_RADII: Final = (2, 3, 4, 6, 8, 11, 16, 22, 30, 42, 60)
#: Classes with a single central headlight.
_SINGLE_LAMP: Final = frozenset({CLASS_CODE["three_wheeler"], CLASS_CODE["e_bike"]})


@dataclass(frozen=True, eq=False)
class GlareSprites:
    """Precomputed glare blobs (white and red) for a range of radii."""

    radii: NDArray[np.int64]
    white: list[ImageU8]
    red: list[ImageU8]

    @classmethod
    def build(cls) -> GlareSprites:
        """Gaussian core plus a wide halo, scaled so the centre saturates."""
        white, red = [], []
        for radius in _SPRITE_RADII:
            size = 2 * radius + 1
            axis = np.arange(size) - radius
            d2 = (axis[:, None] ** 2 + axis[None, :] ** 2) / float(radius * radius)
            profile = np.exp(-d2 * 9.0) * 1.6 + np.exp(-d2 * 2.5) * 0.35
            white.append(_sprite(profile, _HEAD_BGR))
            red.append(_sprite(profile * 0.8, _TAIL_BGR))
        return cls(radii=np.asarray(_SPRITE_RADII, dtype=np.int64), white=white, red=red)


def _sprite(profile: FloatArray, bgr: FloatArray) -> ImageU8:
    """One tinted glare sprite."""
    return np.clip(profile[..., None] * bgr, 0, 255).astype(np.uint8)


def draw_beams(image: ImageU8, boxes: Boxes, projector: Projector) -> None:
    """Add every vehicle's headlight beam to the ground (before any vehicle is drawn)."""
    if len(boxes) == 0:
        return
    forward = boxes.axes[:, None, 0]
    right = boxes.axes[:, None, 1]
    nose = boxes.corners_world[:, [0, 2]].mean(axis=1)[:, None, :]  # front bottom centre
    nose[..., 2] = 0.0
    bands = np.asarray(_BANDS)
    start, end = bands[:, 0, None], bands[:, 1, None]
    near_half, far_half = bands[:, 2, None], bands[:, 3, None]
    quads = np.stack(
        [
            nose + forward * start - right * near_half,
            nose + forward * start + right * near_half,
            nose + forward * end + right * far_half,
            nose + forward * end - right * far_half,
        ],
        axis=2,
    )  # (k, bands, 4, 3)
    pixels, depth = projector.project(quads)
    height, width = image.shape[:2]
    lo = np.floor(pixels.min(axis=2)).astype(np.int64).clip(0, [width, height])
    hi = (np.ceil(pixels.max(axis=2)).astype(np.int64) + 1).clip(0, [width, height])
    ok = (depth.min(axis=2) > NEAR_M) & np.all(hi > lo, axis=-1)
    if not ok.any():
        return
    (x0, y0), (x1, y1) = lo[ok].min(axis=0), hi[ok].max(axis=0)
    # One light layer over all beams; far bands first so nearer (brighter) bands win overlaps.
    layer = np.zeros((y1 - y0, x1 - x0, 3), dtype=np.uint8)
    local = fixed_point(pixels - np.array([x0, y0]))
    colours = (_BEAM_BGR[None, :] * bands[:, 4, None]).tolist()
    for band in range(len(_BANDS) - 1, -1, -1):
        for vehicle in np.flatnonzero(ok[:, band]).tolist():
            cv2.fillConvexPoly(layer, local[vehicle, band], colours[band], cv2.LINE_AA, 4)
    region = image[y0:y1, x0:x1]
    cv2.add(region, layer, dst=region)


def lamp_points(boxes: Boxes, class_codes: NDArray[np.int8]) -> tuple[FloatArray, FloatArray]:
    """World positions ``(k, 2, 3)`` of the two headlights and the two tail lights."""
    forward, right = boxes.axes[:, 0], boxes.axes[:, 1]
    front = boxes.corners_world[:, [0, 2]].mean(axis=1)
    back = boxes.corners_world[:, [4, 6]].mean(axis=1)
    half_width = np.linalg.norm(boxes.corners_world[:, 2] - boxes.corners_world[:, 0], axis=1) / 2.0
    single = np.isin(class_codes, list(_SINGLE_LAMP))
    spread = np.where(single, 0.0, np.maximum(half_width - 0.3, 0.2))
    sides = np.stack([-spread, spread], axis=1)[..., None] * right[:, None, :]
    lift = np.array([0.0, 0.0, 0.65])
    heads = front[:, None, :] + sides + lift + forward[:, None, :] * 0.02
    tails = (
        back[:, None, :] + sides + lift + np.array([0.0, 0.0, 0.15]) - forward[:, None, :] * 0.02
    )
    return heads, tails


@dataclass(frozen=True, eq=False)
class LampPlan:
    """Where to add glare for each drawn vehicle: pixel, sprite and tint of up to 4 lamps."""

    pixels: NDArray[np.int64]  # (k, 4, 2)
    sprite: NDArray[np.int64]  # (k, 4)
    red: NDArray[np.bool_]  # (k, 4)
    shown: NDArray[np.bool_]  # (k, 4)


def plan_lamps(
    boxes: Boxes, class_codes: NDArray[np.int8], projector: Projector, sprites: GlareSprites
) -> LampPlan:
    """Project every vehicle's head and tail lights at once; a lamp shows if its face does."""
    heads, tails = lamp_points(boxes, class_codes)
    lamps = np.concatenate([heads, tails], axis=1)  # (k, 4, 3)
    pixels, depth = projector.project(lamps)
    focal = float(np.hypot(projector.matrix[0, 0], projector.matrix[0, 1]))
    red = np.zeros(lamps.shape[:2], dtype=bool)
    red[:, 2:] = True
    radius = focal * np.where(red, 0.55, 1.1) / np.maximum(depth, NEAR_M)
    nearest = np.abs(radius[..., None] - sprites.radii).argmin(axis=-1)
    faces = boxes.visible_faces[:, [FACE_FRONT, FACE_FRONT, FACE_BACK, FACE_BACK]]
    return LampPlan(
        pixels=np.rint(np.clip(pixels, -1e5, 1e5)).astype(np.int64),
        sprite=nearest,
        red=red,
        shown=faces & (depth > NEAR_M),
    )


def draw_lamps(image: ImageU8, plan: LampPlan, index: int, sprites: GlareSprites) -> None:
    """Lamps and glare of one vehicle (drawn right after its body, so nearer ones cover it)."""
    for lamp in np.flatnonzero(plan.shown[index]).tolist():
        bank = sprites.red if plan.red[index, lamp] else sprites.white
        u, v = plan.pixels[index, lamp]
        _add_sprite(image, bank[plan.sprite[index, lamp]], int(u), int(v))


def _add_sprite(image: ImageU8, sprite: ImageU8, cx: int, cy: int) -> None:
    """Add a sprite centred at pixel ``(cx, cy)``, cropped to the image."""
    height, width = image.shape[:2]
    half = sprite.shape[0] // 2
    x0, y0, x1, y1 = cx - half, cy - half, cx + half + 1, cy + half + 1
    sx0, sy0 = max(0, -x0), max(0, -y0)
    sx1 = sprite.shape[1] - max(0, x1 - width)
    sy1 = sprite.shape[0] - max(0, y1 - height)
    if sx1 <= sx0 or sy1 <= sy0:
        return
    region = image[max(y0, 0) : min(y1, height), max(x0, 0) : min(x1, width)]
    cv2.add(region, sprite[sy0:sy1, sx0:sx1], dst=region)
