"""A scenario's CCTV footage: motion-triggered clips per camera, rendered on demand.

Like most community and road recorders, each camera keeps clips only while
something moves in view: the clip plan comes from the traffic's ground truth
(which vehicle is in which picture when), padded by ``pad_s`` on each side.
Clips are written as video files beside their MOTChallenge ground truth, and
a ``manifest.json`` lists them with their start times. The same spec (seed
included) and renderer render the same frames, so the folder is a cache:
``render_cache.json`` holds the fingerprint of what the frames follow from and
the clips finished under it; clips rendered under another fingerprint (or
before there was one) are rendered again.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import json
import os
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np

from camera_registry.camera import Camera
from skynet import __version__
from skynet._workers import opencv_single_threaded
from skynet.errors import BadInputError
from skynet.synthetic.groundtruth import as_records, record_clip
from skynet.synthetic.render import CameraRenderer, passages_in_view
from skynet.synthetic.scenario import Scenario
from skynet.synthetic.traffic import Traffic
from skynet.times import format_time
from trackers.mot import read_mot, write_mot

MANIFEST: Final = "manifest.json"
#: The cache's fingerprint and the clips finished under it.
RENDER_CACHE: Final = "render_cache.json"
#: Version of how clips are planned, rendered and written, beyond what the spec
#: says: bump it whenever that changes, so that folders rendered before re-render.
RENDER_VERSION: Final = 3
#: FourCC of the clips (MPEG-4 part 2 in AVI): a third cheaper to write and read
#: than MJPG at 640×360, with the scenario's figures unchanged on it.
FOOTAGE_CODEC: Final = "XVID"
#: Every clip's MOT track id → vehicle id (ground truth across cameras).
TRACK_MAP: Final = "track_map.csv"
#: Step (s) at which vehicles are checked against a camera's picture when planning.
_PLAN_STEP_S: Final = 0.5


@dataclass(frozen=True)
class Clip:
    """One recorded clip: which camera, when, how many frames, where the files are."""

    camera_id: str
    index: int
    start_s: float
    n_frames: int
    fps: float
    vehicle_ids: tuple[int, ...]

    @property
    def name(self) -> str:
        return f"{self.camera_id}/clip-{self.index:03d}"

    @property
    def start_iso(self) -> str:
        return format_time(self.start_s)

    def as_dict(self) -> dict[str, Any]:
        return {
            **dataclasses.asdict(self),
            "vehicle_ids": list(self.vehicle_ids),
            "video": f"{self.name}.avi",
            "ground_truth": f"{self.name}.gt.txt",
            "start": self.start_iso,
        }


def recording_window(scenario: Scenario, margin_s: float = 60.0) -> tuple[float, float]:
    """The span the investigation covers: the escape, with a margin on each side."""
    depart, arrive = scenario.escape_window
    return depart - margin_s, arrive + margin_s


def plan_clips(
    scenario: Scenario,
    cameras: Iterable[Camera] | None = None,
    window: tuple[float, float] | None = None,
) -> list[Clip]:
    """Clips every online camera records over ``window`` (the recording window)."""
    start, end = window or recording_window(scenario)
    footage = scenario.spec.footage
    x, y = scenario.city.crs.to_metric(
        [c.lon for c in scenario.cameras], [c.lat for c in scenario.cameras]
    )
    positions = dict(zip((c.id for c in scenario.cameras), zip(x, y, strict=True), strict=True))
    plan = []
    for camera in cameras if cameras is not None else scenario.cameras:
        if camera.status != "online" or camera.homography is None:
            continue
        spans = _busy_spans(camera, positions[camera.id], scenario.traffic, start, end)
        for index, (first, last, vehicles) in enumerate(_merge(spans, footage.pad_s)):
            frames = max(1, round((last - first) * footage.fps))
            plan.append(Clip(camera.id, index, first, frames, footage.fps, vehicles))
    return plan


def _busy_spans(
    camera: Camera, position: tuple[float, float], traffic: Traffic, start: float, end: float
) -> list[tuple[float, float, int]]:
    """``(first, last, vehicle)`` for each vehicle's passage through the picture."""
    spans = []
    for vehicle, on_road, _, shown in passages_in_view(
        camera, position, traffic, start, end, _PLAN_STEP_S
    ):
        seen = on_road[shown]
        if seen.size:
            spans.append((float(seen[0]), float(seen[-1]), vehicle))
    return spans


def _merge(
    spans: list[tuple[float, float, int]], pad_s: float
) -> list[tuple[float, float, tuple[int, ...]]]:
    """Padded passages merged where they overlap, in time order."""
    merged: list[tuple[float, float, tuple[int, ...]]] = []
    for first, last, vehicle in sorted(spans):
        first, last = first - pad_s, last + pad_s
        if merged and first <= merged[-1][1]:
            low, high, vehicles = merged[-1]
            merged[-1] = (low, max(high, last), (*vehicles, vehicle))
        else:
            merged.append((first, last, (vehicle,)))
    return merged


