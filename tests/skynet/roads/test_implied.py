"""Cameras implied between two sightings, and the planner that skips to the far end of a
stretch the trail must pass: a road A–B–C–D–F–G–H with a slow way round B–E–C."""

from __future__ import annotations

import numpy as np
import pytest
from roads_helpers import SITE, camera_at, registry_of, road_graph

from skynet._tree import SearchTree
from skynet.errors import BadInputError
from skynet.frontier import FrontierModel
from skynet.gap import GapModel
from skynet.implied import ImpliedCameras, Visit
from skynet.lookahead import Lookahead
from skynet.onward import OnwardModel
from skynet.roads import RoadNetwork, attach_cameras
from trackers.sighting import APPEARANCE_DIM, Evidence, Sighting

#: residential roads: 30 km/h; the view ends 10 m either side of each camera's x
SPEED = 30.0 / 3.6
DIRECT_S = (2890.0 - 110.0) / SPEED  # from a's view to d's along A–D
ROUND_S = DIRECT_S + (2.0 * np.hypot(500.0, 800.0) - 1000.0) / SPEED  # via E, round m


@pytest.fixture(scope="module")
def world() -> tuple[RoadNetwork, FrontierModel]:
    nodes = {"A": (0.0, 0.0), "B": (1000.0, 0.0), "C": (2000.0, 0.0), "D": (3000.0, 0.0)}
    nodes |= {"E": (1500.0, 800.0), "F": (4000.0, 0.0), "G": (5000.0, 0.0), "H": (6000.0, 0.0)}
    roads = [(u, v, "residential") for u, v in ("AB", "BC", "CD", "DF", "FG", "GH", "BE", "EC")]
    network = RoadNetwork(road_graph(nodes, roads), SITE)
    cameras = [
        camera_at(name, x, -10.0, 0.0, fov=90.0, reach=30.0)
        for name, x in (("a", 100.0), ("b", 600.0), ("m", 1500.0), ("c", 2400.0), ("d", 2900.0))
    ]
    registry = registry_of(*cameras)
    attachment = attach_cameras(network, registry)
    return network, FrontierModel(network, registry, attachment, horizon_s=1800.0)


def leg(gap_s: float) -> tuple[Visit, Visit]:
    return Visit("a", 0.0, "A-B-0"), Visit("d", gap_s, "C-D-0")


def implied_of(world: tuple[RoadNetwork, FrontierModel]) -> ImpliedCameras:
    network, model = world
    return ImpliedCameras(network, model.attachment)


def test_a_camera_the_way_round_cannot_avoid_in_the_time_is_implied(
    world: tuple[RoadNetwork, FrontierModel],
) -> None:
    implied = implied_of(world)
    tight = (DIRECT_S + ROUND_S) / 2  # the way round E does not fit
    assert implied.forced(*leg(tight)) == ["b", "m", "c"]  # in route order


def test_a_camera_the_gap_lets_the_target_drive_round_is_not(
    world: tuple[RoadNetwork, FrontierModel],
) -> None:
    implied = implied_of(world)
    assert implied.forced(*leg(ROUND_S + 60.0)) == ["b", "c"]  # m can be driven round via E


def test_no_route_fits_the_gap_so_nothing_is_implied(
    world: tuple[RoadNetwork, FrontierModel],
) -> None:
    implied = implied_of(world)
    assert implied.forced(*leg(DIRECT_S * 0.8)) == []
    assert implied.forced(Visit("a", 0.0), Visit("a", 100.0)) == []


def test_the_way_on_passes_the_unavoidable_cameras(
    world: tuple[RoadNetwork, FrontierModel],
) -> None:
    network, model = world
    onward = OnwardModel(network, model.attachment, horizon_s=1800.0)
    way = onward.onward("a", "A-B-0")
    rows = {str(c): i for i, c in enumerate(model.attachment.camera_ids)}
    assert way.chance[rows["b"]] == pytest.approx(1.0)  # ahead on the exit edge
    assert way.chance[rows["c"]] >= way.chance[rows["d"]]  # every way past d passes c
    assert 0.0 < way.chance[rows["m"]] < 1.0  # places on the way round E do not pass m
    assert way.chance[rows["a"]] == 0.0
    empty = onward.onward("a", "A-B-0", empty=["c"])
    assert empty.chance[rows["d"]] < way.chance[rows["d"]]  # c saw nothing: d is less likely
    turned = onward.onward("m", "C-B-0", came_from="a")
    plain = onward.onward("m", "C-B-0")
    assert turned.chance[rows["a"]] < plain.chance[rows["a"]]  # places back past a weigh less


