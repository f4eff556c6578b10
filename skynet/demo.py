"""The bundled hit-and-run investigation, end to end: footage in, route and report out.

The steps a user would take by hand, on the bundled scenario: render every
online camera's night footage (kept in a cache folder keyed by the scenario's
fingerprint), ingest it through the per-feed pipeline into an SQLite store
beside it (clips already committed are skipped, as on any rerun of ingest),
seed from the crash-scene camera's first sighting after the crash, follow the
target (audited under the demo's case), reconstruct the route, rank the
cameras to open next, and score it all against the scenario's ground truth.

``cameras`` reduces the demo to the first few cameras that saw the escape
(and the recording window to the time it took to pass them), for the test
suite and a quick look.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Final

import numpy as np

from camera_registry.camera import Camera
from camera_registry.database import data_home
from camera_registry.store import RegistryStore
from skynet import __version__
from skynet.audit import Purpose
from skynet.errors import BadInputError, NotFoundError, SkynetError
from skynet.frontier import FrontierCamera
from skynet.ingest import ingest, plan_jobs, stored_watched_edges
from skynet.investigate import Investigation, TargetResult, follow_target
from skynet.review import came_from
from skynet.roads import RoadStore
from skynet.routes import edge_f1
from skynet.synthetic.footage import (
    footage_fingerprint,
    plan_clips,
    recording_window,
    render_footage,
)
from skynet.synthetic.footage_truth import vehicles_of
from skynet.synthetic.scenario import Scenario, ScenarioSpec, build_scenario
from trackers.sighting import Sighting

#: The case every demo query is audited under.
DEMO_PURPOSE: Final = Purpose(
    "DEMO-HR-0314", "bundled demo: night hit-and-run, two injured, the driver fled"
)
#: How long after the crash the crash-scene camera's seed sighting may start (s).
SEED_WINDOW_S: Final = 120.0
#: Recording kept after the last camera of a reduced demo saw the target (s).
REDUCED_MARGIN_S: Final = 60.0
#: How far past the last sighting the cameras to open next are looked for (s).
LOOK_AHEAD_S: Final = 600.0
#: Cameras to open next that the demo lists.
NEXT_CAMERAS: Final = 5
STORE_FILE: Final = "case.db"
STORE_KEY_FILE: Final = "store.json"

#: ``on_progress(stage, done, total)``: stages are "render" (frames) and "ingest" (clips).
ProgressCallback = Callable[[str, int, int], None]


@dataclass(frozen=True)
class Accuracy:
    """The reconstruction against the scenario's ground truth."""

    edge_f1: float
    precision: float
    recall: float
    length_m: float
    true_length_m: float
    cameras_saw: int
    cameras_linked: int
    missed_cameras: tuple[str, ...]
    wrong_sightings: int
    lookalikes_linked: int

    @property
    def length_error(self) -> float:
        return abs(self.length_m - self.true_length_m) / self.true_length_m


@dataclass
class DemoRun:
    """Everything the demo found and how long each step took."""

    scenario: Scenario
    investigation: Investigation
    footage: Path
    seed: Sighting
    result: TargetResult
    next_cameras: list[FrontierCamera]
    #: Share of where the target could next be seen that lies on cameras searched in vain.
    searched_share: float
    accuracy: Accuracy
    utc_offset_h: float
    frames: int
    clips: int
    recorded_cameras: int
    sightings_added: int
    timings: dict[str, float] = field(default_factory=dict)


def default_cache() -> Path:
    """Where the demo keeps its footage and store between runs."""
    return data_home() / "demo"


