"""Snapping against brute force, shortest paths against networkx."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from roads_helpers import ORIGIN, SITE, node_attrs

from skynet.errors import NotFoundError
from skynet.roads import RoadNetwork


def grid_network(size: int = 5, spacing: float = 100.0, seed: int = 7) -> RoadNetwork:
    """A grid with jittered lengths, some one-way streets and some bent geometries."""
    rng = np.random.default_rng(seed)
    graph = nx.MultiDiGraph()
    for i in range(size):
        for j in range(size):
            graph.add_node(i * size + j, **node_attrs(i * spacing, j * spacing))
    for i in range(size):
        for j in range(size):
            here = i * size + j
            for there in ([here + size] if i + 1 < size else []) + (
                [here + 1] if j + 1 < size else []
            ):
                a, b = graph.nodes[here], graph.nodes[there]
                middle = (0.5 * (a["x"] + b["x"]) + rng.uniform(-20, 20), 0.5 * (a["y"] + b["y"]))
                line = shapely.LineString([(a["x"], a["y"]), middle, (b["x"], b["y"])])
                highway = str(rng.choice(["primary", "residential", "track"]))
                both = rng.random() > 0.25
                graph.add_edge(here, there, length=line.length, highway=highway, geometry=line)
                if both or here == 0:
                    graph.add_edge(
                        there, here, length=line.length, highway=highway, geometry=line.reverse()
                    )
    # A parallel, slower edge: routing must pick the cheaper of the two.
    graph.add_edge(0, 1, length=150.0, highway="track")
    return RoadNetwork(graph, SITE)


NETWORK = grid_network()
coordinate = st.floats(min_value=-80.0, max_value=480.0, allow_nan=False)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(coordinate, coordinate), min_size=1, max_size=30))
def test_snap_matches_brute_force(points: list[tuple[float, float]]) -> None:
    xy = np.asarray(points) + np.asarray(ORIGIN)
    edge, offset, distance = NETWORK.snap(xy[:, 0], xy[:, 1])
    geometries = shapely.points(xy)
    brute = shapely.distance(geometries[:, None], NETWORK.geometries[None, :]).min(axis=1)
    np.testing.assert_allclose(distance, brute, atol=1e-6)
    np.testing.assert_allclose(
        shapely.distance(geometries, NETWORK.geometries[edge]), brute, atol=1e-6
    )
    lengths = NETWORK.edges.length[edge]
    assert np.all((offset >= 0.0) & (offset <= lengths))
    lines = NETWORK.geometries[edge]
    at = shapely.line_interpolate_point(lines, offset / lengths, normalized=True)
    np.testing.assert_allclose(shapely.distance(at, geometries), distance, atol=1e-6)


def test_snap_of_no_points() -> None:
    edge, offset, distance = NETWORK.snap([], [])
    assert edge.size == offset.size == distance.size == 0


@pytest.mark.parametrize("weight", ["travel_time", "length"])
def test_shortest_path_matches_networkx(weight: str) -> None:
    rng = np.random.default_rng(3)
    nodes = list(NETWORK.graph.nodes)
    for _ in range(30):
        source, target = (int(n) for n in rng.choice(nodes, 2))
        try:
            expected = nx.shortest_path_length(NETWORK.graph, source, target, weight=weight)
        except nx.NetworkXNoPath:
            with pytest.raises(NotFoundError):
                NETWORK.shortest_path(source, target, weight)  # type: ignore[arg-type]
            continue
        path = NETWORK.shortest_path(source, target, weight)  # type: ignore[arg-type]
        cost = path.travel_time_s if weight == "travel_time" else path.length_m
        assert cost == pytest.approx(expected)
        assert path.nodes[0] == source and path.nodes[-1] == target
        edges = NETWORK.edges
        assert np.all(NETWORK.nodes.ids[edges.u[path.edges]] == np.asarray(path.nodes[:-1]))
        assert np.all(NETWORK.nodes.ids[edges.v[path.edges]] == np.asarray(path.nodes[1:]))


def test_shortest_path_takes_cheaper_parallel_edge() -> None:
    path = NETWORK.shortest_path(0, 1, "length")
    assert path.length_m == pytest.approx(NETWORK.graph.edges[0, 1, 0]["length"])
    assert path.length_m < 150.0


def test_unknown_node() -> None:
    with pytest.raises(NotFoundError, match="no node 999"):
        NETWORK.shortest_path(0, 999)


def test_path_between_points_on_a_line(line_graph: nx.MultiDiGraph) -> None:
    network = RoadNetwork(line_graph, SITE)
    # From x=30 to x=170 along y=0 (two-way): 140 m whichever edge each point snaps to.
    start, end = (ORIGIN[0] + 30, ORIGIN[1] + 2), (ORIGIN[0] + 170, ORIGIN[1] - 2)
    path = network.path_between_points(start, end, "length")
    assert path.length_m == pytest.approx(140.0)
    back = network.path_between_points(end, start, "length")
    assert back.length_m == pytest.approx(140.0)
    speed = network.edges.speed_kph[0] / 3.6
    assert path.travel_time_s == pytest.approx(140.0 / speed)
    same_edge = network.path_between_points(start, (ORIGIN[0] + 60, ORIGIN[1]), "length")
    assert same_edge.length_m == pytest.approx(30.0) and same_edge.edges.size == 1
