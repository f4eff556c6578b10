"""``skynet ingest``: footage in, sightings committed to the store."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from skynet.cli._common import DbOption, stderr, stdout
from skynet.errors import BadInputError
from skynet.executors import executor_for
from skynet.ingest import IngestJob, IngestOutcome, ingest, plan_jobs, stored_watched_edges
from skynet.store import SightingStore


def ingest_command(
    path: Annotated[
        str, typer.Argument(help="A video file, a folder of clips, or an RTSP/HTTP URL.")
    ],
    camera: Annotated[
        str | None, typer.Option("--camera", help="Camera id (not needed with a manifest).")
    ] = None,
    start: Annotated[
        str | None,
        typer.Option("--start", help="When the recording starts, ISO 8601 with offset."),
    ] = None,
    mot: Annotated[
        Path | None,
        typer.Option(
            "--mot", help="Write tracks in MOTChallenge format (a file; a folder for a batch)."
        ),
    ] = None,
    workers: Annotated[
        int | None, typer.Option("--workers", min=1, help="Processes for a batch (default: CPUs).")
    ] = None,
    ray: Annotated[
        str | None,
        typer.Option(
            "--ray",
            metavar="auto|ADDRESS",
            help=(
                "Process the clips on a Ray cluster, one task per clip: 'auto' joins the "
                "cluster $RAY_ADDRESS or 'ray start' named (else starts Ray here); ADDRESS "
                "is head:6379 or ray://head:10001. Needs pip install -e '.\\[ray]'."
            ),
        ),
    ] = None,
    cluster: Annotated[
        bool,
        typer.Option(
            "--cluster",
            help="Afterwards lay the store's sightings out by camera and time: window "
            "queries on a large store then read a few pages each (minutes on millions "
            "of rows; rerun after much ingest).",
        ),
    ] = False,
    db: DbOption = None,
) -> None:
    """Detect, track and describe vehicles in footage; commit their sightings.

    Each clip is committed in one transaction: a failed clip writes nothing and
    the rest of a batch goes on (failures are listed at the end). Clips already
    in the store are skipped, so re-ingesting adds nothing and a rerun
    completes an interrupted batch. A folder with a manifest.json (from
    'skynet synth scenario --footage') takes each clip's camera and start from
    it; any other folder is one camera's recording split into consecutive files.

    With --ray the clips are processed on a Ray cluster (the workers need
    Skynet installed and the footage at the same paths); frames stay on the
    workers, only sightings come back, and this process commits them. Point
    --db at a PostgreSQL server (postgresql://user@host/db) when several
    machines or processes ingest at once.

    Example: skynet ingest gate-0841.mp4 --camera J1-N --start 2026-03-14T20:41:00+08:00

    Example: skynet ingest footage/ --ray ray://head:10001 --db postgresql://skynet@db/skynet

    Example: skynet ingest footage/ --db county.db --cluster
    """
    executor = executor_for(ray, workers)
    jobs = plan_jobs(path, camera, start)
    watched = stored_watched_edges(db)
    single = len(jobs) == 1 and ray is None  # one clip's frames counted only in this process
    columns = [
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:,.0f}" + ("" if single else "/{task.total:,.0f}")),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
    ]
    with Progress(*columns, console=stderr, disable=not stderr.is_terminal) as bar:
        label = "frames" if single else "clips"
        task = bar.add_task(f"ingesting ({label})", total=None if single else len(jobs), rate="")

        def frame_done(_: int) -> None:
            bar.advance(task)
            speed = bar.tasks[0].speed
            bar.update(task, rate=f"{speed:,.0f} frames/s" if speed else "")

        def clip_done(_: IngestOutcome) -> None:
            if not single:
                bar.advance(task)

        outcomes = ingest(
            jobs,
            db,
            executor=executor,
            mot_path=_mot_paths(mot, single),
            watched_edges=watched,
            on_outcome=clip_done,
            on_frame=frame_done if single else None,
        )
    _report(outcomes, single)
    if cluster:
        with stderr.status("laying the sightings out by camera and time"):
            rows = SightingStore(db).cluster()
        stdout.print(f"{rows:,} sightings laid out by camera and time")


def _mot_paths(mot: Path | None, single: bool) -> Callable[[IngestJob], Path] | None:
    """Where each clip's tracks go: the file itself for one clip, a file per clip else."""
    if mot is None:
        return None
    folder = mot
    if single:
        return lambda _job: folder
    return lambda job: folder / f"{job.camera_id}__{Path(job.clip).stem}.txt"


def _report(outcomes: list[IngestOutcome], single: bool) -> None:
    failed = [o for o in outcomes if not o.ok]
    if single and failed:
        raise BadInputError(failed[0].error or f"{failed[0].job.source}: failed")
    done = [o for o in outcomes if o.ok and not o.skipped]
    skipped = sum(o.skipped for o in outcomes)
    stdout.print(
        f"{len(done)} clips ingested ({sum(o.frames for o in done):,} frames), "
        f"{sum(o.added for o in done):,} sightings added, {skipped} skipped (already stored), "
        f"{len(failed)} failed"
    )
    if failed:
        stderr.print("failed clips (nothing committed for them):")
        for outcome in failed:
            job: IngestJob = outcome.job
            stderr.print(f"  {job.source} [{job.camera_id}]: {outcome.error}", markup=False)
        raise typer.Exit(2)
