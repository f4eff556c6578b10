"""Traffic: determinism, routes on the graph, exact timing, positions, scripted vehicles."""

from __future__ import annotations

import itertools

import networkx as nx
import numpy as np
import pytest
import shapely

from skynet.errors import BadInputError
from skynet.synthetic._fleet import CLASS_CODE, CLASS_TOP_SPEED_KPH
from skynet.synthetic.traffic import LANE_OFFSET_M, ScriptedVehicle, Traffic

SPACING = 100.0


def grid(n: int = 6, *, curved: bool = True) -> nx.MultiDiGraph:
    """An ``n × n`` two-way grid; one pair of edges bends (real geometry), one street is one-way."""
    graph = nx.MultiDiGraph()
    for i in range(n):
        for j in range(n):
            graph.add_node((i, j), x=i * SPACING, y=j * SPACING, lon=0.0, lat=0.0)
    for i in range(n):
        for j in range(n):
            for a, b in (((i, j), (i + 1, j)), ((i, j), (i, j + 1))):
                if b[0] >= n or b[1] >= n:
                    continue
                kind = "secondary" if a[1] == 0 else "residential"
                speed = 60.0 if kind == "secondary" else 30.0
                line = shapely.LineString(
                    [(a[0] * SPACING, a[1] * SPACING), (b[0] * SPACING, b[1] * SPACING)]
                )
                if curved and a == (1, 1) and b == (2, 1):
                    line = shapely.LineString([(100.0, 100.0), (150.0, 120.0), (200.0, 100.0)])
                attrs = {"highway": kind, "maxspeed": speed, "oneway": False}
                graph.add_edge(a, b, length=line.length, geometry=line, **attrs)
                graph.add_edge(b, a, length=line.length, geometry=line.reverse(), **attrs)
    return graph


@pytest.fixture(scope="module")
def graph() -> nx.MultiDiGraph:
    return grid()


@pytest.fixture(scope="module")
def traffic(graph: nx.MultiDiGraph) -> Traffic:
    return Traffic.simulate(graph, n_vehicles=120, seed=11, start_s=1000.0, window_s=300.0)


def test_same_seed_same_traffic_other_seed_differs(graph: nx.MultiDiGraph) -> None:
    a = Traffic.simulate(graph, n_vehicles=40, seed=3, window_s=100.0)
    b = Traffic.simulate(graph, n_vehicles=40, seed=3, window_s=100.0)
    c = Traffic.simulate(graph, n_vehicles=40, seed=4, window_s=100.0)
    for name in ("class_code", "colour", "size", "depart_s", "route_edges", "enter_s", "leave_s"):
        assert np.array_equal(getattr(a, name), getattr(b, name)), name
    assert not np.array_equal(a.depart_s, c.depart_s)
    sa, sb = a.states_at(60.0), b.states_at(60.0)
    assert np.array_equal(sa.x, sb.x) and np.array_equal(sa.ids, sb.ids)


def test_routes_are_connected_walks_with_consistent_times(traffic: Traffic) -> None:
    streets = traffic.streets
    assert traffic.n_vehicles == 120
    for vehicle in range(traffic.n_vehicles):
        route = traffic.route(vehicle)
        assert route.edges.size >= 1
        assert np.all(streets.v[route.edges[:-1]] == streets.u[route.edges[1:]])
        assert route.enter_s[0] == pytest.approx(traffic.depart_s[vehicle])
        assert np.allclose(route.enter_s[1:], route.leave_s[:-1])
        speed_kph = streets.length[route.edges] / (route.leave_s - route.enter_s) * 3.6
        top = CLASS_TOP_SPEED_KPH[traffic.class_code[vehicle]]
        assert np.all(speed_kph <= np.minimum(streets.speed_kph[route.edges], top) * 1.41)
        assert np.all(speed_kph > 0.0)


def test_departures_spread_over_the_window(traffic: Traffic) -> None:
    assert traffic.depart_s.min() >= 1000.0
    assert traffic.depart_s.max() <= 1300.0
    assert np.ptp(traffic.depart_s) > 200.0


def test_unperturbed_routes_are_time_shortest(graph: nx.MultiDiGraph) -> None:
    fleet = Traffic.simulate(graph, n_vehicles=30, seed=5, n_profiles=1, speed_noise=0.0)
    streets = fleet.streets
    travel = {
        (u, v, k): d["length"] / (d["maxspeed"] / 3.6)
        for u, v, k, d in graph.edges(keys=True, data=True)
    }
    nx.set_edge_attributes(graph, travel, "free_flow")
    for vehicle in range(fleet.n_vehicles):
        route = fleet.route(vehicle)
        nodes = route.nodes
        best = nx.shortest_path_length(graph, nodes[0], nodes[-1], weight="free_flow")
        mine = float(np.sum(streets.length[route.edges] / (streets.speed_kph[route.edges] / 3.6)))
        assert mine == pytest.approx(best, rel=1e-9)


