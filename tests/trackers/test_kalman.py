"""The block-factorised batched Kalman filter against a dense textbook one."""

from __future__ import annotations

import numpy as np

from trackers import kalman
from trackers.kalman import KalmanNoise

NOISE = KalmanNoise()
F = np.block([[np.eye(4), np.eye(4)], [np.zeros((4, 4)), np.eye(4)]])
H = np.hstack([np.eye(4), np.zeros((4, 4))])


def scale_of(mean: np.ndarray) -> np.ndarray:
    return np.concatenate([mean[2:4], mean[2:4]])


def dense_predict(mean: np.ndarray, cov: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    scale = scale_of(mean)
    q = np.diag(np.concatenate([(NOISE.position * scale) ** 2, (NOISE.velocity * scale) ** 2]))
    return F @ mean, F @ cov @ F.T + q


def dense_update(mean: np.ndarray, cov: np.ndarray, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r = np.diag((NOISE.position * scale_of(mean)) ** 2)
    s = H @ cov @ H.T + r
    gain = cov @ H.T @ np.linalg.inv(s)
    return mean + gain @ (z - H @ mean), (np.eye(8) - gain @ H) @ cov


def test_batched_filter_equals_dense_filter_per_track() -> None:
    rng = np.random.default_rng(0)
    count = 6
    first = np.column_stack([rng.uniform(0, 500, (count, 2)), rng.uniform(20, 90, (count, 2))])
    state = kalman.initiate(first, NOISE)
    means = [state[i, kalman.MEAN].copy() for i in range(count)]
    covs = [kalman.covariance(state)[i] for i in range(count)]
    velocity = rng.normal(0, 4, (count, 4)) * [1, 1, 0.1, 0.1]  # sizes stay positive
    for step in range(1, 12):
        kalman.predict(state, NOISE)
        rows = np.flatnonzero(rng.uniform(size=count) < 0.7)  # some tracks miss this frame
        z = first[rows] + step * velocity[rows] + rng.normal(0, 1, (rows.size, 4))
        kalman.update(state, rows, z, NOISE)
        for i in range(count):
            means[i], covs[i] = dense_predict(means[i], covs[i])
        for row, measurement in zip(rows, z, strict=True):
            means[row], covs[row] = dense_update(means[row], covs[row], measurement)
    np.testing.assert_allclose(state[:, kalman.MEAN], np.stack(means), rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(kalman.covariance(state), np.stack(covs), rtol=1e-9, atol=1e-9)


def test_covariances_stay_symmetric_positive_definite() -> None:
    state = kalman.initiate(np.array([[100.0, 100.0, 40.0, 80.0]] * 3), NOISE)
    for step in range(50):
        kalman.predict(state, NOISE)
        if step % 3:
            kalman.update(
                state, np.array([0, 2]), np.array([[100.0, 100.0, 40.0, 80.0]] * 2), NOISE
            )
    full = kalman.covariance(state)
    np.testing.assert_allclose(full, np.swapaxes(full, 1, 2))
    assert (np.linalg.eigvalsh(full) > 0).all()


def test_the_filter_learns_a_constant_velocity() -> None:
    state = kalman.initiate(np.array([[0.0, 0.0, 50.0, 50.0]]), NOISE)
    for step in range(1, 30):
        kalman.predict(state, NOISE)
        kalman.update(
            state, np.array([0]), np.array([[5.0 * step, -2.0 * step, 50.0, 50.0]]), NOISE
        )
    np.testing.assert_allclose(state[0, kalman.VELOCITY], [5.0, -2.0, 0.0, 0.0], atol=0.05)


def test_predicted_sizes_never_collapse() -> None:
    state = kalman.initiate(np.array([[0.0, 0.0, 10.0, 10.0]]), NOISE)
    state[0, 6:8] = -4.0  # shrinking fast
    for _ in range(10):
        kalman.predict(state, NOISE)
    assert (state[0, kalman.SIZE] >= kalman.MIN_SIZE).all()
