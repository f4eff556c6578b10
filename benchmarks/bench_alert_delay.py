"""Watch alert delay: from the frame in which the target appears to the alert, through the pipeline.

The bundled hit-and-run case at night. The clips of the cameras the
three-wheeler passes are rendered (motion-triggered, as the cameras record
them); the first ``--known`` are ingested and the watch is made from the
target's sightings in them (found with the footage's ground truth, as an
investigator would have confirmed them). Then each later clip of the target
is ingested on its own, as it would arrive from the camera, with the watch
listening on the event bus (``skynet watch run`` does the same). Per clip:

* footage: seconds from the first frame showing the target to the end of
  its clip (a motion-triggered clip is handed over when it closes, so a live
  feed cannot alert sooner);
* processing: wall seconds from handing the clip to ingest (decode, detect,
  track, describe, commit, publish, match) to the alert (an upper bound of
  what is left after the last frame of a live feed: the pipeline runs faster
  than real time, so most of it overlaps the recording);
* the delay: the two added; whether the clip raised an alert on the target,
  and how many on other vehicles (the footage's ground truth tells).

Example: python benchmarks/bench_alert_delay.py --known 3 --clips 20
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from camera_registry import CameraRegistry
from camera_registry.store import RegistryStore
from skynet.events import EventBus
from skynet.frontier import FrontierModel
from skynet.ingest import IngestJob, ingest, plan_jobs
from skynet.roads import RoadStore, attach_cameras
from skynet.sample_data import sample_scenario_spec
from skynet.store import SightingStore
from skynet.synthetic.footage import Clip, plan_clips, render_footage
from skynet.synthetic.footage_truth import vehicles_of
from skynet.synthetic.scenario import ScenarioSpec, build_scenario
from skynet.watch import (
    Alert,
    WatchStore,
    alert_on_new_sightings,
    watch_for_target,
)
from trackers.mot import read_mot


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--known", type=int, default=3, help="target clips the watch is made from")
    parser.add_argument("--clips", type=int, default=20, help="later target clips measured")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "_out" / "alert")
    args = parser.parse_args()

    scenario = build_scenario(ScenarioSpec.from_file(sample_scenario_spec()))
    target = scenario.target_id
    clips = sorted(
        (c for c in plan_clips(scenario) if target in c.vehicle_ids), key=lambda c: c.start_s
    )[: args.known + args.clips]
    footage = args.out / "footage"
    began = time.perf_counter()
    render_footage(scenario, footage, plan=clips, workers=None)
    print(f"{len(clips)} target clips rendered in {time.perf_counter() - began:.0f} s")
    jobs = {job.clip.removesuffix(".avi"): job for job in plan_jobs(str(footage), None, None)}

    with tempfile.TemporaryDirectory() as scratch:
        db = str(Path(scratch) / "alerts.db")
        RegistryStore(db).import_cameras(scenario.cameras, scenario.city.crs)
        network = scenario.city.road_network()
        RoadStore(db).save(network)
        registry = CameraRegistry(scenario.cameras, scenario.city.crs)
        known = [jobs[c.name] for c in clips[: args.known]]
        ingest(known, db, workers=1)
        stored = SightingStore(db).find()
        truth = vehicles_of(stored, footage)
        mine = sorted((s for s in stored if truth[s.id] == target), key=lambda s: s.t_in)
        if not mine:
            raise SystemExit("the target was not found in the known clips")
        watch = watch_for_target(
            "BENCH", "alert delay benchmark", mine, end_s=mine[-1].t_out + 3600.0
        )
        watches = WatchStore(db)
        watches.add(watch)
        model = FrontierModel(network, registry, attach_cameras(network, registry), 1800.0)
        events = EventBus()
        heard: list[tuple[float, Alert]] = []
        events.subscribe("alert", lambda _topic, alert: heard.append((time.perf_counter(), alert)))
        alert_on_new_sightings(events, watches, registry, model.free_flow_from, 1800.0)
        rows = [
            _measure(jobs[c.name], c, target, footage, db, events, heard)
            for c in clips[args.known :]
        ]
    _print(rows)


def _measure(
    job: IngestJob,
    clip: Clip,
    target: int,
    footage: Path,
    db: str,
    events: EventBus,
    heard: list[tuple[float, Alert]],
) -> dict[str, float]:
    gt = read_mot(footage / f"{clip.name}.gt.txt")
    # the footage's MOT track ids are vehicle ids + 1 (see its track_map.csv)
    first = int(gt.frames[gt.ids == target + 1].min()) - 1
    heard.clear()
    start = time.perf_counter()
    ingest([job], db, workers=1, events=events)
    done = time.perf_counter()
    footage_s = (clip.n_frames - first) / clip.fps
    alerted = {alert.sighting_id: at for at, alert in heard}
    new = SightingStore(db).find(ids=list(alerted))
    truth = vehicles_of(new, footage)
    on_target = sorted(alerted[s.id] for s in new if truth[s.id] == target)
    processing = (on_target[0] - start) if on_target else done - start
    return {
        "footage_s": footage_s,
        "processing_s": processing,
        "delay_s": footage_s + processing,
        "alerted": float(bool(on_target)),
        "false_alerts": float(len(alerted) - len(on_target)),
    }


def _print(rows: list[dict[str, float]]) -> None:
    alerted = [r for r in rows if r["alerted"]]
    false = sum(r["false_alerts"] for r in rows)
    print(
        f"{len(alerted)} of {len(rows)} later target clips raised an alert on the target; "
        f"{false:.0f} alerts on other vehicles"
    )
    for key in ("footage_s", "processing_s", "delay_s"):
        values = [r[key] for r in alerted]
        if values:
            print(
                f"{key:>13}: median {statistics.median(values):.2f}  "
                f"max {max(values):.2f}  mean {float(np.mean(values)):.2f}"
            )


if __name__ == "__main__":
    main()
