"""Camera attachment and the coverage report on hand-built cases with known answers."""

from __future__ import annotations

import json

import networkx as nx
import numpy as np
import pytest
from roads_helpers import SITE, camera_at, registry_of, road_graph

from camera_registry import CameraRegistry, SiteCRS
from skynet.roads import RoadNetwork, attach_cameras, coverage_report
from skynet.roads.cameras import CameraAttachment

ARC = 0.05  # metres: sector arcs are polygons (24 points), so lengths agree to ~1 cm


def pair(attachment: CameraAttachment, network: RoadNetwork, camera: str, u: str, v: str) -> int:
    rows = attachment.pairs_of(camera)
    match = rows[attachment.edge[rows] == network.edge_row[(u, v, 0)]]
    assert match.size == 1, f"{camera} does not watch {u}->{v}"
    return int(match[0])


def test_camera_looking_along_the_road_sees_both_directions(line_graph: nx.MultiDiGraph) -> None:
    network = RoadNetwork(line_graph, SITE)
    along = camera_at("along", -5.0, 2.0, 90.0, fov=60.0, reach=50.0)
    away = camera_at("away", -5.0, 2.0, 270.0, fov=60.0, reach=50.0)
    attachment = attach_cameras(network, registry_of(along, away))
    assert attachment.edges_of("away").size == 0
    assert sorted(network.edge_ids[e] for e in attachment.edges_of("along")) == [
        ("A", "B", 0),
        ("B", "A", 0),
    ]
    reach = -5.0 + np.sqrt(50.0**2 - 2.0**2)  # where the range arc crosses the road
    forward = pair(attachment, network, "along", "A", "B")
    assert attachment.watched_m[forward] == pytest.approx(reach, abs=ARC)
    assert attachment.start_m[forward] == pytest.approx(0.0, abs=1e-9)
    assert attachment.end_m[forward] == pytest.approx(reach, abs=ARC)
    assert attachment.heading_deg[forward] == pytest.approx(90.0)
    assert not attachment.approaching[forward]  # driving east, away from the camera
    backward = pair(attachment, network, "along", "B", "A")
    assert attachment.start_m[backward] == pytest.approx(100.0 - reach, abs=ARC)
    assert attachment.heading_deg[backward] == pytest.approx(270.0)
    assert attachment.approaching[backward]
    assert attachment.cameras_of(network.edge_row[("B", "A", 0)]) == ["along"]
    assert attachment.cameras_of(network.edge_row[("B", "C", 0)]) == []
    edges = np.array([network.edge_row[("B", "C", 0)], network.edge_row[("B", "A", 0)]])
    rows = attachment.rows_watching(edges)
    assert sorted(rows.tolist()) == np.flatnonzero(np.isin(attachment.edge, edges)).tolist()
    assert attachment.rows_watching(edges[:1]).size == 0
    pairs, owner = attachment.pairs_of_rows(np.array([1, 0, 0]))  # away, along, along
    along = attachment.pairs_of("along").tolist()
    assert pairs.tolist() == along * 2 and owner.tolist() == [1] * len(along) + [2] * len(along)


def test_oneway_road_offers_one_direction() -> None:
    graph = road_graph(
        {"A": (0.0, 0.0), "B": (100.0, 0.0), "C": (200.0, 0.0)},
        [("A", "B", "residential"), ("B", "C", "residential")],
        oneway=[("B", "C")],
    )
    network = RoadNetwork(graph, SITE)
    down = camera_at("down", 150.0, 10.0, 180.0, fov=90.0, reach=30.0)
    attachment = attach_cameras(network, registry_of(down))
    assert [network.edge_ids[e] for e in attachment.edges_of("down")] == [("B", "C", 0)]
    row = pair(attachment, network, "down", "B", "C")
    # Apex 10 m above the road, 90° wide: it covers x in [140, 160] on the road.
    assert attachment.watched_m[row] == pytest.approx(20.0, abs=1e-6)
    assert (attachment.start_m[row], attachment.end_m[row]) == pytest.approx((40.0, 60.0))


def test_registry_on_another_crs_is_reprojected(line_graph: nx.MultiDiGraph) -> None:
    network = RoadNetwork(line_graph, SITE)
    down = camera_at("down", 50.0, 10.0, 180.0, fov=90.0, reach=30.0)
    moved = CameraRegistry([down], SiteCRS.from_user_input("EPSG:4547"))
    attachment = attach_cameras(network, moved)
    assert attachment.watched_m.tolist() == pytest.approx([20.0, 20.0], abs=1e-3)


def cross_network() -> RoadNetwork:
    """O at the centre; N, E, S, W arms of 200 m; N → N2 → N3 runs on north (500 m)."""
    nodes = {
        "O": (0.0, 0.0),
        "N": (0.0, 200.0),
        "E": (200.0, 0.0),
        "S": (0.0, -200.0),
        "W": (-200.0, 0.0),
        "N2": (0.0, 400.0),
        "N3": (0.0, 700.0),
    }
    roads = [
        ("O", "N", "primary"),
        ("O", "E", "primary"),
        ("O", "S", "secondary"),
        ("O", "W", "residential"),
        ("N", "N2", "residential"),
        ("N2", "N3", "residential"),
    ]
    villages = {"N2": {"village": "Alpha"}, "N3": {"village": "Alpha"}, "W": {"village": "Beta"}}
    return RoadNetwork(road_graph(nodes, roads, node_extra=villages), SITE)