def test_the_gap_model_gives_each_camera_its_chance_of_being_passed_in_the_gap(
    world: tuple[RoadNetwork, FrontierModel],
) -> None:
    network, model = world
    rows = {str(c): i for i, c in enumerate(model.attachment.camera_ids)}
    gaps = GapModel(network, model.attachment)
    loose = gaps.between(*leg(ROUND_S + 60.0))
    assert loose.chance[rows["b"]] == pytest.approx(1.0)  # ahead on the exit edge
    assert loose.chance[rows["c"]] == pytest.approx(1.0)  # before d on its entry edge
    assert 0.0 < loose.chance[rows["m"]] < 1.0  # the way round E fits the gap
    assert loose.chance[rows["a"]] == 0.0 and loose.chance[rows["d"]] == 0.0
    assert 0.0 < loose.at_s[rows["m"]] < ROUND_S + 60.0
    tight = gaps.between(*leg((DIRECT_S + ROUND_S) / 2))
    assert tight.chance[rows["m"]] == pytest.approx(1.0)  # no time to go round
    silent = gaps.between(*leg(ROUND_S + 60.0), empty=["m"])
    assert silent.chance[rows["m"]] < loose.chance[rows["m"]]  # m was opened: it saw nothing


def sighting(sighting_id: str, camera_id: str, t: float, edge: str) -> Sighting:
    look = np.zeros(APPEARANCE_DIM, dtype=np.float32)
    look[0] = 1.0
    return Sighting(
        id=sighting_id, camera_id=camera_id, t_in=t - 2.0, t_out=t, vehicle_class="car",
        appearance=look, quality=0.9, evidence=Evidence("clip", 0, (0.0, 0.0, 1.0, 1.0)),
        entry_edge=edge, exit_edge=edge,
    )  # fmt: skip


def test_the_planner_opens_the_far_end_of_a_stretch_that_must_be_passed(
    world: tuple[RoadNetwork, FrontierModel],
) -> None:
    _, model = world
    trail = [sighting("s-a", "a", 1000.0, "A-B-0")]
    plain = Lookahead.over(model, skip_ahead=False).next_opening(
        trail, reviewed={}, opened={"a"}, now_s=4000.0
    )
    assert plain is not None and plain.camera_id == "b"  # the next camera, one at a time
    ahead = Lookahead.over(model).next_opening(trail, reviewed={}, opened={"a"}, now_s=4000.0)
    assert ahead is not None and ahead.camera_id != "b"
    assert "b" in ahead.settles and ahead.value > plain.value


def test_a_gap_between_two_sightings_proposes_the_camera_the_way_round_skips(
    world: tuple[RoadNetwork, FrontierModel],
) -> None:
    _, model = world
    planner = Lookahead.over(model, gaps_first=True)
    slow = ROUND_S + 120.0  # m may or may not have been passed
    trail = [sighting("s-a", "a", 1000.0, "A-B-0"), sighting("s-d", "d", 1000.0 + slow, "C-D-0")]
    assert planner.settled_between(*trail) == ["b", "c"]
    pick = planner.next_opening(trail, reviewed={}, opened={"a", "d"} | {"b", "c"}, now_s=9000.0)
    assert pick is not None and pick.camera_id == "m" and pick.gap == ("s-a", "s-d")


def test_the_search_tree_sums_down_and_up_and_walks_each_subtree_in_one_run() -> None:
    # 0 → 1 → 2, 1 → 3; 4 unreached
    parent = np.array([-1, 0, 1, 1, -1], dtype=np.intp)
    edge_into = np.array([-1, 10, 11, 12, -1], dtype=np.intp)
    levels = [np.array([1]), np.array([2, 3])]
    tree = SearchTree(parent, edge_into, levels)
    per_edge = np.zeros(13)
    per_edge[[10, 12]] = 1.0
    assert tree.down(per_edge).tolist() == [0.0, 1.0, 1.0, 2.0, 0.0]
    assert tree.up(np.array([1.0, 2.0, 4.0, 8.0, 16.0])).tolist() == [15.0, 14.0, 4.0, 8.0, 16.0]
    first, count = tree.preorder()
    assert count.tolist() == [4, 3, 1, 1, 1]
    for node in range(5):  # a subtree is the run of places from its root's
        inside = {n for n in range(5) if first[node] <= first[n] < first[node] + count[node]}
        below = {n for n in range(5) if n == node or node in (parent[n], parent[parent[n]])}
        assert inside == below - {-1}


def test_the_planner_takes_its_own_miss_chance_for_cameras_watched_through(
    world: tuple[RoadNetwork, FrontierModel],
) -> None:
    _, model = world
    default = Lookahead.over(model)
    assert default.onward.miss_probability == model.params.miss_probability
    sure = Lookahead.over(model, review_miss=0.01)
    assert sure.onward.miss_probability == sure.gap.miss_probability == 0.01
    rows = {str(c): i for i, c in enumerate(model.attachment.camera_ids)}
    # m opened and found empty: the surer the review, the less likely the way through m
    doubt = default.gap.between(*leg(ROUND_S + 60.0), empty=["m"]).chance[rows["m"]]
    trust = sure.gap.between(*leg(ROUND_S + 60.0), empty=["m"]).chance[rows["m"]]
    assert trust < doubt
    with pytest.raises(BadInputError, match="review_miss"):
        Lookahead.over(model, review_miss=1.5)
