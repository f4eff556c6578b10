"""Candidate windows kept for one investigation.

Consecutive link steps of a timeline ask for nearly the same cameras over
overlapping minutes; in a city of 70,000 cameras a store query per step is
most of the step's time. Windows are kept in blocks of ``BLOCK_S`` seconds
per camera (by the time the query bounds: entering or leaving the view), so
a step fetches only the cameras and blocks no earlier step asked for, each
camera over its own time bounds (a camera a block away needs minutes, the
farthest a quarter of an hour) and only the blocks it lacks (as a timeline
moves on, its windows reach one block further; the blocks before are not
read again). A block keeps its rows by camera, with where each camera's run
lies, so a window reads only its cameras' rows. Where
the source can (``whole_window``), the rest of each row comes with it and the
few sightings a step keeps are built from those, with no query by id.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Protocol

import numpy as np
from numpy.typing import NDArray

from skynet._ranges import ranges
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
class _Block:
    """One block's rows (each fetch's appended, sorted by camera) and where each camera's
    run of them lies (per camera code; ``low == high``: none), so that a window takes
    its cameras' rows from a few blocks rather than from every fetch. ``rows`` has room
    to spare past its first ``size`` rows: a block takes a few dozen fetches, and
    copying it whole for each was a twentieth of a timeline."""

    rows: SightingArrays
    low: NDArray[np.intp]
    high: NDArray[np.intp]
    size: int = 0

    @classmethod
    def empty(cls) -> _Block:
        none = np.empty(0, dtype=np.intp)
        return cls(SightingArrays.from_sightings([]), none, none.copy())

    def add(self, rows: SightingArrays, codes: NDArray[np.intp], size: int) -> None:
        """Rows of cameras new to the block (sorted by code); ``size``: codes known."""
        extra = size - self.low.size
        if extra > 0:
            self.low = np.concatenate([self.low, np.zeros(extra, dtype=np.intp)])
            self.high = np.concatenate([self.high, np.zeros(extra, dtype=np.intp)])
        first = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
        last = np.r_[first[1:], codes.size]
        offset = self.size
        self.low[codes[first]], self.high[codes[first]] = offset + first, offset + last
        self.rows = _appended(self.rows, offset, rows)
        self.size = offset + len(rows)

    def of(self, codes: NDArray[np.intp]) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
        """Row numbers of the cameras' sightings in the block, and each row's camera code."""
        codes = codes[codes < self.low.size]
        counts = self.high[codes] - self.low[codes]
        held = counts > 0
        codes, counts = codes[held], counts[held]
        return ranges(self.low[codes], self.high[codes]), np.repeat(codes, counts)


def _appended(buffer: SightingArrays, used: int, new: SightingArrays) -> SightingArrays:
    """``new``'s rows written after the first ``used`` rows of ``buffer``: in place where
    it has room and its types hold them (a longer id does not fit a shorter id's type),
    else into a buffer of twice the rows (at least enough)."""
    need = used + len(new)
    names = list(SightingArrays.__dataclass_fields__)
    fits = len(buffer) >= need and all(
        np.can_cast(getattr(new, n).dtype, getattr(buffer, n).dtype, casting="safe") for n in names
    )
    if not fits:
        capacity = max(need, 2 * len(buffer))
        grown = {}
        for n in names:
            old, add = getattr(buffer, n), getattr(new, n)
            array = np.empty((capacity, *old.shape[1:]), dtype=np.result_type(old, add))
            array[:used] = old[:used]
            grown[n] = array
        buffer = SightingArrays(**grown)
    for n in names:
        getattr(buffer, n)[used:need] = getattr(new, n)
    return buffer


class WindowCache:
    """``window`` and sightings by id, answered from what earlier calls fetched."""

    def __init__(self, source: WindowSource) -> None:
        self.source = source
        self._covered: dict[tuple[TimeSide, int], NDArray[np.bool_]] = {}  # by camera code
        self._blocks: dict[tuple[TimeSide, int], _Block] = {}
        self._code_of: dict[str, int] = {}  # camera id → small integer
        self._names: list[str] = []  # code → camera id
        self._sightings: dict[str, Sighting] = {}
        self._whole: dict[str, tuple[WholeWindow, int]] = {}  # id → where its row is

    def window(
        self, camera_ids: Sequence[str], start_s: float, end_s: float, *, by: TimeSide
    ) -> SightingArrays:
        """As the source's ``window``: time order, the ``by`` time in ``[start_s, end_s]``."""
        if not (math.isfinite(start_s) and math.isfinite(end_s)) or end_s < start_s:
            return self.source.window(camera_ids, start_s, end_s, by=by)
        cameras = list(dict.fromkeys(camera_ids))
        size = len(cameras)
        found, _ = self.bounded(cameras, np.full(size, start_s), np.full(size, end_s), by=by)
        return found

    def bounded(
        self,
        camera_ids: Sequence[str],
        low_s: NDArray[np.float64],
        high_s: NDArray[np.float64],
        *,
        by: TimeSide,
    ) -> tuple[SightingArrays, NDArray[np.intp]]:
        """Sightings whose ``by`` time lies in their camera's own ``[low_s[i], high_s[i]]``
        (the cameras distinct, the bounds finite), in time order, and for each the
        position of its camera in ``camera_ids``."""
        codes = np.array([self._code(c) for c in camera_ids], dtype=np.intp)
        live = np.flatnonzero(low_s <= high_s)
        codes, low, high = codes[live], low_s[live], high_s[live]
        first = np.floor(low / BLOCK_S).astype(np.int64)
        last = np.floor(high / BLOCK_S).astype(np.int64)
        blocks = range(int(first.min()), int(last.max()) + 1) if live.size else range(0)
        wanted = [(first <= b) & (last >= b) for b in blocks]
        lacking = [w & ~self._coverage(by, b)[codes] for b, w in zip(blocks, wanted, strict=True)]
        if any(lack.any() for lack in lacking):
            self._fetch_lacking(codes, np.array(lacking), blocks, by)
        pieces, owners = [], []
        for b, w in zip(blocks, wanted, strict=True):
            block = self._blocks.get((by, b))
            if block is not None:
                rows, owner = block.of(codes[w])
                pieces.append(block.rows.take(rows))
                owners.append(owner)
        found = SightingArrays.concat(pieces)
        owner = np.concatenate(owners) if owners else np.empty(0, dtype=np.intp)
        position = np.full(len(self._names), -1, dtype=np.intp)
        position[codes] = live
        at = found.t_in if by == "t_in" else found.t_out
        where = position[owner]
        inside = np.flatnonzero((at >= low_s[where]) & (at <= high_s[where]))
        inside = inside[np.lexsort((found.ids[inside], found.t_in[inside]))]
        return found.take(inside), where[inside]

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

    def _code(self, camera_id: str) -> int:
        code = self._code_of.get(camera_id)
        if code is None:
            code = self._code_of[camera_id] = len(self._names)
            self._names.append(camera_id)
        return code

    def _coverage(self, by: TimeSide, block: int) -> NDArray[np.bool_]:
        """Which camera codes the block holds (grown to every code known)."""
        covered = self._covered.get((by, block))
        size = len(self._names)
        if covered is None or covered.size < size:
            grown = np.zeros(size, dtype=bool)
            if covered is not None:
                grown[: covered.size] = covered
            covered = self._covered[(by, block)] = grown
        return covered

    def _fetch_lacking(
        self, codes: NDArray[np.intp], lacking: NDArray[np.bool_], blocks: range, by: TimeSide
    ) -> None:
        """One fetch per run of lacked blocks (first to last), cameras grouped by it."""
        has = lacking.any(axis=0)
        count = len(blocks)
        first = np.argmax(lacking, axis=0)[has]
        last = count - 1 - np.argmax(lacking[::-1], axis=0)[has]
        group = first * count + last
        for key in np.unique(group).tolist():
            a, b = divmod(int(key), count)
            members = codes[has][group == key]
            names = sorted(self._names[c] for c in members.tolist())
            self._fetch(names, range(blocks.start + a, blocks.start + b + 1), by)

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
        mine = np.array([self._code(c) for c in cameras], dtype=np.intp)
        code = self._code_of
        codes = np.array([code[c] for c in fetched.camera_ids.tolist()], dtype=np.intp)
        chosen, chosen_block = [], []
        for b in blocks:
            covered = self._coverage(by, b)
            new = np.zeros(len(self._names), dtype=bool)
            new[mine[~covered[mine]]] = True
            rows = np.flatnonzero((block_of == b) & new[codes])
            chosen.append(rows)
            chosen_block.append(np.full(rows.size, b, dtype=np.int64))
            covered[mine] = True
        rows, block = np.concatenate(chosen), np.concatenate(chosen_block)
        order = np.lexsort((codes[rows], block))
        rows, block = rows[order], block[order]
        for b in np.unique(block).tolist():
            mine = rows[block == b]
            kept = self._blocks.setdefault((by, b), _Block.empty())
            kept.add(fetched.take(mine), codes[mine], len(self._names))
