"""GeoJSON LineStrings in and out."""

from __future__ import annotations

import json
from pathlib import Path

import networkx as nx
import pytest
import shapely
from roads_helpers import ORIGIN, SITE

from skynet.errors import BadInputError
from skynet.roads import RoadNetwork, load_road_network, save_road_network


def lonlat(dx: float, dy: float) -> list[float]:
    lon, lat = SITE.to_lonlat([ORIGIN[0] + dx], [ORIGIN[1] + dy])
    return [float(lon[0]), float(lat[0])]


def feature(points: list[list[float]], **properties: object) -> dict[str, object]:
    return {
        "type": "Feature",
        "geometry": {"type": "LineString", "coordinates": points},
        "properties": properties,
    }


def write(path: Path, *features: dict[str, object]) -> Path:
    path.write_text(json.dumps({"type": "FeatureCollection", "features": list(features)}))
    return path


def test_lines_become_edges_with_merged_ends(tmp_path: Path) -> None:
    path = write(
        tmp_path / "roads.geojson",
        feature([lonlat(0, 0), lonlat(50, 10), lonlat(100, 0)], highway="primary", name="A"),
        # Starts 0.2 m from the first line's end: merged into one node.
        feature([lonlat(100.2, 0), lonlat(100, 100)], highway="residential", oneway=True),
        # One-way against its drawing direction: the edge runs from (0,100) to (100,100).
        feature([lonlat(100, 100), lonlat(0, 100)], highway="residential", oneway="-1"),
        # Starts 3 m away: not merged, so the file is two parts.
        feature([lonlat(103, 0), lonlat(200, 0)], highway="track"),
    )
    with pytest.raises(BadInputError, match="not connected"):
        load_road_network(path, SITE)
    network = load_road_network(path, SITE, largest_component=True)
    assert len(network.nodes) == 4
    assert len(network.edges) == 4  # two-way primary, two one-way residential
    against = [
        (network.graph.nodes[u]["x"] - ORIGIN[0], network.graph.nodes[v]["x"] - ORIGIN[0])
        for u, v, d in network.graph.edges(data=True)
        if d.get("reversed") and d["oneway"]
    ]
    assert against == [pytest.approx((0.0, 100.0), abs=1e-6)]
    primary = [d for _, _, d in network.graph.edges(data=True) if d["highway"] == "primary"]
    expected = shapely.LineString([(0, 0), (50, 10), (100, 0)]).length
    assert [d["length"] for d in primary] == pytest.approx([expected, expected], rel=1e-6)
    assert network.edges.oneway.sum() == 2
    assert all(d["name"] == "A" for d in primary)


def test_export_then_import_keeps_the_network(tmp_path: Path, line_graph: nx.MultiDiGraph) -> None:
    network = RoadNetwork(line_graph, SITE)
    out = tmp_path / "out.geojson"
    save_road_network(network, out)
    document = json.loads(out.read_text())
    assert document["working_crs"] == "EPSG:32650"
    assert len(document["features"]) == 4
    first = document["features"][0]
    assert first["geometry"]["coordinates"][0] == pytest.approx(lonlat(0, 0))
    assert {"u", "v", "key", "length", "highway", "travel_time"} <= set(first["properties"])
    again = load_road_network(out)
    assert again.crs.code == "EPSG:32650"
    assert len(again.edges) == 4 and len(again.nodes) == 3
    assert sorted(again.edges.length) == pytest.approx(sorted(network.edges.length))


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("{not json", "not a GeoJSON road network"),
        ('{"type": "Feature"}', "not a GeoJSON FeatureCollection"),
        ('{"type": "FeatureCollection", "features": []}', "no LineString features"),
        (
            '{"type": "FeatureCollection", "features": [{"type": "Feature", '
            '"geometry": {"type": "Point", "coordinates": [1, 2]}}]}',
            "no LineString features",
        ),
    ],
)
def test_not_a_road_network(tmp_path: Path, content: str, reason: str) -> None:
    path = tmp_path / "bad.geojson"
    path.write_text(content)
    with pytest.raises(BadInputError, match=f"bad.geojson: {reason}"):
        load_road_network(path)
