"""Index ranges gathered in one step: the rows of many groups of a CSR-style layout."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray


def ranges(low: NDArray[np.intp], high: NDArray[np.intp]) -> NDArray[np.intp]:
    """``low[i]:high[i]`` for every i, one after another (no Python loop over groups)."""
    counts = high - low
    offsets = np.cumsum(counts) - counts
    starts = np.repeat(low - offsets, counts)
    return np.asarray(np.arange(int(counts.sum()), dtype=np.intp) + starts, dtype=np.intp)


def groups(keys: NDArray[np.integer], count: int) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """Rows grouped by key (``0 <= key < count``): ``order``, and ``bounds`` such that
    the rows of key ``k`` are ``order[bounds[k]:bounds[k + 1]]``, in their first order."""
    order = np.argsort(keys, kind="stable").astype(np.intp)
    sizes = np.bincount(keys, minlength=count)
    return order, np.concatenate([[0], np.cumsum(sizes)]).astype(np.intp)
