"""A road graph plus a few virtual source rows, with no copy of the graph per search.

A bounded Dijkstra from a camera's edges (or from a trip's start) runs from a
virtual node joined to them. Building that graph afresh copies every edge of
the city's 100,000, which costs as much as a short search. Here the graph's
CSR arrays are copied once per graph and thread, with room after them, and
each search writes its virtual rows into the room. The graph returned is
valid until the same thread's next call for the same graph.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Final

import numpy as np
from numpy.typing import NDArray
from scipy.sparse import csr_matrix

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]

#: Virtual rows and virtual edges the kept arrays have room for.
ROOM: Final = 256
#: Graphs whose kept arrays each thread holds (the last asked).
KEPT: Final = 8


@dataclass(eq=False)
class _Kept:
    """One graph's CSR arrays in scipy's index type, with ``ROOM`` spare entries after."""

    owner: object
    nnz: int
    data: FloatArray
    indices: NDArray[np.int32]
    indptr: NDArray[np.int32]


_LOCAL = threading.local()


def _kept(owner: object, data: FloatArray, indices: IntArray, indptr: IntArray) -> _Kept:
    graphs: OrderedDict[int, _Kept] | None = getattr(_LOCAL, "graphs", None)
    if graphs is None:
        graphs = _LOCAL.graphs = OrderedDict()
    kept = graphs.get(id(owner))
    if kept is None or kept.owner is not owner:  # held, so its id is not reused meanwhile
        nnz = int(indptr[-1])
        kept = _Kept(
            owner,
            nnz,
            np.concatenate([data[:nnz], np.zeros(ROOM)]).astype(np.float64),
            np.concatenate([indices[:nnz], np.zeros(ROOM, dtype=np.int32)]).astype(np.int32),
            np.concatenate([indptr, np.zeros(ROOM, dtype=np.int32)]).astype(np.int32),
        )
        graphs[id(owner)] = kept
        if len(graphs) > KEPT:
            graphs.popitem(last=False)
    graphs.move_to_end(id(owner))
    return kept


def with_virtual_rows(
    owner: object,
    data: FloatArray,
    indices: IntArray,
    indptr: IntArray,
    heads: IntArray,
    weights: FloatArray,
    counts: IntArray,
) -> csr_matrix | None:
    """The ``n × n`` CSR graph ``(data, indices, indptr)`` of ``owner`` plus one row per
    ``counts`` entry after it (row ``n + i``: ``counts[i]`` edges to the next ``heads``,
    of the next ``weights``), square; None when the rows do not fit the room (build
    that graph afresh)."""
    size = indptr.size - 1
    extra = int(heads.size)
    if extra > ROOM or counts.size > ROOM or int(indptr[-1]) + ROOM >= np.iinfo(np.int32).max:
        return None
    kept = _kept(owner, data, indices, indptr)
    nnz, end = kept.nnz, kept.nnz + extra
    kept.data[nnz:end] = weights
    kept.indices[nnz:end] = heads
    total = size + counts.size
    kept.indptr[size + 1 : total + 1] = nnz + np.cumsum(counts)
    return csr_matrix(
        (kept.data[:end], kept.indices[:end], kept.indptr[: total + 1]), shape=(total, total)
    )