def test_positions_lie_on_the_edge_in_the_right_hand_lane(traffic: Traffic) -> None:
    streets = traffic.streets
    checked = 0
    for t in np.linspace(1000.0, 1400.0, 9):
        states = traffic.states_at(float(t))
        if len(states) == 0:
            continue
        lines = streets.geometry[states.edge]
        points = shapely.points(states.x, states.y)
        gap = shapely.distance(lines, points)
        assert np.all(np.abs(gap - LANE_OFFSET_M) < 0.05)
        # right-hand side: the cross product of travel direction and offset is negative
        heading = np.radians(states.heading_deg)
        along = np.stack([np.sin(heading), np.cos(heading)], axis=1)
        foot = shapely.get_coordinates(
            shapely.line_interpolate_point(lines, shapely.line_locate_point(lines, points))
        )
        offset = np.stack([states.x, states.y], axis=1) - foot
        cross = along[:, 0] * offset[:, 1] - along[:, 1] * offset[:, 0]
        assert np.all(cross < 0.0)
        checked += len(states)
    assert checked > 50


def test_states_match_each_vehicles_ground_truth(traffic: Traffic) -> None:
    streets = traffic.streets
    rng = np.random.default_rng(0)
    for vehicle in rng.choice(traffic.n_vehicles, size=15, replace=False).tolist():
        route = traffic.route(vehicle)
        for t in rng.uniform(route.enter_s[0], route.leave_s[-1], size=5).tolist():
            states = traffic.states_at(t)
            row = int(np.flatnonzero(states.ids == vehicle)[0])
            segment = int(np.searchsorted(route.leave_s, t, side="right"))
            edge = int(route.edges[segment])
            assert states.edge[row] == edge
            share = (t - route.enter_s[segment]) / (route.leave_s[segment] - route.enter_s[segment])
            line = streets.geometry[edge]
            located = line.project(shapely.Point(states.x[row], states.y[row]))
            assert located == pytest.approx(share * line.length, abs=0.2)
            assert states.class_code[row] == traffic.class_code[vehicle]
            assert np.array_equal(states.colour[row], traffic.colour[vehicle])
    before = traffic.states_at(float(traffic.depart_s.min()) - 1.0)
    assert len(before) == 0


def test_restricting_to_some_vehicles_gives_the_same_states(traffic: Traffic) -> None:
    full = traffic.states_at(1200.0)
    chosen = full.ids[::3]
    part = traffic.states_at(1200.0, vehicles=chosen)
    assert np.array_equal(part.ids, chosen)
    rows = np.searchsorted(full.ids, chosen)
    assert np.allclose(part.x, full.x[rows]) and np.allclose(
        part.heading_deg, full.heading_deg[rows]
    )


def test_heading_follows_the_edge_direction(graph: nx.MultiDiGraph) -> None:
    east = [(0, 2), (1, 2), (2, 2), (3, 2)]
    fleet = Traffic.simulate(graph, n_vehicles=1, seed=1).with_vehicles(
        [ScriptedVehicle(route=east, depart_s=0.0, vehicle_class="car")]
    )
    vehicle = fleet.n_vehicles - 1
    states = fleet.states_at(5.0, vehicles=np.array([vehicle]))
    assert states.heading_deg[0] == pytest.approx(90.0)
    assert states.y[0] == pytest.approx(2 * SPACING - LANE_OFFSET_M)  # right of eastbound is south


def test_scripted_vehicle_follows_its_route(graph: nx.MultiDiGraph, traffic: Traffic) -> None:
    nodes = [(0, 0), (1, 0), (1, 1), (2, 1), (3, 1), (3, 2)]
    flee = ScriptedVehicle(route=nodes, depart_s=1100.0, colour_bgr=(10, 200, 30), speed_factor=1.2)
    fleet = traffic.with_vehicles([flee])
    vehicle = traffic.n_vehicles
    assert fleet.n_vehicles == traffic.n_vehicles + 1
    route = fleet.route(vehicle)
    assert route.nodes == nodes
    assert route.vehicle_class == "three_wheeler"
    assert route.colour_bgr == (10, 200, 30)
    assert route.enter_s[0] == pytest.approx(1100.0)
    for t in np.linspace(route.enter_s[0], route.leave_s[-1] - 1e-6, 25).tolist():
        states = fleet.states_at(t, vehicles=np.array([vehicle]))
        assert len(states) == 1 and int(states.edge[0]) in route.edges.tolist()
    as_edges = list(itertools.pairwise(nodes))
    again = traffic.with_vehicles([ScriptedVehicle(route=as_edges, depart_s=1100.0)])
    assert np.array_equal(again.route(vehicle).edges, route.edges)
    # earlier vehicles are untouched
    assert np.array_equal(fleet.route_edges[: traffic.route_edges.size], traffic.route_edges)


@pytest.mark.parametrize(
    ("route", "words"),
    [
        ([(0, 0), (2, 0)], "no road"),
        ([(0, 0), ("nowhere", 1)], "not in the road graph"),
        ([((0, 0), (1, 0)), ((2, 0), (3, 0))], "not connected"),
        ([(0, 0)], "at least two"),
    ],
)
def test_bad_scripted_routes_are_rejected(
    traffic: Traffic, route: list[object], words: str
) -> None:
    with pytest.raises(BadInputError, match=words):
        traffic.with_vehicles([ScriptedVehicle(route=route, depart_s=0.0)])


