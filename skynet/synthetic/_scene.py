"""The static part of a camera's picture: ground, roads, markings, verges, sky, lamps.

Computed once per camera. Every pixel is mapped to the ground through the
camera's homography, so textures are perspective-correct (sampled by
``cv2.remap`` at ground coordinates) and fade into haze with distance. Roads,
shoulders and markings are shapely polygons around the edges near the camera,
clipped to the ground the camera sees and projected into the image.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import cv2
import numpy as np
import shapely
from numpy.typing import NDArray

from skynet.synthetic._projection import Projector
from skynet.synthetic._streets import EdgeTable

FloatArray = NDArray[np.float64]
ImageU8 = NDArray[np.uint8]

#: Texture tile size (texels) and resolution (texels per metre).
_TILE: Final = 256
_TEXELS_PER_M: Final = 8.0
#: Classes with painted lines; rural lanes and tracks have none.
_MARKED: Final = frozenset(
    {"motorway", "trunk", "primary", "secondary", "tertiary", "residential",
     "motorway_link", "trunk_link", "primary_link", "secondary_link", "tertiary_link"}
)  # fmt: skip
#: Classes lit by street lamps at night.
_LIT: Final = _MARKED | {"living_street", "service", "road"}
_DASH_M: Final = 3.0
_GAP_M: Final = 6.0
_LINE_HALF_WIDTH_M: Final = 0.08
_LAMP_SPACING_M: Final = 35.0
_LAMP_SIGMA_M: Final = 7.0
_LAMP_CHUNK: Final = 8
#: Beyond this distance (m) a lamp's pool, exp(-d²/2σ²) with σ = 7 m, is below
#: float32's smallest subnormal (exp(-104)): it adds exactly nothing.
_LAMP_REACH_M: Final = 110.0


@dataclass(frozen=True, eq=False)
class GroundView:
    """Where every pixel lands on the ground, relative to the camera's foot point."""

    local_x: NDArray[np.float32]
    local_y: NDArray[np.float32]
    distance: NDArray[np.float32]
    ground: NDArray[np.bool_]
    footprint: shapely.Polygon
    origin: tuple[float, float]


def ground_view(projector: Projector, max_range_m: float) -> GroundView:
    """Per-pixel ground coordinates and the visible ground polygon (world coordinates)."""
    width, height = projector.width, projector.height
    centre = projector.centre
    to_ground = np.asarray(np.linalg.inv(projector.ground_to_image), dtype=np.float64)
    cols, rows = np.meshgrid(np.arange(width) + 0.5, np.arange(height) + 0.5)
    pixels = np.stack([cols, rows, np.ones_like(cols)], axis=-1)
    mapped = pixels @ to_ground.T
    w = np.where(np.abs(mapped[..., 2]) < 1e-12, 1e-12, mapped[..., 2])
    local_x = mapped[..., 0] / w - centre[0]
    local_y = mapped[..., 1] / w - centre[1]
    distance = np.hypot(local_x, local_y)
    depth_sign = _ground_depth_sign(projector, mapped[..., 0] / w, mapped[..., 1] / w)
    ground = depth_sign
    full_rows = np.flatnonzero((ground & (distance <= max_range_m)).all(axis=1))
    top = int(full_rows[0]) if full_rows.size else height
    footprint = _footprint(to_ground, width, height, top)
    return GroundView(
        local_x=local_x.astype(np.float32),
        local_y=local_y.astype(np.float32),
        distance=np.where(ground, distance, np.inf).astype(np.float32),
        ground=ground,
        footprint=footprint,
        origin=(float(centre[0]), float(centre[1])),
    )


def _ground_depth_sign(projector: Projector, gx: FloatArray, gy: FloatArray) -> NDArray[np.bool_]:
    """True where the ground point lies in front of the camera (positive depth)."""
    row = projector.matrix[2]
    return np.asarray(row[0] * gx + row[1] * gy + row[3] > 0.5, dtype=bool)


