"""Spatial queries over many cameras at once (shapely STRtree, scipy KD-tree).

Positions are indexed twice: in lon/lat for bbox and polygon filters given in
WGS84 (GeoJSON's planar lon/lat convention), and in the metric working CRS for
distances and view sectors. Queries return camera row indices, sorted.
"""

from __future__ import annotations

from functools import cached_property

import numpy as np
import shapely
from numpy.typing import NDArray
from scipy.spatial import cKDTree
from shapely.geometry.base import BaseGeometry

from camera_registry.geometry import view_sectors
from skynet.errors import BadInputError

IntArray = NDArray[np.intp]


class SpatialIndex:
    """Immutable index over camera positions and view sectors.

    ``views`` holds each camera's heading, fov and range (``(N, 3)``); sector
    polygons and every tree are built on first use.
    """

    def __init__(
        self,
        lonlat: NDArray[np.float64],
        xy: NDArray[np.float64],
        views: NDArray[np.float64],
    ) -> None:
        self._lonlat = lonlat
        self._xy = xy
        self._views = views

    @cached_property
    def sectors(self) -> NDArray[np.object_]:
        """View-sector polygons in the working CRS, one per camera."""
        return view_sectors(self._xy[:, 0], self._xy[:, 1], *self._views.T)

    @cached_property
    def _lonlat_tree(self) -> shapely.STRtree:
        return shapely.STRtree(shapely.points(self._lonlat))

    @cached_property
    def _metric_tree(self) -> shapely.STRtree:
        return shapely.STRtree(shapely.points(self._xy))

    @cached_property
    def _sector_tree(self) -> shapely.STRtree:
        return shapely.STRtree(self.sectors)

    @cached_property
    def _kdtree(self) -> cKDTree:
        return cKDTree(self._xy)

    def __len__(self) -> int:
        return int(self._xy.shape[0])

    def in_bbox(self, west: float, south: float, east: float, north: float) -> IntArray:
        """Cameras whose position lies in a lon/lat box (edges included)."""
        if not (west <= east and south <= north):
            msg = f"bbox {west},{south},{east},{north} needs west <= east and south <= north"
            raise BadInputError(msg, field="bbox")
        box = shapely.box(west, south, east, north)
        return np.sort(self._lonlat_tree.query(box, predicate="intersects"))

    def in_polygon(self, polygon: BaseGeometry) -> IntArray:
        """Cameras whose position lies in (or on) a lon/lat polygon."""
        if not polygon.is_valid:
            msg = f"polygon is not valid: {shapely.is_valid_reason(polygon)}"
            raise BadInputError(msg, field="polygon")
        return np.sort(self._lonlat_tree.query(polygon, predicate="intersects"))

    def within_radius(self, x: float, y: float, radius_m: float) -> IntArray:
        """Cameras within ``radius_m`` metres of a metric point."""
        if not radius_m >= 0.0:
            msg = f"radius {radius_m!r} must be >= 0 metres"
            raise BadInputError(msg, field="radius")
        centre = shapely.Point(x, y)
        return np.sort(self._metric_tree.query(centre, predicate="dwithin", distance=radius_m))

    def nearest(self, x: float, y: float, k: int) -> tuple[IntArray, NDArray[np.float64]]:
        """The ``k`` cameras nearest to a metric point, closest first, with distances."""
        if k < 1:
            msg = f"k={k} must be at least 1"
            raise BadInputError(msg, field="k")
        k = min(k, len(self))
        if k == 0:
            return np.empty(0, dtype=np.intp), np.empty(0)
        distances, rows = self._kdtree.query([x, y], k=k)
        return np.atleast_1d(rows).astype(np.intp), np.atleast_1d(distances)

    def covering(self, x: float, y: float) -> IntArray:
        """Cameras whose view sector covers a metric point."""
        return np.sort(self._sector_tree.query(shapely.Point(x, y), predicate="intersects"))
