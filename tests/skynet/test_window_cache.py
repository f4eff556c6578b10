"""The linker's window cache answers exactly as the store it reads from."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from skynet._window_cache import BLOCK_S, WindowCache
from skynet.linking import SightingArrays
from skynet.store import ClipRecord, SightingStore, TimeSide
from skynet.timeline import SightingPool
from trackers.sighting import APPEARANCE_DIM, Evidence, Sighting, sighting_id

T0 = 1_773_000_000.0


def sightings(count: int, cameras: int, seed: int = 0) -> list[Sighting]:
    rng = np.random.default_rng(seed)
    out = []
    for n in range(count):
        vector = np.abs(rng.normal(size=APPEARANCE_DIM)).astype(np.float32)
        t_in = T0 + float(rng.uniform(0, 4 * BLOCK_S))
        camera = f"C{int(rng.integers(cameras))}"
        out.append(
            Sighting(
                id=sighting_id(camera, "clip", n),
                camera_id=camera,
                t_in=t_in,
                t_out=t_in + float(rng.uniform(0, 90)),
                vehicle_class="car",
                appearance=vector / np.linalg.norm(vector),
                quality=0.9,
                evidence=Evidence("clip", n, (0.0, 0.0, 9.0, 9.0)),
                heading_deg=float(rng.uniform(0, 360)) if n % 2 else None,
            )
        )
    return out


def same(a: SightingArrays, b: SightingArrays) -> bool:
    return all(
        np.array_equal(
            getattr(a, name), getattr(b, name), equal_nan=getattr(a, name).dtype.kind == "f"
        )
        for name in SightingArrays.__dataclass_fields__
    )


@pytest.mark.parametrize("by", ["t_in", "t_out"])
def test_overlapping_windows_match_the_source(tmp_path: Path, by: TimeSide) -> None:
    everything = sightings(600, cameras=12)
    store = SightingStore(str(tmp_path / "s.db"))
    store.add_clip(ClipRecord("c", "C0", "clip", "test", T0, 1, 10.0), everything)
    rng = np.random.default_rng(1)
    for source in (store, SightingPool(everything)):
        cache = WindowCache(source)
        for _ in range(40):  # windows that share cameras and blocks with earlier ones
            cameras = [f"C{i}" for i in rng.choice(12, size=int(rng.integers(1, 8)), replace=False)]
            start = T0 + float(rng.uniform(-BLOCK_S, 4 * BLOCK_S))
            end = start + float(rng.uniform(0, 2 * BLOCK_S))
            expected = source.window(cameras, start, end, by=by)
            assert same(cache.window(cameras, start, end, by=by), expected)
        ids = [s.id for s in everything[::7]]
        assert [s.id for s in cache.sightings(ids)] == ids
        assert cache.sightings(ids[:3]) == everything[::7][:3]


@pytest.mark.parametrize("by", ["t_in", "t_out"])
def test_the_memory_pool_answers_windows_as_the_store_does(tmp_path: Path, by: TimeSide) -> None:
    """The pool reads each camera's rows by time (sorted search); the store runs SQL."""
    everything = sightings(800, cameras=9, seed=4)
    store = SightingStore(str(tmp_path / "s.db"))
    store.add_clip(ClipRecord("c", "C0", "clip", "test", T0, 1, 10.0), everything)
    pool = SightingPool(everything)
    rng = np.random.default_rng(2)
    for _ in range(60):
        cameras = [f"C{i}" for i in rng.choice(10, size=int(rng.integers(1, 6)), replace=False)]
        start = T0 + float(rng.uniform(-BLOCK_S, 4 * BLOCK_S))
        end = start + float(rng.uniform(0, BLOCK_S))
        expected = store.window(cameras, start, end, by=by)
        assert same(pool.window(cameras, start, end, by=by), expected)
    assert len(SightingPool([]).window(["C0"], T0, T0 + 60.0, by=by)) == 0


@pytest.mark.parametrize("by", ["t_in", "t_out"])
def test_each_camera_bounded_by_its_own_window(tmp_path: Path, by: TimeSide) -> None:
    """Per-camera bounds: each camera's rows in its own window, and where its camera is."""
    everything = sightings(700, cameras=10, seed=3)
    store = SightingStore(str(tmp_path / "s.db"))
    store.add_clip(ClipRecord("c", "C0", "clip", "test", T0, 1, 10.0), everything)
    rng = np.random.default_rng(5)
    for source in (store, SightingPool(everything)):
        cache = WindowCache(source)
        for _ in range(30):
            cameras = [f"C{i}" for i in rng.choice(10, size=int(rng.integers(1, 7)), replace=False)]
            low = T0 + rng.uniform(-BLOCK_S, 4 * BLOCK_S, len(cameras))
            high = low + rng.uniform(-30.0, 2 * BLOCK_S, len(cameras))  # some empty
            found, where = cache.bounded(cameras, low, high, by=by)
            whole = source.window(cameras, float(low.min()), float(high.max()), by=by)
            at = whole.t_in if by == "t_in" else whole.t_out
            column = {c: i for i, c in enumerate(cameras)}
            mine = np.array([column[c] for c in whole.camera_ids.tolist()], dtype=np.intp)
            keep = np.flatnonzero((at >= low[mine]) & (at <= high[mine]))
            assert same(found, whole.take(keep))
            assert np.array_equal(where, mine[keep])
        ids = found.ids.tolist()
        assert [s.id for s in cache.sightings(ids)] == ids


def test_blocks_grow_in_place_and_keep_longer_ids_whole() -> None:
    """A block's rows grow with room to spare; an id longer than those before it widens
    the block's type instead of being cut short, and every row stays as fetched."""
    base = sightings(30, cameras=3)
    longer = [dataclasses.replace(s, id=s.id + "-and-then-some") for s in sightings(5, 3, 9)]
    cache = WindowCache(SightingPool(base + longer))
    cameras = ["C0", "C1", "C2"]
    for camera in cameras:  # one fetch per camera: three adds to each block
        cache.window([camera], T0, T0 + 4 * BLOCK_S, by="t_in")
    pool = SightingPool(base + longer)
    assert same(
        cache.window(cameras, T0, T0 + 4 * BLOCK_S, by="t_in"),
        pool.window(cameras, T0, T0 + 4 * BLOCK_S, by="t_in"),
    )
    ids = cache.window(cameras, T0, T0 + 4 * BLOCK_S, by="t_in").ids.tolist()
    assert {s.id for s in longer} <= set(ids)
