"""GraphML in osmnx's conventions: lon/lat and projected files, round trip, bad files."""

from __future__ import annotations

from pathlib import Path
from xml.etree import ElementTree
from xml.sax.saxutils import escape

import networkx as nx
import numpy as np
import pytest
import shapely

from camera_registry import SiteCRS
from skynet.errors import BadInputError
from skynet.roads import RoadNetwork, load_road_network, save_road_network
from skynet.roads.graphml import read_graphml


def osmnx_graphml(
    graph: dict[str, str],
    nodes: dict[str, dict[str, str]],
    edges: list[tuple[str, str, dict[str, str]]],
) -> str:
    """GraphML text laid out as osmnx's ``save_graphml`` writes it: every key a string."""
    scopes = {"graph": [graph], "node": list(nodes.values()), "edge": [e[2] for e in edges]}
    keys: dict[tuple[str, str], str] = {}
    for scope, rows in scopes.items():
        for row in rows:
            for name in row:
                keys.setdefault((scope, name), f"d{len(keys)}")

    def data(scope: str, row: dict[str, str]) -> str:
        return "".join(f'<data key="{keys[scope, k]}">{escape(v)}</data>' for k, v in row.items())

    lines = [
        "<?xml version='1.0' encoding='utf-8'?>",
        '<graphml xmlns="http://graphml.graphdrawing.org/xmlns">',
    ]
    lines += [
        f'  <key id="{ident}" for="{scope}" attr.name="{name}" attr.type="string" />'
        for (scope, name), ident in keys.items()
    ]
    lines.append('  <graph edgedefault="directed">' + data("graph", graph))
    lines += [f'    <node id="{n}">{data("node", row)}</node>' for n, row in nodes.items()]
    lines += [
        f'    <edge source="{u}" target="{v}" id="0">{data("edge", row)}</edge>'
        for u, v, row in edges
    ]
    lines += ["  </graph>", "</graphml>"]
    return "\n".join(lines)


MAIN_ROAD = {
    "osmid": "[5001, 5002]",
    "name": "Main Road",
    "highway": "['primary', 'secondary']",
    "maxspeed": "['50', '60']",
    "oneway": "False",
    "length": "202.3",
}
OSMNX_GRAPH = {
    "created_date": "2024-05-01 10:00:00",
    "created_with": "OSMnx 1.9.3",
    "crs": "epsg:4326",
}
LONLAT_NODES = {
    "101": {"y": "25.45", "x": "119.0", "street_count": "1"},
    "102": {"y": "25.45", "x": "119.002", "street_count": "3", "highway": "traffic_signals"},
    "103": {"y": "25.452", "x": "119.002", "street_count": "1"},
}
LONLAT_EDGES = [
    (
        "101",
        "102",
        {
            **MAIN_ROAD,
            "reversed": "False",
            "geometry": "LINESTRING (119 25.45, 119.001 25.4501, 119.002 25.45)",
        },
    ),
    (
        "102",
        "101",
        {
            **MAIN_ROAD,
            "reversed": "True",
            "geometry": "LINESTRING (119.002 25.45, 119.001 25.4501, 119 25.45)",
        },
    ),
    (
        "102",
        "103",
        {
            "osmid": "5003",
            "highway": "residential",
            "oneway": "True",
            "reversed": "False",
            "length": "221.4",
            "speed_kph": "30.0",
            "travel_time": "26.6",
        },
    ),
]
#: osmnx's default, unprojected: x/y are lon/lat, crs epsg:4326, lengths in metres.
LONLAT_GRAPHML = osmnx_graphml(OSMNX_GRAPH, LONLAT_NODES, LONLAT_EDGES)

TERTIARY = {"osmid": "9", "highway": "tertiary", "oneway": "False", "length": "300.0"}
#: osmnx.project_graph output: UTM x/y, lon/lat kept, crs as a proj string.
PROJECTED_GRAPHML = osmnx_graphml(
    {"crs": "+proj=utm +zone=50 +ellps=WGS84 +datum=WGS84 +units=m +no_defs +type=crs"},
    {
        "1": {"y": "2816000.0", "x": "700000.0", "lon": "118.99", "lat": "25.44"},
        "2": {"y": "2816000.0", "x": "700300.0"},
    },
    [
        (
            "1",
            "2",
            {
                **TERTIARY,
                "reversed": "False",
                "geometry": "LINESTRING (700000 2816000, 700150 2816010, 700300 2816000)",
            },
        ),
        ("2", "1", {**TERTIARY, "reversed": "True"}),
    ],
)


@pytest.fixture
def lonlat_file(tmp_path: Path) -> Path:
    path = tmp_path / "osmnx_unprojected.graphml"
    path.write_text(LONLAT_GRAPHML, encoding="utf-8")
    return path