def run_demo(
    spec_path: Path,
    cache: Path,
    *,
    workers: int | None = None,
    cameras: int | None = None,
    fresh: bool = False,
    on_progress: ProgressCallback | None = None,
) -> DemoRun:
    """Run the whole investigation; see the module docstring."""
    progress = on_progress or (lambda stage, done, total: None)
    timings: dict[str, float] = {}
    clock = time.perf_counter()
    scenario = build_scenario(ScenarioSpec.from_file(spec_path))
    scope = _scope(scenario, cameras)
    chosen, window = scope.cameras, scope.window
    folder = cache / (scenario.spec.name if cameras is None else f"{scenario.spec.name}-{cameras}")
    footage = folder / "footage"
    timings["scenario_s"] = time.perf_counter() - clock

    clock = time.perf_counter()
    done = [0]

    def rendered(clip: object) -> None:
        done[0] += int(getattr(clip, "n_frames", 0))
        progress("render", done[0], total)

    plan = plan_clips(scenario, chosen, window)
    total = sum(c.n_frames for c in plan)
    progress("render", 0, total)
    render_footage(scenario, footage, plan=plan, workers=workers, on_clip=rendered)
    timings["render_s"] = time.perf_counter() - clock

    clock = time.perf_counter()
    db = _open_store(folder, scenario, fresh=fresh)
    jobs = plan_jobs(str(footage), None, None)
    count = [0]

    def ingested(_: object) -> None:
        count[0] += 1
        progress("ingest", count[0], len(jobs))

    progress("ingest", 0, len(jobs))
    outcomes = ingest(
        jobs, db, workers=workers, watched_edges=stored_watched_edges(db), on_outcome=ingested
    )
    failed = [o for o in outcomes if not o.ok]
    if failed:
        first = failed[0]
        msg = f"{len(failed)} of the demo's clips failed to ingest, e.g. {first.job.clip}: "
        raise SkynetError(msg + str(first.error))
    timings["ingest_s"] = time.perf_counter() - clock

    clock = time.perf_counter()
    investigation = Investigation.open(db, cache=folder / "transitions")
    timings["open_s"] = time.perf_counter() - clock
    clock = time.perf_counter()
    seed = crash_scene_seed(investigation, scenario)
    result = follow_target(
        investigation, DEMO_PURPOSE, seed.id, with_route=True, since_s=scenario.spec.crash_s
    )
    timings["query_s"] = time.perf_counter() - clock
    clock = time.perf_counter()
    last = result.timeline.entries[-1].sighting
    recorded = {c.id for c in chosen if c.status == "online"}
    everything = investigation.frontier.rank(
        last.camera_id,
        last.t_out,
        reviewed=dict.fromkeys(recorded, window[1]),  # all footage searched to the window's end
        came_from=came_from(result.timeline),
        exit_edge=last.exit_edge,
        now_s=last.t_out + LOOK_AHEAD_S,
        limit=10_000,
    )
    ahead = [c for c in everything if not c.reviewed][:NEXT_CAMERAS]
    searched_share = sum(c.share for c in everything if c.reviewed)
    timings["frontier_s"] = time.perf_counter() - clock
    accuracy = score(scenario, investigation, result, footage, scope.scored, recorded)
    return DemoRun(
        scenario=scenario,
        investigation=investigation,
        footage=footage,
        seed=seed,
        result=result,
        next_cameras=ahead,
        searched_share=searched_share,
        accuracy=accuracy,
        utc_offset_h=_utc_offset_h(scenario.spec.crash_time),
        frames=total,
        clips=len(plan),
        recorded_cameras=len({c.camera_id for c in plan}),
        sightings_added=sum(o.added for o in outcomes),
        timings=timings,
    )


@dataclass(frozen=True)
class _Scope:
    """What a demo covers: cameras, recording window, and the span of escape scored."""

    cameras: list[Camera]
    window: tuple[float, float]
    scored: tuple[float, float]


def _scope(scenario: Scenario, cameras: int | None) -> _Scope:
    """All cameras over the recording window, or the first ``cameras`` online cameras
    that saw the escape, recorded until a minute after the last of them saw it."""
    window = recording_window(scenario)
    if cameras is None:
        return _Scope(list(scenario.cameras), window, scenario.escape_window)
    if cameras < 2:  # the crash-scene camera alone makes no route
        raise BadInputError(f"--cameras must be at least 2, got {cameras}", field="--cameras")
    passes = sorted((s for s in scenario.sightings if s.camera_online), key=lambda s: s.t_in)
    keep: dict[str, float] = {}
    for passage in passes:
        if len(keep) == cameras and passage.camera_id not in keep:
            break
        keep[passage.camera_id] = passage.t_out
    by_id = {c.id: c for c in scenario.cameras}
    last = max(keep.values())
    recorded = (window[0], min(last + REDUCED_MARGIN_S, window[1]))
    return _Scope([by_id[c] for c in keep], recorded, (scenario.escape_window[0], last))


