"""``Reach``: the cameras one camera can reach, as arrays (nearest first)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray


@dataclass(frozen=True, eq=False)
class Reach:
    """Targets of one camera within the horizon, sorted by free-flow time.

    ``reason`` says why the reach is empty when the camera cannot start a
    trip at all (it watches no road edge); it is ``None`` otherwise.
    """

    to_ids: NDArray[np.str_]
    free_flow_s: NDArray[np.float64]
    distance_m: NDArray[np.float64]
    reason: str | None = None
    #: Each target's row in the model's (and the registry's) camera order, when known.
    rows: NDArray[np.intp] | None = None

    def __len__(self) -> int:
        return int(self.to_ids.shape[0])

    @classmethod
    def empty(cls, reason: str | None = None) -> Reach:
        return cls(np.empty(0, dtype=str), np.empty(0), np.empty(0), reason)


def no_edge_reason(camera_id: str) -> str:
    """Why a camera that watches no road edge has no transitions."""
    return (
        f"camera {camera_id!r} watches no road edge (off the road network, or its view "
        "covers no road), so no trip can start or end there"
    )
