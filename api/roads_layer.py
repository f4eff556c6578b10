"""The road network as map lines: one per physical road, in lon/lat, cut by box, thinned by zoom.

A wall shows a whole district at zoom 12 and a junction at zoom 18; the
lines are simplified (Douglas-Peucker, shapely) to about half a screen
pixel at the zoom asked for, so a district's roads stay small enough to
send and a junction keeps its shape.
"""

from __future__ import annotations

import json
from typing import Any, Final

import numpy as np
import shapely
from numpy.typing import NDArray

from skynet.roads.classes import HIGHWAY_CLASSES
from skynet.roads.network import RoadNetwork

#: Web-map tile size (px): one tile spans 360° at zoom 0.
TILE_PX: Final = 256
#: Most detail asked for (a building's width at zoom 22 is far below any road's).
MAX_ZOOM: Final = 22


def tolerance_deg(zoom: int) -> float:
    """Half a screen pixel at ``zoom``, in degrees of longitude."""
    return 360.0 / (TILE_PX * 2.0**zoom) / 2.0


class RoadLayer:
    """Lon/lat lines of the physical roads, a spatial index over them, their classes."""

    def __init__(self, network: RoadNetwork) -> None:
        self.network = network
        crs = network.crs

        def unproject(coordinates: NDArray[np.float64]) -> NDArray[np.float64]:
            lon, lat = crs.to_lonlat(coordinates[:, 0], coordinates[:, 1])
            return np.column_stack([lon, lat])

        edges = network.edges
        _, first = np.unique(edges.road, return_index=True)  # one direction of a two-way road
        self.rows = first
        self.lines = shapely.transform(network.geometries[first], unproject)
        self.highway = edges.highway[first]
        self.length_m = edges.length[first]
        self.tree = shapely.STRtree(self.lines)

    def __len__(self) -> int:
        return int(self.lines.size)

    def geojson(
        self, bbox: tuple[float, float, float, float] | None = None, zoom: int = 16
    ) -> dict[str, Any]:
        """The roads crossing ``bbox`` (all without one) as a FeatureCollection."""
        if bbox is None:
            picked = np.arange(self.lines.size)
        else:
            picked = np.sort(self.tree.query(shapely.box(*bbox), predicate="intersects"))
        lines = shapely.simplify(self.lines[picked], tolerance_deg(min(zoom, MAX_ZOOM)))
        geometries = json.loads("[" + ",".join(shapely.to_geojson(lines).tolist()) + "]")
        features = [
            {
                "type": "Feature",
                "id": int(row),
                "geometry": geometry,
                "properties": {
                    "highway": HIGHWAY_CLASSES[int(self.highway[row])],
                    "length_m": round(float(self.length_m[row]), 1),
                },
            }
            for row, geometry in zip(picked.tolist(), geometries, strict=True)
        ]
        return {"type": "FeatureCollection", "features": features}
