"""RoadNetwork construction: normalisation, edge arrays and every bad-input error."""

from __future__ import annotations

import math

import networkx as nx
import numpy as np
import pytest
import shapely
from roads_helpers import ORIGIN, SITE, node_attrs, road_graph

from skynet.errors import BadInputError
from skynet.roads import DEFAULT_SPEED_KPH, HIGHWAY_CLASSES, RoadNetwork


def test_arrays_and_derived_attributes(line_graph: nx.MultiDiGraph) -> None:
    network = RoadNetwork(line_graph, SITE)
    edges = network.edges
    assert len(edges) == 4 and len(network.nodes) == 3
    assert np.allclose(edges.length, 100.0)
    speed = DEFAULT_SPEED_KPH["residential"]
    assert np.allclose(edges.travel_time, 100.0 / (speed / 3.6))
    assert set(HIGHWAY_CLASSES[c] for c in edges.highway) == {"residential"}
    # Both directions of a road share one physical road id; there are two roads.
    assert edges.road_count == 2
    for road in range(2):
        pair = np.flatnonzero(edges.road == road)
        assert pair.size == 2
        assert edges.u[pair[0]] == edges.v[pair[1]]
    # lon/lat filled from x/y, and consistent with the CRS.
    lon, lat = SITE.to_lonlat([ORIGIN[0]], [ORIGIN[1]])
    row = network.node_row["A"]
    assert network.nodes.lon[row] == pytest.approx(lon[0])
    assert network.graph.nodes["A"]["lat"] == pytest.approx(lat[0])
    assert network.graph.edges["A", "B", 0]["travel_time"] == pytest.approx(edges.travel_time[0])


def test_maxspeed_forms_and_given_travel_time() -> None:
    graph = road_graph({1: (0, 0), 2: (360, 0), 3: (360, 360)}, [(1, 2, "primary")])
    graph.add_edge(2, 3, length=360.0, highway="track", maxspeed="['30', '50']")
    graph.add_edge(3, 2, length=360.0, highway="track", maxspeed="20 mph")
    graph.edges[1, 2, 0]["maxspeed"] = "signals"
    graph.edges[2, 1, 0]["travel_time"] = 99.0
    network = RoadNetwork(graph, SITE)
    by_edge = dict(zip(network.edge_ids, network.edges.travel_time, strict=True))
    assert by_edge[(1, 2, 0)] == pytest.approx(360.0 / (DEFAULT_SPEED_KPH["primary"] / 3.6))
    assert by_edge[(2, 1, 0)] == pytest.approx(99.0)
    assert by_edge[(2, 3, 0)] == pytest.approx(360.0 / (40.0 / 3.6))
    assert by_edge[(3, 2, 0)] == pytest.approx(360.0 / (20.0 * 1.609344 / 3.6))


def test_oneway_inferred_from_missing_reverse() -> None:
    graph = nx.MultiDiGraph()
    for node, dx in ((1, 0.0), (2, 50.0), (3, 100.0)):
        graph.add_node(node, **node_attrs(dx, 0.0))
    graph.add_edge(1, 2, length=50.0, highway="tertiary")
    graph.add_edge(2, 1, length=50.0, highway="tertiary")
    graph.add_edge(2, 3, length=50.0, highway="tertiary")
    network = RoadNetwork(graph, SITE)
    assert network.edges.oneway.tolist() == [False, False, True]
    assert network.graph.edges[2, 3, 0]["oneway"] is True


def test_geometry_defaults_to_segment_and_is_oriented(line_graph: nx.MultiDiGraph) -> None:
    bend = shapely.LineString(
        [(ORIGIN[0] + 100, ORIGIN[1]), (ORIGIN[0] + 50, ORIGIN[1] + 20), (ORIGIN[0], ORIGIN[1])]
    )
    line_graph.edges["A", "B", 0]["geometry"] = bend  # stored backwards on purpose
    network = RoadNetwork(line_graph, SITE)
    row = network.edge_row[("A", "B", 0)]
    first = shapely.get_coordinates(network.geometries[row])[0]
    assert first == pytest.approx([ORIGIN[0], ORIGIN[1]])
    straight = network.geometries[network.edge_row[("B", "C", 0)]]
    assert shapely.get_coordinates(straight).tolist() == [
        [ORIGIN[0] + 100, ORIGIN[1]],
        [ORIGIN[0] + 200, ORIGIN[1]],
    ]


