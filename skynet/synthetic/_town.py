"""The town: a street grid, a ring road, through arterials, the industrial park.

The grid has a primary cross through its centre, secondary arterials every
fifth street, tertiary collectors between them and residential streets (some
one-way) in the rest. Arterial streets run on to a ring road; the central cross
continues as primary roads towards the county boundary, and a trunk road links
the ring with the industrial park's gate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

import numpy as np
import shapely
from numpy.typing import NDArray

from skynet.synthetic._builder import HIGHWAY_CODE, FloatArray, GraphBuilder, IntArray

#: Every ``ARTERIAL_PERIOD``-th street of the grid is an arterial.
ARTERIAL_PERIOD: Final = 5
#: Gap (m) between the grid's outer streets and the ring road.
RING_MARGIN_M: Final = 500.0
#: Node position noise (m) so that the grid is not ruler-straight.
GRID_JITTER_M: Final = 4.0


def street_classes(count: int, *, with_oneway: bool) -> tuple[NDArray[np.int8], NDArray[np.int8]]:
    """Class code and one-way direction (+1, -1, 0) of each of ``count`` parallel streets.

    The central street is primary; every fifth from it secondary; one
    collector between two arterials tertiary; residential streets beside an arterial
    are one-way in opposite directions (inner streets only).
    """
    index = np.arange(count)
    centre = count // 2
    phase = (index - centre) % ARTERIAL_PERIOD
    codes = np.full(count, HIGHWAY_CODE["residential"], dtype=np.int8)
    codes[phase == 2] = HIGHWAY_CODE["tertiary"]
    codes[phase == 0] = HIGHWAY_CODE["secondary"]
    codes[centre] = HIGHWAY_CODE["primary"]
    direction = np.zeros(count, dtype=np.int8)
    if with_oneway:
        inner = (index > 0) & (index < count - 1)
        direction[inner & (phase == 1)] = 1
        direction[inner & (phase == ARTERIAL_PERIOD - 1)] = -1
    return codes, direction


def grid_edge_count(nx_: int, ny: int) -> int:
    """Directed edges of an ``nx_ × ny`` town grid (one-way rows count once)."""
    _, direction = street_classes(ny, with_oneway=True)
    row_edges = (nx_ - 1) * int(np.where(direction == 0, 2, 1).sum())
    return row_edges + 2 * nx_ * (ny - 1)


@dataclass(frozen=True)
class TownGrid:
    """Node ids ``ids[row, column]`` (row 0 in the south) and street layout."""

    ids: IntArray
    centre: FloatArray
    street_x: FloatArray
    street_y: FloatArray
    row_codes: NDArray[np.int8]
    column_codes: NDArray[np.int8]

    @property
    def half_size(self) -> tuple[float, float]:
        return (
            0.5 * float(self.street_x[-1] - self.street_x[0]),
            0.5 * float(self.street_y[-1] - self.street_y[0]),
        )


def build_grid(
    builder: GraphBuilder,
    centre: FloatArray,
    shape: tuple[int, int],
    block_m: float,
    rng: np.random.Generator,
) -> TownGrid:
    """The town grid's nodes and streets."""
    nx_, ny = shape
    street_x = centre[0] + (np.arange(nx_) - (nx_ - 1) / 2.0) * block_m
    street_y = centre[1] + (np.arange(ny) - (ny - 1) / 2.0) * block_m
    gx, gy = np.meshgrid(street_x, street_y)
    jitter = np.clip(
        rng.normal(0.0, GRID_JITTER_M / 2.0, size=(ny, nx_, 2)), -GRID_JITTER_M, GRID_JITTER_M
    )
    points = np.stack([gx, gy], axis=-1) + jitter
    ids = builder.add_nodes(points.reshape(-1, 2), "town").reshape(ny, nx_)

    row_codes, row_direction = street_classes(ny, with_oneway=True)
    west, east = ids[:, :-1], ids[:, 1:]
    westbound = np.broadcast_to((row_direction == -1)[:, None], west.shape)
    builder.add_segments(
        np.where(westbound, east, west),
        np.where(westbound, west, east),
        np.broadcast_to(row_codes[:, None], west.shape).reshape(-1),
        np.broadcast_to((row_direction != 0)[:, None], west.shape).reshape(-1),
    )
    column_codes, _ = street_classes(nx_, with_oneway=False)
    builder.add_segments(
        ids[:-1, :], ids[1:, :], np.broadcast_to(column_codes[None, :], (ny - 1, nx_)).reshape(-1)
    )
    return TownGrid(
        ids, np.asarray(centre, dtype=np.float64), street_x, street_y, row_codes, column_codes
    )


