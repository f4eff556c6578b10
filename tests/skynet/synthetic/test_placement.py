"""Camera placement: intersections, checkpoints, villages, poses, coverage."""

from __future__ import annotations

import re
from collections import defaultdict

import networkx as nx
import numpy as np
import pytest
import shapely

from camera_registry import Camera, SiteCRS
from camera_registry.geometry import image_to_ground
from skynet.errors import BadInputError
from skynet.synthetic import SyntheticCity, generate_city, major_junctions, place_cameras
from skynet.synthetic._builder import ARTERIAL

ID_PATTERN = re.compile(r"^(J\d{4}-(N|E|S|W|NE|SE|SW|NW)\d?|CP\d{2,}|V\d{2,}-[EL]\d+)$")


@pytest.fixture(scope="module")
def city() -> SyntheticCity:
    return generate_city(21, size="small")


def find_tag(camera: Camera, key: str) -> str | None:
    prefix = f"{key}="
    return next((t[len(prefix) :] for t in camera.tags if t.startswith(prefix)), None)


def tag(camera: Camera, key: str) -> str:
    value = find_tag(camera, key)
    assert value is not None, f"{camera.id} has no {key}= tag"
    return value


def homography(camera: Camera) -> np.ndarray:
    matrix = camera.homography_matrix
    assert matrix is not None, f"{camera.id} has no homography"
    return matrix


def metric_xy(camera: Camera, crs: SiteCRS) -> np.ndarray:
    x, y = crs.to_metric([camera.lon], [camera.lat])
    return np.array([x[0], y[0]])


def by_group(cameras: list[Camera], key: str) -> dict[str, list[Camera]]:
    groups: dict[str, list[Camera]] = defaultdict(list)
    for camera in cameras:
        value = find_tag(camera, key)
        if value is not None:
            groups[value].append(camera)
    return groups


def test_ids_are_unique_and_readable(city: SyntheticCity) -> None:
    ids = [c.id for c in city.cameras]
    assert len(ids) == len(set(ids))
    assert all(ID_PATTERN.match(i) for i in ids), [i for i in ids if not ID_PATTERN.match(i)]
    assert {c.kind for c in city.cameras} == {"road", "checkpoint", "village", "community"}


def test_one_camera_per_approach_of_every_major_junction(city: SyntheticCity) -> None:
    graph = city.graph.to_undirected(as_view=True)
    junctions = by_group([c for c in city.cameras if c.kind == "road"], "junction")
    assert set(junctions) == set(city.junction_ids.values())  # coverage 1: all equipped
    node_of = {jid: node for node, jid in city.junction_ids.items()}
    for jid, cameras in junctions.items():
        node = node_of[jid]
        neighbours = set(graph.neighbors(node))
        assert 3 <= len(cameras) <= 4 and len(cameras) == len(neighbours)
        approached = {int(tag(c, "edge").split("-")[1]) for c in cameras}
        assert approached == neighbours
        assert len({tag(c, "approach") for c in cameras}) == len(cameras)
        for camera in cameras:
            edge = city.graph.edges[node, int(tag(camera, "edge").split("-")[1]), 0]
            position = metric_xy(camera, city.crs)
            junction_xy = np.array([graph.nodes[node]["x"], graph.nodes[node]["y"]])
            assert 5.0 < np.hypot(*(position - junction_xy)) < 15.0  # a few metres back
            centre = image_to_ground(
                homography(camera),
                np.array([[camera.image_width / 2, camera.image_height / 2]]),
            )
            assert shapely.distance(edge["geometry"], shapely.Point(centre[0])) < 8.0
            # Looks away from the junction along the approach.
            assert np.hypot(*(centre[0] - junction_xy)) > np.hypot(*(position - junction_xy))


def test_major_junctions_are_where_arterials_meet(city: SyntheticCity) -> None:
    assert major_junctions(city.graph) == city.major_junctions
    graph = city.graph.to_undirected(as_view=True)
    for node in city.major_junctions:
        classes = [graph.edges[node, w, 0]["highway"] for w in graph.neighbors(node)]
        assert sum(c in ARTERIAL for c in classes) >= 3 or "trunk" in classes


