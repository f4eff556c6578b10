"""Candidate windows kept for one investigation.

Consecutive link steps of a timeline ask for nearly the same cameras over
overlapping minutes; in a city of 70,000 cameras a store query per step is
most of the step's time. Windows are kept in blocks of ``BLOCK_S`` seconds
per camera (by the time the query bounds: entering or leaving the view), so
a step fetches only the cameras and blocks no earlier step asked for. Each
fetch's rows are kept by block and camera, with where each camera's run of a
block lies, so a window reads only its cameras' rows (not every row the
investigation has fetched). Where the source can
(``whole_window``), the rest of each row comes with it and the few sightings
a step keeps are built from those, with no query by id.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Protocol

import numpy as np
from numpy.typing import NDArray

from skynet.linking import SightingArrays
from skynet.store import TimeSide, WholeWindow
from trackers.sighting import Sighting

#: Seconds of one cached block of a camera's sightings.
BLOCK_S: Final = 300.0


class WindowSource(Protocol):
    """What the cache reads from (``SightingStore`` and ``SightingPool`` fit)."""

    def window(
        self, camera_ids: Sequence[str], start_s: float, end_s: float, *, by: TimeSide
    ) -> SightingArrays: ...

    def find(self, *, ids: Sequence[str] | None = None) -> list[Sighting]: ...


@dataclass(eq=False)
class _Spans:
    """Where each camera's rows of one block lie: which fetched chunk, from, to (per code)."""

    chunk: NDArray[np.intp]  # -1: none
    low: NDArray[np.intp]
    high: NDArray[np.intp]

    @classmethod
    def empty(cls) -> _Spans:
        none = np.empty(0, dtype=np.intp)
        return cls(none, none.copy(), none.copy())

    def grow(self, size: int) -> None:
        """Room for camera codes below ``size``."""
        extra = size - self.chunk.size
        if extra > 0:
            self.chunk = np.concatenate([self.chunk, np.full(extra, -1, dtype=np.intp)])
            self.low = np.concatenate([self.low, np.zeros(extra, dtype=np.intp)])
            self.high = np.concatenate([self.high, np.zeros(extra, dtype=np.intp)])


def _ranges(low: NDArray[np.intp], high: NDArray[np.intp]) -> NDArray[np.intp]:
    """``low[i]:high[i]`` for every i, one after another."""
    counts = high - low
    offsets = np.cumsum(counts) - counts
    starts = np.repeat(low - offsets, counts)
    return np.asarray(np.arange(int(counts.sum()), dtype=np.intp) + starts, dtype=np.intp)


class WindowCache:
    """``window`` and sightings by id, answered from what earlier calls fetched."""

    def __init__(self, source: WindowSource) -> None:
        self.source = source
        self._covered: dict[tuple[TimeSide, int], set[str]] = {}
        self._spans: dict[tuple[TimeSide, int], _Spans] = {}
        self._chunks: list[SightingArrays] = []  # each fetch's rows, by block and camera
        self._code_of: dict[str, int] = {}  # camera id → small integer (cheap membership)
        self._sightings: dict[str, Sighting] = {}
        self._whole: dict[str, tuple[WholeWindow, int]] = {}  # id → where its row is

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
        codes = np.unique(
            np.array([self._code_of[c] for c in wanted if c in self._code_of], dtype=np.intp)
        )
        where = [self._spans_of(by, b, codes) for b in blocks if (by, b) in self._spans]
        chunk = np.concatenate([w[0] for w in where]) if where else np.empty(0, np.intp)
        low = np.concatenate([w[1] for w in where]) if where else chunk
        high = np.concatenate([w[2] for w in where]) if where else chunk
        found = SightingArrays.concat(
            [
                self._chunks[k].take(_ranges(low[chunk == k], high[chunk == k]))
                for k in np.unique(chunk).tolist()
            ]
        )
        at = found.t_in if by == "t_in" else found.t_out
        rows = np.flatnonzero((at >= start_s) & (at <= end_s))
        rows = rows[np.lexsort((found.ids[rows], found.t_in[rows]))]
        return found.take(rows)

    def sightings(self, ids: Sequence[str]) -> list[Sighting]:
        """Whole sightings by id, in the given order (each built or fetched once)."""
        missing = []
        for i in dict.fromkeys(ids):
            if i in self._sightings:
                continue
            if i in self._whole:
                window, row = self._whole.pop(i)
                self._sightings[i] = window.sighting(row)
            else:
                missing.append(i)
        if missing:
            self._sightings.update((s.id, s) for s in self.source.find(ids=missing))
        return [self._sightings[i] for i in ids]

    def _fetch(self, cameras: list[str], blocks: range, by: TimeSide) -> None:
        """The cameras' sightings over the blocks, kept where a block lacked them."""
        start, end = blocks.start * BLOCK_S, blocks.stop * BLOCK_S
        whole = getattr(self.source, "whole_window", None)
        if whole is not None:
            window: WholeWindow = whole(cameras, start, end, by=by)
            fetched = window.columns
            for row, sighting_id in enumerate(fetched.ids.tolist()):
                self._whole.setdefault(sighting_id, (window, row))
        else:
            fetched = self.source.window(cameras, start, end, by=by)
        at = fetched.t_in if by == "t_in" else fetched.t_out
        block_of = np.floor(at / BLOCK_S).astype(np.int64)
        for camera in cameras:
            self._code_of.setdefault(camera, len(self._code_of))
        code = self._code_of
        codes = np.array([code[c] for c in fetched.camera_ids.tolist()], dtype=np.intp)
        chosen, chosen_block = [], []
        for b in blocks:
            covered = self._covered.setdefault((by, b), set())
            new = np.zeros(len(code), dtype=bool)
            new[[code[c] for c in cameras if c not in covered]] = True
            rows = np.flatnonzero((block_of == b) & new[codes])
            chosen.append(rows)
            chosen_block.append(np.full(rows.size, b, dtype=np.int64))
            covered.update(cameras)
        rows, block = np.concatenate(chosen), np.concatenate(chosen_block)
        if rows.size == 0:
            return
        order = np.lexsort((codes[rows], block))
        rows, block, row_codes = rows[order], block[order], codes[rows[order]]
        number = len(self._chunks)
        self._chunks.append(fetched.take(rows))
        # one run of rows per (block, camera): its span in the new chunk
        first = np.flatnonzero(
            np.r_[True, (block[1:] != block[:-1]) | (row_codes[1:] != row_codes[:-1])]
        )
        last = np.r_[first[1:], rows.size]
        for b in np.unique(block).tolist():
            runs = block[first] == b
            spans = self._spans.setdefault((by, b), _Spans.empty())
            spans.grow(len(code))
            at = row_codes[first[runs]]
            spans.chunk[at], spans.low[at], spans.high[at] = number, first[runs], last[runs]

    def _spans_of(
        self, by: TimeSide, block: int, codes: NDArray[np.intp]
    ) -> tuple[NDArray[np.intp], NDArray[np.intp], NDArray[np.intp]]:
        """(chunk, from, to) of each camera's rows in the block, for those that have some."""
        spans = self._spans[(by, block)]
        codes = codes[codes < spans.chunk.size]
        chunk = spans.chunk[codes]
        held = chunk >= 0
        return chunk[held], spans.low[codes[held]], spans.high[codes[held]]