def test_lookalikes_share_class_and_colour(traffic: Traffic) -> None:
    colour = (170, 110, 40)
    fleet = traffic.with_lookalikes(
        "three_wheeler", colour, 12, seed=2, start_s=1000.0, window_s=60.0
    )
    added = slice(traffic.n_vehicles, fleet.n_vehicles)
    assert fleet.n_vehicles == traffic.n_vehicles + 12
    assert np.all(fleet.class_code[added] == CLASS_CODE["three_wheeler"])
    distance = np.abs(fleet.colour[added].astype(int) - np.array(colour)).max(axis=1)
    assert np.all(distance < 60) and np.any(distance > 0)


def test_bad_fleet_parameters(graph: nx.MultiDiGraph, traffic: Traffic) -> None:
    with pytest.raises(BadInputError, match="at least one vehicle"):
        Traffic.simulate(graph, n_vehicles=0, seed=1)
    with pytest.raises(BadInputError, match="unknown vehicle class"):
        traffic.with_lookalikes("tank", (0, 0, 0), 2, seed=1, start_s=0.0, window_s=1.0)
    with pytest.raises(BadInputError, match="no vehicle"):
        traffic.route(10_000)
    with pytest.raises(BadInputError, match="no edges"):
        Traffic.simulate(nx.MultiDiGraph(), n_vehicles=1, seed=1)


def test_trajectory_agrees_with_states_at(traffic: Traffic) -> None:
    vehicle = 17
    route = traffic.route(vehicle)
    times = np.linspace(route.enter_s[0] - 5.0, route.leave_s[-1] + 5.0, 40)
    when, track = traffic.trajectory(vehicle, times)
    assert when.size == len(track) and 0 < when.size < times.size
    assert when.min() >= route.enter_s[0] and when.max() < route.leave_s[-1]
    for t, x, y in zip(when.tolist(), track.x.tolist(), track.y.tolist(), strict=True):
        one = traffic.states_at(t, vehicles=np.array([vehicle]))
        assert (one.x[0], one.y[0]) == pytest.approx((x, y))
    step = np.hypot(np.diff(track.x), np.diff(track.y))
    # continuous motion: no faster than the fastest road allows, plus the lane shift at a turn
    assert np.all(step <= np.diff(when) * 60.0 * 1.4 / 3.6 + 2 * LANE_OFFSET_M)


def test_trips_without_a_path_are_redrawn_or_dropped() -> None:
    chain = nx.MultiDiGraph()
    for i in range(4):
        chain.add_node(i, x=100.0 * i, y=0.0, lon=0.0, lat=0.0)
    for i in range(3):  # one-way: node 3 is a dead end, nothing reaches node 0
        chain.add_edge(i, i + 1, length=100.0, highway="residential", maxspeed=30, oneway=True)
    fleet = Traffic.simulate(chain, n_vehicles=30, seed=8)
    assert 0 < fleet.n_vehicles <= 30
    for vehicle in range(fleet.n_vehicles):
        edges = fleet.route(vehicle).edges
        assert edges.size >= 1
        assert np.all(fleet.streets.v[edges] == fleet.streets.u[edges] + 1)  # always eastwards
    states = fleet.states_at(float(fleet.depart_s[0]) + 1.0)
    assert np.allclose(states.y, 0.0)  # one-way roads: no lane offset


def test_a_graph_without_any_trip_is_rejected() -> None:
    loop = nx.MultiDiGraph()
    loop.add_node("a", x=0.0, y=0.0, lon=0.0, lat=0.0)
    loop.add_node("b", x=50.0, y=0.0, lon=0.0, lat=0.0)
    loop.add_edge("a", "a", length=10.0, highway="track", oneway=True)
    with pytest.raises(BadInputError, match="disconnected"):
        Traffic.simulate(loop, n_vehicles=5, seed=1)


def test_osmnx_style_attributes_are_read() -> None:
    from skynet.synthetic.traffic import EdgeTable

    graph = nx.MultiDiGraph()
    graph.add_node(1, x=0.0, y=0.0, lon=0.0, lat=0.0)
    graph.add_node(2, x=30.0, y=40.0, lon=0.0, lat=0.0)
    graph.add_edge(
        1, 2, highway=["residential", "unclassified"], maxspeed=["30", "50"], oneway="False"
    )
    graph.add_edge(2, 1, highway="primary", maxspeed="30 mph", oneway=True, length=55.0)
    table = EdgeTable.from_graph(graph)
    assert table.highway.tolist() == ["residential", "primary"]
    assert table.speed_kph.tolist() == pytest.approx([30.0, 30 * 1.609344])
    assert table.length.tolist() == pytest.approx([50.0, 55.0])  # missing length: geometry's
    assert table.oneway.tolist() == [False, True]
    assert table.geometry[0].length == pytest.approx(50.0)  # straight line when no geometry
    assert table.drawn.tolist() == [True, True]
    graph.add_node(3, lon=0.0, lat=0.0)
    with pytest.raises(BadInputError, match="'x' and 'y'"):
        EdgeTable.from_graph(graph)
