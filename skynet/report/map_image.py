"""A route map drawn with OpenCV alone: no tiles, no internet, no plotting library.

Roads by class, the stretches online cameras watch, cameras by kind (offline
ones crossed), the route (inferred between sightings, and the stretches where
a camera saw the target), its alternatives, the cameras to open next, sighting times, a
legend and a scale bar. The view is the route's extent with a margin.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import cv2
import numpy as np
from numpy.typing import NDArray
from shapely.ops import substring

from camera_registry.registry import CameraRegistry
from skynet._route_shape import Route
from skynet.roads.cameras import CameraAttachment
from skynet.roads.classes import HIGHWAY_CODE
from skynet.roads.network import RoadNetwork
from skynet.times import format_time

ImageU8 = NDArray[np.uint8]
BGR = tuple[int, int, int]

BACKGROUND: Final[BGR] = (246, 244, 240)
WATCHED: Final[BGR] = (150, 215, 150)
OBSERVED: Final[BGR] = (170, 70, 20)
INFERRED: Final[BGR] = (40, 110, 240)
ALTERNATIVE: Final[BGR] = (170, 80, 170)
NEXT: Final[BGR] = (20, 20, 200)
INK: Final[BGR] = (40, 40, 40)
#: Road classes in drawing groups: (codes, colour, thickness px).
_MAJOR = ("motorway", "motorway_link", "trunk", "trunk_link", "primary", "primary_link")
_MIDDLE = ("secondary", "secondary_link", "tertiary", "tertiary_link")
_RURAL = ("unclassified", "track")
ROAD_STYLES: Final = (
    ("major road", {HIGHWAY_CODE[c] for c in _MAJOR}, (95, 95, 95), 3),
    ("secondary / tertiary", {HIGHWAY_CODE[c] for c in _MIDDLE}, (135, 135, 135), 2),
    ("rural lane", {HIGHWAY_CODE[c] for c in _RURAL}, (120, 170, 205), 1),
)
OTHER_ROAD: Final = ("street", (190, 190, 190), 1)
#: Camera kinds: colour and marker.
KIND_STYLES: Final[dict[str, tuple[BGR, int]]] = {
    "road": ((0, 0, 190), cv2.MARKER_SQUARE),
    "checkpoint": ((0, 130, 255), cv2.MARKER_DIAMOND),
    "village": ((0, 150, 0), cv2.MARKER_TRIANGLE_UP),
    "community": ((150, 110, 0), cv2.MARKER_TRIANGLE_UP),
    "other": ((120, 120, 120), cv2.MARKER_TILTED_CROSS),
}
FONT: Final = cv2.FONT_HERSHEY_SIMPLEX


@dataclass(frozen=True)
class MapNote:
    """A labelled camera to mark on the map (the cameras to open next)."""

    camera_id: str
    label: str


@dataclass(frozen=True)
class _View:
    """Metric extent → pixel transform (north up, equal scale on both axes)."""

    x0: float
    y1: float
    scale: float  # pixels per metre
    offset: tuple[float, float]

    def pixels(self, x: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.int32]:
        px = (x - self.x0) * self.scale + self.offset[0]
        py = (self.y1 - y) * self.scale + self.offset[1]
        return np.round(np.column_stack([px, py])).astype(np.int32)


def draw_route_map(
    network: RoadNetwork,
    registry: CameraRegistry,
    attachment: CameraAttachment,
    route: Route,
    *,
    notes: Sequence[MapNote] = (),
    utc_offset_h: float = 0.0,
    title: str = "",
    size: tuple[int, int] = (1600, 1100),
) -> ImageU8:
    """The map as a BGR image of ``size`` (width, height)."""
    width, height = size
    image = np.full((height, width, 3), BACKGROUND, dtype=np.uint8)
    view = _fit(network, route, width, height)
    segments = _edge_pixels(network, view)
    online = attachment.online[attachment.camera]
    _lines(image, _span_pixels(network, attachment, view, np.flatnonzero(online)), WATCHED, 7)
    codes = network.edges.highway
    grouped = set().union(*(codes_ for _, codes_, _, _ in ROAD_STYLES))
    rest = np.flatnonzero(~np.isin(codes, list(grouped)))
    _lines(image, [segments[r] for r in rest.tolist()], OTHER_ROAD[1], OTHER_ROAD[2])
    for _, group, colour, thickness in ROAD_STYLES:
        rows = np.flatnonzero(np.isin(codes, list(group)))
        _lines(image, [segments[r] for r in rows.tolist()], colour, thickness)
    for alternative in route.alternatives:
        _lines(image, [segments[r] for r in alternative.edges.tolist()], ALTERNATIVE, 3)
    _lines(image, [segments[r] for r in route.edges.tolist()], INFERRED, 5)
    seen = _seen_pairs(attachment, route)
    _lines(image, _span_pixels(network, attachment, view, seen), OBSERVED, 7)
    _cameras(image, network, registry, view, route)
    _notes(image, network, registry, view, notes)
    _times(image, network, registry, view, route, utc_offset_h)
    _legend(image, title)
    _scale_bar(image, view)
    return image


def write_png(path: str, image: ImageU8) -> None:
    """Write ``image`` as PNG; an unwritable path is the caller's to report."""
    if not cv2.imwrite(path, image):
        raise OSError(f"OpenCV could not write {path}")


