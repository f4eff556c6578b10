"""What the batch scorer needs of the roads, measured once per view rather than per sighting.

A *view* is a camera with the edge a vehicle left its view on (going
forward) or entered it on (going back). Every sighting of one view has the
same candidate cameras (the transition model's reach less those past more
than ``MAX_AVOIDED`` watched edges, the same-edge and straight-line
shortcuts), the same directed free-flow time to each, and every pair of an
exit view and an entry view the same directed trip (its free-flow time,
the cameras it passes, the quickest way round them). The timeline's
:class:`~skynet.timeline.Linker` measures these per sighting; here each is
asked of it once, through one representative sighting per view, and kept in
flat tables that the scorer reads by sorted search. The tables grow with
the number of views (a county's few hundred), not with the sightings.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

import numpy as np
from numpy.typing import NDArray

from skynet._anchors import edge_rows_by_label
from skynet._ranges import groups, ranges
from skynet.linking import MAX_SLOWDOWN, WINDOW_PAD_S
from skynet.timeline import Linker
from trackers.sighting import APPEARANCE_DIM, Evidence, Sighting

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]
#: Key spaces up to this size get a dense index (a gather, not a sorted search).
DENSE_KEYS: Final = 1 << 24
#: Class of the representative sighting: the directed trips at plain free flow (share 1).
_ANY_CLASS: Final = "vehicle"


@dataclass(frozen=True, eq=False)
class ViewLists:
    """Each view's candidate cameras (CSR, by free-flow time): registry rows, camera-to-camera
    free-flow seconds and metres, directed free-flow seconds at share 1 (NaN: unknown)."""

    ptr: IntArray
    camera: IntArray
    flow_s: FloatArray
    dist_m: FloatArray
    directed_s: FloatArray

    def sizes(self) -> IntArray:
        return np.asarray(np.diff(self.ptr), dtype=np.intp)


@dataclass(frozen=True, eq=False)
class KeyedTable:
    """Rows found by an integer key (sorted), NaN for keys not held."""

    keys: NDArray[np.int64]
    columns: FloatArray  # (rows, k)
    #: Row of every key below its size (-1: none), where the key space is small.
    dense: IntArray | None = None

    @classmethod
    def of(cls, keys: NDArray[np.int64], columns: FloatArray, space: int) -> KeyedTable:
        """The table, with a dense index where ``space`` (keys below it) is small."""
        dense = None
        if space <= DENSE_KEYS:
            dense = np.full(space, -1, dtype=np.intp)
            dense[keys] = np.arange(keys.size)
        return cls(keys, columns, dense)

    def lookup(self, keys: NDArray[np.int64]) -> FloatArray:
        if self.dense is not None:
            row = self.dense[keys]
            out = (
                self.columns[np.maximum(row, 0)]
                if self.keys.size
                else np.full((keys.shape[0], self.columns.shape[1]), np.nan)
            )
            out[row < 0] = np.nan
            return np.asarray(out, dtype=np.float64)
        at = np.searchsorted(self.keys, keys)
        at = np.minimum(at, max(self.keys.size - 1, 0))
        found = (self.keys.size > 0) & (self.keys[at] == keys) if self.keys.size else None
        out = np.full((keys.shape[0], self.columns.shape[1]), np.nan)
        if found is not None:
            out[found] = self.columns[at[found]]
        return out


@dataclass(frozen=True, eq=False)
class ViewTables:
    """Views of the sightings (by code), their candidate lists both ways, the directed trip
    of every (exit view, entry view) pair a list can hold, and each camera pair's path
    facts (depart and arrive bearings, online cameras passed)."""

    exit_view: IntArray  # per sighting row
    entry_view: IntArray
    forward: ViewLists  # by exit view
    backward: ViewLists  # by entry view
    entry_views: int
    #: columns: seconds, passed, round seconds, round passed (key exit * entry_views + entry)
    trips: KeyedTable
    #: columns: depart, arrive, passed (key early camera * cameras + late camera)
    paths: KeyedTable
    cameras: int
    horizon_s: float


def _codes(camera: IntArray, edge: NDArray[np.str_]) -> tuple[IntArray, IntArray, IntArray]:
    """View code per row, and each view's first row (its representative)."""
    _, edge_code = np.unique(edge, return_inverse=True)
    key = camera.astype(np.int64) * (int(edge_code.max()) + 1 if edge.size else 1) + edge_code
    _, first, code = np.unique(key, return_index=True, return_inverse=True)
    return code.reshape(-1).astype(np.intp), first.astype(np.intp), camera[first]


