"""A sighting-store writer process for the concurrency tests.

``python -m _writer DB GO CLIP...`` (tests/support on PYTHONPATH) waits until
the file GO exists, so that every writer starts at once, then commits each
named clip with its sightings (the same ones in every process) and prints
how many were new, one JSON line.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np

from skynet.store import ClipRecord, SightingStore
from trackers.sighting import APPEARANCE_DIM, Evidence, Sighting, sighting_id

SIGHTINGS_PER_CLIP = 400


def clip_sightings(clip: str, count: int = SIGHTINGS_PER_CLIP) -> list[Sighting]:
    """The sightings of a clip named ``CAMERA:NAME`` (a function of the name alone)."""
    camera = clip.split(":", 1)[0]
    rng = np.random.default_rng(list(clip.encode()))
    vectors = rng.normal(size=(count, APPEARANCE_DIM)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    starts = 1_773_000_000.0 + rng.uniform(0, 600, count)
    return [
        Sighting(
            id=sighting_id(camera, clip, track),
            camera_id=camera,
            t_in=float(starts[track]),
            t_out=float(starts[track]) + 2.5,
            vehicle_class="car",
            appearance=vectors[track],
            quality=0.5,
            evidence=Evidence(clip, track, (1.0, 2.0, 3.0, 4.0)),
        )
        for track in range(count)
    ]


def clip_record(clip: str) -> ClipRecord:
    camera, name = clip.split(":", 1)
    return ClipRecord(clip, camera, name, f"/footage/{name}", 1_773_000_000.0, 600, 10.0)


def main(db: str, go: str, clips: list[str]) -> None:
    batches = {clip: clip_sightings(clip) for clip in clips}
    deadline = time.monotonic() + 60
    while not Path(go).exists():
        if time.monotonic() > deadline:
            sys.exit("the go file never came")
        time.sleep(0.01)
    store = SightingStore(db)
    added = {clip: store.add_clip(clip_record(clip), batches[clip]) for clip in clips}
    print(json.dumps(added))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3:])