def _footprint(to_ground: FloatArray, width: int, height: int, top: int) -> shapely.Polygon:
    """The ground quadrilateral seen by image rows ``top .. height`` (empty if none)."""
    if top >= height:
        return shapely.Polygon()
    corners = np.array([[0, top, 1], [width, top, 1], [width, height, 1], [0, height, 1]], float)
    mapped = corners @ to_ground.T
    return shapely.Polygon(mapped[:, :2] / mapped[:, 2:3])


def static_scene(
    projector: Projector,
    streets: EdgeTable,
    *,
    night: bool,
    seed: int,
    max_range_m: float = 250.0,
) -> ImageU8:
    """The background image of a camera, without vehicles or noise."""
    rng = np.random.default_rng(seed)
    view = ground_view(projector, max_range_m)
    near = streets.edges_near(view.footprint.buffer(20.0)) if not view.footprint.is_empty else None
    edges = near if near is not None else np.empty(0, dtype=np.int64)
    grass = _sample(_texture(rng, (58, 92, 70), 22.0), view)
    asphalt = _sample(_texture(rng, (84, 86, 88), 9.0), view)
    gravel = _sample(_texture(rng, (120, 138, 150), 14.0), view)
    shoulder = _coverage(projector, view, _road_polygons(streets, edges, extra_m=0.9))
    road = _coverage(projector, view, _road_polygons(streets, edges, extra_m=0.0))
    paint = _coverage(projector, view, _marking_polygons(streets, edges))
    image = _blend(grass, gravel, shoulder)
    image = _blend(image, asphalt, road)
    image = _blend(image, np.full_like(image, 225.0), paint * 0.85)
    if night:
        return _night(image, view, streets, edges, rng)
    return _day(image, view)


