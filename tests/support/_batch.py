"""For the scale-out ingestion tests: a small rendered batch, its reference sightings
from an undisturbed local-pool run, the crash drill's file, and a local Ray instance
on loopback (fixtures registered by tests/skynet/conftest.py)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from camera_registry import RegistryStore, SiteCRS, read_cameras
from skynet.executors import CRASH_DRILL_ENV
from skynet.ingest import IngestJob, ingest, plan_jobs
from skynet.store import SightingStore
from skynet.synthetic.footage import plan_clips, render_footage
from skynet.synthetic.scenario import CRASH_CAMERA_ID, ScenarioSpec, build_scenario
from trackers.sighting import Sighting

BUNDLED = Path(__file__).resolve().parents[2] / "sample_data" / "hit_and_run"
#: Clips in the batch: the crash scene and the first clips of a village camera.
BATCH_CLIPS = 6


@dataclass(frozen=True)
class Batch:
    """A rendered batch of clips with a manifest, and what an undisturbed run stores."""

    folder: Path
    jobs: list[IngestJob]
    reference: dict[str, Sighting]

    def sightings_of(self, clip: str) -> dict[str, Sighting]:
        return {k: s for k, s in self.reference.items() if s.evidence.clip == clip}


def registry_db(db: str) -> str:
    """``db`` with the bundled camera registry imported."""
    loaded = read_cameras(BUNDLED / "cameras.geojson")
    RegistryStore(db).import_cameras(loaded.cameras, SiteCRS.from_user_input(loaded.working_crs))
    return db


def stored(db: str) -> dict[str, Sighting]:
    return {s.id: s for s in SightingStore(db).find()}


@pytest.fixture(scope="session")
def batch(tmp_path_factory: pytest.TempPathFactory) -> Batch:
    scenario = build_scenario(ScenarioSpec.from_file(BUNDLED / "spec.json"))
    witness = next(s.camera_id for s in scenario.sightings if s.camera_id.startswith("V"))
    chosen = [c for c in scenario.cameras if c.id in (CRASH_CAMERA_ID, witness)]
    plan = plan_clips(scenario, chosen)[:BATCH_CLIPS]
    folder = tmp_path_factory.mktemp("batch")
    render_footage(scenario, folder, plan=plan, workers=2)
    jobs = plan_jobs(str(folder), None, None)
    db = registry_db(str(tmp_path_factory.mktemp("reference") / "reference.db"))
    outcomes = ingest(jobs, db, workers=2)
    assert all(o.ok for o in outcomes), [o.error for o in outcomes]
    reference = stored(db)
    assert len({s.evidence.clip for s in reference.values()}) == len(jobs)  # each clip yields
    return Batch(folder, jobs, reference)


@pytest.fixture(scope="session")
def crash_drill_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where a test arms the crash drill (absent: disarmed); Ray workers see it too."""
    return tmp_path_factory.mktemp("drill") / "armed"


@pytest.fixture
def armed_drill(crash_drill_file: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The drill file, named in this process's environment (pool workers inherit it)."""
    monkeypatch.setenv(CRASH_DRILL_ENV, str(crash_drill_file))
    yield crash_drill_file
    crash_drill_file.unlink(missing_ok=True)


@pytest.fixture(scope="session")
def ray_local(crash_drill_file: Path) -> Iterator[str]:
    """A local Ray instance of 2 CPUs on 127.0.0.1 for the session; its GCS address."""
    ray = pytest.importorskip("ray", reason="Ray is not installed (pip install -e '.[ray]')")
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        log_to_driver=False,
        _node_ip_address="127.0.0.1",
        runtime_env={"env_vars": {CRASH_DRILL_ENV: str(crash_drill_file)}},
    )
    try:
        yield str(ray.get_runtime_context().gcs_address)
    finally:
        ray.shutdown()
        os.environ.pop("RAY_ADDRESS", None)