def footage_fingerprint(scenario: Scenario) -> str:
    """Hash of what a scenario's clips follow from: the whole spec (seed, frame
    size, fps, night, …), the renderer's version and the package's."""
    key = {
        "spec": scenario.spec.as_dict(),
        "render_version": RENDER_VERSION,
        "skynet": __version__,
    }
    text = json.dumps(key, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class _RenderCache:
    """``render_cache.json``: which clip files in the folder match ``fingerprint``.

    A folder rendered under another fingerprint keeps none of its clips, and
    its manifest and track map (which describe those clips) are removed
    before anything is rendered, so an interrupted run leaves no stale index.
    """

    def __init__(self, root: Path, fingerprint: str) -> None:
        self.path = root / RENDER_CACHE
        self.fingerprint = fingerprint
        stored = self._read()
        if stored is not None and stored.get("fingerprint") == fingerprint:
            self.done = {str(name) for name in stored.get("clips", [])}
        else:
            self.done = set()
            for name in (MANIFEST, TRACK_MAP):
                (root / name).unlink(missing_ok=True)
            self._write()

    def _read(self) -> dict[str, Any] | None:
        try:
            stored = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return stored if isinstance(stored, dict) else None

    def _write(self) -> None:
        document = {"fingerprint": self.fingerprint, "clips": sorted(self.done)}
        partial = self.path.with_suffix(".part")
        partial.write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")
        partial.replace(self.path)

    def has(self, clip: Clip, *paths: Path) -> bool:
        return clip.name in self.done and all(path.exists() for path in paths)

    def add(self, clip: Clip) -> None:
        self.done.add(clip.name)
        self._write()


def render_footage(
    scenario: Scenario,
    folder: str | Path,
    *,
    cameras: Iterable[Camera] | None = None,
    window: tuple[float, float] | None = None,
    plan: list[Clip] | None = None,
    workers: int | None = 1,
    on_clip: Callable[[Clip], None] | None = None,
) -> list[Clip]:
    """Render the planned clips into ``folder``, keeping those already rendered
    there from the same spec and renderer (see :func:`footage_fingerprint`).

    ``plan`` is :func:`plan_clips`'s answer for ``cameras`` and ``window``
    when the caller has it already. ``workers`` processes render one camera
    each at a time (``None``: one per core); the folder's cache index is kept
    by this process alone.
    """
    root = Path(folder)
    fingerprint = footage_fingerprint(scenario)
    try:
        root.mkdir(parents=True, exist_ok=True)
        cache = _RenderCache(root, fingerprint)
    except OSError as exc:
        raise BadInputError(f"cannot write the footage folder ({exc})", source=str(root)) from None
    plan = plan if plan is not None else plan_clips(scenario, cameras, window)
    todo: dict[str, list[Clip]] = {}
    for clip in plan:
        if cache.has(clip, root / f"{clip.name}.avi", root / f"{clip.name}.gt.txt"):
            if on_clip is not None:
                on_clip(clip)
        else:
            todo.setdefault(clip.camera_id, []).append(clip)

    def finished(clip: Clip) -> None:
        cache.add(clip)
        if on_clip is not None:
            on_clip(clip)

    count = min(workers or os.cpu_count() or 1, len(todo))
    if count <= 1:
        for clips in todo.values():
            _render_camera(scenario, root, clips, finished)
    else:
        with (
            opencv_single_threaded(),
            ProcessPoolExecutor(count, initializer=_adopt, initargs=(scenario,)) as pool,
        ):
            biggest_first = sorted(todo.values(), key=lambda c: -sum(x.n_frames for x in c))
            futures = [pool.submit(_render_in_worker, str(root), c) for c in biggest_first]
            for future in as_completed(futures):
                for clip in future.result():
                    finished(clip)
    _write_track_map(root, plan)
    footage = scenario.spec.footage
    manifest = {
        "scenario": scenario.spec.name,
        "seed": scenario.spec.seed,
        "fingerprint": fingerprint,
        "fps": footage.fps,
        "size": [footage.width, footage.height],
        "night": footage.night,
        "clips": [clip.as_dict() for clip in plan],
    }
    (root / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    return plan


def _render_camera(
    scenario: Scenario, root: Path, clips: list[Clip], done: Callable[[Clip], None]
) -> None:
    """Render one camera's clips: video beside its MOT truth, each file whole or absent."""
    footage = scenario.spec.footage
    camera = next(c for c in scenario.cameras if c.id == clips[0].camera_id)
    renderer = CameraRenderer(
        camera,
        scenario.traffic.streets,
        night=footage.night,
        size=(footage.width, footage.height),
        seed=scenario.spec.seed,
    )
    for clip in clips:
        video = root / f"{clip.name}.avi"
        video.parent.mkdir(parents=True, exist_ok=True)
        partial = video.with_suffix(".part.avi")
        truth = record_clip(
            renderer,
            scenario.traffic,
            start_s=clip.start_s,
            n_frames=clip.n_frames,
            fps=clip.fps,
            video_path=partial,
            codec=FOOTAGE_CODEC,
        )
        write_mot(root / f"{clip.name}.gt.txt", as_records(truth.rows))
        partial.replace(video)  # the video appears only when whole
        done(clip)


#: The scenario a render worker draws from (inherited or unpickled once per process).
_WORKER_SCENARIO: list[Scenario] = []


def _adopt(scenario: Scenario) -> None:
    _WORKER_SCENARIO[:] = [scenario]


def _render_in_worker(root: str, clips: list[Clip]) -> list[Clip]:
    rendered: list[Clip] = []
    _render_camera(_WORKER_SCENARIO[0], Path(root), clips, rendered.append)
    return rendered


def _write_track_map(root: Path, plan: list[Clip]) -> None:
    """``track_map.csv``: for every clip, each MOT track id and the vehicle it is."""
    with (root / TRACK_MAP).open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["clip", "camera_id", "track_id", "vehicle_id"])
        for clip in plan:
            tracks = np.unique(read_mot(root / f"{clip.name}.gt.txt").ids).tolist()
            writer.writerows((clip.name, clip.camera_id, t, t - 1) for t in tracks)