@pytest.fixture
def projected_file(tmp_path: Path) -> Path:
    path = tmp_path / "osmnx_projected.graphml"
    path.write_text(PROJECTED_GRAPHML, encoding="utf-8")
    return path


def test_lonlat_osmnx_file_is_projected_to_utm(lonlat_file: Path) -> None:
    network = load_road_network(lonlat_file)
    assert network.crs.code == "EPSG:32650"
    graph = network.graph
    assert set(graph.nodes) == {101, 102, 103}
    node = graph.nodes[102]
    assert (node["lon"], node["lat"]) == (119.002, 25.45)
    x, y = network.crs.to_metric([119.002], [25.45])
    assert (node["x"], node["y"]) == pytest.approx((x[0], y[0]))
    assert node["street_count"] == 3 and node["highway"] == "traffic_signals"
    edge = graph.edges[101, 102, 0]
    assert edge["osmid"] == [5001, 5002]
    assert edge["highway"] == ["primary", "secondary"]
    assert edge["maxspeed"] == pytest.approx(55.0)  # mean of the merged values
    assert edge["oneway"] is False and edge["reversed"] is False
    assert edge["length"] == pytest.approx(202.3)
    start = shapely.get_coordinates(edge["geometry"])[0]
    x0, y0 = network.crs.to_metric([119.0], [25.45])
    assert start == pytest.approx([x0[0], y0[0]], abs=1e-6)
    assert graph.edges[102, 103, 0]["travel_time"] == pytest.approx(26.6)
    assert graph.edges[102, 103, 0]["oneway"] is True
    assert network.edges.highway[network.edge_row[(101, 102, 0)]] == 4  # primary ranks first


def test_user_named_crs_is_used(lonlat_file: Path) -> None:
    network = load_road_network(lonlat_file, "EPSG:4547")
    assert network.crs.code == "EPSG:4547"
    x, _ = SiteCRS.from_user_input("EPSG:4547").to_metric([119.0], [25.45])
    assert network.graph.nodes[101]["x"] == pytest.approx(x[0])


def test_projected_osmnx_file_keeps_its_crs(projected_file: Path) -> None:
    network = load_road_network(projected_file)
    assert network.crs.crs.to_epsg() == 32650
    assert network.graph.nodes[1]["x"] == 700000.0
    assert network.graph.nodes[1]["lon"] == 118.99  # kept as given
    lon, _ = network.crs.to_lonlat([700300.0], [2816000.0])
    assert network.graph.nodes[2]["lon"] == pytest.approx(lon[0])


def test_projected_file_moves_to_another_crs(projected_file: Path) -> None:
    network = load_road_network(projected_file, "EPSG:32651")
    source = SiteCRS.from_user_input("EPSG:32650")
    lon, lat = source.to_lonlat([700300.0], [2816000.0])
    x, y = network.crs.to_metric(lon, lat)
    assert (network.graph.nodes[2]["x"], network.graph.nodes[2]["y"]) == pytest.approx((x[0], y[0]))
    line = network.geometries[network.edge_row[(1, 2, 0)]]
    assert shapely.get_coordinates(line)[-1] == pytest.approx([x[0], y[0]])


def _assert_same(a: RoadNetwork, b: RoadNetwork) -> None:
    assert a.crs.crs == b.crs.crs
    assert list(a.graph.nodes) == list(b.graph.nodes)
    for node, data in a.graph.nodes(data=True):
        assert b.graph.nodes[node] == data
    assert list(a.graph.edges(keys=True)) == list(b.graph.edges(keys=True))
    for u, v, k, data in a.graph.edges(keys=True, data=True):
        other = b.graph.edges[u, v, k]
        assert set(other) == set(data)
        for name, value in data.items():
            if isinstance(value, shapely.Geometry):
                assert shapely.equals_exact(value, other[name], tolerance=0.0)
            else:
                assert other[name] == value and type(other[name]) is type(value), name


def test_round_trip_preserves_everything(lonlat_file: Path, tmp_path: Path) -> None:
    first = load_road_network(lonlat_file)
    first.graph.nodes[101]["village"] = "Xiamei"
    first.graph.edges[102, 103, 0]["lanes"] = 2
    out = tmp_path / "saved.graphml"
    save_road_network(first, out)
    text = out.read_text(encoding="utf-8")
    # osmnx's conventions in what we write.
    assert "LINESTRING (" in text and ">False<" in text and ">EPSG:32650<" in text
    second = load_road_network(out)
    _assert_same(first, second)
    np.testing.assert_array_equal(first.edges.travel_time, second.edges.travel_time)


