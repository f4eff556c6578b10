"""OpenStreetMap XML / ``.osm.bz2`` / ``.pbf`` to a road network, through pyosmium.

Only drivable ways are kept (see :data:`~skynet.roads.classes.DRIVABLE`; ways
closed to motor traffic are dropped). Ways are split into edges at every node
that another way shares (and at their ends); a two-way road becomes a pair of
edges, a ``oneway`` road one edge in its direction of travel. Lengths are
measured in the metric working CRS. Splitting and measuring are vectorised
over all way nodes at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import networkx as nx
import numpy as np
import osmium
import shapely
from numpy.typing import NDArray

from camera_registry.crs import SiteCRS
from skynet.errors import BadInputError
from skynet.roads.classes import DRIVABLE
from skynet.roads.network import RoadNetwork

#: Tags copied from the way onto each of its edges.
KEPT_TAGS: Final = ("highway", "maxspeed", "name", "ref", "lanes", "junction")
_CLOSED: Final = {"access": ("no", "private"), "motor_vehicle": ("no",), "motorcar": ("no",)}
_FORWARD: Final = ("yes", "true", "1")
_BACKWARD: Final = ("-1", "reverse")


@dataclass
class _Ways:
    """Drivable ways, their nodes flattened into one array each."""

    way_ids: list[int] = field(default_factory=list)
    tags: list[dict[str, str]] = field(default_factory=list)
    direction: list[int] = field(default_factory=list)
    starts: list[int] = field(default_factory=list)
    refs: list[int] = field(default_factory=list)
    lons: list[float] = field(default_factory=list)
    lats: list[float] = field(default_factory=list)

    def add(self, way: Any) -> None:
        tags = {key: way.tags[key] for key in KEPT_TAGS if key in way.tags}
        nodes = [(n.ref, n.lon, n.lat) for n in way.nodes if n.location.valid()]
        if len(nodes) < 2:
            return
        self.way_ids.append(int(way.id))
        self.tags.append(tags)
        self.direction.append(_direction(way.tags))
        self.starts.append(len(self.refs))
        for ref, lon, lat in nodes:
            self.refs.append(int(ref))
            self.lons.append(float(lon))
            self.lats.append(float(lat))


def read_osm(
    path: str | Path, crs: SiteCRS | None = None, *, largest_component: bool = False
) -> RoadNetwork:
    """The drivable road network of an OSM file (XML, ``.osm.bz2``, ``.pbf``)."""
    source = str(path)
    if not Path(path).is_file():
        raise BadInputError("no such file", source=source)
    ways = _read_ways(path, source)
    if not ways.way_ids:
        raise BadInputError("no drivable roads in this OpenStreetMap file", source=source)
    site = crs or SiteCRS.for_points(ways.lons, ways.lats)
    graph = _build_graph(ways, site)
    graph.graph["crs"] = site.code
    return RoadNetwork.from_graph(graph, site, largest_component=largest_component, source=source)


def _read_ways(path: str | Path, source: str) -> _Ways:
    ways = _Ways()
    try:
        processor = (
            osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY)
            .with_locations()
            .with_filter(osmium.filter.KeyFilter("highway"))
        )
        for item in processor:
            if isinstance(item, osmium.osm.Way) and _drivable(item.tags):
                ways.add(item)
    except RuntimeError as exc:
        msg = f"not a readable OpenStreetMap file ({exc})"
        raise BadInputError(msg, source=source) from None
    return ways


def _drivable(tags: Any) -> bool:
    if tags.get("highway") not in DRIVABLE or tags.get("area") == "yes":
        return False
    return not any(tags.get(key) in closed for key, closed in _CLOSED.items())


def _direction(tags: Any) -> int:
    """+1 one-way along the way, -1 against it, 0 both ways."""
    oneway = tags.get("oneway")
    if oneway in _FORWARD:
        return 1
    if oneway in _BACKWARD:
        return -1
    if oneway is None and (
        tags.get("junction") in ("roundabout", "circular") or tags.get("highway") == "motorway"
    ):
        return 1
    return 0


def _build_graph(ways: _Ways, site: SiteCRS) -> nx.MultiDiGraph:
    refs = np.asarray(ways.refs, dtype=np.int64)
    lon = np.asarray(ways.lons, dtype=np.float64)
    lat = np.asarray(ways.lats, dtype=np.float64)
    x, y = site.to_metric(lon, lat)
    starts = np.asarray(ways.starts, dtype=np.intp)
    ends = np.append(starts[1:], refs.size) - 1
    way_of = np.repeat(np.arange(starts.size), np.diff(np.append(starts, refs.size)))

    _, inverse, counts = np.unique(refs, return_inverse=True, return_counts=True)
    split = counts[inverse] >= 2
    split[starts] = True
    split[ends] = True
    cuts = np.flatnonzero(split)
    same_way = way_of[cuts[:-1]] == way_of[cuts[1:]]
    first, last = cuts[:-1][same_way], cuts[1:][same_way]

    step = np.hypot(np.diff(x), np.diff(y))
    along = np.concatenate([[0.0], np.cumsum(step)])
    length = along[last] - along[first]
    keep = length > 0.0
    first, last, length = first[keep], last[keep], length[keep]

    geometries = _segments(first, last, x, y)
    graph = nx.MultiDiGraph()
    nodes = np.unique(np.concatenate([refs[first], refs[last]]))
    row_of = {int(ref): row for row, ref in enumerate(refs)}
    graph.add_nodes_from(
        (int(ref), {"x": x[r], "y": y[r], "lon": lon[r], "lat": lat[r]})
        for ref in nodes
        for r in (row_of[int(ref)],)
    )
    graph.add_edges_from(_edges(ways, way_of, refs, first, last, length, geometries))
    return graph


def _segments(
    first: NDArray[np.intp], last: NDArray[np.intp], x: NDArray[np.float64], y: NDArray[np.float64]
) -> NDArray[np.object_]:
    """LineStrings through the way nodes ``first..last`` of every edge, in one call."""
    counts = last - first + 1
    offsets = np.repeat(first - np.concatenate([[0], np.cumsum(counts)[:-1]]), counts)
    gather = np.arange(int(counts.sum())) + offsets
    line = np.repeat(np.arange(first.size), counts)
    coordinates = np.column_stack([x[gather], y[gather]])
    return np.asarray(shapely.linestrings(coordinates, indices=line), dtype=object)


def _edges(
    ways: _Ways,
    way_of: NDArray[np.intp],
    refs: NDArray[np.int64],
    first: NDArray[np.intp],
    last: NDArray[np.intp],
    length: NDArray[np.float64],
    geometries: NDArray[np.object_],
) -> list[tuple[int, int, dict[str, Any]]]:
    reversed_geometries = shapely.reverse(geometries)
    out: list[tuple[int, int, dict[str, Any]]] = []
    for row in range(first.size):
        way = int(way_of[first[row]])
        direction = ways.direction[way]
        a, b = int(refs[first[row]]), int(refs[last[row]])
        shape = geometries[row] if last[row] - first[row] > 1 else None
        back = reversed_geometries[row] if shape is not None else None
        common = {"osmid": ways.way_ids[way], **ways.tags[way], "length": float(length[row])}
        oneway = direction != 0
        if direction >= 0:
            out.append((a, b, {**common, "oneway": oneway, "reversed": False, "geometry": shape}))
        if direction <= 0:
            out.append((b, a, {**common, "oneway": oneway, "reversed": True, "geometry": back}))
    for _, _, data in out:
        if data["geometry"] is None:
            del data["geometry"]
    return out
