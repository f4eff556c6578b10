"""Synthetic traffic over a road graph, with exact ground truth.

A :class:`Traffic` holds a whole fleet as arrays: each vehicle's class, colour,
size and departure, and its route as a ragged array of edges with the exact
times it enters and leaves each one. Positions at any instant come from
:meth:`Traffic.states_at`, vectorised over vehicles: a vehicle moves at constant
speed along each edge's geometry, in the right-hand lane of two-way roads.

Everything is deterministic from the seed. Trips join random nodes by the
time-shortest path under a per-vehicle *weight profile* (random detours); see
:mod:`skynet.synthetic._routing`. Scripted vehicles (a given route and
departure, e.g. the fleeing three-wheeler) and look-alikes (same class, similar
colour) are added with :meth:`Traffic.with_vehicles` and
:meth:`Traffic.with_lookalikes`.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, fields, replace
from functools import cached_property
from typing import Any, Final

import networkx as nx
import numpy as np
import shapely
from numpy.typing import NDArray

from skynet.errors import BadInputError
from skynet.synthetic._fleet import (
    CLASS_SIZE_M,
    CLASS_SPEED_FACTOR,
    CLASS_TOP_SPEED_KPH,
    VEHICLE_CLASSES,
    class_code,
    jitter_colours,
    random_classes,
    random_colours,
    random_sizes,
)
from skynet.synthetic._routing import PairIndex, batch_routes, profile_weights
from skynet.synthetic._scripted import route_edges
from skynet.synthetic._streets import EdgeTable

__all__ = [
    "VEHICLE_CLASSES",
    "EdgeTable",
    "ScriptedVehicle",
    "Traffic",
    "VehicleRoute",
    "VehicleStates",
]

#: Distance (m) from the road's centre line to a vehicle's path on two-way roads.
LANE_OFFSET_M: Final = 1.5
#: Half the baseline (m) over which a vehicle's heading is measured along its edge.
_HEADING_STEP_M: Final = 0.5
#: Distinct trip origins in background traffic (bounds the routing work).
DEFAULT_ORIGINS: Final = 256
#: Rounds of re-drawing targets for trips that found no path.
_RETRIES: Final = 6

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


@dataclass(frozen=True, eq=False)
class VehicleStates:
    """Every vehicle on the road at one instant; row ``i`` is one vehicle.

    ``x, y`` are metric ground coordinates of the vehicle's centre,
    ``heading_deg`` is clockwise from north, ``colour`` is BGR.
    """

    ids: IntArray
    class_code: NDArray[np.int8]
    x: FloatArray
    y: FloatArray
    heading_deg: FloatArray
    length: FloatArray
    width: FloatArray
    height: FloatArray
    colour: NDArray[np.uint8]
    edge: IntArray

    def __len__(self) -> int:
        return int(self.ids.shape[0])

    def take(self, rows: NDArray[np.integer[Any]] | NDArray[np.bool_]) -> VehicleStates:
        """The states of the selected rows (indices or a mask)."""
        return VehicleStates(**{f.name: getattr(self, f.name)[rows] for f in fields(self)})

    @property
    def class_names(self) -> NDArray[np.str_]:
        """Class name of each vehicle."""
        return np.asarray(VEHICLE_CLASSES, dtype=np.str_)[self.class_code]


@dataclass(frozen=True)
class ScriptedVehicle:
    """A vehicle with a chosen route: node ids, or ``(u, v)`` / ``(u, v, key)`` edges."""

    route: Sequence[Hashable]
    depart_s: float
    vehicle_class: str = "three_wheeler"
    colour_bgr: tuple[int, int, int] = (170, 110, 40)
    speed_factor: float = 1.0
    size_m: tuple[float, float, float] | None = None


@dataclass(frozen=True, eq=False)
class VehicleRoute:
    """Ground truth of one vehicle: its edges in order and when it is on each."""

    vehicle_id: int
    vehicle_class: str
    colour_bgr: tuple[int, int, int]
    edges: IntArray
    edge_keys: list[tuple[Hashable, Hashable, Hashable]]
    enter_s: FloatArray
    leave_s: FloatArray

    @property
    def nodes(self) -> list[Hashable]:
        """Node ids along the route, first to last."""
        return [self.edge_keys[0][0], *[key[1] for key in self.edge_keys]]


@dataclass(frozen=True, eq=False)
class Traffic:
    """A fleet and its trips; vehicle ``i`` has id ``i``."""

    streets: EdgeTable
    class_code: NDArray[np.int8]
    colour: NDArray[np.uint8]
    size: FloatArray
    depart_s: FloatArray
    route_offsets: IntArray
    route_edges: IntArray
    enter_s: FloatArray
    leave_s: FloatArray
    lane_offset_m: float = LANE_OFFSET_M

    # ----------------------------------------------------------------- building
    @classmethod
    def simulate(
        cls,
        roads: nx.MultiDiGraph | EdgeTable,
        *,
        n_vehicles: int,
        seed: int,
        start_s: float = 0.0,
        window_s: float = 3600.0,
        n_profiles: int = 4,
        detour_sigma: float = 0.3,
        speed_noise: float = 0.1,
        n_origins: int = DEFAULT_ORIGINS,
    ) -> Traffic:
        """Background traffic: ``n_vehicles`` trips departing uniformly over the window.

        Trips start at one of ``n_origins`` random nodes (each with its own
        detour profile, one of ``n_profiles``) and end at any node: routing cost
        grows with the number of origins, not with the fleet.
        """
        streets = roads if isinstance(roads, EdgeTable) else EdgeTable.from_graph(roads)
        trips = _TripSettings(start_s, window_s, n_profiles, detour_sigma, speed_noise, n_origins)
        _check_counts(n_vehicles, trips)
        rng = np.random.default_rng(seed)
        codes = random_classes(rng, n_vehicles)
        colours = random_colours(rng, codes)
        return _random_fleet(streets, rng, codes, colours, trips)

    def with_lookalikes(
        self,
        vehicle_class: str,
        colour_bgr: tuple[int, int, int],
        n_vehicles: int,
        *,
        seed: int,
        start_s: float,
        window_s: float,
        colour_jitter: float = 10.0,
    ) -> Traffic:
        """Add random trips of vehicles of one class with colours near ``colour_bgr``."""
        trips = _TripSettings(start_s, window_s)
        _check_counts(n_vehicles, trips)
        rng = np.random.default_rng(seed)
        codes = np.full(n_vehicles, class_code(vehicle_class), dtype=np.int8)
        base = np.tile(np.asarray(colour_bgr, dtype=np.float64), (n_vehicles, 1))
        colours = jitter_colours(rng, base, colour_jitter)
        extra = _random_fleet(self.streets, rng, codes, colours, trips)
        return self._concat(extra)

    def with_vehicles(self, scripted: Sequence[ScriptedVehicle]) -> Traffic:
        """Add scripted vehicles; they get ids ``n_vehicles, n_vehicles + 1, …`` in order."""
        result = self
        for vehicle in scripted:
            result = result._concat(_scripted_fleet(self.streets, vehicle))
        return result

    def _concat(self, other: Traffic) -> Traffic:
        """This fleet followed by ``other``'s vehicles (ids shift by ``n_vehicles``)."""
        offsets = np.concatenate(
            [self.route_offsets, other.route_offsets[1:] + self.route_offsets[-1]]
        )
        return replace(
            self,
            class_code=np.concatenate([self.class_code, other.class_code]),
            colour=np.concatenate([self.colour, other.colour]),
            size=np.concatenate([self.size, other.size]),
            depart_s=np.concatenate([self.depart_s, other.depart_s]),
            route_offsets=offsets,
            route_edges=np.concatenate([self.route_edges, other.route_edges]),
            enter_s=np.concatenate([self.enter_s, other.enter_s]),
            leave_s=np.concatenate([self.leave_s, other.leave_s]),
        )

    # ------------------------------------------------------------------ reading
    @property
    def n_vehicles(self) -> int:
        """Number of vehicles (ids run from 0)."""
        return int(self.class_code.shape[0])

    @cached_property
    def arrive_s(self) -> FloatArray:
        """When each vehicle leaves its last edge."""
        return np.asarray(self.leave_s[self.route_offsets[1:] - 1], dtype=np.float64)

    @cached_property
    def segment_vehicle(self) -> IntArray:
        """The vehicle each route segment belongs to."""
        counts = np.diff(self.route_offsets)
        return np.repeat(np.arange(self.n_vehicles, dtype=np.int64), counts)

    @cached_property
    def _search_keys(self) -> tuple[FloatArray, float, float]:
        """Sorted keys ``vehicle * span + leave`` for finding segments of many vehicles at once."""
        base = float(self.depart_s.min())
        span = float(self.leave_s.max() - base) + 1.0
        keys = self.segment_vehicle * span + (self.leave_s - base)
        return np.asarray(keys, dtype=np.float64), base, span

    def route(self, vehicle_id: int) -> VehicleRoute:
        """The exact route and timing of one vehicle."""
        if not 0 <= vehicle_id < self.n_vehicles:
            msg = f"no vehicle {vehicle_id} (fleet has {self.n_vehicles})"
            raise BadInputError(msg, field="vehicle_id")
        first, last = self.route_offsets[vehicle_id], self.route_offsets[vehicle_id + 1]
        edges = self.route_edges[first:last].copy()
        streets = self.streets
        keys = [
            (streets.node_ids[streets.u[e]], streets.node_ids[streets.v[e]], streets.key[e])
            for e in edges.tolist()
        ]
        colour = self.colour[vehicle_id]
        return VehicleRoute(
            vehicle_id=vehicle_id,
            vehicle_class=VEHICLE_CLASSES[int(self.class_code[vehicle_id])],
            colour_bgr=(int(colour[0]), int(colour[1]), int(colour[2])),
            edges=edges,
            edge_keys=keys,
            enter_s=self.enter_s[first:last].copy(),
            leave_s=self.leave_s[first:last].copy(),
        )

    def vehicles_on_edges(self, edges: NDArray[np.int64], start_s: float, end_s: float) -> IntArray:
        """Ids of vehicles on any of ``edges`` at some time in ``[start_s, end_s]``."""
        on_edge = np.isin(self.route_edges, edges)
        overlap = on_edge & (self.enter_s <= end_s) & (self.leave_s >= start_s)
        return np.unique(self.segment_vehicle[overlap])

    def states_at(self, t: float, vehicles: NDArray[np.int64] | None = None) -> VehicleStates:
        """Every vehicle on the road at time ``t`` (optionally only among ``vehicles``)."""
        ids = np.arange(self.n_vehicles, dtype=np.int64) if vehicles is None else vehicles
        ids = np.asarray(ids, dtype=np.int64)
        return self._states(ids, np.full(ids.shape[0], float(t)))

    def trajectory(
        self, vehicle_id: int, times: NDArray[np.float64]
    ) -> tuple[FloatArray, VehicleStates]:
        """One vehicle at many instants: the instants it is on the road, and its states then."""
        self.route(vehicle_id)  # validates the id
        when = np.asarray(times, dtype=np.float64).ravel()
        ids = np.full(when.shape[0], vehicle_id, dtype=np.int64)
        on_road = (self.depart_s[ids] <= when) & (self.arrive_s[ids] > when)
        return when[on_road], self._states(ids, when)

    def _states(self, ids: IntArray, times: FloatArray) -> VehicleStates:
        """States of vehicle ``ids[i]`` at ``times[i]``, for the pairs where it is on the road."""
        on_road = (self.depart_s[ids] <= times) & (self.arrive_s[ids] > times)
        ids, times = ids[on_road], times[on_road]
        keys, base, span = self._search_keys
        segment = np.searchsorted(keys, ids * span + (times - base), side="right")
        edge = self.route_edges[segment]
        enter, leave = self.enter_s[segment], self.leave_s[segment]
        along = (times - enter) / (leave - enter) * self.streets.geometry_length[edge]
        x, y, heading = self._place(edge, along)
        size = self.size[ids]
        return VehicleStates(
            ids=ids,
            class_code=self.class_code[ids],
            x=x,
            y=y,
            heading_deg=heading,
            length=size[:, 0],
            width=size[:, 1],
            height=size[:, 2],
            colour=self.colour[ids],
            edge=edge,
        )

    def _place(
        self, edge: IntArray, along: FloatArray
    ) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Position (lane-offset) and heading at distance ``along`` on each edge."""
        geometry = self.streets.geometry[edge]
        total = self.streets.geometry_length[edge]
        centre = shapely.get_coordinates(shapely.line_interpolate_point(geometry, along))
        ahead = shapely.get_coordinates(
            shapely.line_interpolate_point(geometry, np.minimum(along + _HEADING_STEP_M, total))
        )
        behind = shapely.get_coordinates(
            shapely.line_interpolate_point(geometry, np.maximum(along - _HEADING_STEP_M, 0.0))
        )
        direction = ahead - behind
        norm = np.maximum(np.hypot(direction[:, 0], direction[:, 1]), 1e-9)
        unit = direction / norm[:, None]
        offset = np.where(self.streets.oneway[edge], 0.0, self.lane_offset_m)
        x = centre[:, 0] + unit[:, 1] * offset
        y = centre[:, 1] - unit[:, 0] * offset
        heading = np.degrees(np.arctan2(unit[:, 0], unit[:, 1])) % 360.0
        return x, y, heading


# ---------------------------------------------------------------------- workers
@dataclass(frozen=True)
class _TripSettings:
    """How random trips are drawn (see :meth:`Traffic.simulate`)."""

    start_s: float
    window_s: float
    n_profiles: int = 4
    detour_sigma: float = 0.3
    speed_noise: float = 0.1
    n_origins: int = DEFAULT_ORIGINS


def _check_counts(n_vehicles: int, trips: _TripSettings) -> None:
    """Reject counts and windows that cannot make a fleet."""
    if n_vehicles < 1:
        msg = "a fleet needs at least one vehicle"
        raise BadInputError(msg, field="n_vehicles")
    if not trips.window_s >= 0.0:
        msg = "the departure window must be >= 0 s"
        raise BadInputError(msg, field="window_s")
    if trips.n_profiles < 1 or trips.n_origins < 1:
        msg = "at least one routing profile and one origin are needed"
        raise BadInputError(msg, field="n_profiles")


def _random_fleet(
    streets: EdgeTable,
    rng: np.random.Generator,
    codes: NDArray[np.int8],
    colours: NDArray[np.uint8],
    trips: _TripSettings,
) -> Traffic:
    """Random trips for vehicles of the given classes and colours."""
    n = codes.shape[0]
    origins = rng.choice(streets.n_nodes, size=min(trips.n_origins, streets.n_nodes), replace=False)
    weights = profile_weights(streets, rng, trips.n_profiles, trips.detour_sigma)
    slot: IntArray = rng.integers(0, origins.size, size=(n,), dtype=np.int64)
    targets: IntArray = rng.integers(0, streets.n_nodes, size=(n,), dtype=np.int64)
    routes: list[IntArray] = [np.empty(0, dtype=np.int64)] * n
    for profile in range(trips.n_profiles):
        pairs = PairIndex.build(streets, weights[profile])
        todo = np.flatnonzero(slot % trips.n_profiles == profile)
        for _ in range(_RETRIES):
            if todo.size == 0:
                break
            offsets, edges, found = batch_routes(streets, pairs, origins[slot[todo]], targets[todo])
            for row in np.flatnonzero(found).tolist():
                routes[int(todo[row])] = edges[offsets[row] : offsets[row + 1]]
            todo = todo[~found]
            targets[todo] = rng.integers(0, streets.n_nodes, size=todo.size)
    keep = np.array([r.shape[0] > 0 for r in routes], dtype=bool)
    if not keep.any():
        msg = "no trip found a path: the road graph is too disconnected"
        raise BadInputError(msg, field="graph")
    kept_routes = [r for r, k in zip(routes, keep, strict=True) if k]
    factors = np.clip(rng.normal(1.0, trips.speed_noise, size=n), 0.6, 1.4)[keep]
    depart = trips.start_s + rng.random(size=(n,))[keep] * trips.window_s
    sizes = random_sizes(rng, codes)[keep]
    return _assemble(streets, codes[keep], colours[keep], sizes, depart, factors, kept_routes)


def _scripted_fleet(streets: EdgeTable, vehicle: ScriptedVehicle) -> Traffic:
    """A one-vehicle fleet following a scripted route."""
    code = class_code(vehicle.vehicle_class)
    edges = route_edges(streets, vehicle.route)
    codes = np.array([code], dtype=np.int8)
    size = (
        np.asarray([vehicle.size_m], dtype=np.float64)
        if vehicle.size_m is not None
        else np.asarray(CLASS_SIZE_M[code][None, :], dtype=np.float64)
    )
    if not vehicle.speed_factor > 0.0:
        msg = "speed_factor must be > 0"
        raise BadInputError(msg, field="speed_factor")
    colour = np.clip(np.asarray([vehicle.colour_bgr]), 0, 255).astype(np.uint8)
    depart = np.array([vehicle.depart_s], dtype=np.float64)
    factor = np.array([vehicle.speed_factor], dtype=np.float64)
    return _assemble(streets, codes, colour, size, depart, factor, [edges])


def _assemble(
    streets: EdgeTable,
    codes: NDArray[np.int8],
    colours: NDArray[np.uint8],
    sizes: FloatArray,
    depart: FloatArray,
    factors: FloatArray,
    routes: list[IntArray],
) -> Traffic:
    """Timing of every route segment from edge lengths and each vehicle's speed."""
    counts = np.array([r.shape[0] for r in routes], dtype=np.int64)
    offsets = np.zeros(counts.shape[0] + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    edges = np.concatenate(routes).astype(np.int64)
    owner = np.repeat(np.arange(counts.shape[0]), counts)
    code = codes[owner]
    limit_kph = np.minimum(
        streets.speed_kph[edges] * CLASS_SPEED_FACTOR[code], CLASS_TOP_SPEED_KPH[code]
    )
    speed_mps = limit_kph * factors[owner] / 3.6
    duration = streets.length[edges] / speed_mps
    elapsed = np.cumsum(duration)
    before_vehicle = np.concatenate([[0.0], elapsed])[offsets[:-1]]
    leave = depart[owner] + elapsed - before_vehicle[owner]
    enter = leave - duration
    return Traffic(
        streets=streets,
        class_code=codes.astype(np.int8),
        colour=colours.astype(np.uint8),
        size=sizes.astype(np.float64),
        depart_s=depart.astype(np.float64),
        route_offsets=offsets,
        route_edges=edges,
        enter_s=enter,
        leave_s=leave,
    )
