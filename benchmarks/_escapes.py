"""The escapes the sweeps run over: the hit-and-run scenario generated from successive seeds.

A seed whose county holds no escape like the spec's (its length and rural
share) is skipped and the next one tried, until enough escapes are done.
:func:`escape` is one escape as the investigation sweeps meet it (the world and
the target's passages from the crash on), built once for all of them.
"""

from __future__ import annotations

import dataclasses
import itertools
import pickle
import sys
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from pathlib import Path
from typing import TypeVar

from camera_registry.registry import CameraRegistry
from skynet.errors import BadInputError
from skynet.roads.cameras import CameraAttachment, attach_cameras
from skynet.roads.network import RoadNetwork
from skynet.synthetic.scenario import Scenario, ScenarioSpec, build_scenario
from skynet.synthetic.sightings import SightingNoise, simulate_sightings
from trackers.sighting import Sighting

SPEC = Path(__file__).resolve().parent.parent / "sample_data" / "hit_and_run" / "spec.json"
#: The camera at the crash scene: the investigation starts from its sighting of the target.
CRASH_CAMERA = "P01-CRASH"
T = TypeVar("T")


def escape_scenario(seed: int) -> Scenario | None:
    """The scenario from ``seed``; None when its county has no such escape."""
    try:
        return build_scenario(dataclasses.replace(ScenarioSpec.from_file(SPEC), seed=seed))
    except BadInputError:
        return None


def escape_passages(seed: int, cache: Path | None = None) -> tuple[Scenario, list[Sighting]] | None:
    """The seed's scenario and the target's simulated passages (none missed), read from
    ``cache`` when a run stored them there before (simulating them is most of a run)."""
    stored = None if cache is None else cache / f"escape-{seed}.pkl"
    if stored is not None and stored.exists():
        with stored.open("rb") as f:
            cached: tuple[Scenario, list[Sighting]] | None = pickle.load(f)
        return cached
    scenario = escape_scenario(seed)
    result = None
    if scenario is not None:
        simulated = simulate_sightings(scenario, noise=SightingNoise(missed=0.0))
        result = scenario, sorted(simulated.of_vehicle(scenario.target_id), key=lambda s: s.t_in)
    if stored is not None:
        stored.parent.mkdir(parents=True, exist_ok=True)
        with stored.open("wb") as f:
            pickle.dump(result, f)
    return result


@dataclasses.dataclass(frozen=True, eq=False)
class Escape:
    """One escape as an investigator meets it: the world (roads, registry, cameras on the
    roads), the crash-scene sighting to start from and the target's passages from it on."""

    seed: int
    scenario: Scenario
    network: RoadNetwork
    registry: CameraRegistry
    attachment: CameraAttachment
    start: Sighting
    passages: list[Sighting]


def escape(seed: int, cache: Path | None = None) -> Escape | None:
    """The escape of ``seed`` (:func:`escape_passages`); None when its county has none."""
    escaped = escape_passages(seed, cache)
    if escaped is None:
        return None
    scenario, seen = escaped
    network = scenario.city.road_network()
    registry = CameraRegistry(scenario.cameras, scenario.city.crs)
    attachment = attach_cameras(network, registry)
    start = next(s for s in seen if s.camera_id == CRASH_CAMERA)
    passages = [s for s in seen if s.t_in >= start.t_in]
    return Escape(seed, scenario, network, registry, attachment, start, passages)


def over_escapes(
    work: Callable[[int], T | None], escapes: int, first_seed: int, workers: int
) -> tuple[list[T], int]:
    """``work(seed)`` for ``escapes`` seeds that have an escape (None: none there, try the
    next); the results in completion order and how many seeds were skipped."""
    seeds = itertools.count(first_seed)
    done: list[T] = []
    skipped = 0
    with ProcessPoolExecutor(workers) as pool:
        running = {pool.submit(work, next(seeds)) for _ in range(escapes)}
        while running:
            finished, running = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                result = future.result()
                if result is None:
                    skipped += 1
                    running.add(pool.submit(work, next(seeds)))
                else:
                    done.append(result)
                    print(f"escapes: {len(done)}/{escapes}", file=sys.stderr)
    return done, skipped
