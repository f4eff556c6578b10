"""``Sighting``: the one contract between the per-feed pipeline and the engine.

A sighting is one vehicle's passage through one camera's picture: when it
came and went (UTC, clock offset corrected), what it looked like (a unit
appearance vector of fixed dimension), where it entered and left the ground
(metric working CRS, when the camera is calibrated), its heading and speed,
how good the observation is, and the evidence to show a person (clip, frame,
box). Its id is a hash of camera, clip and local track id, so re-ingesting a
clip yields the same ids and adds nothing.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from typing import Final

import numpy as np
from numpy.typing import NDArray

from skynet.errors import BadInputError

#: Length of every appearance vector (see :mod:`trackers.describe`).
APPEARANCE_DIM: Final = 64
#: Vehicle classes a sighting may carry; ``vehicle`` when the detector cannot tell.
VEHICLE_CLASSES: Final = (
    "vehicle",
    "car",
    "van",
    "truck",
    "three_wheeler",
    "e_bike",
    "excavator",
)

Point = tuple[float, float]
Box = tuple[float, float, float, float]


def sighting_id(camera_id: str, clip: str, track_id: int) -> str:
    """Deterministic id of a camera's track in a clip (re-ingesting adds nothing)."""
    digest = hashlib.sha256(f"{camera_id}\x1f{clip}\x1f{int(track_id)}".encode()).hexdigest()
    return digest[:24]


@dataclass(frozen=True, slots=True)
class Evidence:
    """Where a person can see the sighting: the clip, its best frame and the box there."""

    clip: str
    frame_index: int
    bbox: Box


@dataclass(frozen=True, slots=True, eq=False)
class Sighting:
    """One vehicle seen by one camera (see the module docstring)."""

    id: str
    camera_id: str
    t_in: float
    t_out: float
    vehicle_class: str
    appearance: NDArray[np.float32]
    quality: float
    evidence: Evidence
    entry_xy: Point | None = None
    exit_xy: Point | None = None
    heading_deg: float | None = None
    speed_mps: float | None = None
    entry_edge: str | None = None
    exit_edge: str | None = None

    def __post_init__(self) -> None:
        def fail(field: str, reason: str) -> None:
            raise BadInputError(reason, record=self.id, field=field)

        if not (math.isfinite(self.t_in) and math.isfinite(self.t_out)):
            fail("t_in", "times must be finite")
        if self.t_out < self.t_in:
            fail("t_out", f"t_out {self.t_out} is before t_in {self.t_in}")
        if self.vehicle_class not in VEHICLE_CLASSES:
            fail("vehicle_class", f"{self.vehicle_class!r} is not one of {VEHICLE_CLASSES}")
        vector = np.asarray(self.appearance, dtype=np.float32).reshape(-1)
        if vector.shape != (APPEARANCE_DIM,) or not np.all(np.isfinite(vector)):
            fail("appearance", f"needs {APPEARANCE_DIM} finite numbers")
        if abs(float(np.linalg.norm(vector)) - 1.0) > 1e-3:
            fail("appearance", "must have unit length")
        object.__setattr__(self, "appearance", vector)
        if not 0.0 <= self.quality <= 1.0:
            fail("quality", f"{self.quality} is outside [0, 1]")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sighting):
            return NotImplemented
        return all(
            np.array_equal(getattr(self, name), getattr(other, name))
            if name == "appearance"
            else getattr(self, name) == getattr(other, name)
            for name in self.__slots__
        )

    __hash__ = None  # type: ignore[assignment]

    @property
    def duration_s(self) -> float:
        return self.t_out - self.t_in