def _representative(linker: Linker, camera_id: str, edge: str, name: str, t_s: float) -> Sighting:
    """A sighting standing for its view (only the camera and edge count)."""
    vector = np.full(APPEARANCE_DIM, 1.0 / math.sqrt(APPEARANCE_DIM), dtype=np.float32)
    return Sighting(
        id=name, camera_id=camera_id, t_in=t_s, t_out=t_s, vehicle_class=_ANY_CLASS,
        appearance=vector, quality=1.0, evidence=Evidence("association", 0, (0.0, 0.0, 1.0, 1.0)),
        heading_deg=None, entry_edge=edge or None, exit_edge=edge or None,
    )  # fmt: skip


def _lists(linker: Linker, reps: list[Sighting], forward: bool) -> ViewLists:
    trips = linker._directed_trips()
    ptr, cams, flows, dists, directs = [0], [], [], [], []
    for rep in reps:
        to_ids, flow, dist, rows = linker._cameras_for(rep, forward)
        if to_ids.shape[0]:
            limit = float(flow.max()) * MAX_SLOWDOWN + WINDOW_PAD_S
            directed = trips.camera_times(rep, to_ids, forward=forward, limit_s=limit)
        else:
            directed = np.empty(0)
        order = np.argsort(flow, kind="stable")
        cams.append(rows[order])
        flows.append(flow[order])
        dists.append(dist[order])
        directs.append(directed[order])
        ptr.append(ptr[-1] + int(order.size))
    return ViewLists(
        np.asarray(ptr, dtype=np.intp),
        np.concatenate(cams).astype(np.intp) if cams else np.empty(0, dtype=np.intp),
        np.concatenate(flows) if flows else np.empty(0),
        np.concatenate(dists) if dists else np.empty(0),
        np.concatenate(directs) if directs else np.empty(0),
    )


