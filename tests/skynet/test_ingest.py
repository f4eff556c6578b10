"""``skynet ingest``: sightings committed per clip, idempotent, failures isolated."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from camera_registry import RegistryStore, SiteCRS, read_cameras
from skynet.errors import BadInputError
from skynet.ingest import IngestJob, ingest, plan_jobs
from skynet.store import SightingStore
from skynet.synthetic.footage import render_footage
from skynet.synthetic.scenario import CRASH_CAMERA_ID, Scenario, ScenarioSpec, build_scenario
from trackers.mot import read_mot

BUNDLED = Path(__file__).resolve().parents[2] / "sample_data" / "hit_and_run"


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    return build_scenario(ScenarioSpec.from_file(BUNDLED / "spec.json"))


@pytest.fixture(scope="module")
def footage(scenario: Scenario, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two cameras' clips: the crash scene and the first village camera that saw the escape."""
    witness = next(s.camera_id for s in scenario.sightings if s.camera_id.startswith("V"))
    chosen = [c for c in scenario.cameras if c.id in (CRASH_CAMERA_ID, witness)]
    folder = tmp_path_factory.mktemp("footage")
    render_footage(scenario, folder, cameras=chosen)
    return folder


def registry_db(tmp_path: Path) -> str:
    db = str(tmp_path / "skynet.db")
    loaded = read_cameras(BUNDLED / "cameras.geojson")
    RegistryStore(db).import_cameras(loaded.cameras, SiteCRS.from_user_input(loaded.working_crs))
    return db


