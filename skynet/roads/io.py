"""One entry point to load or save a road network, dispatching by file suffix."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Final

from camera_registry.crs import SiteCRS
from skynet.errors import BadInputError
from skynet.roads.geojson import read_geojson, write_geojson
from skynet.roads.graphml import read_graphml, write_graphml
from skynet.roads.network import RoadNetwork
from skynet.roads.osm import read_osm

Reader = Callable[..., RoadNetwork]

_READERS: Final[dict[str, Reader]] = {
    ".graphml": read_graphml,
    ".xml": read_osm,
    ".osm": read_osm,
    ".osm.bz2": read_osm,
    ".osm.gz": read_osm,
    ".pbf": read_osm,
    ".osm.pbf": read_osm,
    ".geojson": read_geojson,
    ".json": read_geojson,
}
_WRITERS: Final[dict[str, Callable[[RoadNetwork, Path], None]]] = {
    ".graphml": write_graphml,
    ".geojson": write_geojson,
    ".json": write_geojson,
}


def _suffix(path: Path, known: dict[str, object]) -> str | None:
    name = path.name.lower()
    matches = [suffix for suffix in known if name.endswith(suffix)]
    return max(matches, key=len) if matches else None


def load_road_network(
    path: str | Path, crs: SiteCRS | str | None = None, *, largest_component: bool = False
) -> RoadNetwork:
    """Read GraphML, OSM (XML, .osm.bz2, .pbf) or GeoJSON onto a metric working CRS.

    ``crs`` names the working CRS (default: the file's own metric CRS, else the
    UTM zone of the data). ``largest_component`` keeps only the largest weakly
    connected part instead of rejecting a disconnected network.
    """
    file = Path(path)
    suffix = _suffix(file, dict(_READERS))
    if suffix is None:
        known = ", ".join(sorted(_READERS))
        msg = f"unknown road network format (expected a file ending in {known})"
        raise BadInputError(msg, source=str(path))
    if not file.is_file():
        raise BadInputError("no such file", source=str(path))
    site = SiteCRS.from_user_input(crs) if isinstance(crs, str) else crs
    return _READERS[suffix](file, site, largest_component=largest_component)


def save_road_network(network: RoadNetwork, path: str | Path) -> None:
    """Write GraphML (lossless) or GeoJSON (WGS84 edges), by suffix."""
    file = Path(path)
    suffix = _suffix(file, dict(_WRITERS))
    if suffix is None:
        msg = "can save a road network as .graphml or .geojson only"
        raise BadInputError(msg, source=str(path))
    _WRITERS[suffix](network, file)
