"""Candidate windows kept for one investigation.

Consecutive link steps of a timeline ask for nearly the same cameras over
overlapping minutes; in a city of 70,000 cameras a store query per step is
most of the step's time. Windows are kept in blocks of ``BLOCK_S`` seconds
per camera (by the time the query bounds: entering or leaving the view), so
a step fetches only the cameras and blocks no earlier step asked for, and
whole sightings are built once per id.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Final, Protocol

import numpy as np
from numpy.typing import NDArray

from skynet.linking import SightingArrays
from skynet.store import TimeSide
from trackers.sighting import Sighting

#: Seconds of one cached block of a camera's sightings.
BLOCK_S: Final = 300.0


class WindowSource(Protocol):
    """What the cache reads from (``SightingStore`` and ``SightingPool`` fit)."""

    def window(
        self, camera_ids: Sequence[str], start_s: float, end_s: float, *, by: TimeSide
    ) -> SightingArrays: ...

    def find(self, *, ids: Sequence[str] | None = None) -> list[Sighting]: ...


class WindowCache:
    """``window`` and sightings by id, answered from what earlier calls fetched."""

    def __init__(self, source: WindowSource) -> None:
        self.source = source
        self._covered: dict[tuple[TimeSide, int], set[str]] = {}
        self._rows: dict[tuple[TimeSide, int], SightingArrays] = {}
        self._codes: dict[tuple[TimeSide, int], NDArray[np.intp]] = {}  # camera code a row
        self._code_of: dict[str, int] = {}  # camera id → small integer (cheap membership)
        self._sightings: dict[str, Sighting] = {}

    def window(
        self, camera_ids: Sequence[str], start_s: float, end_s: float, *, by: TimeSide
    ) -> SightingArrays:
        """As the source's ``window``: time order, the ``by`` time in ``[start_s, end_s]``."""
        if not (math.isfinite(start_s) and math.isfinite(end_s)) or end_s < start_s:
            return self.source.window(camera_ids, start_s, end_s, by=by)
        blocks = range(math.floor(start_s / BLOCK_S), math.floor(end_s / BLOCK_S) + 1)
        wanted = set(camera_ids)
        missing = set().union(*(wanted - self._covered.get((by, b), set()) for b in blocks))
        if missing:
            self._fetch(sorted(missing), blocks, by)
        kept = [(by, b) for b in blocks if (by, b) in self._rows]
        found = SightingArrays.concat([self._rows[k] for k in kept])
        codes = np.concatenate([self._codes[k] for k in kept]) if kept else np.empty(0, np.intp)
        wanted_codes = np.zeros(len(self._code_of) + 1, dtype=bool)
        wanted_codes[[self._code_of[c] for c in wanted if c in self._code_of]] = True
        at = found.t_in if by == "t_in" else found.t_out
        keep = wanted_codes[codes] & (at >= start_s) & (at <= end_s)
        rows = np.flatnonzero(keep)
        rows = rows[np.lexsort((found.ids[rows], found.t_in[rows]))]
        return found.take(rows)

    def sightings(self, ids: Sequence[str]) -> list[Sighting]:
        """Whole sightings by id, in the given order (each fetched once)."""
        missing = [i for i in dict.fromkeys(ids) if i not in self._sightings]
        if missing:
            self._sightings.update((s.id, s) for s in self.source.find(ids=missing))
        return [self._sightings[i] for i in ids]

    def _fetch(self, cameras: list[str], blocks: range, by: TimeSide) -> None:
        """The cameras' sightings over the blocks, kept where a block lacked them."""
        fetched = self.source.window(cameras, blocks.start * BLOCK_S, blocks.stop * BLOCK_S, by=by)
        at = fetched.t_in if by == "t_in" else fetched.t_out
        block_of = np.floor(at / BLOCK_S).astype(np.int64)
        for camera in cameras:
            self._code_of.setdefault(camera, len(self._code_of))
        code = self._code_of
        codes = np.array([code[c] for c in fetched.camera_ids.tolist()], dtype=np.intp)
        for b in blocks:
            key = (by, b)
            covered = self._covered.setdefault(key, set())
            new = np.zeros(len(code), dtype=bool)
            new[[code[c] for c in cameras if c not in covered]] = True
            rows = np.flatnonzero((block_of == b) & new[codes])
            if rows.size:  # one set of columns a block: a window joins a few blocks, not many parts
                old = self._rows.get(key)
                add = fetched.take(rows)
                self._rows[key] = add if old is None else SightingArrays.concat([old, add])
                old_codes = self._codes.get(key, np.empty(0, dtype=np.intp))
                self._codes[key] = np.concatenate([old_codes, codes[rows]])
            covered.update(cameras)
