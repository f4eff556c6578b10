"""Batched constant-velocity Kalman filter over the boxes of all tracks at once.

State per track: ``[cx, cy, w, h, vcx, vcy, vw, vh]`` (pixels, pixels/frame);
measurement: ``[cx, cy, w, h]``. With the transition ``F = [[I, I], [0, I]]``,
the measurement ``H = [I, 0]`` and diagonal noises, the 8×8 covariance never
couples different coordinates: it is four independent 2×2 blocks, one per
coordinate (position variance, position–velocity covariance, velocity
variance). Storing those blocks next to the mean makes predict and update a
handful of element-wise expressions over every track and coordinate: exact,
with no matrix products and no loop over tracks. :func:`covariance` rebuilds
the full ``(N, 8, 8)`` matrices for inspection and tests.

All of a track's filter lives in one row of a ``(N, STATE_WIDTH)`` float
array (columns :data:`MEAN`, :data:`VAR_POS`, :data:`COV_PV`,
:data:`VAR_VEL`), so that selecting, appending or updating tracks is one array
operation; the tracker may keep further columns after these.

Noise is proportional to the box's width and height (the DeepSORT / ByteTrack
convention), so one parameter set serves small far-away and large near objects.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from trackers.boxes import FloatArray, IntArray

MEAN = slice(0, 8)
POSITION = slice(0, 4)
VELOCITY = slice(4, 8)
SIZE = slice(2, 4)
VAR_POS = slice(8, 12)
COV_PV = slice(12, 16)
VAR_VEL = slice(16, 20)
STATE_WIDTH = 20

#: Smallest width or height a box may shrink to (pixels).
MIN_SIZE = 1.0


@dataclass(frozen=True, slots=True)
class KalmanNoise:
    """Noise standard deviations as fractions of the box's width/height.

    ``position`` scales the measurement noise and the process noise on
    position, ``velocity`` the process noise on velocity (per frame);
    ``initial_velocity`` the velocity uncertainty of a new track.
    """

    position: float = 1.0 / 20.0
    velocity: float = 1.0 / 160.0
    initial_velocity: float = 10.0 / 160.0


def initiate(measurements: FloatArray, noise: KalmanNoise) -> FloatArray:
    """Filter rows for ``(M, 4)`` centre-size measurements, at rest."""
    count = measurements.shape[0]
    state = np.zeros((count, STATE_WIDTH))
    scale = _size_scale(measurements)
    state[:, POSITION] = measurements
    state[:, VAR_POS] = np.square(2.0 * noise.position * scale)
    state[:, VAR_VEL] = np.square(noise.initial_velocity * scale)
    return state


def predict(state: FloatArray, noise: KalmanNoise) -> None:
    """Advance every row of ``state`` by one frame, in place."""
    scale = _size_scale(state[:, POSITION])
    state[:, POSITION] += state[:, VELOCITY]
    np.maximum(state[:, SIZE], MIN_SIZE, out=state[:, SIZE])
    var_vel = state[:, VAR_VEL]
    state[:, VAR_POS] += 2.0 * state[:, COV_PV] + var_vel + np.square(noise.position * scale)
    state[:, COV_PV] += var_vel
    var_vel += np.square(noise.velocity * scale)


def update(state: FloatArray, rows: IntArray, measurements: FloatArray, noise: KalmanNoise) -> None:
    """Correct ``state[rows]`` with their ``(K, 4)`` measurements, in place.

    ``rows`` must be sorted and unique (as ``np.nonzero`` gives them).
    """
    if rows.size == 0:
        return
    every_row = rows.size == state.shape[0]  # rows are sorted and unique: all of them
    local = state if every_row else state[rows]
    var_pos = local[:, VAR_POS]
    cov_pv = local[:, COV_PV]
    innovation_var = var_pos + np.square(noise.position * _size_scale(local[:, POSITION]))
    gain_pos = var_pos / innovation_var
    gain_vel = cov_pv / innovation_var
    innovation = measurements - local[:, POSITION]
    local[:, POSITION] += gain_pos * innovation
    local[:, VELOCITY] += gain_vel * innovation
    np.maximum(local[:, SIZE], MIN_SIZE, out=local[:, SIZE])
    local[:, VAR_VEL] -= gain_vel * cov_pv
    retained = 1.0 - gain_pos
    cov_pv *= retained
    var_pos *= retained
    if not every_row:
        state[rows] = local


def covariance(state: FloatArray) -> FloatArray:
    """The full ``(N, 8, 8)`` covariance matrices the blocks of ``state`` stand for."""
    full = np.zeros((state.shape[0], 8, 8))
    coordinate = np.arange(4)
    full[:, coordinate, coordinate] = state[:, VAR_POS]
    full[:, coordinate, coordinate + 4] = state[:, COV_PV]
    full[:, coordinate + 4, coordinate] = state[:, COV_PV]
    full[:, coordinate + 4, coordinate + 4] = state[:, VAR_VEL]
    return full


def _size_scale(boxes: FloatArray) -> FloatArray:
    """``[w, h, w, h]`` per centre-size box: the unit noise is measured in."""
    size = boxes[:, SIZE]
    return np.concatenate((size, size), axis=1)