def test_every_village_has_at_least_six_cameras_with_entrances(city: SyntheticCity) -> None:
    for name in city.villages:
        cameras = [c for c in city.cameras if c.area == name]
        assert len(cameras) >= 6
        assert {c.kind for c in cameras} <= {"village", "community"}
        entrances = [c for c in cameras if "entrance" in c.tags]
        assert entrances
        for camera in entrances:
            node = int(tag(camera, "node"))
            assert city.graph.nodes[node]["village"] == name


def test_checkpoints_lie_on_arterials_outside_the_town_grid(city: SyntheticCity) -> None:
    checkpoints = [c for c in city.cameras if c.kind == "checkpoint"]
    assert checkpoints
    zones = nx.get_node_attributes(city.graph, "zone")
    for camera in checkpoints:
        u, v = (int(n) for n in tag(camera, "edge").split("-"))
        edge = city.graph.edges[u, v, 0]
        assert edge["highway"] in ARTERIAL and "town" not in (zones[u], zones[v])
        position = shapely.Point(metric_xy(camera, city.crs))
        assert shapely.distance(edge["geometry"], position) < 6.0


def test_poses_are_realistic_and_homographies_match_them(city: SyntheticCity) -> None:
    for camera in city.cameras:
        assert 4.0 <= camera.height_m <= 8.0 and 50.0 <= camera.fov_deg <= 90.0
        assert (camera.image_width, camera.image_height) in {(640, 360), (1280, 720)}
        tilt = float(tag(camera, "tilt_deg"))
        assert 20.0 <= tilt <= 40.0
        position = metric_xy(camera, city.crs)
        w, h = camera.image_width, camera.image_height
        ground = image_to_ground(
            homography(camera), np.array([[w / 2, h / 2], [0, 0], [w, 0], [w / 2, h]], dtype=float)
        )
        offsets = ground - position
        distances = np.hypot(offsets[:, 0], offsets[:, 1])
        heading = np.radians(camera.heading_deg)
        forward = offsets @ np.array([np.sin(heading), np.cos(heading)])
        assert np.all(forward > 0.0)  # the whole view is in front of the camera
        assert distances[0] <= camera.range_m
        assert np.isclose(distances[1:3].max(), camera.range_m)  # footprint ends at the range
        expected = camera.height_m / np.tan(np.radians(tilt))
        assert np.isclose(distances[0], expected, rtol=5e-3)  # tilt tag is rounded to 0.1°


def test_coverage_keeps_a_subset_of_the_same_cameras(city: SyntheticCity) -> None:
    half = generate_city(21, size="small", coverage=0.5)
    full = {c.id: c for c in city.cameras}
    assert 0 < len(half.cameras) < len(full)
    assert all(full[c.id] == c for c in half.cameras)
    junctions = by_group([c for c in half.cameras if c.kind == "road"], "junction")
    assert len(junctions) == round(0.5 * len(city.major_junctions))
    villages = {c.area for c in half.cameras if c.kind in ("village", "community")}
    assert len(villages) == round(0.5 * len(city.villages))


def test_coverage_per_category(city: SyntheticCity) -> None:
    mixed = generate_city(21, size="small", coverage={"checkpoints": 0.0, "villages": 0.5})
    kinds = {c.kind for c in mixed.cameras}
    assert "checkpoint" not in kinds
    road = [c for c in city.cameras if c.kind == "road"]
    assert [c for c in mixed.cameras if c.kind == "road"] == road  # junctions untouched
    villages = {c.area for c in mixed.cameras if c.kind in ("village", "community")}
    assert len(villages) == round(0.5 * len(city.villages))
    with pytest.raises(BadInputError, match="coverage"):
        place_cameras(city.graph, city.crs, np.random.default_rng(0), coverage={"bridges": 1.0})


