"""A columnar JSON form of the network for the database: lossless and fast.

GraphML goes through an XML tree and takes seconds per 100,000 edges each
way; this form stores one JSON list per attribute (None where an element
lacks it) and geometries as WKB in one vectorised call, so a stored network
loads about as fast as the graph can be built. JSON keeps ints, floats,
strings, bools and lists apart, so values come back with their types.
"""

from __future__ import annotations

import json
from typing import Any, Final

import networkx as nx
import numpy as np
import shapely

from camera_registry.crs import SiteCRS
from skynet.errors import BadInputError
from skynet.roads.network import RoadNetwork

FORMAT: Final = "skynet-road-columns/1"


def to_columns(network: RoadNetwork) -> bytes:
    """The network as UTF-8 JSON columns."""
    graph = network.graph
    nodes = list(graph.nodes(data=True))
    edges = list(graph.edges(keys=True, data=True))
    edge_data = [data for *_, data in edges]
    document = {
        "format": FORMAT,
        "crs": network.crs.code,
        "graph": {
            k: v for k, v in graph.graph.items() if k not in ("node_default", "edge_default")
        },
        "nodes": {"id": [node for node, _ in nodes], **_columns([d for _, d in nodes])},
        "edges": {
            "u": [u for u, *_ in edges],
            "v": [v for _, v, *_ in edges],
            "key": [k for _, _, k, _ in edges],
            **_columns(edge_data, geometry=True),
        },
    }
    try:
        return json.dumps(document, ensure_ascii=False, allow_nan=False).encode("utf-8")
    except (TypeError, ValueError) as exc:
        msg = f"the road network holds an attribute that cannot be stored ({exc})"
        raise BadInputError(msg) from None


def from_columns(payload: bytes, *, source: str | None = None) -> RoadNetwork:
    """The network stored by :func:`to_columns`."""
    try:
        document = json.loads(payload)
        if document.get("format") != FORMAT:
            msg = f"not a stored road network (format {document.get('format')!r})"
            raise BadInputError(msg, source=source)
        crs = SiteCRS.from_user_input(document["crs"])
        node_columns, edge_columns = document["nodes"], document["edges"]
        graph = nx.MultiDiGraph()
        graph.graph.update(document["graph"])
        node_ids = node_columns.pop("id")
        graph.add_nodes_from(zip(node_ids, _rows(node_columns, len(node_ids)), strict=True))
        u, v, keys = edge_columns.pop("u"), edge_columns.pop("v"), edge_columns.pop("key")
        rows = _rows(edge_columns, len(u))
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        msg = f"the stored road network is unreadable ({type(exc).__name__}: {exc})"
        raise BadInputError(msg, source=source) from None
    graph.add_edges_from(zip(u, v, keys, rows, strict=True))
    return RoadNetwork(graph, crs, source=source)


def _columns(rows: list[dict[str, Any]], *, geometry: bool = False) -> dict[str, list[Any]]:
    names = list(dict.fromkeys(name for row in rows for name in row))
    columns = {name: [row.get(name) for row in rows] for name in names}
    if geometry and "geometry" in columns:
        shapes = columns["geometry"]
        present = [i for i, g in enumerate(shapes) if g is not None]
        hexes = shapely.to_wkb(np.asarray([shapes[i] for i in present], dtype=object), hex=True)
        column: list[Any] = [None] * len(shapes)
        for i, text in zip(present, hexes, strict=True):
            column[i] = str(text)
        columns["geometry"] = column
    return columns


def _rows(columns: dict[str, list[Any]], count: int) -> list[dict[str, Any]]:
    if "geometry" in columns:
        shapes = columns["geometry"]
        present = [i for i, g in enumerate(shapes) if g is not None]
        parsed = shapely.from_wkb([shapes[i] for i in present])
        for i, geometry in zip(present, parsed, strict=True):
            shapes[i] = geometry
    rows: list[dict[str, Any]] = [{} for _ in range(count)]
    for name, values in columns.items():
        for row, value in zip(rows, values, strict=True):
            if value is not None:
                row[name] = value
    return rows
