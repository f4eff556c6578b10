"""The plain networkx answer to "which cameras can this one reach?", on demand.

One ``single_source_dijkstra`` with a cutoff from every head node of the
camera's watched edges, then a look at every watched edge's tail: slow, but
obviously right, so the tests check :class:`~skynet.transitions.TransitionModel`
against it and the benchmark measures against it.
"""

from __future__ import annotations

import itertools

import networkx as nx
import numpy as np

from skynet._transition_types import Reach, no_edge_reason
from skynet.roads.cameras import CameraAttachment
from skynet.roads.network import RoadNetwork


def naive_reach(
    network: RoadNetwork, attachment: CameraAttachment, camera_id: str, horizon_s: float
) -> Reach:
    """Cameras reachable from ``camera_id`` within ``horizon_s`` s, nearest first."""
    own = attachment.edges_of(camera_id)  # NotFoundError for an unknown id
    if own.size == 0:
        return Reach.empty(no_edge_reason(camera_id))
    edges, ids = network.edges, network.nodes.ids
    quickest = _quickest_lengths(network)
    best: dict[int, tuple[float, float]] = {}
    me = int(np.flatnonzero(attachment.camera_ids == camera_id)[0])
    for head in np.unique(edges.v[own]).tolist():
        times, paths = nx.single_source_dijkstra(
            network.graph, ids[head], cutoff=horizon_s, weight="travel_time"
        )
        for camera, edge in zip(attachment.camera.tolist(), attachment.edge.tolist(), strict=True):
            tail = ids[edges.u[edge]]
            if camera == me or tail not in times:
                continue
            arrive = times[tail] + float(edges.travel_time[edge])
            if arrive > horizon_s or (camera in best and best[camera][0] <= arrive):
                continue
            path = paths[tail]
            metres = sum(quickest[(a, b)] for a, b in itertools.pairwise(path))
            best[camera] = (arrive, metres + float(edges.length[edge]))
    order = sorted(best, key=lambda c: (best[c][0], c))
    return Reach(
        to_ids=np.array([attachment.camera_ids[c] for c in order], dtype=str),
        free_flow_s=np.array([best[c][0] for c in order], dtype=np.float64),
        distance_m=np.array([best[c][1] for c in order], dtype=np.float64),
    )


def _quickest_lengths(network: RoadNetwork) -> dict[tuple[object, object], float]:
    """Length of the quickest edge between each node pair (first row on a tie)."""
    out: dict[tuple[object, object], tuple[float, float]] = {}
    for u, v, data in network.graph.edges(data=True):
        candidate = (float(data["travel_time"]), float(data["length"]))
        if (u, v) not in out or candidate[0] < out[(u, v)][0]:
            out[(u, v)] = candidate
    return {pair: value[1] for pair, value in out.items()}