def test_nodes_given_only_lonlat_get_xy(line_graph: nx.MultiDiGraph) -> None:
    lon, lat = SITE.to_lonlat([ORIGIN[0] + 100.0], [ORIGIN[1]])
    data = line_graph.nodes["B"]
    del data["x"], data["y"]
    data["lon"], data["lat"] = float(lon[0]), float(lat[0])
    network = RoadNetwork(line_graph, SITE)
    assert network.graph.nodes["B"]["x"] == pytest.approx(ORIGIN[0] + 100.0, abs=1e-6)


def test_empty_graph_is_rejected() -> None:
    with pytest.raises(BadInputError, match="empty"):
        RoadNetwork(nx.MultiDiGraph(), SITE)


def test_graph_without_edges_is_rejected() -> None:
    graph = nx.MultiDiGraph()
    graph.add_node(1, **node_attrs(0, 0))
    with pytest.raises(BadInputError, match="no edges"):
        RoadNetwork(graph, SITE)


def test_not_a_multidigraph_is_rejected() -> None:
    with pytest.raises(BadInputError, match="MultiDiGraph"):
        RoadNetwork(nx.Graph(), SITE)


def test_node_without_coordinates_is_named(line_graph: nx.MultiDiGraph) -> None:
    del line_graph.nodes["B"]["x"]
    with pytest.raises(BadInputError, match="node B: no coordinates"):
        RoadNetwork(line_graph, SITE)


def test_non_numeric_coordinate_is_named(line_graph: nx.MultiDiGraph) -> None:
    line_graph.nodes["C"]["y"] = "north"
    with pytest.raises(BadInputError, match="node C: y 'north' is not a number"):
        RoadNetwork(line_graph, SITE)


def test_edge_without_length_is_named(line_graph: nx.MultiDiGraph) -> None:
    del line_graph.edges["B", "C", 0]["length"]
    with pytest.raises(BadInputError, match=r"edge \(B, C, 0\): missing 'length'"):
        RoadNetwork(line_graph, SITE)


@pytest.mark.parametrize("bad", [0.0, -3.0, math.nan, math.inf, "long"])
def test_edge_with_bad_length_is_named(line_graph: nx.MultiDiGraph, bad: object) -> None:
    line_graph.edges["A", "B", 0]["length"] = bad
    with pytest.raises(BadInputError, match=r"edge \(A, B, 0\): 'length'"):
        RoadNetwork(line_graph, SITE)


def test_disconnected_graph_is_rejected_unless_asked(line_graph: nx.MultiDiGraph) -> None:
    line_graph.add_node("X", **node_attrs(500, 500))
    line_graph.add_node("Y", **node_attrs(600, 500))
    line_graph.add_edge("X", "Y", length=100.0, highway="track")
    with pytest.raises(BadInputError, match="not connected: 2 separate parts"):
        RoadNetwork(line_graph, SITE)
    network = RoadNetwork.from_graph(line_graph, SITE, largest_component=True)
    assert set(network.graph.nodes) == {"A", "B", "C"}
    assert "X" in line_graph  # the caller's graph is left whole


def test_bad_geometry_is_named(line_graph: nx.MultiDiGraph) -> None:
    line_graph.edges["A", "B", 0]["geometry"] = shapely.Point(ORIGIN)
    network = RoadNetwork(line_graph, SITE)
    with pytest.raises(BadInputError, match=r"edge \(A, B, 0\): 'geometry' is not a LineString"):
        _ = network.geometries
