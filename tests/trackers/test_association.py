"""IoU matrix against a scalar reference, and gated optimal matching."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from trackers.association import iou_matrix, match


def scalar_iou(a: np.ndarray, b: np.ndarray) -> float:
    width = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    height = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = width * height
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def boxes(max_count: int) -> st.SearchStrategy[np.ndarray]:
    """Pixel boxes on a quarter-pixel grid, zero-area ones included."""
    quarters = arrays(
        np.int64, st.tuples(st.integers(0, max_count), st.just(4)), elements=st.integers(0, 400)
    )
    return quarters.map(
        lambda q: np.column_stack([q[:, :2], q[:, :2] + q[:, 2:]]).reshape(-1, 4) / 4.0
    )


@given(boxes(6), boxes(6))
def test_iou_matrix_matches_the_scalar_definition(a: np.ndarray, b: np.ndarray) -> None:
    result = iou_matrix(a, b)
    assert result.shape == (a.shape[0], b.shape[0])
    expected = np.array([[scalar_iou(x, y) for y in b] for x in a]).reshape(result.shape)
    np.testing.assert_allclose(result, expected, atol=1e-12)
    assert ((result >= 0) & (result <= 1 + 1e-12)).all()


def test_match_maximises_total_overlap_and_drops_weak_pairs() -> None:
    similarity = np.array([[0.9, 0.8, 0.0], [0.85, 0.1, 0.0], [0.0, 0.0, 0.2]])
    rows, cols = match(similarity, minimum=0.3)
    # greedy would pair (0, 0) and leave row 1 with 0.1; the optimum is 0.8 + 0.85
    assert list(zip(rows.tolist(), cols.tolist(), strict=True)) == [(0, 1), (1, 0)]


def test_match_of_nothing_is_empty() -> None:
    rows, cols = match(np.zeros((0, 3)), minimum=0.3)
    assert rows.size == 0
    assert cols.size == 0
    rows, cols = match(np.full((2, 2), 0.1), minimum=0.3)
    assert rows.size == 0
