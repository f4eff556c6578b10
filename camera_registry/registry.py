"""``CameraRegistry``: a site's cameras with their CRS, arrays and spatial index."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from functools import cached_property

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry.base import BaseGeometry

from camera_registry.camera import Camera, check_unique_ids
from camera_registry.crs import SiteCRS
from camera_registry.index import SpatialIndex
from skynet.errors import BadInputError, NotFoundError


class CameraRegistry:
    """An immutable, validated set of cameras on one metric working CRS.

    Column arrays (positions, headings, …) and the spatial index are built on
    first use, so loading a large registry costs only the records.
    """

    def __init__(self, cameras: Sequence[Camera], crs: SiteCRS | None = None) -> None:
        check_unique_ids(cameras)
        self.cameras: tuple[Camera, ...] = tuple(cameras)
        if crs is None:
            if not self.cameras:
                msg = "an empty registry needs its working CRS given"
                raise BadInputError(msg, field="crs")
            crs = SiteCRS.for_points(self.lonlat[:, 0], self.lonlat[:, 1])
        self.crs = crs
        self._row_of = {camera.id: row for row, camera in enumerate(self.cameras)}

    def __len__(self) -> int:
        return len(self.cameras)

    def __iter__(self) -> Iterator[Camera]:
        return iter(self.cameras)

    def __contains__(self, camera_id: object) -> bool:
        return camera_id in self._row_of

    def get(self, camera_id: str) -> Camera:
        """The camera with this id, or :class:`NotFoundError`."""
        try:
            return self.cameras[self._row_of[camera_id]]
        except KeyError:
            msg = f"no camera with id {camera_id!r} in the registry"
            raise NotFoundError(msg) from None

    def rows(self, camera_ids: Sequence[str]) -> NDArray[np.intp]:
        """Row indices of the named cameras (raises for an unknown id)."""
        try:
            return np.fromiter((self._row_of[c] for c in camera_ids), dtype=np.intp)
        except KeyError as exc:
            msg = f"no camera with id {exc.args[0]!r} in the registry"
            raise NotFoundError(msg) from None

    def select(self, rows: NDArray[np.intp]) -> list[Camera]:
        """The cameras at the given row indices."""
        return [self.cameras[int(row)] for row in rows]

    @cached_property
    def ids(self) -> NDArray[np.str_]:
        return np.array([c.id for c in self.cameras], dtype=str)

    @cached_property
    def lonlat(self) -> NDArray[np.float64]:
        """``(N, 2)`` WGS84 positions."""
        return np.array([(c.lon, c.lat) for c in self.cameras], dtype=np.float64).reshape(-1, 2)

    @cached_property
    def xy(self) -> NDArray[np.float64]:
        """``(N, 2)`` positions in the working CRS."""
        x, y = self.crs.to_metric(self.lonlat[:, 0], self.lonlat[:, 1])
        return np.column_stack([x, y])

    @property
    def sectors(self) -> NDArray[np.object_]:
        """View-sector polygons in the working CRS, one per camera."""
        return self.index.sectors

    @cached_property
    def index(self) -> SpatialIndex:
        views = np.array(
            [(c.heading_deg, c.fov_deg, c.range_m) for c in self.cameras], dtype=np.float64
        ).reshape(-1, 3)
        return SpatialIndex(self.lonlat, self.xy, views)

    def in_bbox(self, west: float, south: float, east: float, north: float) -> list[Camera]:
        """Cameras inside a WGS84 bounding box."""
        return self.select(self.index.in_bbox(west, south, east, north))

    def in_polygon(self, polygon: BaseGeometry) -> list[Camera]:
        """Cameras inside a WGS84 polygon."""
        return self.select(self.index.in_polygon(polygon))

    def near(self, lon: float, lat: float, radius_m: float) -> list[Camera]:
        """Cameras within ``radius_m`` metres of a WGS84 point, nearest first."""
        x, y = self._project(lon, lat)
        rows = self.index.within_radius(x, y, radius_m)
        distances = np.hypot(self.xy[rows, 0] - x, self.xy[rows, 1] - y)
        return self.select(rows[np.argsort(distances, kind="stable")])

    def nearest(self, lon: float, lat: float, k: int = 1) -> list[Camera]:
        """The ``k`` cameras nearest to a WGS84 point, nearest first."""
        rows, _ = self.index.nearest(*self._project(lon, lat), k)
        return self.select(rows)

    def covering(self, lon: float, lat: float) -> list[Camera]:
        """Cameras whose view sector covers a WGS84 point."""
        return self.select(self.index.covering(*self._project(lon, lat)))

    def watched_area_m2(self, rows: NDArray[np.intp] | None = None) -> float:
        """Ground area covered by the union of the (selected) cameras' views."""
        sectors = self.sectors if rows is None else self.sectors[rows]
        if len(sectors) == 0:
            return 0.0
        return float(shapely.union_all(sectors).area)

    def _project(self, lon: float, lat: float) -> tuple[float, float]:
        x, y = self.crs.to_metric([lon], [lat])
        return float(x[0]), float(y[0])
