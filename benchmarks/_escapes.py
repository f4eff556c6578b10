"""The escapes the sweeps run over: the hit-and-run scenario generated from successive seeds.

A seed whose county holds no escape like the spec's (its length and rural
share) is skipped and the next one tried, until enough escapes are done.
"""

from __future__ import annotations

import dataclasses
import itertools
import sys
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from pathlib import Path
from typing import TypeVar

from skynet.errors import BadInputError
from skynet.synthetic.scenario import Scenario, ScenarioSpec, build_scenario

SPEC = Path(__file__).resolve().parent.parent / "sample_data" / "hit_and_run" / "spec.json"
T = TypeVar("T")


def escape_scenario(seed: int) -> Scenario | None:
    """The scenario from ``seed``; None when its county has no such escape."""
    try:
        return build_scenario(dataclasses.replace(ScenarioSpec.from_file(SPEC), seed=seed))
    except BadInputError:
        return None


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
