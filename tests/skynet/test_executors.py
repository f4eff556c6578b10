"""The executor seam: a batch ingested on Ray stores exactly what the local pool stores;
the ``--ray`` option, its errors, and the pool's own checks."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from _batch import Batch, registry_db, stored

from camera_registry.database import resolve_url
from skynet.errors import BadInputError
from skynet.executors import (
    POOL_WORKER_DIED,
    RAY_WORKER_DIED,
    Executor,
    LocalPool,
    RayCluster,
    executor_for,
    import_ray,
    parse_ray_address,
)
from skynet.ingest import ingest
from skynet.times import parse_time


def skynet_cli(*args: str, home: Path, **env: str) -> subprocess.CompletedProcess[str]:
    script = Path(sys.executable).with_name("skynet")
    environment = {**os.environ, "SKYNET_HOME": str(home), "COLUMNS": "200", **env}
    return subprocess.run(
        [str(script), *args], capture_output=True, text=True, env=environment, timeout=300
    )


def test_ray_stores_exactly_what_the_local_pool_stores(
    batch: Batch, ray_local: str, db_url: str
) -> None:
    db = registry_db(db_url)
    outcomes = ingest(batch.jobs, db, executor=RayCluster())
    assert [o.error for o in outcomes if not o.ok] == []
    assert sorted(o.job.clip for o in outcomes) == sorted(j.clip for j in batch.jobs)
    assert sum(o.added for o in outcomes) == len(batch.reference)
    got = stored(db)
    assert got.keys() == batch.reference.keys()
    assert all(got[k] == s for k, s in batch.reference.items())  # every field, bit for bit


def test_the_cli_ingests_on_a_ray_cluster_by_address(
    batch: Batch, ray_local: str, tmp_path: Path
) -> None:
    db = registry_db(str(tmp_path / "skynet.db"))
    done = skynet_cli("ingest", str(batch.folder), "--ray", ray_local, "--db", db, home=tmp_path)
    assert done.returncode == 0, done.stderr
    assert f"{len(batch.jobs)} clips ingested" in done.stdout
    assert f"{len(batch.reference):,} sightings added" in done.stdout
    assert stored(db).keys() == batch.reference.keys()
    again = skynet_cli("ingest", str(batch.folder), "--ray", ray_local, "--db", db, home=tmp_path)
    assert again.returncode == 0 and f"{len(batch.jobs)} skipped" in again.stdout


def test_ray_option_errors_are_one_line(batch: Batch, tmp_path: Path) -> None:
    for args, needle in (
        (("--ray", "not an address"), "--ray takes auto or a cluster address"),
        (("--ray", "auto", "--workers", "2"), "--workers sizes the local pool"),
    ):
        result = skynet_cli("ingest", str(batch.folder), *args, home=tmp_path)
        assert result.returncode == 2, result.stderr
        assert needle in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_missing_ray_names_the_extra(batch: Batch, tmp_path: Path) -> None:
    """Without Ray installed (its import blocked), --ray says how to install it."""
    code = (
        "import sys; sys.modules['ray'] = None; from skynet.cli.app import main; "
        f"sys.argv = ['skynet', 'ingest', {str(batch.folder)!r}, '--ray', 'auto']; main()"
    )
    env = {**os.environ, "SKYNET_HOME": str(tmp_path), "COLUMNS": "200"}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120
    )
    assert result.returncode == 2
    assert "pip install -e '.[ray]'" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_addresses_and_executor_choice(monkeypatch: pytest.MonkeyPatch) -> None:
    for good in ("auto", "local", "head:6379", "ray://10.0.0.5:10001", "[::1]:6379"):
        assert parse_ray_address(good) == good
    for bad in ("", "head", "http://head:8265", "head:port"):
        with pytest.raises(BadInputError, match="--ray"):
            parse_ray_address(bad)
    assert isinstance(executor_for(None, 3), LocalPool)
    assert isinstance(executor_for("auto", None), RayCluster)
    assert LocalPool(1).runs_here(5) and LocalPool(4).runs_here(1)
    assert not LocalPool(4).runs_here(2) and not RayCluster().runs_here(1)
    with pytest.raises(BadInputError, match="at least one worker"):
        LocalPool(0)
    monkeypatch.setitem(sys.modules, "ray", None)
    with pytest.raises(BadInputError, match=r"pip install -e '\.\[ray\]'"):
        import_ray()


def test_the_help_shows_the_option_and_a_worked_example(tmp_path: Path) -> None:
    """The --ray example in ``skynet ingest --help`` names a valid address and URL."""
    shown = skynet_cli("ingest", "--help", home=tmp_path)
    assert shown.returncode == 0 and "--ray" in shown.stdout
    text = " ".join(shown.stdout.replace("│", " ").split())
    example = text.split("Example: skynet ingest footage/ ")[1].split()
    assert example[0] == "--ray" and example[2] == "--db"
    assert parse_ray_address(example[1]) == "ray://head:10001"
    assert resolve_url(example[3]).drivername == "postgresql+psycopg"  # psycopg 3


@pytest.mark.parametrize("kind", ["pool", "ray"])
def test_each_executor_reports_errors_deaths_and_raises_bugs(
    kind: str, request: pytest.FixtureRequest
) -> None:
    """Bad input comes back as its message, a worker killed (every try, on Ray) as a
    death notice, and any other exception is raised. Built-ins are the work here, so
    that every worker can unpickle them."""
    if kind == "ray":
        request.getfixturevalue("ray_local")
    executor: Executor = LocalPool(2) if kind == "pool" else RayCluster()
    died = POOL_WORKER_DIED if kind == "pool" else RAY_WORKER_DIED
    good = "2026-03-14T20:41:00+08:00"
    results = dict(executor.map_unordered(parse_time, [good, "yesterday"]))
    assert results[good] == parse_time(good)
    assert results["yesterday"] == "field 'time': 'yesterday' is not an ISO 8601 time"
    killed = [signal.SIGKILL] * (2 if kind == "pool" else 1)  # the pool runs one item here
    deaths = list(executor.map_unordered(signal.raise_signal, killed))
    assert deaths == [(signal.SIGKILL, died)] * len(killed)
    with pytest.raises(ValueError, match="invalid literal"):
        list(executor.map_unordered(int, ["12", "twelve"]))