def build_tables(
    linker: Linker,
    camera: IntArray,
    camera_ids: NDArray[np.str_],
    exit_edge: NDArray[np.str_],
    entry_edge: NDArray[np.str_],
) -> ViewTables:
    """The tables for sightings at registry rows ``camera`` with these edge labels."""
    registry_ids = linker.registry.ids
    n_cameras = int(registry_ids.shape[0])
    exit_code, exit_first, exit_cam = _codes(camera, exit_edge)
    entry_code, entry_first, entry_cam = _codes(camera, entry_edge)
    out_reps = [
        _representative(linker, str(camera_ids[r]), str(exit_edge[r]), f"~exit-view-{i}", 0.0)
        for i, r in enumerate(exit_first.tolist())
    ]
    in_reps = [
        _representative(linker, str(camera_ids[r]), str(entry_edge[r]), f"~entry-view-{i}", 0.0)
        for i, r in enumerate(entry_first.tolist())
    ]
    forward = _lists(linker, out_reps, True)
    backward = _lists(linker, in_reps, False)
    n_entry = len(in_reps)
    # which (exit view, entry view) pairs a list can hold, either way
    entry_at = _views_at(entry_cam, n_cameras)
    exit_at = _views_at(exit_cam, n_cameras)
    pairs = [
        _expand(forward, entry_at, n_entry, flip=False),
        _expand(backward, exit_at, n_entry, flip=True),
    ]
    keys = np.unique(np.concatenate(pairs))
    facts = _trip_facts(linker, keys, n_entry, out_reps, in_reps)
    trips = KeyedTable.of(keys, facts, len(out_reps) * n_entry)
    # camera pairs of either list: bearings and cameras passed on the camera-to-camera path
    fwd_owner = np.repeat(exit_cam, forward.sizes())
    bwd_owner = np.repeat(entry_cam, backward.sizes())
    cam_keys = np.unique(
        np.concatenate(
            [fwd_owner.astype(np.int64) * n_cameras + forward.camera,
             backward.camera.astype(np.int64) * n_cameras + bwd_owner]
        )
    )  # fmt: skip
    early = registry_ids[cam_keys // n_cameras].astype(str)
    late = registry_ids[cam_keys % n_cameras].astype(str)
    depart, arrive, passed = linker._path_facts(early, late, np.ones(cam_keys.size, dtype=bool))
    paths = KeyedTable.of(cam_keys, np.column_stack([depart, arrive, passed]), n_cameras**2)
    return ViewTables(
        exit_code, entry_code, forward, backward, n_entry, trips, paths, n_cameras,
        float(linker.transitions.horizon_s),
    )  # fmt: skip


def _views_at(view_camera: IntArray, n_cameras: int) -> tuple[IntArray, IntArray]:
    """Views by camera (CSR): ``ptr`` over registry rows, view codes."""
    order, bounds = groups(view_camera, n_cameras)
    return bounds, order


def _expand(
    lists: ViewLists, views_at: tuple[IntArray, IntArray], n_entry: int, *, flip: bool
) -> NDArray[np.int64]:
    """Keys ``exit * n_entry + entry`` of every view at every listed camera."""
    ptr, views = views_at
    owner = np.repeat(np.arange(lists.ptr.size - 1), lists.sizes())
    low, high = ptr[lists.camera], ptr[lists.camera + 1]
    mine = np.repeat(owner, high - low)
    other = views[ranges(low, high)]
    exit_v, entry_v = (other, mine) if flip else (mine, other)
    return np.asarray(exit_v.astype(np.int64) * n_entry + entry_v, dtype=np.int64)


def _trip_facts(
    linker: Linker,
    keys: NDArray[np.int64],
    n_entry: int,
    out_reps: list[Sighting],
    in_reps: list[Sighting],
) -> FloatArray:
    """Seconds, passed, round seconds and round passed of each key's directed trip (the
    linker's own facts, searched from the exit view as far as any candidate window
    reaches: the backward lists' pairs too)."""
    trips = linker._directed_trips()
    limit = linker._horizon_s() * MAX_SLOWDOWN + WINDOW_PAD_S
    labels = edge_rows_by_label(linker.network)
    out = np.full((keys.size, 4), np.nan)
    exit_v = keys // n_entry
    entry_v = keys % n_entry
    starts: list[int] | IntArray = (
        np.flatnonzero(np.r_[True, exit_v[1:] != exit_v[:-1]]) if keys.size else []
    )
    ends = np.r_[np.asarray(starts)[1:], keys.size] if keys.size else []
    for a, b in zip(list(starts), list(ends), strict=True):
        rep = out_reps[int(exit_v[a])]
        own = labels.get(rep.exit_edge or "")
        if own is None:
            continue
        reach, _ = trips._search(own, True, limit)
        for row in range(int(a), int(b)):
            late = in_reps[int(entry_v[row])]
            theirs = labels.get(late.entry_edge or "")
            if theirs is None:
                continue
            fact = trips._trip_fact(own, theirs, True, rep.camera_id, late.camera_id, reach)
            if fact is None or (fact.node >= 0 and not math.isfinite(reach[fact.node])):
                continue
            out[row] = (fact.seconds, fact.passed, fact.round_s, fact.round_passed)
    return out