def _texture(rng: np.random.Generator, bgr: tuple[int, int, int], contrast: float) -> FloatArray:
    """A tileable multi-scale noise texture around a base colour."""
    total = np.zeros((_TILE, _TILE), dtype=np.float64)
    for scale, weight in ((4, 0.5), (16, 0.3), (64, 0.2)):
        coarse = rng.normal(0.0, 1.0, size=(_TILE // scale, _TILE // scale))
        tiled = np.tile(coarse, (3, 3))
        up = cv2.resize(tiled, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
        total += weight * up[_TILE : 2 * _TILE, _TILE : 2 * _TILE]
    grain = rng.normal(0.0, 0.35, size=(_TILE, _TILE))
    value = (total + grain)[..., None] * contrast
    tint = rng.normal(0.0, contrast * 0.15, size=(1, 1, 3))
    return np.asarray(np.asarray(bgr, dtype=np.float64) + value + tint, dtype=np.float64)


def _sample(texture: FloatArray, view: GroundView) -> FloatArray:
    """The texture at each pixel's ground point (perspective-correct, tiled)."""
    map_x = np.mod(view.local_x * _TEXELS_PER_M, _TILE).astype(np.float32)
    map_y = np.mod(view.local_y * _TEXELS_PER_M, _TILE).astype(np.float32)
    far = np.clip(np.minimum(view.distance, 1e6) / 60.0, 1.0, 8.0)
    sampled = cv2.remap(
        texture.astype(np.float32), map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_WRAP
    )
    smooth = cv2.GaussianBlur(sampled, (0, 0), 2.0)
    mix = ((far - 1.0) / 7.0)[..., None]
    return np.asarray(sampled * (1.0 - mix) + smooth * mix, dtype=np.float64)


def _road_polygons(
    streets: EdgeTable, edges: NDArray[np.int64], *, extra_m: float
) -> shapely.Geometry:
    """Union of the carriageways (plus ``extra_m`` each side) of the given edges."""
    if edges.size == 0:
        return shapely.Polygon()
    half = streets.width_m[edges] / 2.0 + extra_m
    return shapely.union_all(shapely.buffer(streets.geometry[edges], half, quad_segs=4))


def _marking_polygons(streets: EdgeTable, edges: NDArray[np.int64]) -> shapely.Geometry:
    """Edge lines and dashed centre lines of marked roads (each road drawn once)."""
    marked = edges[np.isin(streets.highway[edges], list(_MARKED)) & streets.drawn[edges]]
    if marked.size == 0:
        return shapely.Polygon()
    lines = streets.geometry[marked]
    inset = streets.width_m[marked] / 2.0 - 0.35
    sides = np.concatenate(
        [shapely.offset_curve(lines, inset), shapely.offset_curve(lines, -inset)]
    )
    two_way = marked[~streets.oneway[marked]]
    dashes = _dashes(streets, two_way)
    parts = np.concatenate([sides, dashes])
    paint = shapely.union_all(shapely.buffer(parts, _LINE_HALF_WIDTH_M, cap_style="flat"))
    return shapely.difference(paint, _junctions(streets, edges))


def _junctions(streets: EdgeTable, edges: NDArray[np.int64]) -> shapely.Geometry:
    """Discs over nodes where three or more roads meet (no lines are painted there)."""
    drawn = edges[streets.drawn[edges]]
    ends = np.concatenate([streets.u[drawn], streets.v[drawn]])
    widths = np.concatenate([streets.width_m[drawn], streets.width_m[drawn]])
    nodes, inverse, degree = np.unique(ends, return_inverse=True, return_counts=True)
    radius = np.zeros(nodes.shape[0])
    np.maximum.at(radius, inverse, widths / 2.0 + 0.6)
    junction = degree >= 3
    if not junction.any():
        return shapely.Polygon()
    centres = shapely.points(streets.node_x[nodes[junction]], streets.node_y[nodes[junction]])
    return shapely.union_all(shapely.buffer(centres, radius[junction], quad_segs=6))


def _dashes(streets: EdgeTable, edges: NDArray[np.int64]) -> NDArray[np.object_]:
    """Short straight dashes along each edge's centre line."""
    if edges.size == 0:
        return np.empty(0, dtype=object)
    lengths = streets.geometry_length[edges]
    counts = np.floor(lengths / (_DASH_M + _GAP_M)).astype(np.int64)
    owner = np.repeat(np.arange(edges.size), counts)
    first = np.concatenate([[0], np.cumsum(counts)[:-1]])
    rank = np.arange(owner.size) - first[owner]
    start = rank * (_DASH_M + _GAP_M) + 0.5 * _GAP_M
    geometry = streets.geometry[edges][owner]
    a = shapely.get_coordinates(shapely.line_interpolate_point(geometry, start))
    b = shapely.get_coordinates(shapely.line_interpolate_point(geometry, start + _DASH_M))
    return np.asarray(shapely.linestrings(np.stack([a, b], axis=1)), dtype=object)


def _coverage(projector: Projector, view: GroundView, shapes: shapely.Geometry) -> FloatArray:
    """Anti-aliased 0..1 coverage of ground polygons in the image."""
    mask = np.zeros((projector.height, projector.width), dtype=np.uint8)
    if view.footprint.is_empty or shapes.is_empty:
        return mask.astype(np.float64)
    clipped = shapely.intersection(shapes, view.footprint)
    polygons = shapely.get_parts(clipped)
    polygons = polygons[shapely.get_type_id(polygons) == shapely.GeometryType.POLYGON]
    rings = [r for p in polygons for r in (p.exterior, *p.interiors)]
    contours = []
    for ring in rings:
        ground = np.asarray(ring.coords).reshape(-1, 2)[:, :2]
        if ground.shape[0] < 3:  # an empty or degenerate part of the clipped shapes
            continue
        points = np.column_stack([ground, np.zeros(ground.shape[0])])
        pixels, _ = projector.project(points)
        # Keep within int32 once scaled by the 4 fractional bits fillPoly uses.
        contours.append(np.rint(np.clip(pixels, -1e6, 1e6) * 16.0).astype(np.int32))
    if contours:
        cv2.fillPoly(mask, contours, 255, cv2.LINE_AA, 4)
    return mask.astype(np.float64) / 255.0


def _blend(under: FloatArray, over: FloatArray, alpha: FloatArray) -> FloatArray:
    """``over`` on top of ``under`` with per-pixel opacity."""
    a = alpha[..., None]
    return np.asarray(under * (1.0 - a) + over * a, dtype=np.float64)


def _day(image: FloatArray, view: GroundView) -> ImageU8:
    """Daylight: haze with distance and a pale sky above the ground."""
    haze = np.array([205.0, 198.0, 190.0])
    fog = (1.0 - np.exp(-np.minimum(view.distance, 1e6) / 500.0))[..., None]
    lit = image * (1.0 - fog) + haze * fog
    rows = np.linspace(0.0, 1.0, image.shape[0])[:, None, None]
    sky = np.array([235.0, 215.0, 195.0]) * (1.0 - rows) + haze * rows
    out = np.where(view.ground[..., None], lit, sky)
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def _night(
    image: FloatArray,
    view: GroundView,
    streets: EdgeTable,
    edges: NDArray[np.int64],
    rng: np.random.Generator,
) -> ImageU8:
    """Night: the ground barely lit except in pools under street lamps along town roads."""
    light = np.full(image.shape[:2], 0.045)
    lamps = (_lamp_positions(streets, edges, rng) - np.asarray(view.origin)).astype(np.float32)
    ground = view.ground  # the sky is painted over below: its light is never read
    local_x, local_y = view.local_x[ground], view.local_y[ground]
    lit_pools = _lamp_pools(local_x, local_y, lamps)
    pools = np.zeros(image.shape[:2], dtype=np.float32)
    pools[ground] = lit_pools
    light = light + 0.5 * np.minimum(pools, 1.3)
    sodium = np.array([0.75, 0.9, 1.15])
    lit = image * light[..., None] * sodium
    out = np.where(view.ground[..., None], lit, np.array([18.0, 12.0, 10.0]))
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def _lamp_pools(
    x: NDArray[np.float32], y: NDArray[np.float32], lamps: NDArray[np.float32]
) -> NDArray[np.float32]:
    """Summed lamp light (Gaussian pools) at ground points ``x``, ``y``.

    Lamps are summed in fixed chunks (bounded memory on large frames). Each
    chunk is evaluated only at the points within :data:`_LAMP_REACH_M` of its
    lamps' bounding box: farther, every term underflows to exactly 0 in
    float32, so the sums are bit for bit those over every point, for a
    fraction of the work (most lamps near a camera light ground it cannot see).
    """
    pools = np.zeros(x.shape, dtype=np.float32)
    spread = np.float32(2.0 * _LAMP_SIGMA_M**2)
    for start in range(0, lamps.shape[0], _LAMP_CHUNK):
        chunk = lamps[start : start + _LAMP_CHUNK]
        low = chunk.min(axis=0) - _LAMP_REACH_M
        high = chunk.max(axis=0) + _LAMP_REACH_M
        near = np.flatnonzero((x >= low[0]) & (x <= high[0]) & (y >= low[1]) & (y <= high[1]))
        if near.size == 0:
            continue
        dx = x[near, None] - chunk[:, 0]
        dy = y[near, None] - chunk[:, 1]
        pools[near] += np.exp(-(dx * dx + dy * dy) / spread).sum(axis=-1)
    return pools


def _lamp_positions(
    streets: EdgeTable, edges: NDArray[np.int64], rng: np.random.Generator
) -> FloatArray:
    """Lamp posts along lit roads, at the kerb, every :data:`_LAMP_SPACING_M` metres."""
    lit = edges[np.isin(streets.highway[edges], list(_LIT)) & streets.drawn[edges]]
    if lit.size == 0:
        return np.empty((0, 2), dtype=np.float64)
    kerb = shapely.offset_curve(streets.geometry[lit], streets.width_m[lit] / 2.0 + 0.5)
    lengths = shapely.length(kerb)
    counts = np.floor(lengths / _LAMP_SPACING_M).astype(np.int64) + 1
    owner = np.repeat(np.arange(lit.size), counts)
    first = np.concatenate([[0], np.cumsum(counts)[:-1]])
    phase = rng.random(lit.size) * _LAMP_SPACING_M
    along = (np.arange(owner.size) - first[owner]) * _LAMP_SPACING_M + phase[owner]
    points = shapely.line_interpolate_point(kerb[owner], np.minimum(along, lengths[owner]))
    return np.asarray(shapely.get_coordinates(points), dtype=np.float64)
