"""The road store on SQLite and PostgreSQL (``db_url``): round trip, the site CRS, conflicts."""

from __future__ import annotations

import networkx as nx
import pytest
import shapely
from roads_helpers import SITE, road_graph

from camera_registry import RegistryStore, SiteCRS
from skynet.errors import ConflictError, NotFoundError
from skynet.roads import RoadNetwork, RoadStore


def cross_graph() -> nx.MultiDiGraph:
    nodes = {
        "O": (0.0, 0.0),
        "N": (0.0, 200.0),
        "E": (200.0, 0.0),
        "S": (0.0, -200.0),
        "W": (-200.0, 0.0),
    }
    roads = [("O", n, "primary") for n in "NES"] + [("O", "W", "track")]
    return road_graph(nodes, roads, node_extra={"W": {"village": "Beta"}})


def test_store_round_trip(db_url: str) -> None:
    db = db_url
    store = RoadStore(db)
    with pytest.raises(NotFoundError, match="no road network"):
        store.load()
    network = RoadNetwork(cross_graph(), SITE, source="cross")
    stored = store.save(network)
    assert (stored.nodes, stored.edges, stored.crs) == (5, 8, "EPSG:32650")
    again = RoadStore(db).load()
    assert again.crs.crs == network.crs.crs
    assert list(again.graph.edges(keys=True, data="length")) == list(
        network.graph.edges(keys=True, data="length")
    )
    assert again.graph.nodes["W"]["village"] == "Beta"
    assert RoadStore(db).info().source == "cross"
    assert RegistryStore(db).working_crs == SITE  # the site's CRS is now fixed


def test_store_refuses_another_crs(db_url: str) -> None:
    db = db_url
    RoadStore(db).save(RoadNetwork(cross_graph(), SITE))
    other = RoadNetwork(cross_graph(), SiteCRS.from_user_input("EPSG:32651"))
    with pytest.raises(ConflictError, match="EPSG:32650"):
        RoadStore(db).save(other)
    assert RoadStore(db).load().crs == SITE  # nothing written


def test_store_keeps_every_attribute_and_type(db_url: str) -> None:
    graph = cross_graph()
    line = shapely.LineString([(700000.0, 2816000.0), (700010.0, 2816100.0), (700000.0, 2816200.0)])
    data = graph.edges["O", "N", 0]
    data.update(geometry=line, osmid=[1, 2], lanes=2, name="Ring", bridge=True, maxspeed=50.0)
    graph.nodes["O"]["street_count"] = 4
    network = RoadNetwork(graph, SITE)
    db = db_url
    RoadStore(db).save(network)
    again = RoadStore(db).load()
    assert list(again.graph.nodes(data=True)) == list(network.graph.nodes(data=True))
    for (u, v, k, before), (*_, after) in zip(
        network.graph.edges(keys=True, data=True),
        again.graph.edges(keys=True, data=True),
        strict=True,
    ):
        assert set(before) == set(after), (u, v, k)
        for name, value in before.items():
            if isinstance(value, shapely.Geometry):
                assert shapely.equals_exact(value, after[name], tolerance=0.0)
            else:
                assert after[name] == value and type(after[name]) is type(value), name
