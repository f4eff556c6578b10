"""The per-feed pipeline: frames → detections → tracks → sightings, for one clip.

Frames never leave this function: what comes out is the clip's sightings and,
for MOTChallenge export, its tracks. Tracks that have been gone longer than
the tracker's ``max_age`` are described as they end, so memory stays bounded
on long recordings.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from shapely.geometry import LineString

from camera_registry.camera import Camera
from trackers.describe import TrackDescriber
from trackers.detect import Detector, MotionDetector
from trackers.mot import MotRecords, records_from_tracks
from trackers.sighting import Sighting
from trackers.sources import open_source
from trackers.track import MOTION_TRACKER, MultiObjectTracker, TrackerConfig, TrackFrame

#: Frames between sweeps that describe tracks which have ended.
_SWEEP_EVERY = 50
#: The detector's background is learned from the first seconds of a clip,
#: held back and then processed, so detection starts at the first frame.
LOOKAHEAD_S = 2.0
PRIME_SAMPLES = 25


@dataclass(frozen=True, eq=False)
class ClipResult:
    """What a clip yielded."""

    sightings: list[Sighting]
    tracks: MotRecords
    frames: int
    fps: float
    start_s: float
    end_s: float = field(default=0.0)


def process_clip(
    source: str,
    camera: Camera,
    *,
    clip: str,
    start_s: float | None = None,
    detector: Detector | None = None,
    tracker_config: TrackerConfig | None = None,
    watched_edges: Mapping[str, LineString] | None = None,
    on_frame: Callable[[int], None] | None = None,
) -> ClipResult:
    """Run one clip of ``camera`` through the pipeline.

    ``start_s`` (UTC seconds) anchors frame times when the source carries no
    absolute time; the camera's clock offset is applied by the source.
    """
    detector = detector or MotionDetector(camera=camera)  # night boxes from the ground
    if tracker_config is None:  # motion blobs merge when vehicles close up
        motion = isinstance(detector, MotionDetector)
        tracker_config = MOTION_TRACKER if motion else TrackerConfig()
    tracker = MultiObjectTracker(tracker_config)
    max_age = tracker.config.max_age
    describer = TrackDescriber(camera, clip, watched_edges=watched_edges)
    frames: list[TrackFrame] = []
    last_seen: dict[int, int] = {}
    sightings: list[Sighting] = []
    first_time = last_time = start_s or 0.0
    count = 0
    folder_fps = camera.fps if Path(source).is_dir() else None  # a video knows its own rate
    with open_source(
        source, start_s=start_s, fps=folder_fps, clock_offset_s=camera.clock_offset_s
    ) as feed:
        fps = feed.fps
        frames_in = iter(feed)
        held = list(itertools.islice(frames_in, max(1, round(LOOKAHEAD_S * fps))))
        prime = getattr(detector, "prime", None)
        if prime is not None and held:
            prime([f.image for f in held[:: max(1, len(held) // PRIME_SAMPLES)]])
        for frame in itertools.chain(held, frames_in):
            tracks = tracker.step(detector.detect(frame.image))
            describer.observe(frame.index, frame.time_s, frame.image, tracks)
            frames.append(tracks)
            last_seen.update(dict.fromkeys(tracks.ids.tolist(), frame.index))
            if count == 0:
                first_time = frame.time_s
            last_time = frame.time_s
            count += 1
            if count % _SWEEP_EVERY == 0:
                gone = [t for t, seen in last_seen.items() if frame.index - seen > max_age]
                sightings += describer.finish(gone)
                for track_id in gone:
                    del last_seen[track_id]
            if on_frame is not None:
                on_frame(frame.index)
    sightings += describer.finish(None)
    sightings.sort(key=lambda s: (s.t_in, s.id))
    return ClipResult(
        sightings=sightings,
        tracks=records_from_tracks(frames),
        frames=count,
        fps=float(fps),
        start_s=float(first_time),
        end_s=float(last_time),
    )
