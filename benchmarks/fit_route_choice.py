"""Fit the onward model's route choice on past closed cases, and show how well it is calibrated.

An agency that has closed cases knows, for each, the sightings its
investigators found (each with the edge the target left the view on) and
the cameras the recovered route passed (found, or forced between two found
sightings). From each found sighting the onward model gives every camera a
chance of being passed on the way on; the cameras the route passed later
(within the model's horizon) are the hits, every other camera within reach
a miss. The onward chances are scored by the Bernoulli log loss of those
hits and misses (chances clipped to 0.001..0.999): ``--ladder`` for route
choices whose every class step up is dearer by one factor, ``--fit-route``
a coordinate search of each factor on a log grid from the planner's.
(The planner's route choice was chosen by openings on the training seeds:
the log loss peaks at a milder step, ``benchmarks/README.md``.)

The closed cases are escapes of the hit-and-run scenario from the training
seeds (200-235 by default), each recovered by reviewing cameras by distance
from the latest sighting (what people do by hand): its found sightings are
the anchors. Which cameras the route passed is the recovered route's
passages (by the recovery criterion, every passage is found or forced
between two found ones). Calibration (predicted chance against the share of
hits, by band and by road-class group) is printed on the held-out seeds
(300-314 by default) for the quickest-way model before and the planner's
route choice now; ``--fit-calibration`` adds a logistic map of the chances
fitted on the training seeds.

Example: python benchmarks/fit_route_choice.py --cache /tmp/fcache --ladder 1 1.3 1.6 2 2.5
    --fit-calibration
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from _escapes import escape
from bench_frontier import Recovery, by_distance, follow
from scipy.optimize import minimize
from scipy.special import expit

from skynet.implied import ImpliedCameras
from skynet.onward import (
    _MAIN,
    _RESIDENTIAL,
    _SECONDARY,
    _TERTIARY,
    ROUTE_CHOICE,
    OnwardModel,
    RouteChoice,
)
from skynet.roads.cameras import CameraAttachment
from skynet.roads.classes import HIGHWAY_CLASSES
from skynet.roads.network import RoadNetwork
from trackers.sighting import Sighting

HORIZON_S = 1800.0
#: Camera groups the calibration map tells apart, by the most important road it watches.
GROUPS = ("main", "secondary", "tertiary", "residential", "minor")


def camera_groups(network: RoadNetwork, attachment: CameraAttachment) -> np.ndarray:
    """Per registry camera: its index in ``GROUPS`` (minor for one that watches no road)."""
    group = np.full(len(HIGHWAY_CLASSES), len(GROUPS) - 1, dtype=np.intp)
    for at, codes in enumerate((_MAIN, _SECONDARY, _TERTIARY, _RESIDENTIAL)):
        group[list(codes)] = at
    best = np.full(attachment.camera_ids.shape[0], len(HIGHWAY_CLASSES) - 1, dtype=np.intp)
    np.minimum.at(best, attachment.camera, network.edges.highway[attachment.edge])
    return group[best]


@dataclasses.dataclass(frozen=True)
class Calibration:
    """A logistic map of the onward chances: ``slope`` times the log-odds, an offset per
    camera group, ``per_log_minute`` times log(1 + free-flow minutes); 0 and 1 kept."""

    slope: float = 1.0
    offsets: tuple[float, ...] = (0.0,) * len(GROUPS)
    per_log_minute: float = 0.0

    def apply(self, chance: np.ndarray, group: np.ndarray, seconds: np.ndarray) -> np.ndarray:
        p = np.clip(chance, 1e-4, 1 - 1e-4)
        minutes = np.log1p(np.where(np.isfinite(seconds), seconds, 0.0) / 60.0)
        odds = self.slope * np.log(p / (1 - p)) + np.asarray(self.offsets)[group]
        out = expit(odds + self.per_log_minute * minutes)
        return np.where((chance <= 0) | (chance >= 1), chance, out)


def ladder(step: float, watched_s: float = 60.0) -> RouteChoice:
    """Each class step up (tertiary, secondary, main roads) ``step`` times dearer."""
    return RouteChoice(main=step**3, secondary=step**2, tertiary=step, watched_s=watched_s)


BANDS = (0.0, 0.02, 0.1, 0.2, 0.4, 0.6, 0.8, 0.99, 1.0 + 1e-9)


@dataclasses.dataclass
class Case:
    """One closed case: the world, the anchors (found sightings) and the passages."""

    seed: int
    network: RoadNetwork
    attachment: CameraAttachment
    anchors: list[Sighting]
    passages: list[Sighting]


def closed_case(seed: int, cache: Path | None) -> Case | None:
    """The escape of ``seed`` recovered by distance: its found sightings and passages."""
    closed = escape(seed, cache)
    if closed is None:
        return None
    implied = ImpliedCameras(closed.network, closed.attachment)
    recovery = Recovery(closed.passages, implied)
    anchors = follow(recovery, by_distance(closed.registry), closed.start).trail()
    return Case(seed, closed.network, closed.attachment, anchors, closed.passages)


@dataclasses.dataclass
class Observed:
    """Per camera and anchor: the onward chance, whether the route passed it later, its
    group (``skynet.onward.GROUPS``) and the free-flow seconds to it."""

    chance: np.ndarray
    hit: np.ndarray
    group: np.ndarray
    seconds: np.ndarray

    @classmethod
    def joined(cls, parts: Sequence[Observed]) -> Observed:
        return cls(
            *(np.concatenate([getattr(p, f.name) for p in parts]) for f in dataclasses.fields(cls))
        )


def observations(
    case: Case, route: RouteChoice, calibration: Calibration | None = None
) -> Observed:
    """What the onward model says from every anchor (mapped by ``calibration``), and what
    the route did."""
    model = OnwardModel(case.network, case.attachment, HORIZON_S, route=route)
    groups = camera_groups(case.network, case.attachment)
    ids = case.attachment.camera_ids.astype(str)
    online = case.attachment.online
    parts = []
    for i, anchor in enumerate(case.anchors):
        came_from = next(
            (s.camera_id for s in reversed(case.anchors[:i]) if s.camera_id != anchor.camera_id),
            None,
        )
        way = model.onward(anchor.camera_id, anchor.exit_edge, came_from=came_from)
        later = {
            p.camera_id
            for p in case.passages
            if p.t_in >= anchor.t_out and p.t_in - anchor.t_out <= HORIZON_S
        }
        hit = np.isin(ids, list(later - {anchor.camera_id}))
        keep = online & (ids != anchor.camera_id) & (np.isfinite(way.seconds) | hit)
        chance = (
            way.chance
            if calibration is None
            else calibration.apply(way.chance, groups, way.seconds)
        )
        parts.append(Observed(chance[keep], hit[keep], groups[keep], way.seconds[keep]))
    return Observed.joined(parts)


def log_loss_of(seen: Observed) -> float:
    p = np.clip(seen.chance, 1e-3, 1 - 1e-3)
    return float(-np.mean(np.where(seen.hit, np.log(p), np.log1p(-p))))


def log_loss(
    cases: Sequence[Case], route: RouteChoice, calibration: Calibration | None = None
) -> float:
    """Mean Bernoulli log loss of the onward chances over the cases."""
    return log_loss_of(Observed.joined([observations(c, route, calibration) for c in cases]))


def calibration_table(seen: Observed) -> list[tuple[str, int, float, float]]:
    """Per chance band: cameras, mean chance, share of hits."""
    rows = []
    for lo, hi in itertools.pairwise(BANDS):
        inside = (seen.chance >= lo) & (seen.chance < hi)
        if inside.any():
            band = f"{lo:.2f}-{min(hi, 1.0):.2f}"
            rows.append(
                (
                    band,
                    int(inside.sum()),
                    float(seen.chance[inside].mean()),
                    float(seen.hit[inside].mean()),
                )
            )
    return rows


def fit_calibration(seen: Observed, l2: float = 1e-2) -> Calibration:
    """Logistic regression (Newton steps) of the hits on the chance's log-odds, the camera
    group and log(1 + minutes to it); chances of 0 or 1 are left out (kept as they are)."""
    inside = (seen.chance > 0) & (seen.chance < 1)
    p = np.clip(seen.chance[inside], 1e-4, 1 - 1e-4)
    minutes = np.log1p(
        np.where(np.isfinite(seen.seconds[inside]), seen.seconds[inside], 0.0) / 60.0
    )
    x = np.column_stack([np.log(p / (1 - p)), np.eye(len(GROUPS))[seen.group[inside]], minutes])
    y = seen.hit[inside].astype(float)

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        z = x @ w
        value = np.sum(np.logaddexp(0.0, z) - y * z) + 0.5 * l2 * w @ w
        return float(value), x.T @ (expit(z) - y) + l2 * w

    start = np.zeros(x.shape[1])
    start[0] = 1.0
    w = minimize(loss, start, jac=True, method="L-BFGS-B").x
    return Calibration(
        round(float(w[0]), 4), tuple(round(float(v), 4) for v in w[1:-1]), round(float(w[-1]), 4)
    )


def fit(cases: Sequence[Case], start: RouteChoice, rounds: int = 3) -> RouteChoice:
    """Coordinate search of the factors (main roads fixed at 1) and the watched cost."""
    best, best_loss = start, log_loss(cases, start)
    print(f"start {start}: {best_loss:.5f}")
    steps: tuple[float, ...] = (0.25, 0.4, 0.6, 0.8, 1.25, 1.6, 2.5)
    for round_ in range(rounds):
        improved = False
        if round_:
            steps = (0.7, 0.85, 1.0 / 0.85, 1.0 / 0.7)
        for name in ("secondary", "tertiary", "residential", "minor", "watched_s"):
            here = getattr(best, name)
            for step in steps:
                value = here * step if name != "watched_s" or here > 0 else 30.0 * step
                if name == "watched_s" and step == steps[0]:
                    value = 0.0
                trial = dataclasses.replace(best, **{name: round(value, 4)})
                loss = log_loss(cases, trial)
                print(f"  {name}={value:.3f}: {loss:.5f}", flush=True)
                if loss < best_loss - 1e-6:
                    best, best_loss, improved = trial, loss, True
            print(f"{name}: {best} {best_loss:.5f}", flush=True)
        if not improved:
            break
    return best


def show(name: str, seen: Observed) -> None:
    print(f"\n{name}: log loss {log_loss_of(seen):.5f}")
    print("| chance | cameras | mean chance | hit rate |\n|---|---|---|---|")
    for band, n, mean, rate in calibration_table(seen):
        print(f"| {band} | {n} | {mean:.3f} | {rate:.3f} |")
    print("| group | cameras | mean chance | hit rate |\n|---|---|---|---|")
    for at, group in enumerate(GROUPS):
        inside = seen.group == at
        if inside.any():
            mean, rate = seen.chance[inside].mean(), seen.hit[inside].mean()
            print(f"| {group} | {inside.sum()} | {mean:.3f} | {rate:.3f} |")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, help="bench_frontier's folder of passages")
    parser.add_argument("--train", type=int, nargs=2, default=(200, 236), metavar=("FROM", "TO"))
    parser.add_argument("--held-out", type=int, nargs=2, default=(300, 315), metavar=("FROM", "TO"))
    parser.add_argument("--ladder", type=float, nargs="*", default=(), help="log loss per step")
    parser.add_argument("--fit-route", action="store_true", help="search the route choice")
    parser.add_argument("--fit-calibration", action="store_true", help="and a logistic map")
    args = parser.parse_args(argv)
    began = time.perf_counter()
    train = [c for s in range(*args.train) if (c := closed_case(s, args.cache))]
    held = [c for s in range(*args.held_out) if (c := closed_case(s, args.cache))]
    anchors = sum(len(c.anchors) for c in train)
    print(f"{len(train)} training cases ({anchors} anchors), {len(held)} held out")
    for step in args.ladder:
        route = ladder(step)
        print(f"ladder {step}: log loss {log_loss(train, route):.5f} / {log_loss(held, route):.5f}")
    route = fit(train, ROUTE_CHOICE) if args.fit_route else ROUTE_CHOICE
    before = RouteChoice()
    show(f"held out, before ({before})", Observed.joined([observations(c, before) for c in held]))
    show(f"held out, now ({route})", Observed.joined([observations(c, route) for c in held]))
    if args.fit_calibration:
        fitted = fit_calibration(Observed.joined([observations(c, route) for c in train]))
        mapped = Observed.joined([observations(c, route, fitted) for c in held])
        show(f"held out, now, mapped by {fitted} (fitted on training)", mapped)
    print(f"{time.perf_counter() - began:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
