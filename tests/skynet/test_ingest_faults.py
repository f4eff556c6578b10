"""Faults during ingestion: a worker killed mid-clip, a corrupt clip, the database gone.

After each, rerunning the same batch leaves exactly the sightings of an undisturbed
run (``batch.reference``): nothing lost, nothing twice.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from _batch import Batch, registry_db, stored
from _databases import start_cluster

from skynet.errors import StoreError
from skynet.executors import CRASH_DRILL_ENV, POOL_WORKER_DIED, Executor, LocalPool, RayCluster
from skynet.ingest import IngestJob, IngestOutcome, ingest
from skynet.store import SightingStore

#: Frames the victim's worker gets through before the drill kills it (past the
#: detector's two-second lookahead: the clip is well under way).
KILL_AFTER_FRAMES = 30


def victim_of(batch: Batch) -> IngestJob:
    """The batch's longest clip (its worker is the one killed)."""
    return max(batch.jobs, key=lambda j: (len(batch.sightings_of(j.clip)), j.clip))


def executor(kind: str) -> Executor:
    return LocalPool(2) if kind == "pool" else RayCluster()


def committed_exactly_their_clips(db: str, batch: Batch, outcomes: list[IngestOutcome]) -> None:
    """The store holds every sighting of the clips that succeeded and none of the rest."""
    done = {o.job.clip for o in outcomes if o.ok}
    expected = {k for k, s in batch.reference.items() if s.evidence.clip in done}
    assert stored(db).keys() == expected
    assert {c.name for c in SightingStore(db).clips()} == done


def test_the_crash_drill_kills_its_process(batch: Batch, tmp_path: Path) -> None:
    """In a process of its own, an armed drill ends the clip's run with SIGKILL, once."""
    victim = victim_of(batch)
    drill = tmp_path / "drill"
    drill.write_text(f"{KILL_AFTER_FRAMES} {victim.clip}\n")
    code = (
        "import sys; from skynet.ingest import run_job, IngestJob; "
        "from camera_registry import read_cameras; "
        f"cameras = {{c.id: c for c in read_cameras({str(Path(__file__).parents[2] / 'sample_data/hit_and_run/cameras.geojson')!r}).cameras}}; "  # noqa: E501
        f"job = IngestJob({victim.source!r}, {victim.camera_id!r}, {victim.clip!r}, {victim.start_s!r}); "  # noqa: E501
        "run_job(job, cameras[job.camera_id], None); print('finished')"
    )
    env = {**os.environ, CRASH_DRILL_ENV: str(drill)}
    run = [sys.executable, "-c", code]
    killed = subprocess.run(run, capture_output=True, text=True, env=env, timeout=120)
    assert killed.returncode == -signal.SIGKILL and "finished" not in killed.stdout
    assert not drill.exists()  # claimed: the drill runs once
    again = subprocess.run(run, capture_output=True, text=True, env=env, timeout=120)
    assert again.returncode == 0 and "finished" in again.stdout


def test_a_pool_worker_killed_mid_clip_then_a_rerun(
    batch: Batch, db_url: str, armed_drill: Path
) -> None:
    db = registry_db(db_url)
    victim = victim_of(batch)
    armed_drill.write_text(f"{KILL_AFTER_FRAMES} {victim.clip}\n")
    first = ingest(batch.jobs, db, executor=LocalPool(2))
    assert not armed_drill.exists()
    errors = {o.job.clip: o.error for o in first if not o.ok}
    assert errors.get(victim.clip) == POOL_WORKER_DIED
    committed_exactly_their_clips(db, batch, first)  # nothing half-committed

    rerun = ingest(batch.jobs, db, executor=LocalPool(2))
    assert all(o.ok for o in rerun), [o.error for o in rerun]
    assert {o.job.clip for o in rerun if not o.skipped} == set(errors)
    assert sum(o.added for o in rerun) == len(batch.reference) - sum(o.added for o in first)
    got = stored(db)
    assert got.keys() == batch.reference.keys()
    assert all(got[k] == s for k, s in batch.reference.items())


