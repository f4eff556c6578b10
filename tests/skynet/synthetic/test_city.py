"""The synthetic city generator: determinism, osmnx conventions, layout facts, CLI."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import pytest
import shapely

from camera_registry import read_cameras
from skynet.errors import BadInputError
from skynet.roads import load_road_network
from skynet.synthetic import SyntheticCity, generate_city, size_plan
from skynet.synthetic._builder import RURAL, SPEED_KPH

CliRunner = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture(scope="module")
def small() -> SyntheticCity:
    return generate_city(11, size="small")


@pytest.fixture(scope="module")
def county() -> SyntheticCity:
    return generate_city(4, size="county")


def fingerprint(city: SyntheticCity) -> list[Any]:
    """Everything the city holds, in order, with geometries as WKB."""
    nodes = [(n, sorted(d.items())) for n, d in city.graph.nodes(data=True)]
    edges = [
        (u, v, k, sorted((a, b.wkb if a == "geometry" else b) for a, b in d.items()))
        for u, v, k, d in city.graph.edges(keys=True, data=True)
    ]
    cameras = [c.as_dict() for c in city.cameras]
    return [nodes, edges, cameras, city.villages, city.industrial_park.wkb, city.town_centre]


def edge_columns(graph: nx.MultiDiGraph) -> dict[str, np.ndarray]:
    rows = list(graph.edges(data=True))
    return {
        "u": np.array([u for u, _, _ in rows]),
        "v": np.array([v for _, v, _ in rows]),
        "length": np.array([d["length"] for *_, d in rows]),
        "maxspeed": np.array([d["maxspeed"] for *_, d in rows]),
        "travel_time": np.array([d["travel_time"] for *_, d in rows]),
        "geometry": np.array([d["geometry"] for *_, d in rows], dtype=object),
        "highway": np.array([d["highway"] for *_, d in rows]),
    }


def test_same_seed_same_city_different_seed_different(small: SyntheticCity) -> None:
    again = generate_city(11, size="small")
    assert fingerprint(again) == fingerprint(small)
    other = generate_city(12, size="small")
    assert fingerprint(other) != fingerprint(small)
    assert other.graph.number_of_nodes() != small.graph.number_of_nodes() or [
        d["x"] for _, d in other.graph.nodes(data=True)
    ] != [d["x"] for _, d in small.graph.nodes(data=True)]


def test_every_edge_has_the_osmnx_attributes_with_their_types(small: SyntheticCity) -> None:
    for _, _, data in small.graph.edges(data=True):
        assert isinstance(data["length"], float) and data["length"] > 0.0
        assert data["highway"] in SPEED_KPH
        assert (
            isinstance(data["maxspeed"], float) and data["maxspeed"] == SPEED_KPH[data["highway"]]
        )
        assert isinstance(data["travel_time"], float)
        assert isinstance(data["oneway"], bool)
        assert isinstance(data["geometry"], shapely.LineString)
    for _, data in small.graph.nodes(data=True):
        assert all(isinstance(data[k], float) for k in ("x", "y", "lon", "lat"))
    assert small.graph.graph["crs"] == small.crs.code == "EPSG:32650"


def test_lengths_times_and_geometry_ends_agree(small: SyntheticCity) -> None:
    columns = edge_columns(small.graph)
    np.testing.assert_allclose(columns["length"], shapely.length(columns["geometry"]), rtol=1e-12)
    np.testing.assert_allclose(
        columns["travel_time"], columns["length"] / (columns["maxspeed"] / 3.6), rtol=1e-12
    )
    nodes = small.graph.nodes
    first = shapely.get_coordinates(shapely.get_point(columns["geometry"], 0))
    last = shapely.get_coordinates(shapely.get_point(columns["geometry"], -1))
    start = np.array([[nodes[u]["x"], nodes[u]["y"]] for u in columns["u"]])
    end = np.array([[nodes[v]["x"], nodes[v]["y"]] for v in columns["v"]])
    assert np.array_equal(first, start) and np.array_equal(last, end)


def test_lonlat_matches_xy_through_the_crs(small: SyntheticCity) -> None:
    data = [d for _, d in small.graph.nodes(data=True)]
    x, y = small.crs.to_metric([d["lon"] for d in data], [d["lat"] for d in data])
    np.testing.assert_allclose(x, [d["x"] for d in data], atol=1e-4)
    np.testing.assert_allclose(y, [d["y"] for d in data], atol=1e-4)
    lon = np.array([d["lon"] for d in data])
    assert lon.min() > 118.8 and lon.max() < 119.2  # around the default origin (Putian)


def test_two_way_roads_are_pairs_of_reversed_edges(small: SyntheticCity) -> None:
    graph = small.graph
    one_way = 0
    for u, v, data in graph.edges(data=True):
        if data["oneway"]:
            one_way += 1
            assert not graph.has_edge(v, u)
            continue
        back = graph.edges[v, u, 0]
        assert back["oneway"] is False and back["highway"] == data["highway"]
        assert back["geometry"].equals_exact(data["geometry"].reverse(), 0.0)
    assert one_way > 0  # the town has some one-way streets


def test_drivable_network_is_strongly_connected(small: SyntheticCity) -> None:
    assert nx.is_strongly_connected(small.graph)


def test_county_is_about_30_by_20_km_with_its_parts(county: SyntheticCity) -> None:
    x = np.array([d["x"] for _, d in county.graph.nodes(data=True)])
    y = np.array([d["y"] for _, d in county.graph.nodes(data=True)])
    assert 25_000 < np.ptp(x) <= 30_000 and 16_000 < np.ptp(y) <= 20_000
    assert 10 <= len(county.villages) <= 20
    classes = {d["highway"] for *_, d in county.graph.edges(data=True)}
    assert {"trunk", "primary", "secondary", "tertiary", "residential", "unclassified"} <= classes
    assert nx.is_strongly_connected(county.graph)
    park = county.industrial_park
    assert 0.3e6 < park.area < 5e6
    assert not park.contains(shapely.Point(county.town_centre))


def test_trunk_road_links_town_and_park(small: SyntheticCity) -> None:
    zones = nx.get_node_attributes(small.graph, "zone")
    trunk = [(u, v) for u, v, d in small.graph.edges(data=True) if d["highway"] == "trunk"]
    assert len(trunk) == 2  # one road, both directions
    assert {zones[u] for u, _ in trunk} == {"ring", "industrial park"}
    gate = next(u for u, _ in trunk if zones[u] == "industrial park")
    point = shapely.Point(small.graph.nodes[gate]["x"], small.graph.nodes[gate]["y"])
    assert small.industrial_park.contains(point)


def test_villages_are_joined_by_winding_rural_lanes(small: SyntheticCity) -> None:
    graph = small.graph
    village_of = nx.get_node_attributes(graph, "village")
    assert set(village_of.values()) == set(small.villages)
    for name, members in small.villages.items():
        assert all(village_of[n] == name for n in members)
        lanes_out = [
            d["highway"]
            for n in members
            for _, w, d in graph.out_edges(n, data=True)
            if village_of.get(w) != name
        ]
        assert lanes_out and set(lanes_out) <= RURAL
    rural = [d for *_, d in graph.edges(data=True) if d["highway"] in RURAL]
    straight = np.array(
        [shapely.distance(*shapely.get_point(d["geometry"], [0, -1])) for d in rural]
    )
    along = np.array([d["length"] for d in rural])
    vertices = np.array([shapely.get_num_points(d["geometry"]) for d in rural])
    assert vertices.min() >= 5 and np.all(along > straight)
    # Only rural lanes (and village lanes) reach the villages: removing them isolates every village.
    cut = graph.copy()
    cut.remove_edges_from(
        [(u, v, k) for u, v, k, d in graph.edges(keys=True, data=True) if d["highway"] in RURAL]
    )
    component = nx.node_connected_component(cut.to_undirected(), small.major_junctions[0])
    assert not component & set(village_of)


def test_edge_count_grows_with_the_size_knob(small: SyntheticCity, county: SyntheticCity) -> None:
    assert 200 <= small.graph.number_of_edges() < 2_000
    assert county.graph.number_of_edges() > 3 * small.graph.number_of_edges()
    target = 12_000
    sized = generate_city(1, size=target)
    assert target <= sized.graph.number_of_edges() < 1.15 * target
    assert size_plan("large").target_edges >= 100_000
    assert size_plan("3000").target_edges == 3000


@pytest.mark.slow
def test_large_size_has_100k_edges_quickly() -> None:
    started = time.perf_counter()
    city = generate_city(3, size="large")
    elapsed = time.perf_counter() - started
    assert city.graph.number_of_edges() >= 100_000
    assert nx.is_strongly_connected(city.graph)
    assert elapsed < 30.0


def test_bad_size_seed_and_coverage_are_named() -> None:
    with pytest.raises(BadInputError, match="size"):
        generate_city(1, size="enormous")
    with pytest.raises(BadInputError, match="size"):
        generate_city(1, size=10)
    with pytest.raises(BadInputError, match="seed"):
        generate_city(-1, size="small")
    with pytest.raises(BadInputError, match="coverage"):
        generate_city(1, size="small", coverage=1.5)


def test_road_network_and_summary(small: SyntheticCity) -> None:
    network = small.road_network()
    assert len(network.edges) == small.graph.number_of_edges()
    summary = json.loads(json.dumps(small.summary()))
    assert summary["seed"] == 11 and summary["crs"] == "EPSG:32650"
    assert summary["counts"]["edges"] == small.graph.number_of_edges()
    assert summary["counts"]["cameras"] == len(small.cameras)
    assert [v["name"] for v in summary["villages"]] == list(small.villages)
    assert len(summary["junctions"]) == len(small.major_junctions)


def test_cli_writes_the_city_deterministically(run_cli: CliRunner, tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    for out in (first, second):
        run_cli("synth", "city", "--seed", "5", "--size", "small", "--out", str(out), check=True)
    for name in ("roads.graphml", "cameras.geojson", "city.json"):
        assert (first / name).read_bytes() == (second / name).read_bytes()
    loaded = read_cameras(first / "cameras.geojson")
    assert loaded.working_crs == "EPSG:32650"
    summary = json.loads((first / "city.json").read_text())
    assert summary["seed"] == 5 and len(loaded.cameras) == summary["counts"]["cameras"]
    network = load_road_network(first / "roads.graphml")
    assert len(network.edges) == summary["counts"]["edges"]
    assert network.crs.code == "EPSG:32650"
    villages = {d.get("village") for _, d in network.graph.nodes(data=True)} - {None}
    assert villages == {v["name"] for v in summary["villages"]}

    fewer = tmp_path / "c"
    run_cli(
        "synth",
        "city",
        "--seed",
        "5",
        "--size",
        "small",
        "--coverage",
        "0.5",
        "--out",
        str(fewer),
        check=True,
    )
    assert len(read_cameras(fewer / "cameras.geojson").cameras) < len(loaded.cameras)

    bad = run_cli("synth", "city", "--size", "nope", "--out", str(tmp_path / "d"))
    assert bad.returncode == 2 and "size" in bad.stderr and "Traceback" not in bad.stderr


def test_cli_rejects_an_origin_off_the_globe(run_cli: CliRunner, tmp_path: Path) -> None:
    result = run_cli("synth", "city", "--origin", "119.0,95", "--out", str(tmp_path / "x"))
    assert result.returncode == 2
    assert "--origin" in result.stderr and "latitude 95" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "x").exists()