def _open_store(folder: Path, scenario: Scenario, *, fresh: bool) -> str:
    """The demo's SQLite store: reused when made from the same footage and Skynet, else new."""
    key = {"footage": footage_fingerprint(scenario), "skynet": __version__}
    path = folder / STORE_FILE
    marker = folder / STORE_KEY_FILE
    try:
        same = json.loads(marker.read_text(encoding="utf-8")) == key
    except (OSError, ValueError):
        same = False
    if same and not fresh and path.exists():
        return str(path)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    marker.unlink(missing_ok=True)
    shutil.rmtree(folder / "transitions", ignore_errors=True)
    RegistryStore(str(path)).import_cameras(scenario.cameras, scenario.city.crs)
    RoadStore(str(path)).save(scenario.city.road_network())
    marker.write_text(json.dumps(key) + "\n", encoding="utf-8")
    return str(path)


def crash_scene_seed(investigation: Investigation, scenario: Scenario) -> Sighting:
    """The crash-scene camera's first sighting after the crash (of the target's class if any).

    What an investigator starts from: the scene, the time, "a three-wheeler".
    """
    crash_s = scenario.spec.crash_s
    camera_id = scenario.ground_truth()["crash"]["camera_id"]
    found = investigation.store.find(
        camera_ids=[camera_id], start_s=crash_s, end_s=crash_s + SEED_WINDOW_S
    )
    found = [s for s in found if s.t_out >= crash_s]
    if not found:
        msg = f"no sighting at the crash-scene camera {camera_id} within 2 min of the crash"
        raise NotFoundError(msg)
    wanted = scenario.spec.target.vehicle_class
    same_class = [s for s in found if s.vehicle_class == wanted]
    return min(same_class or found, key=lambda s: s.t_in)


def score(
    scenario: Scenario,
    investigation: Investigation,
    result: TargetResult,
    footage: Path,
    window: tuple[float, float],
    recorded: set[str],
) -> Accuracy:
    """Route and timeline against the truth over ``window`` of the escape, counting the
    cameras whose footage was ``recorded``."""
    route = result.route
    assert route is not None
    network = investigation.network
    truth_route = scenario.traffic.route(scenario.target_id)
    inside = (np.asarray(truth_route.enter_s) <= window[1]) & (
        np.asarray(truth_route.leave_s) >= window[0]
    )
    rows = scenario.route_rows(network)
    truth = [row for row, keep in zip(rows, inside.tolist(), strict=True) if keep]
    precision, recall, f1 = edge_f1(network, route.edges, truth)
    linked = [e.sighting for e in result.timeline.entries]
    vehicles = vehicles_of(linked, footage)
    target = scenario.target_id
    saw = {
        s.camera_id
        for s in scenario.sightings
        if s.camera_id in recorded and s.t_in <= window[1] and s.t_out >= window[0]
    }
    linked_cameras = {s.camera_id for s in linked if vehicles[s.id] == target}
    wrong = [s for s in linked if vehicles[s.id] != target]
    return Accuracy(
        edge_f1=f1,
        precision=precision,
        recall=recall,
        length_m=route.length_m,
        true_length_m=float(network.edges.length[truth].sum()),
        cameras_saw=len(saw),
        cameras_linked=len(saw & linked_cameras),
        missed_cameras=tuple(sorted(saw - linked_cameras)),
        wrong_sightings=len(wrong),
        lookalikes_linked=sum(vehicles[s.id] in scenario.lookalike_ids for s in wrong),
    )


def _utc_offset_h(iso: str) -> float:
    """The offset (hours) of an ISO 8601 time: the scene's local time."""
    offset = datetime.fromisoformat(iso).utcoffset()
    return 0.0 if offset is None else offset.total_seconds() / 3600.0


__all__ = [
    "DEMO_PURPOSE",
    "Accuracy",
    "DemoRun",
    "crash_scene_seed",
    "default_cache",
    "run_demo",
    "score",
]