def test_a_ray_worker_killed_mid_clip_is_retried_then_a_rerun_adds_nothing(
    batch: Batch, db_url: str, ray_local: str, armed_drill: Path
) -> None:
    """Ray reruns the task of a worker that died; the batch completes, nothing twice."""
    db = registry_db(db_url)
    victim = victim_of(batch)
    armed_drill.write_text(f"{KILL_AFTER_FRAMES} {victim.clip}\n")
    first = ingest(batch.jobs, db, executor=RayCluster())
    assert not armed_drill.exists()  # the victim's worker took up the drill
    assert [o.error for o in first if not o.ok] == []
    got = stored(db)
    assert got.keys() == batch.reference.keys()
    assert all(got[k] == s for k, s in batch.reference.items())
    rerun = ingest(batch.jobs, db, executor=RayCluster())
    assert all(o.skipped for o in rerun) and SightingStore(db).count() == len(batch.reference)


@pytest.mark.parametrize("kind", ["pool", "ray"])
def test_a_corrupt_clip_fails_alone_and_its_fix_adds_only_its_sightings(
    batch: Batch, db_url: str, kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    if kind == "ray":
        request.getfixturevalue("ray_local")
    db = registry_db(db_url)
    copy = tmp_path / "footage"
    shutil.copytree(batch.folder, copy)
    victim = victim_of(batch)
    broken = copy / Path(victim.source).relative_to(batch.folder)
    broken.write_bytes(broken.read_bytes()[:2000])  # the header and a few bytes
    jobs = [
        IngestJob(
            str(copy / Path(j.source).relative_to(batch.folder)), j.camera_id, j.clip, j.start_s
        )
        for j in batch.jobs
    ]
    first = ingest(jobs, db, executor=executor(kind))
    failed = [o for o in first if not o.ok]
    assert [o.job.clip for o in failed] == [victim.clip]
    assert failed[0].error and broken.name in failed[0].error  # the reason names the file
    committed_exactly_their_clips(db, batch, first)

    shutil.copy(victim.source, broken)  # fixed
    rerun = ingest(jobs, db, executor=executor(kind))
    assert [o.job.clip for o in rerun if not o.skipped] == [victim.clip]
    assert sum(o.added for o in rerun) == len(batch.sightings_of(victim.clip)) > 0
    assert stored(db).keys() == batch.reference.keys()


def test_the_database_going_away_mid_batch(batch: Batch) -> None:
    """The PostgreSQL server stopped after the first commit: the rest are reported failed
    (the workers' results are not lost silently); restarted, a rerun completes them."""
    cluster = start_cluster()
    if cluster is None:
        pytest.skip("needs the PostgreSQL server binaries (initdb, pg_ctl) to stop a server")
    try:
        db = registry_db(cluster.url)
        store = SightingStore(db)
        stops: list[str] = []

        def stop_after_first(outcome: IngestOutcome) -> None:
            if outcome.ok and not stops:
                stops.append(outcome.job.clip)
                cluster.stop()

        first = ingest(batch.jobs, db, executor=LocalPool(2), on_outcome=stop_after_first)
        failed = [o for o in first if not o.ok]
        assert len(failed) == len(batch.jobs) - 1
        assert all(o.error and o.error.startswith("database postgresql") for o in failed)
        assert all("127.0.0.1" in (o.error or "") for o in failed)

        with pytest.raises(StoreError, match="refused"):  # queries too fail as our error
            SightingStore(db)
        for query in (store.count, store.clips, lambda: store.find(ids=["x"])):
            with pytest.raises(StoreError, match="refused"):
                query()
        cluster.start()
        assert {c.name for c in store.clips()} == set(stops)
        rerun = ingest(batch.jobs, db, executor=LocalPool(2))
        assert all(o.ok for o in rerun), [o.error for o in rerun]
        assert sorted(o.job.clip for o in rerun if not o.skipped) == sorted(
            o.job.clip for o in failed
        )
        got = stored(db)
        assert got.keys() == batch.reference.keys()
        assert all(got[k] == s for k, s in batch.reference.items())
    finally:
        cluster.remove()
