"""Ingestion: clips in, sightings committed, one transaction per clip.

Jobs run on an executor (:mod:`skynet.executors`: a local process pool by
default, or a Ray cluster); frames stay in the worker, only sightings and
tracks travel back, and the main process commits each finished clip in one
transaction. A clip that fails — bad file, unknown camera, a crash in its
worker, the database gone — fails alone: it writes nothing, the rest of the
batch completes, and the failures come back listed. Clips committed before are
skipped and sighting ids are deterministic, so rerunning a batch completes it
with nothing lost and nothing twice.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from shapely.geometry import LineString

from camera_registry.camera import Camera
from camera_registry.store import RegistryStore
from skynet.errors import BadInputError, NotFoundError, SkynetError
from skynet.events import EventBus
from skynet.executors import Executor, LocalPool, crash_drill
from skynet.store import ClipRecord, SightingStore
from skynet.times import parse_time
from trackers.mot import write_mot
from trackers.pipeline import ClipResult, process_clip

VIDEO_SUFFIXES: Final = frozenset({".avi", ".mp4", ".mkv", ".mov", ".m4v", ".ts", ".mpg", ".webm"})
STREAM_SCHEMES: Final = ("rtsp://", "rtsps://", "http://", "https://")
MANIFEST: Final = "manifest.json"


@dataclass(frozen=True)
class IngestJob:
    """One clip to process: its source, camera, name and start time (UTC seconds)."""

    source: str
    camera_id: str
    clip: str
    start_s: float | None
    follows_previous: bool = False

    @property
    def clip_id(self) -> str:
        digest = hashlib.sha256(f"{self.camera_id}\x1f{self.clip}".encode()).hexdigest()
        return digest[:24]


@dataclass(frozen=True)
class IngestOutcome:
    """How one job ended: sightings added, or the reason it failed."""

    job: IngestJob
    sightings: int = 0
    added: int = 0
    frames: int = 0
    skipped: bool = False
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def plan_jobs(path: str, camera_id: str | None, start: str | None) -> list[IngestJob]:
    """The clips named by a file, a folder or a stream URL.

    A folder holding ``manifest.json`` (as ``skynet synth scenario --footage``
    writes) takes camera and start time per clip from it. Any other folder is
    one camera's recording split into files: they are taken in name order,
    each starting where the previous one ended (``--start`` anchors the first).
    """
    start_s = parse_time(start, "--start") if start else None
    if path.startswith(STREAM_SCHEMES):
        return [IngestJob(path, _need_camera(camera_id, path), _stream_name(path), start_s)]
    location = Path(path)
    if location.is_dir():
        manifest = location / MANIFEST
        if manifest.is_file():
            return _manifest_jobs(manifest, camera_id)
        files = sorted(p for p in location.iterdir() if p.suffix.lower() in VIDEO_SUFFIXES)
        if not files:
            raise BadInputError("no video files in the folder", source=path)
        camera = _need_camera(camera_id, path)
        first = _need_start(start_s, path)
        return [
            IngestJob(str(f), camera, f.name, first if i == 0 else None, follows_previous=i > 0)
            for i, f in enumerate(files)
        ]
    if not location.exists():
        raise BadInputError("file not found", source=path)
    camera = _need_camera(camera_id, path)
    return [IngestJob(str(location), camera, location.name, _need_start(start_s, path))]


def _need_start(start_s: float | None, source: str) -> float:
    if start_s is None:
        msg = "name when the recording starts with --start (ISO 8601 with offset)"
        raise BadInputError(msg, source=source, field="--start")
    return start_s


def _need_camera(camera_id: str | None, source: str) -> str:
    if not camera_id:
        raise BadInputError("name the camera with --camera ID", source=source, field="--camera")
    return camera_id


def _stream_name(url: str) -> str:
    return url.split("://", 1)[1].replace("/", "_")


def _manifest_jobs(manifest: Path, camera_id: str | None) -> list[IngestJob]:
    try:
        clips = json.loads(manifest.read_text(encoding="utf-8"))["clips"]
        jobs = [
            IngestJob(
                str(manifest.parent / c["video"]),
                str(c["camera_id"]),
                Path(c["video"]).as_posix(),
                parse_time(c["start"], "start"),
            )
            for c in clips
        ]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise BadInputError(f"not a footage manifest ({exc})", source=str(manifest)) from None
    return [j for j in jobs if camera_id is None or j.camera_id == camera_id]


def run_job(
    job: IngestJob,
    camera: Camera,
    watched_edges: Mapping[str, LineString] | None,
    on_frame: Callable[[int], None] | None = None,
) -> ClipResult:
    """Process one clip (in a worker or in-process)."""
    drill = crash_drill(job.clip)
    if drill is not None:
        on_frame = _both(drill, on_frame)
    return process_clip(
        job.source,
        camera,
        clip=job.clip,
        start_s=job.start_s,
        watched_edges=watched_edges,
        on_frame=on_frame,
    )


def _both(
    first: Callable[[int], None], then: Callable[[int], None] | None
) -> Callable[[int], None]:
    """One frame callback calling ``first``, then ``then``."""

    def call(index: int) -> None:
        first(index)
        if then is not None:
            then(index)

    return call


#: What a worker needs for one clip: the job, its camera and the camera's watched edges.
ClipTask = tuple[IngestJob, Camera, Mapping[str, LineString] | None]


def run_task(task: ClipTask) -> ClipResult:
    """:func:`run_job` on one task (the function executors send to their workers)."""
    job, camera, watched_edges = task
    return run_job(job, camera, watched_edges)


def stored_watched_edges(db: str | None) -> dict[str, dict[str, LineString]] | None:
    """Each camera's watched road edges, when the database holds a road network.

    They let the describe stage name the edges a vehicle entered and left on,
    which anchors its sightings on the roads; without roads, sightings carry
    ground points only.
    """
    from skynet.roads import RoadStore, attach_cameras
    from skynet.roads.cameras import watched_edge_geometries

    try:
        network = RoadStore(db).load()
    except NotFoundError:
        return None
    registry = RegistryStore(db).load()
    return watched_edge_geometries(network, attach_cameras(network, registry))


def ingest(
    jobs: Sequence[IngestJob],
    db: str | None = None,
    *,
    workers: int | None = None,
    executor: Executor | None = None,
    mot_path: Callable[[IngestJob], Path] | None = None,
    watched_edges: Mapping[str, Mapping[str, LineString]] | None = None,
    on_outcome: Callable[[IngestOutcome], None] | None = None,
    on_frame: Callable[[int], None] | None = None,
    events: EventBus | None = None,
) -> list[IngestOutcome]:
    """Process and commit every job; failures are returned, never raised.

    With ``events``, each committed clip's sightings are published as a
    ``"sightings"`` event (after the commit: what subscribers hear is stored).

    Jobs of consecutive files (no start of their own) run in order in this
    process, each starting where the previous clip ended; the rest run on
    ``executor`` (default: a local pool of ``workers`` processes, one per CPU
    when not given), largest file first so that no long clip ends the batch alone.
    """
    registry = {c.id: c for c in RegistryStore(db).load()}
    store = SightingStore(db)
    outcomes: list[IngestOutcome] = []

    def record(outcome: IngestOutcome) -> None:
        outcomes.append(outcome)
        if on_outcome is not None:
            on_outcome(outcome)

    runnable = []
    for job in jobs:
        if job.camera_id not in registry:
            record(IngestOutcome(job, error=f"camera {job.camera_id!r} is not in the registry"))
        elif store.has_clip(job.clip_id):
            record(IngestOutcome(job, skipped=True))
        else:
            runnable.append(job)
    edges = watched_edges or {}
    chosen = executor or LocalPool(workers)
    for job, result in _execute(runnable, registry, edges, chosen, on_frame):
        if isinstance(result, str):
            record(IngestOutcome(job, error=result))
            continue
        outcome = _commit(store, job, result, mot_path)
        if events is not None and outcome.ok:
            events.publish("sightings", result.sightings)
        record(outcome)
    return outcomes


def _commit(
    store: SightingStore,
    job: IngestJob,
    result: ClipResult,
    mot_path: Callable[[IngestJob], Path] | None,
) -> IngestOutcome:
    clip = ClipRecord(
        job.clip_id, job.camera_id, job.clip, job.source, result.start_s, result.frames, result.fps
    )
    try:
        added = store.add_clip(clip, result.sightings)
        if mot_path is not None:
            target = mot_path(job)
            target.parent.mkdir(parents=True, exist_ok=True)
            write_mot(target, result.tracks)
    except SkynetError as exc:
        return IngestOutcome(job, error=str(exc))
    return IngestOutcome(job, len(result.sightings), added, result.frames)


def _execute(
    jobs: Sequence[IngestJob],
    registry: Mapping[str, Camera],
    edges: Mapping[str, Mapping[str, LineString]],
    executor: Executor,
    on_frame: Callable[[int], None] | None,
) -> Iterator[tuple[IngestJob, ClipResult | str]]:
    """Results in completion order; a failure is its message.

    Files of one split recording run in order in this process (each needs the
    previous one's end); independent clips run on the executor.
    """
    if any(j.follows_previous for j in jobs):
        yield from _run_chain(jobs, registry, edges, on_frame)
    elif executor.runs_here(len(jobs)):
        for job in jobs:
            yield job, _safely(job, registry, edges, on_frame)
    else:
        tasks: list[ClipTask] = [
            (j, registry[j.camera_id], edges.get(j.camera_id))
            for j in sorted(jobs, key=_size, reverse=True)  # long clips first: no long tail
        ]
        for task, result in executor.map_unordered(run_task, tasks):
            yield task[0], result


def _size(job: IngestJob) -> int:
    """Bytes of a job's file (0 for streams and folders): a proxy for its frames."""
    try:
        return os.path.getsize(job.source)
    except OSError:
        return 0


def _run_chain(
    jobs: Sequence[IngestJob],
    registry: Mapping[str, Camera],
    edges: Mapping[str, Mapping[str, LineString]],
    on_frame: Callable[[int], None] | None,
) -> Iterator[tuple[IngestJob, ClipResult | str]]:
    """Consecutive files of one recording: each starts where the previous ended."""
    next_start: float | None = None
    for job in jobs:
        start = next_start if job.follows_previous else job.start_s
        if start is None:
            yield job, "start time unknown: the previous file of the recording failed"
            continue
        anchored = IngestJob(job.source, job.camera_id, job.clip, start, job.follows_previous)
        outcome = _safely(anchored, registry, edges, on_frame)
        next_start = (
            outcome.end_s + 1.0 / max(outcome.fps, 1e-9)
            if isinstance(outcome, ClipResult)
            else None
        )
        yield anchored, outcome


def _safely(
    job: IngestJob,
    registry: Mapping[str, Camera],
    edges: Mapping[str, Mapping[str, LineString]],
    on_frame: Callable[[int], None] | None,
) -> ClipResult | str:
    try:
        return run_job(job, registry[job.camera_id], edges.get(job.camera_id), on_frame)
    except SkynetError as exc:
        return str(exc)