def test_a_few_cameras_are_offline(city: SyntheticCity) -> None:
    rng = np.random.default_rng(0)
    many = place_cameras(city.graph, city.crs, rng, offline_share=0.2)
    share = np.mean([c.status == "offline" for c in many])
    assert 0.1 < share < 0.3
    none = place_cameras(city.graph, city.crs, np.random.default_rng(0), offline_share=0.0)
    assert all(c.status == "online" for c in none)
    assert sum(c.status == "offline" for c in city.cameras) < 0.1 * len(city.cameras)


def test_placement_works_on_a_plain_graph_without_zones() -> None:
    crs = SiteCRS.from_user_input("EPSG:32650")
    graph = nx.MultiDiGraph(crs=crs.code)
    for i in range(3):
        for j in range(3):
            graph.add_node(i * 3 + j, x=700_000.0 + 200.0 * j, y=2_800_000.0 + 200.0 * i)
    for a, b in [
        (0, 1),
        (1, 2),
        (3, 4),
        (4, 5),
        (6, 7),
        (7, 8),
        (0, 3),
        (3, 6),
        (1, 4),
        (4, 7),
        (2, 5),
        (5, 8),
    ]:
        for u, v in ((a, b), (b, a)):
            line = shapely.LineString(
                [
                    (graph.nodes[u]["x"], graph.nodes[u]["y"]),
                    (graph.nodes[v]["x"], graph.nodes[v]["y"]),
                ]
            )
            graph.add_edge(u, v, highway="primary", length=line.length, geometry=line)
    cameras = place_cameras(graph, crs, np.random.default_rng(1))
    junction_cameras = [c for c in cameras if c.kind == "road"]
    # The centre crossing and the four T-junctions on the edges (all roads primary).
    junctions = by_group(junction_cameras, "junction")
    assert {jid: int(tag(cams[0], "node")) for jid, cams in junctions.items()} == {
        "J0001": 1,
        "J0002": 3,
        "J0003": 4,
        "J0004": 5,
        "J0005": 7,
    }
    assert sorted(tag(c, "approach") for c in junctions["J0003"]) == ["E", "N", "S", "W"]
    assert sorted(tag(c, "approach") for c in junctions["J0001"]) == ["E", "N", "W"]
    assert all(c.area == "arterial" for c in junction_cameras)


def test_bad_placement_arguments_are_named(city: SyntheticCity) -> None:
    rng = np.random.default_rng(0)
    with pytest.raises(BadInputError, match="coverage"):
        place_cameras(city.graph, city.crs, rng, coverage=0.0)
    with pytest.raises(BadInputError, match="offline"):
        place_cameras(city.graph, city.crs, rng, offline_share=-0.1)


def test_street_cameras_add_mid_block_views_and_move_no_other_camera(
    city: SyntheticCity,
) -> None:
    dense = generate_city(21, size="small", street_cameras=120)
    assert dense.cameras[: len(city.cameras)] == city.cameras
    streets = dense.cameras[len(city.cameras) :]
    assert len(streets) == 120 and all(c.kind == "other" and "street" in c.tags for c in streets)
    assert len({c.id for c in dense.cameras}) == len(dense.cameras)
    edges = {tag(c, "edge") for c in streets}
    assert len(edges) == 120  # one a road direction
    graph = dense.graph
    for camera in streets[:20]:  # mid-block: a third to two thirds along, looking along it
        u, v = (int(n) for n in tag(camera, "edge").split("-"))
        a, b = (u, v) if graph.has_edge(u, v) else (v, u)  # a one-way road, looked along back
        line = next(iter(graph[a][b].values()))["geometry"]
        where = line.project(shapely.Point(metric_xy(camera, dense.crs)))
        assert 0.25 * line.length < where < 0.75 * line.length
    with pytest.raises(BadInputError, match="street cameras"):
        place_cameras(city.graph, city.crs, np.random.default_rng(0), street_cameras=10**7)
