"""Where a sighting joins the road graph: the directed edge it entered or left on.

The pipeline labels a sighting's entry and exit edges (``u-v-key``) when the
camera is calibrated; then the anchor is that edge, at the point the ground
position projects to (or the end of the camera's watched span on it). Without
a label every edge the camera watches is a candidate, and the path search
picks among them.
"""

from __future__ import annotations

import weakref
from typing import Literal

import numpy as np
import shapely
from numpy.typing import NDArray

from skynet._paths import Anchor
from skynet.errors import BadInputError, NotFoundError
from skynet.roads.cameras import CameraAttachment, edge_label
from skynet.roads.network import RoadNetwork
from trackers.sighting import Sighting

Side = Literal["entry", "exit"]

_LABELS: weakref.WeakKeyDictionary[RoadNetwork, dict[str, int]] = weakref.WeakKeyDictionary()


def edge_rows_by_label(network: RoadNetwork) -> dict[str, int]:
    """Edge row of every ``u-v-key`` label (cached per network)."""
    if network not in _LABELS:
        _LABELS[network] = {edge_label(e): row for row, e in enumerate(network.edge_ids)}
    return _LABELS[network]


def sighting_anchor(
    network: RoadNetwork, attachment: CameraAttachment, sighting: Sighting, side: Side
) -> Anchor:
    """The candidate edges and offsets where the target entered or left the road."""
    label = sighting.entry_edge if side == "entry" else sighting.exit_edge
    point = sighting.entry_xy if side == "entry" else sighting.exit_xy
    if label is not None:
        row = edge_rows_by_label(network).get(label)
        if row is None:
            msg = f"{side} edge {label!r} is not in the road network"
            raise BadInputError(msg, record=sighting.id, field=f"{side}_edge")
        edges = np.array([row], dtype=np.intp)
    else:
        edges = _watched(attachment, sighting)
    offsets = _offsets(network, attachment, sighting, edges, point, side)
    return Anchor(edges, offsets)


def _watched(attachment: CameraAttachment, sighting: Sighting) -> NDArray[np.intp]:
    try:
        edges = np.unique(attachment.edges_of(sighting.camera_id))
    except NotFoundError:
        msg = f"camera {sighting.camera_id!r} is not in the registry"
        raise NotFoundError(msg) from None
    if edges.size == 0:
        msg = (
            f"camera {sighting.camera_id!r} watches no road edge (off the road network?) "
            "and the sighting names no entry/exit edge"
        )
        raise BadInputError(msg, record=sighting.id, field="camera_id")
    return edges.astype(np.intp)


def _offsets(
    network: RoadNetwork,
    attachment: CameraAttachment,
    sighting: Sighting,
    edges: NDArray[np.intp],
    point: tuple[float, float] | None,
    side: Side,
) -> NDArray[np.float64]:
    """Metres along each edge: the projected ground point, else the watched span's end."""
    lengths = np.asarray(network.edges.length[edges], dtype=np.float64)
    if point is not None and all(np.isfinite(point)):
        lines = network.geometries[edges]
        along = shapely.line_locate_point(lines, shapely.points(*point))
        return np.asarray(along / shapely.length(lines) * lengths, dtype=np.float64)
    offsets: NDArray[np.float64] = 0.5 * lengths
    try:
        pairs = attachment.pairs_of(sighting.camera_id)
    except NotFoundError:
        return offsets
    span = attachment.end_m if side == "exit" else attachment.start_m
    for index, edge in enumerate(edges.tolist()):
        mine = pairs[attachment.edge[pairs] == edge]
        if mine.size:
            offsets[index] = float(span[mine].max() if side == "exit" else span[mine].min())
    return offsets
