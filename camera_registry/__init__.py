"""Georeferenced camera registry: records, CRS, view geometry, spatial queries, I/O, store."""

from camera_registry.camera import KINDS, STATUSES, Camera
from camera_registry.crs import SiteCRS
from camera_registry.io import CameraFile, read_cameras, write_cameras
from camera_registry.registry import CameraRegistry
from camera_registry.store import ImportSummary, RegistryStore

__all__ = [
    "KINDS",
    "STATUSES",
    "Camera",
    "CameraFile",
    "CameraRegistry",
    "ImportSummary",
    "RegistryStore",
    "SiteCRS",
    "read_cameras",
    "write_cameras",
]
