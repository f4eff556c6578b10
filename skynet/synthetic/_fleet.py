"""Vehicle classes: sizes, speeds and colour palettes of the synthetic fleet.

Everything is indexed by a class *code* (the position in :data:`VEHICLE_CLASSES`)
so that the traffic simulation and the renderer work on integer arrays.
"""

from __future__ import annotations

from typing import Final

import numpy as np
from numpy.typing import NDArray

from skynet.errors import BadInputError

#: Vehicle classes in code order.
VEHICLE_CLASSES: Final = ("car", "van", "truck", "three_wheeler", "e_bike", "excavator")
CLASS_CODE: Final = {name: code for code, name in enumerate(VEHICLE_CLASSES)}

#: Nominal (length, width, height) in metres per class.
CLASS_SIZE_M: Final = np.array(
    [
        [4.5, 1.8, 1.5],  # car
        [5.2, 2.0, 2.1],  # van
        [8.5, 2.5, 3.2],  # truck
        [3.0, 1.4, 1.8],  # three_wheeler
        [1.8, 0.7, 1.6],  # e_bike (with its rider)
        [6.5, 2.6, 3.0],  # excavator
    ],
    dtype=np.float64,
)
#: Share of the speed limit each class drives at, and the class's own top speed (km/h).
CLASS_SPEED_FACTOR: Final = np.array([1.0, 0.95, 0.8, 0.75, 0.6, 0.5])
CLASS_TOP_SPEED_KPH: Final = np.array([120.0, 110.0, 90.0, 50.0, 25.0, 20.0])
#: Mix of classes in background traffic (sums to 1).
CLASS_SHARE: Final = np.array([0.58, 0.14, 0.08, 0.1, 0.08, 0.02])

_PALETTES_BGR: Final[dict[str, list[tuple[int, int, int]]]] = {
    "car": [
        (235, 235, 235),
        (190, 190, 192),
        (40, 40, 40),
        (120, 120, 125),
        (40, 40, 170),
        (150, 80, 30),
        (60, 100, 60),
        (90, 150, 200),
    ],
    "van": [(235, 235, 235), (200, 200, 200), (150, 90, 40), (70, 70, 70)],
    "truck": [(40, 50, 180), (160, 90, 30), (230, 230, 230), (50, 110, 60), (30, 160, 220)],
    "three_wheeler": [
        (170, 110, 40),
        (40, 60, 190),
        (60, 130, 60),
        (40, 190, 220),
        (120, 120, 120),
    ],
    "e_bike": [(30, 30, 30), (40, 40, 180), (160, 100, 40), (220, 220, 220)],
    "excavator": [(20, 180, 235), (20, 120, 230)],
}
_PALETTE_SIZE: Final = max(len(p) for p in _PALETTES_BGR.values())
#: ``(class, slot, 3)`` BGR palette, padded by repeating each class's colours.
PALETTES_BGR: Final = np.array(
    [
        [_PALETTES_BGR[name][slot % len(_PALETTES_BGR[name])] for slot in range(_PALETTE_SIZE)]
        for name in VEHICLE_CLASSES
    ],
    dtype=np.int16,
)
PALETTE_LENGTHS: Final = np.array([len(_PALETTES_BGR[name]) for name in VEHICLE_CLASSES])


def class_code(name: str) -> int:
    """The code of a class name, or a :class:`BadInputError` listing the known ones."""
    if name not in CLASS_CODE:
        msg = f"unknown vehicle class {name!r}; known: {', '.join(VEHICLE_CLASSES)}"
        raise BadInputError(msg, field="vehicle_class")
    return CLASS_CODE[name]


def random_classes(rng: np.random.Generator, count: int) -> NDArray[np.int8]:
    """Class codes of ``count`` background vehicles drawn from :data:`CLASS_SHARE`."""
    return rng.choice(len(VEHICLE_CLASSES), size=count, p=CLASS_SHARE).astype(np.int8)


def random_colours(
    rng: np.random.Generator, codes: NDArray[np.int8], *, jitter: float = 12.0
) -> NDArray[np.uint8]:
    """A palette colour per vehicle with a little per-vehicle variation (BGR)."""
    slots = (rng.random(codes.shape[0]) * PALETTE_LENGTHS[codes]).astype(np.int64)
    base = PALETTES_BGR[codes, slots].astype(np.float64)
    return jitter_colours(rng, base, jitter)


def jitter_colours(
    rng: np.random.Generator, base: NDArray[np.float64], jitter: float
) -> NDArray[np.uint8]:
    """Colours near ``base`` (one brightness shift plus small per-channel noise)."""
    shift = rng.normal(0.0, jitter, size=(base.shape[0], 1))
    noise = rng.normal(0.0, jitter / 3.0, size=base.shape)
    return np.clip(np.rint(base + shift + noise), 0, 255).astype(np.uint8)


def random_sizes(rng: np.random.Generator, codes: NDArray[np.int8]) -> NDArray[np.float64]:
    """``(n, 3)`` length/width/height: the class's size scaled by a few percent."""
    scale = rng.normal(1.0, 0.04, size=(codes.shape[0], 3)).clip(0.88, 1.12)
    return np.asarray(CLASS_SIZE_M[codes] * scale, dtype=np.float64)