def _fit(network: RoadNetwork, route: Route, width: int, height: int) -> _View:
    nodes, edges = network.nodes, network.edges
    rows = route.edges if route.edges.size else np.arange(len(edges))
    xs = np.concatenate([nodes.x[edges.u[rows]], nodes.x[edges.v[rows]]])
    ys = np.concatenate([nodes.y[edges.u[rows]], nodes.y[edges.v[rows]]])
    x0, x1, y0, y1 = xs.min(), xs.max(), ys.min(), ys.max()
    pad = 0.12 * max(x1 - x0, y1 - y0, 500.0)
    x0, x1, y0, y1 = x0 - pad, x1 + pad, y0 - pad, y1 + pad
    scale = min(width / (x1 - x0), height / (y1 - y0))
    offset = ((width - (x1 - x0) * scale) / 2, (height - (y1 - y0) * scale) / 2)
    return _View(float(x0), float(y1), float(scale), (float(offset[0]), float(offset[1])))


def _edge_pixels(network: RoadNetwork, view: _View) -> list[NDArray[np.int32]]:
    """Every edge's polyline in pixels (stored geometry where there is one)."""
    import shapely

    geometries = network.geometries
    coords, index = shapely.get_coordinates(geometries, return_index=True)
    pixels = view.pixels(coords[:, 0], coords[:, 1])
    cuts = np.flatnonzero(np.diff(index)) + 1
    return list(np.split(pixels, cuts))


def _seen_pairs(attachment: CameraAttachment, route: Route) -> NDArray[np.intp]:
    """Attachment pairs where a camera that saw the target watches an edge of the route."""
    saw = np.isin(attachment.camera_ids[attachment.camera], [s.camera_id for s in route.sightings])
    return np.flatnonzero(saw & np.isin(attachment.edge, route.edges))


def _span_pixels(
    network: RoadNetwork, attachment: CameraAttachment, view: _View, pairs: NDArray[np.intp]
) -> list[NDArray[np.int32]]:
    """The watched span of each attachment pair (a piece of its edge) in pixels."""
    geometries = network.geometries
    out = []
    for pair in pairs.tolist():
        start, end = float(attachment.start_m[pair]), float(attachment.end_m[pair])
        piece = substring(geometries[attachment.edge[pair]], min(start, end), max(start, end))
        coords = np.asarray(piece.coords) if not piece.is_empty else np.empty((0, 2))
        if coords.shape[0] >= 2:
            out.append(view.pixels(coords[:, 0], coords[:, 1]))
    return out


def _lines(image: ImageU8, polylines: list[NDArray[np.int32]], colour: BGR, width: int) -> None:
    if polylines:
        cv2.polylines(image, polylines, False, colour, width, cv2.LINE_AA)


def _camera_pixels(
    network: RoadNetwork, registry: CameraRegistry, view: _View, ids: Sequence[str]
) -> NDArray[np.int32]:
    cameras = [registry.get(c) for c in ids]
    x, y = network.crs.to_metric([c.lon for c in cameras], [c.lat for c in cameras])
    return view.pixels(np.asarray(x), np.asarray(y))


