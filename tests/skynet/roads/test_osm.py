"""OpenStreetMap import through pyosmium: XML, .osm.bz2 and .pbf."""

from __future__ import annotations

import bz2
from pathlib import Path

import numpy as np
import osmium
import pytest
from osmium.osm import mutable

from skynet.errors import BadInputError
from skynet.roads import RoadNetwork, load_road_network

# Node 1 ── 2 ── 3 along a primary way; 2 → 4 one-way residential; 3 ─ 5 footway
# (dropped); 6 → 3 via a way tagged oneway=-1 drawn from 3 to 6; 7 ─ 8 service.
NODES = {
    1: (119.000, 25.450),
    2: (119.001, 25.450),
    3: (119.002, 25.450),
    4: (119.001, 25.451),
    5: (119.003, 25.451),
    6: (119.002, 25.449),
    7: (119.010, 25.460),
    8: (119.011, 25.460),
}
WAYS = {
    100: ([1, 2, 3], {"highway": "primary", "maxspeed": "60", "name": "Harbour Road"}),
    101: ([2, 4], {"highway": "residential", "oneway": "yes"}),
    102: ([3, 5], {"highway": "footway"}),
    103: ([3, 6], {"highway": "tertiary", "oneway": "-1"}),
    104: ([7, 8], {"highway": "service"}),
    105: ([4, 5], {"highway": "track", "access": "private"}),
}


def osm_xml() -> str:
    lines = ["<?xml version='1.0' encoding='UTF-8'?>", "<osm version='0.6' generator='test'>"]
    for node, (lon, lat) in NODES.items():
        lines.append(f"  <node id='{node}' version='1' lat='{lat}' lon='{lon}'/>")
    for way, (refs, tags) in WAYS.items():
        lines.append(f"  <way id='{way}' version='1'>")
        lines += [f"    <nd ref='{ref}'/>" for ref in refs]
        lines += [f"    <tag k='{k}' v='{v}'/>" for k, v in tags.items()]
        lines.append("  </way>")
    lines.append("</osm>")
    return "\n".join(lines)


def check_network(network: RoadNetwork) -> None:
    graph = network.graph
    assert set(graph.nodes) == {1, 2, 3, 4, 6}
    assert sorted(graph.edges()) == sorted([(1, 2), (2, 1), (2, 3), (3, 2), (2, 4), (6, 3)])
    crs = network.crs
    assert crs.code == "EPSG:32650"
    x, y = crs.to_metric([NODES[1][0], NODES[2][0]], [NODES[1][1], NODES[2][1]])
    assert graph.edges[1, 2, 0]["length"] == pytest.approx(float(np.hypot(*np.diff([x, y]).T[0])))
    assert graph.edges[1, 2, 0]["maxspeed"] == 60.0
    assert graph.edges[1, 2, 0]["name"] == "Harbour Road"
    assert graph.edges[1, 2, 0]["osmid"] == 100
    assert graph.edges[2, 4, 0]["oneway"] is True
    assert graph.edges[6, 3, 0]["oneway"] is True and graph.edges[6, 3, 0]["reversed"] is True
    assert graph.edges[2, 1, 0]["oneway"] is False
    assert graph.nodes[4]["lon"] == pytest.approx(NODES[4][0])


def test_osm_xml(tmp_path: Path) -> None:
    path = tmp_path / "town.osm"
    path.write_text(osm_xml(), encoding="utf-8")
    check_network(load_road_network(path, largest_component=True))


def test_osm_xml_disconnected_without_flag(tmp_path: Path) -> None:
    path = tmp_path / "town.osm"
    text = osm_xml().replace("'service'", "'residential'")
    path.write_text(text, encoding="utf-8")
    with pytest.raises(BadInputError, match="not connected"):
        load_road_network(path)


def test_osm_bz2(tmp_path: Path) -> None:
    path = tmp_path / "town.osm.bz2"
    path.write_bytes(bz2.compress(osm_xml().encode("utf-8")))
    check_network(load_road_network(path, largest_component=True))


def test_pbf_written_with_pyosmium(tmp_path: Path) -> None:
    path = tmp_path / "town.osm.pbf"
    writer = osmium.SimpleWriter(str(path))
    try:
        for node, (lon, lat) in NODES.items():
            writer.add_node(mutable.Node(id=node, location=(lon, lat)))
        for way, (refs, tags) in WAYS.items():
            writer.add_way(mutable.Way(id=way, nodes=refs, tags=tags))
    finally:
        writer.close()
    check_network(load_road_network(path, largest_component=True))


def test_way_is_split_where_another_way_joins(tmp_path: Path) -> None:
    path = tmp_path / "town.osm"
    path.write_text(osm_xml(), encoding="utf-8")
    network = load_road_network(path, largest_component=True)
    # Way 100 (1-2-3) meets way 101 at node 2, so it becomes two edges per direction.
    ways = network.edge_attribute("osmid")
    assert int((ways == 100).sum()) == 4


def test_geometry_follows_inner_nodes(tmp_path: Path) -> None:
    text = osm_xml().replace("<nd ref='2'/>\n    <nd ref='4'/>", "<nd ref='9'/>\n    <nd ref='4'/>")
    text = text.replace(
        "</osm>", "  <node id='9' version='1' lat='25.4505' lon='119.0012'/>\n</osm>"
    )
    path = tmp_path / "bent.osm"
    path.write_text(text, encoding="utf-8")
    network = load_road_network(path, largest_component=True)
    # Way 101 now starts at 9 (not shared), so 2 has no side road: 1-2-3 is one edge.
    assert (1, 3) in network.graph.edges()
    geometry = network.graph.edges[1, 3, 0]["geometry"]
    assert len(geometry.coords) == 3
    assert network.graph.edges[1, 3, 0]["length"] == pytest.approx(geometry.length)


def test_only_footways_is_not_a_road_network(tmp_path: Path) -> None:
    path = tmp_path / "paths.osm"
    path.write_text(
        osm_xml()
        .replace("'primary'", "'path'")
        .replace("'residential'", "'steps'")
        .replace("'tertiary'", "'cycleway'")
        .replace("'service'", "'footway'"),
        encoding="utf-8",
    )
    with pytest.raises(BadInputError, match=r"paths\.osm: no drivable roads"):
        load_road_network(path)


def test_garbage_osm_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.osm"
    path.write_text("<osm><node id='1'", encoding="utf-8")
    with pytest.raises(BadInputError, match=r"broken\.osm: not a readable OpenStreetMap file"):
        load_road_network(path)