def run(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    script = Path(sys.executable).with_name("skynet")
    env = {**os.environ, "SKYNET_HOME": str(home), "COLUMNS": "200"}
    return subprocess.run(
        [str(script), *args], capture_output=True, text=True, env=env, timeout=300
    )


def test_manifest_folder_ingests_every_clip_once(footage: Path, tmp_path: Path) -> None:
    db = registry_db(tmp_path)
    manifest = json.loads((footage / "manifest.json").read_text())
    first = run("ingest", str(footage), "--db", db, "--workers", "2", home=tmp_path)
    assert first.returncode == 0, first.stderr
    store = SightingStore(db)
    count = store.count()
    assert count > 0
    assert len(store.clips()) == len(manifest["clips"])
    crash = store.find(camera_ids=[CRASH_CAMERA_ID])
    assert crash and all(s.evidence.clip.startswith(CRASH_CAMERA_ID) for s in crash)
    before = {s.id: s for s in store.find()}
    store.engine.dispose()  # laying the rows out needs the file alone
    again = run("ingest", str(footage), "--db", db, "--cluster", home=tmp_path)
    assert again.returncode == 0 and "0 sightings added" in again.stdout
    assert f"{len(manifest['clips'])} skipped" in again.stdout
    assert f"{count:,} sightings laid out by camera and time" in again.stdout
    assert SightingStore(db).clustered_rows() == count
    after = {s.id: s for s in SightingStore(db).find()}
    assert after.keys() == before.keys()
    assert all(
        after[k].t_in == s.t_in and after[k].camera_id == s.camera_id for k, s in before.items()
    )


def test_single_clip_with_mot_export_and_sighting_times(footage: Path, tmp_path: Path) -> None:
    db = registry_db(tmp_path)
    clip = footage / CRASH_CAMERA_ID / "clip-000.avi"
    manifest = json.loads((footage / "manifest.json").read_text())
    entry = next(c for c in manifest["clips"] if c["video"] == f"{CRASH_CAMERA_ID}/clip-000.avi")
    start, begin = entry["start"], entry["start_s"]
    mot = tmp_path / "tracks.txt"
    done = run(
        "ingest",
        str(clip),
        "--camera",
        CRASH_CAMERA_ID,
        "--start",
        start,
        "--db",
        db,
        "--mot",
        str(mot),
        home=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    tracks = read_mot(mot)
    assert len(tracks) > 0
    sightings = SightingStore(db).find()
    assert sightings and all(begin - 0.01 <= s.t_in <= s.t_out < begin + 60 for s in sightings)


def test_a_corrupt_clip_fails_alone(footage: Path, tmp_path: Path) -> None:
    db = registry_db(tmp_path)
    broken = tmp_path / "broken"
    shutil.copytree(footage, broken)
    victim = broken / CRASH_CAMERA_ID / "clip-000.avi"
    victim.write_bytes(victim.read_bytes()[:2000])  # truncated: header and a few bytes
    result = run("ingest", str(broken), "--db", db, home=tmp_path)
    assert result.returncode == 2
    assert "clip-000.avi" in result.stderr and "Traceback" not in result.stderr
    store = SightingStore(db)
    committed = {c.name for c in store.clips()}
    assert f"{CRASH_CAMERA_ID}/clip-000.avi" not in committed and committed
    shutil.copy(footage / CRASH_CAMERA_ID / "clip-000.avi", victim)  # fixed: a rerun adds only it
    before = store.count()
    rerun = run("ingest", str(broken), "--db", db, home=tmp_path)
    assert rerun.returncode == 0, rerun.stderr
    assert "1 clips ingested" in rerun.stdout and SightingStore(db).count() > before


def test_unknown_camera_and_missing_inputs(footage: Path, tmp_path: Path) -> None:
    db = registry_db(tmp_path)
    clip = str(footage / CRASH_CAMERA_ID / "clip-000.avi")
    unknown = run(
        "ingest",
        clip,
        "--camera",
        "NOPE",
        "--start",
        "2026-03-14T20:41:00+08:00",
        "--db",
        db,
        home=tmp_path,
    )
    assert unknown.returncode == 2 and "'NOPE'" in unknown.stderr
    assert len(unknown.stderr.strip().splitlines()) == 1
    missing = run(
        "ingest",
        str(tmp_path / "absent.mp4"),
        "--camera",
        CRASH_CAMERA_ID,
        "--start",
        "2026-03-14T20:41:00+08:00",
        "--db",
        db,
        home=tmp_path,
    )
    assert missing.returncode == 2 and "file not found" in missing.stderr
    assert SightingStore(db).count() == 0


def test_plan_errors_name_what_is_missing(footage: Path, tmp_path: Path) -> None:
    clip = str(footage / CRASH_CAMERA_ID / "clip-000.avi")
    with pytest.raises(BadInputError, match="--camera"):
        plan_jobs(clip, None, "2026-03-14T20:41:00+08:00")
    with pytest.raises(BadInputError, match="--start"):
        plan_jobs(clip, CRASH_CAMERA_ID, None)
    with pytest.raises(BadInputError, match="offset"):
        plan_jobs(clip, CRASH_CAMERA_ID, "2026-03-14T20:41:00")
    (tmp_path / "empty").mkdir()
    with pytest.raises(BadInputError, match="no video files"):
        plan_jobs(str(tmp_path / "empty"), CRASH_CAMERA_ID, "2026-03-14T20:41:00+08:00")


def test_split_recording_files_follow_each_other(footage: Path, tmp_path: Path) -> None:
    db = registry_db(tmp_path)
    recording = tmp_path / "recording"
    recording.mkdir()
    clips = sorted((footage / CRASH_CAMERA_ID).glob("*.avi"))
    for index, clip in enumerate((clips * 2)[:2]):
        shutil.copy(clip, recording / f"part-{index}.avi")
    jobs = plan_jobs(str(recording), CRASH_CAMERA_ID, "2026-03-14T20:41:00+08:00")
    assert [j.follows_previous for j in jobs] == [False, True]
    outcomes = ingest(jobs, db)
    assert all(o.ok for o in outcomes), [o.error for o in outcomes]
    first, second = sorted(SightingStore(db).clips(), key=lambda c: c.name)
    assert second.start_s == pytest.approx(first.start_s + first.frames / first.fps, abs=1e-6)
    assert isinstance(jobs[0], IngestJob)