def _cameras(
    image: ImageU8, network: RoadNetwork, registry: CameraRegistry, view: _View, route: Route
) -> None:
    ids = [str(c) for c in registry.ids]
    saw = {s.camera_id for s in route.sightings}
    points = _camera_pixels(network, registry, view, ids)
    for camera_id, (px, py) in zip(ids, points.tolist(), strict=True):
        camera = registry.get(camera_id)
        colour, marker = KIND_STYLES.get(camera.kind, KIND_STYLES["other"])
        big = camera_id in saw
        size, thickness = (16, 3) if big else (10, 2)
        if camera.status != "online":
            cv2.drawMarker(image, (px, py), (255, 255, 255), cv2.MARKER_TILTED_CROSS, size + 4, 4)
            cv2.drawMarker(image, (px, py), colour, cv2.MARKER_TILTED_CROSS, size + 4, 2)
            continue
        if big:
            cv2.circle(image, (px, py), size // 2 + 4, (255, 255, 255), -1, cv2.LINE_AA)
        cv2.drawMarker(image, (px, py), colour, marker, size, thickness, cv2.LINE_AA)


def _notes(
    image: ImageU8,
    network: RoadNetwork,
    registry: CameraRegistry,
    view: _View,
    notes: Sequence[MapNote],
) -> None:
    known = [n for n in notes if n.camera_id in registry]
    if not known:
        return
    points = _camera_pixels(network, registry, view, [n.camera_id for n in known])
    placed: list[tuple[int, int]] = []
    for note, (px, py) in zip(known, points.tolist(), strict=True):
        cv2.circle(image, (px, py), 14, NEXT, 2, cv2.LINE_AA)
        y = py + 5
        while any(abs(px - qx) < 120 and abs(y - qy) < 16 for qx, qy in placed):
            y += 16  # stack labels of neighbouring cameras instead of overprinting
        placed.append((px, y))
        _text(image, note.label, (px + 18, y), NEXT, 0.45, halo=True)


def _times(
    image: ImageU8,
    network: RoadNetwork,
    registry: CameraRegistry,
    view: _View,
    route: Route,
    utc_offset_h: float,
) -> None:
    """Sighting times at their cameras, thinned so that no two labels collide."""
    sightings = [s for s in route.sightings if s.camera_id in registry]
    if not sightings:
        return
    points = _camera_pixels(network, registry, view, [s.camera_id for s in sightings])
    placed: list[tuple[int, int]] = []
    last = len(sightings) - 1
    for index, (sighting, (px, py)) in enumerate(zip(sightings, points.tolist(), strict=True)):
        crowded = any(abs(px - qx) < 70 and abs(py - qy) < 22 for qx, qy in placed)
        if crowded and index not in (0, last):
            continue
        placed.append((px, py))
        label = format_time(sighting.t_in, utc_offset_h)[11:16]
        _text(image, label, (px + 10, py - 10), INK, 0.5, halo=True)


def _legend(image: ImageU8, title: str) -> None:
    entries: list[tuple[str, BGR, str]] = [
        ("route: where a camera saw the target", OBSERVED, "line"),
        ("route: inferred between sightings", INFERRED, "line"),
        ("alternative route", ALTERNATIVE, "line"),
        ("road an online camera watches", WATCHED, "line"),
    ]
    entries += [(name, colour, "line") for name, _, colour, _ in ROAD_STYLES]
    entries.append((OTHER_ROAD[0], OTHER_ROAD[1], "line"))
    entries += [(f"{kind} camera", style[0], kind) for kind, style in KIND_STYLES.items()]
    entries += [("offline camera", INK, "offline"), ("camera to open next", NEXT, "next")]
    top = 44 if title else 12
    box_h = top + 22 * len(entries) + 10
    overlay = image.copy()
    cv2.rectangle(overlay, (10, 10), (400, 10 + box_h), (255, 255, 255), -1)
    cv2.addWeighted(overlay, 0.85, image, 0.15, 0, dst=image)
    cv2.rectangle(image, (10, 10), (400, 10 + box_h), (180, 180, 180), 1)
    if title:
        _text(image, title, (20, 40), INK, 0.6, thickness=2)
    for number, (name, colour, shape) in enumerate(entries):
        y = 10 + top + 22 * number + 12
        if shape == "line":
            cv2.line(image, (22, y), (58, y), colour, 5, cv2.LINE_AA)
        elif shape == "offline":
            cv2.drawMarker(image, (40, y), colour, cv2.MARKER_TILTED_CROSS, 14, 2)
        elif shape == "next":
            cv2.circle(image, (40, y), 9, colour, 2, cv2.LINE_AA)
        else:
            cv2.drawMarker(image, (40, y), colour, KIND_STYLES[shape][1], 12, 2, cv2.LINE_AA)
        _text(image, name, (70, y + 5), INK, 0.45)


def _scale_bar(image: ImageU8, view: _View) -> None:
    height, width = image.shape[:2]
    metres = 200.0 / view.scale
    nice = max(m for m in (100, 200, 500, 1000, 2000, 5000, 10000, 20000) if m <= max(metres, 100))
    length = round(nice * view.scale)
    x, y = 30, height - 30
    cv2.line(image, (x, y), (x + length, y), INK, 3)
    for end in (x, x + length):
        cv2.line(image, (end, y - 6), (end, y + 6), INK, 2)
    label = f"{nice / 1000:g} km" if nice >= 1000 else f"{nice:g} m"
    _text(image, label, (x + length + 10, y + 5), INK, 0.5)
    cv2.arrowedLine(image, (width - 40, 80), (width - 40, 30), INK, 3, tipLength=0.35)
    _text(image, "N", (width - 47, 100), INK, 0.6, thickness=2)


def _text(
    image: ImageU8,
    text: str,
    at: tuple[int, int],
    colour: BGR,
    scale: float,
    *,
    thickness: int = 1,
    halo: bool = False,
) -> None:
    if halo:
        cv2.putText(image, text, at, FONT, scale, (255, 255, 255), thickness + 3, cv2.LINE_AA)
    cv2.putText(image, text, at, FONT, scale, colour, thickness, cv2.LINE_AA)