@dataclass(frozen=True)
class Park:
    """The industrial park: its node grid, outline and gate (the corner nearest town)."""

    ids: IntArray
    polygon: shapely.Polygon
    gate: int
    corners: tuple[int, ...]


def build_park(
    builder: GraphBuilder,
    centre: FloatArray,
    shape: tuple[int, int],
    block_m: float,
    town_centre: FloatArray,
    rng: np.random.Generator,
) -> Park:
    """A small grid of tertiary estate roads with a fenced outline."""
    px, py = shape
    xs = centre[0] + (np.arange(px) - (px - 1) / 2.0) * block_m
    ys = centre[1] + (np.arange(py) - (py - 1) / 2.0) * block_m
    gx, gy = np.meshgrid(xs, ys)
    jitter = rng.uniform(-GRID_JITTER_M, GRID_JITTER_M, size=(py, px, 2))
    points = (np.stack([gx, gy], axis=-1) + jitter).reshape(-1, 2)
    ids = builder.add_nodes(points, "industrial park").reshape(py, px)
    builder.add_segments(ids[:, :-1], ids[:, 1:], "tertiary")
    builder.add_segments(ids[:-1, :], ids[1:, :], "tertiary")
    polygon = shapely.box(xs[0] - 80.0, ys[0] - 80.0, xs[-1] + 80.0, ys[-1] + 80.0)
    corners = np.array([ids[0, 0], ids[0, -1], ids[-1, 0], ids[-1, -1]])
    distance = np.hypot(*(points[corners - ids[0, 0]] - town_centre).T)
    gate = int(corners[int(np.argmin(distance))])
    others = tuple(int(c) for c in corners if c != gate)
    return Park(ids, polygon, gate, others)


@dataclass(frozen=True)
class RingAttachment:
    """A point on the ring: its angle (radians, counter-clockwise from east)
    and the node to join to it with a road of class ``highway`` (or none)."""

    angle: float
    node: int | None
    highway: str | None


def arterial_attachments(grid: TownGrid, radius: float) -> list[RingAttachment]:
    """Where each arterial street of the grid, extended outwards, meets the ring."""
    arterial = {HIGHWAY_CODE["primary"], HIGHWAY_CODE["secondary"]}
    names = {HIGHWAY_CODE["primary"]: "primary", HIGHWAY_CODE["secondary"]: "secondary"}
    out: list[RingAttachment] = []
    cx, cy = grid.centre
    for row, code in enumerate(grid.row_codes.tolist()):
        if code in arterial:
            dy = float(grid.street_y[row] - cy)
            reach = math.sqrt(radius**2 - dy**2)
            out.append(RingAttachment(math.atan2(dy, reach), int(grid.ids[row, -1]), names[code]))
            out.append(RingAttachment(math.atan2(dy, -reach), int(grid.ids[row, 0]), names[code]))
    for column, code in enumerate(grid.column_codes.tolist()):
        if code in arterial:
            dx = float(grid.street_x[column] - cx)
            reach = math.sqrt(radius**2 - dx**2)
            out.append(
                RingAttachment(math.atan2(reach, dx), int(grid.ids[-1, column]), names[code])
            )
            out.append(
                RingAttachment(math.atan2(-reach, dx), int(grid.ids[0, column]), names[code])
            )
    return out


