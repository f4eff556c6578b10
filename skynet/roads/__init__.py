"""The road network: load, validate, snap, route, attach cameras, measure coverage.

``RoadNetwork`` wraps a networkx ``MultiDiGraph`` in osmnx conventions on the
site's metric working CRS; readers take GraphML (osmnx's), OpenStreetMap
(XML, .osm.bz2, .pbf) and GeoJSON; ``RoadStore`` keeps it next to the camera
registry.
"""

from skynet.roads.cameras import CameraAttachment, attach_cameras
from skynet.roads.classes import DEFAULT_SPEED_KPH, HIGHWAY_CLASSES, HIGHWAY_CODE
from skynet.roads.coverage import CoverageReport, coverage_report
from skynet.roads.io import load_road_network, save_road_network
from skynet.roads.network import EdgeArrays, NodeArrays, RoadNetwork
from skynet.roads.routing import Path, PointPath, path_between_points, shortest_path
from skynet.roads.snap import Snapped, snap
from skynet.roads.store import RoadStore, StoredNetwork

__all__ = [
    "DEFAULT_SPEED_KPH",
    "HIGHWAY_CLASSES",
    "HIGHWAY_CODE",
    "CameraAttachment",
    "CoverageReport",
    "EdgeArrays",
    "NodeArrays",
    "Path",
    "PointPath",
    "RoadNetwork",
    "RoadStore",
    "Snapped",
    "StoredNetwork",
    "attach_cameras",
    "coverage_report",
    "load_road_network",
    "path_between_points",
    "save_road_network",
    "shortest_path",
    "snap",
]
