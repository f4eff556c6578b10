"""The directed road edges a camera watches, and which one a track entered or left on.

A two-way road is two directed edges with the same line drawn in opposite
directions, so position alone cannot tell them apart: the edge chosen for a
point is the nearest one whose direction *at the nearest point* agrees with
the track's heading there (within ``max_angle_deg``), and within
``max_distance_m``. Everything is one vectorised shapely call per question
over all edges and points.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

import numpy as np
import numpy.typing as npt
import shapely

from skynet.errors import BadInputError
from trackers.ground import angle_between, heading_of

#: Half the baseline (m) over which an edge's local direction is measured.
_DIRECTION_STEP_M: Final = 1.0


class WatchedEdges:
    """Directed edges ``edge_id -> LineString`` (metric CRS, drawn from u to v)."""

    def __init__(
        self,
        edges: Mapping[str, shapely.LineString],
        *,
        max_angle_deg: float = 60.0,
        max_distance_m: float = 30.0,
    ) -> None:
        ids = [str(edge_id) for edge_id in edges]
        geometry = np.asarray(list(edges.values()), dtype=object)
        if geometry.size and not np.all(shapely.get_type_id(geometry) == 1):
            msg = "every watched edge must be a LineString"
            raise BadInputError(msg, field="watched_edges")
        if not 0.0 < max_angle_deg <= 180.0 or not max_distance_m > 0.0:
            msg = "need 0 < max_angle_deg <= 180 and max_distance_m > 0"
            raise BadInputError(msg, field="watched_edges")
        self.ids = np.asarray(ids, dtype=object)
        self.geometry = geometry
        self.lengths = np.asarray(shapely.length(geometry), dtype=np.float64)
        self.max_angle_deg = max_angle_deg
        self.max_distance_m = max_distance_m

    def __len__(self) -> int:
        return int(self.ids.shape[0])

    def nearest_agreeing(
        self, points: npt.ArrayLike, headings_deg: npt.ArrayLike
    ) -> list[str | None]:
        """For each point and heading, the nearest edge going that way (None if none does).

        A NaN heading or point gets None.
        """
        xy = np.asarray(points, dtype=np.float64).reshape(-1, 2)
        heading = np.asarray(headings_deg, dtype=np.float64).reshape(-1)
        if len(self) == 0 or xy.shape[0] == 0:
            return [None] * xy.shape[0]
        query = shapely.points(np.nan_to_num(xy, nan=0.0))[:, None]  # (p, 1)
        edges = self.geometry[None, :]  # (1, e)
        distance = np.asarray(shapely.distance(edges, query), dtype=np.float64)  # (p, e)
        along = np.asarray(shapely.line_locate_point(edges, query), dtype=np.float64)
        ahead = shapely.line_interpolate_point(
            edges, np.minimum(along + _DIRECTION_STEP_M, self.lengths[None, :])
        )
        behind = shapely.line_interpolate_point(edges, np.maximum(along - _DIRECTION_STEP_M, 0.0))
        delta = shapely.get_coordinates(ahead.ravel()) - shapely.get_coordinates(behind.ravel())
        direction = heading_of(delta).reshape(distance.shape)
        agrees = angle_between(direction, heading[:, None]) <= self.max_angle_deg
        usable = agrees & (distance <= self.max_distance_m)
        usable &= (np.isfinite(xy).all(axis=1) & np.isfinite(heading))[:, None]
        cost = np.where(usable, distance, np.inf)
        best = np.argmin(cost, axis=1)
        found = np.isfinite(cost[np.arange(cost.shape[0]), best])
        return [str(self.ids[b]) if ok else None for b, ok in zip(best, found, strict=True)]