def build_ring(
    builder: GraphBuilder,
    centre: FloatArray,
    radius: float,
    attachments: list[RingAttachment],
) -> list[int]:
    """A secondary ring road through one node per attachment; returns those nodes.

    Attachments are at distinct angles (the caller spaces them); each ring
    arc bends through a vertex every ~100 m, so its length is the arc's.
    """
    angles = np.array([a.angle for a in attachments]) % (2.0 * np.pi)
    order = np.argsort(angles, kind="stable")
    sorted_angles = angles[order]
    points = centre + radius * np.column_stack([np.cos(sorted_angles), np.sin(sorted_angles)])
    ring_ids = builder.add_nodes(points, "ring")
    node_of = np.empty(len(attachments), dtype=np.int64)
    node_of[order] = ring_ids
    following = np.roll(np.arange(ring_ids.shape[0]), -1)
    sweep = (sorted_angles[following] - sorted_angles) % (2.0 * np.pi)
    for index, next_index in enumerate(following.tolist()):
        steps = max(2, math.ceil(radius * float(sweep[index]) / 100.0))
        inner = sorted_angles[index] + sweep[index] * np.linspace(0.0, 1.0, steps + 1)[1:-1]
        arc = centre + radius * np.column_stack([np.cos(inner), np.sin(inner)])
        builder.add_path(int(ring_ids[index]), int(ring_ids[next_index]), "secondary", arc)
    for attachment, ring_node in zip(attachments, node_of.tolist(), strict=True):
        if attachment.node is not None and attachment.highway is not None:
            builder.add_segments(attachment.node, ring_node, attachment.highway)
    return [int(n) for n in node_of]


def spaced_angles(wanted: list[float], taken: list[float], min_gap: float) -> list[float]:
    """Angles from ``wanted``, each nudged until it is ``min_gap`` from all ``taken``."""
    out: list[float] = []
    occupied = list(taken)
    for angle in wanted:
        candidate = angle
        for _ in range(64):
            gaps = [abs((candidate - t + math.pi) % (2 * math.pi) - math.pi) for t in occupied]
            if not gaps or min(gaps) >= min_gap:
                break
            candidate += min_gap / 2.0
        out.append(candidate)
        occupied.append(candidate)
    return out


def build_through_arterial(
    builder: GraphBuilder,
    start: int,
    direction: FloatArray,
    distance_m: float,
    rng: np.random.Generator,
    *,
    step_m: float = 2500.0,
) -> list[int]:
    """A primary road from ``start`` outwards, with a node every ~``step_m``.

    Returns the new nodes (rural junctions where lanes can join).
    """
    origin = builder.xy()[start]
    count = max(1, round(distance_m / step_m))
    along = np.linspace(0.0, distance_m, count + 1)[1:]
    lateral = np.clip(np.cumsum(rng.normal(0.0, 120.0, size=count)), -300.0, 300.0)
    normal = np.array([-direction[1], direction[0]])
    points = origin + along[:, None] * direction + lateral[:, None] * normal
    ids = builder.add_nodes(points, "rural")
    previous = start
    xy = builder.xy()
    for node in ids.tolist():
        interior = _gentle_curve(xy[previous], xy[node], rng)
        builder.add_path(previous, node, "primary", interior)
        previous = node
    return [int(n) for n in ids]


def build_trunk(builder: GraphBuilder, ring_node: int, gate: int, rng: np.random.Generator) -> None:
    """The trunk road from the ring to the industrial park's gate."""
    xy = builder.xy()
    builder.add_path(ring_node, gate, "trunk", _gentle_curve(xy[ring_node], xy[gate], rng))


def _gentle_curve(start: FloatArray, end: FloatArray, rng: np.random.Generator) -> FloatArray:
    """Interior vertices of a smooth single bend (a major road, not a meander)."""
    delta = end - start
    distance = float(np.hypot(*delta))
    count = max(2, round(distance / 250.0))
    t = np.linspace(0.0, 1.0, count + 2)[1:-1]
    normal = np.array([-delta[1], delta[0]]) / max(distance, 1e-9)
    bend = rng.uniform(-0.03, 0.03) * distance
    return np.asarray(start + t[:, None] * delta + (bend * np.sin(np.pi * t))[:, None] * normal)
