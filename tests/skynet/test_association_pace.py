"""A vehicle's pace: its speed against its road's free flow, and the halves' evidence."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

from camera_registry import SiteCRS
from skynet._association_pace import pace_evidence, sighting_pace
from skynet._paths import CLASS_SPEED
from skynet.roads import RoadNetwork

SITE = SiteCRS.from_user_input("EPSG:32650")


def _network() -> RoadNetwork:
    graph = nx.MultiDiGraph()
    for node, dx in (("A", 0.0), ("B", 500.0), ("C", 1000.0)):
        graph.add_node(node, x=700_000.0 + dx, y=2_816_000.0)
    graph.add_edge("A", "B", length=500.0, highway="primary", maxspeed="72")
    graph.add_edge("B", "C", length=500.0, highway="primary", maxspeed="36")
    return RoadNetwork(graph, SITE)


def test_pace_is_speed_over_the_class_free_flow_on_the_view() -> None:
    network = _network()
    classes = np.array(["car", "truck", "vehicle", "car", "car"])
    speed = np.array([22.0, 16.0, 20.0, np.nan, 15.0])
    exits = np.array(["A-B-0", "A-B-0", "A-B-0", "A-B-0", "B-C-0"])
    entries = np.array(["A-B-0", "", "A-B-0", "A-B-0", "A-B-0"])
    pace = sighting_pace(network, classes, speed, exits, entries)
    truck_share = CLASS_SPEED["truck"][0]
    assert pace[0] == pytest.approx(np.log(22.0 / 20.0))  # 72 km/h: 20 m/s
    assert pace[1] == pytest.approx(np.log(16.0 / (20.0 * truck_share)))  # no entry edge
    assert np.isnan(pace[2]) and np.isnan(pace[3])  # no class known; no speed
    assert pace[4] == pytest.approx(np.log(15.0 / 15.0))  # the mean of 20 and 10 m/s


def test_pace_evidence_favours_halves_of_one_pace() -> None:
    """Two tracks of four reads each, paces 0.1 and -0.15: a link inside the first is
    likelier one vehicle than one from the first to the second; a half with no read
    says nothing."""
    pace = np.array([0.1, 0.12, 0.08, 0.1, -0.15, -0.13, -0.17, np.nan])
    order = np.arange(8, dtype=np.intp)
    track = np.array([0, 0, 0, 0, 1, 1, 1, 2])
    first = np.array([0, 0, 0, 0, 4, 4, 4, 7], dtype=np.intp)
    end = np.array([4, 4, 4, 4, 7, 7, 7, 8], dtype=np.intp)
    assert np.all(first == np.searchsorted(track, track))
    early = np.array([1, 3, 6], dtype=np.intp)
    late = np.array([2, 4, 7], dtype=np.intp)
    llr = pace_evidence(pace, order, order, first, end, early, late)
    assert llr[0] > 0.5 and llr[1] < -2.0 and llr[2] == 0.0
