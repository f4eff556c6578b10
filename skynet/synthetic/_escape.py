"""The escape route of a fleeing vehicle: long, and mostly on rural lanes.

A driver who flees avoids the main roads where cameras are: costs favour
rural lanes, and the route runs from the crash site through a waypoint
village to a destination village, so that its length can be matched to a
required figure (a shortest path alone is rarely long enough).
"""

from __future__ import annotations

import itertools
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final

import networkx as nx
import numpy as np

from skynet.errors import BadInputError

#: Road classes counted as rural lanes.
RURAL_CLASSES: Final = frozenset({"unclassified", "track"})
#: How much cheaper than its length a road class feels to a fleeing driver.
_PREFERENCE: Final = {"unclassified": 0.55, "track": 0.55, "residential": 0.8}


@dataclass(frozen=True)
class EscapeRoute:
    """Node path of the escape with its length and the share on rural lanes."""

    nodes: tuple[Hashable, ...]
    length_m: float
    rural_m: float

    @property
    def rural_share(self) -> float:
        return self.rural_m / self.length_m if self.length_m else 0.0


def _preference_graph(graph: nx.MultiDiGraph) -> nx.DiGraph:
    """Parallel edges collapsed to the one a fleeing driver prefers."""
    simple = nx.DiGraph()
    for u, v, data in graph.edges(data=True):
        length = float(data["length"])
        cost = length * _PREFERENCE.get(str(data.get("highway")), 1.0)
        if not simple.has_edge(u, v) or simple[u][v]["cost"] > cost:
            rural = length if data.get("highway") in RURAL_CLASSES else 0.0
            simple.add_edge(u, v, cost=cost, length=length, rural=rural)
    return simple


def _measure(simple: nx.DiGraph, path: Sequence[Hashable]) -> tuple[float, float]:
    hops = list(itertools.pairwise(path))
    return (
        sum(simple[a][b]["length"] for a, b in hops),
        sum(simple[a][b]["rural"] for a, b in hops),
    )


def village_centres(
    graph: nx.MultiDiGraph, villages: Mapping[str, Sequence[Hashable]]
) -> list[Hashable]:
    """The node nearest each village's centroid, in village order."""
    centres = []
    for nodes in villages.values():
        xy = np.array([[graph.nodes[n]["x"], graph.nodes[n]["y"]] for n in nodes])
        centres.append(nodes[int(np.argmin(((xy - xy.mean(axis=0)) ** 2).sum(axis=1)))])
    return centres


def find_escape(
    graph: nx.MultiDiGraph,
    start: Hashable,
    villages: Mapping[str, Sequence[Hashable]],
    *,
    length_m: float,
    tolerance_m: float,
    min_rural_share: float,
) -> EscapeRoute:
    """The route from ``start`` via one village centre to a village node that is
    closest to ``length_m`` (within ``tolerance_m``), simple (no node twice) and
    at least ``min_rural_share`` on rural lanes; ties go to the more rural one.
    """
    simple = _preference_graph(graph)
    _, from_start = nx.single_source_dijkstra(simple, start, weight="cost")
    destinations = [node for nodes in villages.values() for node in nodes]
    best: tuple[float, float, tuple[Hashable, ...]] | None = None
    for waypoint in village_centres(graph, villages):
        first = from_start.get(waypoint)
        if first is None:
            continue
        first_length, first_rural = _measure(simple, first)
        if first_length > length_m + tolerance_m:
            continue
        _, from_waypoint = nx.single_source_dijkstra(simple, waypoint, weight="cost")
        visited = set(first)
        for destination in destinations:
            second = from_waypoint.get(destination)
            if second is None or len(second) < 2 or visited.intersection(second[1:]):
                continue
            second_length, second_rural = _measure(simple, second)
            total = first_length + second_length
            share = (first_rural + second_rural) / total
            if abs(total - length_m) > tolerance_m or share < min_rural_share:
                continue
            key = (abs(total - length_m), -share, (*first, *second[1:]))
            if best is None or key[:2] < best[:2]:
                best = key
    if best is None:
        msg = (
            f"no escape of {length_m:.0f} ± {tolerance_m:.0f} m with >= {min_rural_share:.0%} "
            "on rural lanes exists from the crash site in this city (try another seed)"
        )
        raise BadInputError(msg, field="route")
    nodes = best[2]
    length, rural = _measure(simple, nodes)
    return EscapeRoute(nodes, length, rural)
