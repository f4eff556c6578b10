"""Identity scores of vehicle tracks against the truth: IDF1, IDP, IDR (Ristani et al.).

Whole-city association labels every sighting with a track; the simulator
knows each sighting's vehicle. The identity true positives are the sightings
shared under the best one-to-one match of vehicles to tracks, found as a
min-cost assignment on the contingency table (checked against motmetrics in
the tests). Dense for small tables, sparse (only the shared cells) beyond.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray
from scipy.optimize import linear_sum_assignment
from scipy.sparse.csgraph import min_weight_full_bipartite_matching

from skynet.errors import BadInputError

IntArray = NDArray[np.intp]
#: Largest contingency table (true vehicles × tracks) matched dense; beyond, sparse.
DENSE_CELLS: Final = 25_000_000


@dataclass(frozen=True)
class IdScores:
    """Identity scores of a labelling against the truth (Ristani et al.'s IDF1, IDP, IDR)."""

    idf1: float
    idp: float
    idr: float
    id_true_positives: int


def id_scores(truth: Sequence[int] | IntArray, predicted: Sequence[int] | IntArray) -> IdScores:
    """IDF1 of track labels against true vehicle ids, one entry per sighting.

    The best one-to-one match of true vehicles to tracks by shared sightings
    (a min-cost assignment on the contingency table) gives the identity true
    positives; every sighting is one true and one predicted detection.
    """
    gt = np.asarray(truth)
    hyp = np.asarray(predicted)
    if gt.shape != hyp.shape:
        raise BadInputError(f"{gt.size} true labels for {hyp.size} predicted ones", field="labels")
    if gt.size == 0:
        return IdScores(1.0, 1.0, 1.0, 0)
    _, g = np.unique(gt, return_inverse=True)
    _, h = np.unique(hyp, return_inverse=True)
    table = sp.coo_matrix((np.ones(gt.size), (g, h))).tocsr()
    table.sum_duplicates()
    shared = _max_weight_matching(table)
    n = float(gt.size)
    score = shared / n
    return IdScores(score, score, score, int(shared))


def _max_weight_matching(table: sp.csr_matrix) -> float:
    """Largest total of a one-to-one choice of cells (rows and columns used once)."""
    rows, cols = table.shape
    if rows * cols <= DENSE_CELLS:
        dense = table.toarray()
        r, c = linear_sum_assignment(dense, maximize=True)
        return float(dense[r, c].sum())
    # large and sparse: only shared cells can be chosen; a dummy per row keeps it feasible
    coo = table.tocoo()
    top = float(coo.data.max()) + 1.0
    diag = np.arange(rows)
    matrix = sp.csr_matrix(
        (
            np.concatenate([top - coo.data, np.full(rows, top)]),
            (np.concatenate([coo.row, diag]), np.concatenate([coo.col, cols + diag])),
        ),
        shape=(rows, cols + rows),
    )
    r, c = min_weight_full_bipartite_matching(matrix)
    real = c < cols
    return float(np.asarray(table[r[real], c[real]]).sum())