def test_written_file_is_all_strings_and_round_trips_exactly(
    lonlat_file: Path, tmp_path: Path
) -> None:
    first = load_road_network(lonlat_file)
    node, edge = first.graph.nodes[101], first.graph.edges[102, 103, 0]
    node.update(village="Xiamei", elevation=np.float64(12.25), gate=True)
    first.graph.nodes[102].update(village="[not a list]", gate=False)
    first.graph.nodes[103]["gate"] = np.bool_(True)
    edge.update(lanes=2, width=np.float32(3.5), lit=True, ref=["G324", 7], name="12")
    for u, v, k in first.graph.edges(keys=True):
        first.graph.edges[u, v, k]["tolls"] = (u + v + k) / 7.0
    out = tmp_path / "saved.graphml"
    save_road_network(first, out)
    ns = {"g": "http://graphml.graphdrawing.org/xmlns"}
    root = ElementTree.parse(out).getroot()
    keys = root.findall("g:key", ns)
    assert {k.get("for") for k in keys} == {"graph", "node", "edge"}
    assert {k.get("attr.type") for k in keys} == {"string"}, "osmnx reads strings only"
    text = out.read_text(encoding="utf-8")
    for written in (">12.25<", ">3.5<", ">True<", ">['G324', 7]<", f">{205 / 7.0!r}<"):
        assert written in text
    second = load_road_network(out)
    for data in (node, edge, first.graph.nodes[103]):  # numpy scalars come back as Python's
        data.update((k, v.item()) for k, v in list(data.items()) if isinstance(v, np.generic))
    _assert_same(first, second)
    assert second.graph.nodes[102]["village"] == "[not a list]"
    assert second.graph.edges[102, 103, 0]["name"] == "12"
    assert second.graph.nodes[103]["gate"] is True
    assert set(second.graph.graph) == set(first.graph.graph) | {"crs"}
    np.testing.assert_array_equal(first.edges.travel_time, second.edges.travel_time)


def test_malformed_type_record_is_rejected(lonlat_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "saved.graphml"
    network = load_road_network(lonlat_file)
    network.graph.nodes[101]["lanes"] = 2
    save_road_network(network, out)
    text = out.read_text(encoding="utf-8")
    out.write_text(text.replace('"lanes":"int"', '"lanes":"complex"'))
    with pytest.raises(BadInputError, match="skynet_attr_types"):
        load_road_network(out)


def test_generic_graphml_with_string_edge_ids(tmp_path: Path) -> None:
    graph = nx.MultiDiGraph(crs="EPSG:32650")
    graph.add_node("a", x=700000.0, y=2816000.0)
    graph.add_node("b", x=700100.0, y=2816000.0)
    graph.add_edge("a", "b", key="e0", length=100.0, highway="road")
    path = tmp_path / "generic.graphml"
    nx.write_graphml(graph, path)
    network = read_graphml(path)
    assert network.edge_ids == [("a", "b", 0)]
    assert network.edges.oneway.tolist() == [True]


def test_not_graphml_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "roads.graphml"
    path.write_text("this is not xml", encoding="utf-8")
    with pytest.raises(BadInputError, match=r"roads\.graphml: not a GraphML road network"):
        load_road_network(path)


def test_graphml_without_crs_needs_one(tmp_path: Path) -> None:
    path = tmp_path / "nocrs.graphml"
    text = PROJECTED_GRAPHML.replace('attr.name="crs"', 'attr.name="projection"')
    path.write_text(text, "utf-8")
    with pytest.raises(BadInputError, match="no 'crs' attribute"):
        load_road_network(path)
    assert len(load_road_network(path, "EPSG:32650").nodes) == 2


def test_graphml_nodes_without_coordinates(tmp_path: Path) -> None:
    path = tmp_path / "nocoords.graphml"
    nodes = {**LONLAT_NODES, "102": {"y": "25.45", "street_count": "3"}}
    path.write_text(osmnx_graphml(OSMNX_GRAPH, nodes, LONLAT_EDGES), "utf-8")
    with pytest.raises(BadInputError, match="node 102: no coordinates"):
        load_road_network(path)


def test_graphml_edges_without_length(tmp_path: Path) -> None:
    path = tmp_path / "nolength.graphml"
    edges = [*LONLAT_EDGES[:2], ("102", "103", {"highway": "residential", "oneway": "True"})]
    path.write_text(osmnx_graphml(OSMNX_GRAPH, LONLAT_NODES, edges), "utf-8")
    with pytest.raises(BadInputError, match=r"edge \(102, 103, 0\): missing 'length'"):
        load_road_network(path)


def test_graphml_without_nodes_is_empty(tmp_path: Path) -> None:
    path = tmp_path / "empty.graphml"
    nx.write_graphml(nx.MultiDiGraph(crs="EPSG:32650"), path)
    with pytest.raises(BadInputError, match="empty"):
        load_road_network(path)


def test_unknown_suffix_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(BadInputError, match="unknown road network format"):
        load_road_network(tmp_path / "roads.shp")
    with pytest.raises(BadInputError, match="no such file"):
        load_road_network(tmp_path / "absent.graphml")