def cross_cameras() -> CameraRegistry:
    return registry_of(
        camera_at("cN", 0.0, 5.0, 0.0, fov=60.0, reach=50.0),
        camera_at("cE", 5.0, 0.0, 90.0, fov=60.0, reach=50.0),
        camera_at("cS", 0.0, -5.0, 180.0, fov=60.0, reach=50.0, status="offline"),
        camera_at("cW", -150.0, 0.0, 270.0, fov=60.0, reach=40.0),
        camera_at("v1", 10.0, 450.0, 90.0, fov=60.0, reach=30.0, kind="village"),
        camera_at("v2", 1000.0, 1000.0, 0.0, reach=30.0, area="Alpha", kind="village"),
    )


def test_coverage_figures() -> None:
    report = coverage_report(cross_network(), cross_cameras())
    assert report.cameras == 6 and report.cameras_online == 5
    assert report.total.length_m == pytest.approx(1300.0)
    assert report.total.watched_m == pytest.approx(190.0, abs=4 * ARC)
    assert report.total.watched_online_m == pytest.approx(140.0, abs=3 * ARC)
    by_class = {s.name: s for s in report.by_class}
    assert set(by_class) == {"primary", "secondary", "residential"}
    assert by_class["primary"].length_m == pytest.approx(400.0)
    assert by_class["primary"].share_online == pytest.approx(0.25, abs=1e-3)
    assert by_class["secondary"].watched_m == pytest.approx(50.0, abs=ARC)
    assert by_class["secondary"].watched_online_m == 0.0
    assert by_class["residential"].length_m == pytest.approx(700.0)
    assert by_class["residential"].watched_online_m == pytest.approx(40.0, abs=ARC)
    by_area = {s.name: s for s in report.by_area}
    assert by_area["Alpha"].length_m == pytest.approx(500.0) and by_area["Alpha"].watched_m == 0.0
    assert by_area["Beta"].length_m == pytest.approx(200.0)
    assert by_area["Beta"].watched_online_m == pytest.approx(40.0, abs=ARC)
    assert by_area["(unassigned)"].watched_online_m == pytest.approx(100.0, abs=2 * ARC)


def test_overlapping_cameras_count_once() -> None:
    network = cross_network()
    twice = registry_of(
        camera_at("a", 0.0, 5.0, 0.0, fov=60.0, reach=50.0),
        camera_at("b", 0.0, 25.0, 0.0, fov=60.0, reach=50.0),
    )
    report = coverage_report(network, twice)
    assert report.total.watched_m == pytest.approx(70.0, abs=2 * ARC)  # y from 5 to 75


def test_blind_stretches_chain_through_pass_through_nodes() -> None:
    report = coverage_report(cross_network(), cross_cameras())
    longest, second = report.blind[:2]
    assert longest.length_m == pytest.approx(500.0) and longest.roads == 2
    assert longest.classes == ("residential",)
    ends = {longest.start_lonlat, longest.end_lonlat}
    network = cross_network()
    expected = {(network.graph.nodes[n]["lon"], network.graph.nodes[n]["lat"]) for n in ("N", "N3")}
    assert ends == expected
    assert second.length_m == pytest.approx(200.0) and second.classes == ("secondary",)
    assert len(report.blind) == 2  # every other road has some online camera on it


def test_village_rule() -> None:
    report = coverage_report(cross_network(), cross_cameras(), min_village_cameras=4)
    villages = {v.village: v for v in report.villages or ()}
    assert (villages["Alpha"].cameras, villages["Alpha"].ok) == (2, False)  # v1 near, v2 by area
    assert (villages["Beta"].cameras, villages["Beta"].online) == (4, 3)
    assert villages["Beta"].ok and report.villages_ok is False
    default = coverage_report(cross_network(), cross_cameras())
    assert default.min_village_cameras == 6 and not any(v.ok for v in default.villages or ())


def test_village_rule_not_applicable_without_villages(line_graph: nx.MultiDiGraph) -> None:
    report = coverage_report(RoadNetwork(line_graph, SITE), registry_of())
    assert report.villages is None and report.villages_ok is None
    assert report.total.watched_m == 0.0 and report.intersections == ()


def test_major_intersection_approaches() -> None:
    report = coverage_report(cross_network(), cross_cameras())
    assert [check.node for check in report.intersections] == ["O"]
    (check,) = report.intersections
    assert (check.approaches, check.watched) == (4, 2)
    # S is watched only by an offline camera, W only 150 m out.
    assert set(check.unwatched_from) == {"S", "W"}
    assert not report.approaches_ok
    wider = coverage_report(cross_network(), cross_cameras(), approach_reach_m=160.0)
    assert set(wider.intersections[0].unwatched_from) == {"S"}


def test_report_as_dict_is_json_ready() -> None:
    document = coverage_report(cross_network(), cross_cameras()).as_dict()
    text = json.dumps(document)
    assert document["rules"]["intersection_approaches"]["failing"][0]["node"] == "O"
    assert document["total"]["share_online"] == pytest.approx(140.0 / 1300.0, abs=1e-3)
    assert "Alpha" in text
