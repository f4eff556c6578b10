"""The route choice (onward and in gaps): a driver who keeps off the main road takes the lane
round, so the camera on the main road ahead is less likely passed. A secondary road
A–B–C–D with a residential way round B–E–C; cameras a (A–B), m (B–C), d (C–D)."""

from __future__ import annotations

import numpy as np
import pytest
from roads_helpers import SITE, camera_at, registry_of, road_graph

from skynet.gap import GapModel
from skynet.implied import Visit
from skynet.onward import ROUTE_CHOICE, OnwardModel, RouteChoice
from skynet.roads import RoadNetwork, attach_cameras
from skynet.roads.cameras import CameraAttachment


@pytest.fixture(scope="module")
def world() -> tuple[RoadNetwork, CameraAttachment]:
    nodes = {"A": (0.0, 0.0), "B": (1000.0, 0.0), "C": (2000.0, 0.0), "D": (3000.0, 0.0)}
    nodes["E"] = (1500.0, 300.0)
    roads = [(u, v, "secondary") for u, v in ("AB", "BC", "CD")]
    roads += [(u, v, "residential") for u, v in ("BE", "EC")]
    network = RoadNetwork(road_graph(nodes, roads), SITE)
    cameras = [
        camera_at(name, x, -10.0, 0.0, fov=90.0, reach=30.0)
        for name, x in (("a", 100.0), ("m", 1500.0), ("d", 2500.0))
    ]
    return network, attach_cameras(network, registry_of(*cameras))


def chances(world: tuple[RoadNetwork, CameraAttachment], route: RouteChoice) -> dict[str, float]:
    network, attachment = world
    way = OnwardModel(network, attachment, horizon_s=1800.0, route=route).onward("a", "A-B-0")
    return {str(c): float(way.chance[i]) for i, c in enumerate(attachment.camera_ids)}


def test_the_cost_is_free_flow_seconds_times_the_class_factor_and_the_watched_cost(
    world: tuple[RoadNetwork, CameraAttachment],
) -> None:
    network, _ = world
    edges = network.edges
    watched = np.zeros(len(edges), dtype=bool)
    watched[0] = True
    cost = RouteChoice(secondary=2.5, residential=0.5, watched_s=60.0).cost(edges, watched)
    factor = np.where(edges.highway == edges.highway[0], 2.5, 0.5)  # edge 0 is secondary
    assert np.allclose(cost, edges.travel_time * factor + 60.0 * watched)


def test_a_dearer_main_road_sends_the_driver_round_it(
    world: tuple[RoadNetwork, CameraAttachment],
) -> None:
    plain = chances(world, RouteChoice(watched_s=0.0))
    wary = chances(world, RouteChoice(secondary=2.5, watched_s=0.0))
    assert wary["m"] < plain["m"]  # the places past C are reached round by E
    assert wary["d"] == pytest.approx(plain["d"])  # every way to D's places passes d
    assert plain["a"] == wary["a"] == 0.0


def test_the_seconds_to_a_camera_are_free_flow_seconds_along_the_drivers_way(
    world: tuple[RoadNetwork, CameraAttachment],
) -> None:
    network, attachment = world
    way = OnwardModel(network, attachment, horizon_s=1800.0, route=ROUTE_CHOICE).onward(
        "a", "A-B-0"
    )
    d = list(attachment.camera_ids).index("d")
    main, lane = 50.0 / 3.6, 30.0 / 3.6  # secondary and residential free-flow m/s
    round_e = (1000.0 - 110.0) / main + 2.0 * np.hypot(500.0, 300.0) / lane + 490.0 / main
    assert way.seconds[d] == pytest.approx(round_e, abs=2.0)  # round by E, not its cost


def test_in_a_gap_the_route_round_the_main_road_weighs_more_with_the_route_choice(
    world: tuple[RoadNetwork, CameraAttachment],
) -> None:
    network, attachment = world
    m = list(attachment.camera_ids).index("m")
    leg = Visit("a", 0.0, "A-B-0"), Visit("d", 400.0, "C-D-0")  # time to drive round E
    timed = GapModel(network, attachment).between(*leg)
    wary = GapModel(network, attachment, route=RouteChoice(secondary=2.5)).between(*leg)
    assert 0.0 < wary.chance[m] < timed.chance[m] < 1.0
