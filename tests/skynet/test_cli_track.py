"""``skynet track`` / ``skynet route`` on the hit-and-run scenario's simulated sightings."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from skynet.audit import AuditLog
from skynet.cases import CaseStore
from skynet.synthetic.case_db import CaseDb, make_case_db

CliRunner = Callable[..., subprocess.CompletedProcess[str]]
PURPOSE = ("--case", "HR-0314", "--reason", "hit-and-run, two injured")


@pytest.fixture(scope="module")
def case_db(tmp_path_factory: pytest.TempPathFactory) -> CaseDb:
    return make_case_db(str(tmp_path_factory.mktemp("track") / "case.db"))


def test_track_prints_the_timeline_and_writes_geojson(
    run_cli: CliRunner, case_db: CaseDb, tmp_path: Path
) -> None:
    seed = case_db.seed()
    out = tmp_path / "timeline.geojson"
    result = run_cli(
        "track", "--seed", seed.id, *PURPOSE, "--db", case_db.db, "--out", str(out),
        "--utc-offset", "8", check=True,
    )  # fmt: skip
    assert "P01-CRASH" in result.stdout and "(seed)" in result.stdout
    assert "after the last:" in result.stdout
    document = json.loads(out.read_text())
    points = [f for f in document["features"] if f["properties"]["role"] == "sighting"]
    line = [f for f in document["features"] if f["properties"]["role"] == "timeline"]
    assert len(line) == 1 and len(line[0]["geometry"]["coordinates"]) == len(points)
    truth = case_db.simulated.truth
    linked = [truth[p["properties"]["id"]] for p in points]
    assert linked[0] == case_db.scenario.target_id
    assert all(v == case_db.scenario.target_id for v in linked)  # no look-alike
    assert len(points) >= 0.75 * len(case_db.simulated.of_vehicle(case_db.scenario.target_id))

    # audited, and kept with the case
    entries = AuditLog(case_db.db).entries("HR-0314")
    assert entries and entries[-1].action == "track" and entries[-1].subject == seed.id
    assert entries[-1].reason == "hit-and-run, two injured"


def test_route_as_json_matches_the_stored_route(run_cli: CliRunner, case_db: CaseDb) -> None:
    seed = case_db.seed()
    result = run_cli(
        "route", "--seed", seed.id, *PURPOSE, "--db", case_db.db, "--format", "json", check=True
    )
    document = json.loads(result.stdout)
    assert document["length_m"] > 15_000  # the escape runs 21.9 km; the chain covers most
    kinds = {s["kind"] for s in document["stretches"]}
    assert {"observed", "inferred"} <= kinds
    observed = [s["camera_id"] for s in document["stretches"] if s["kind"] == "observed"]
    assert observed[0] == "P01-CRASH"
    stored = CaseStore(case_db.db).routes(document["target_id"])
    assert stored and stored[-1]["features"][0]["properties"]["length_m"] == pytest.approx(
        document["length_m"]
    )
    assert AuditLog(case_db.db).entries("HR-0314")[-1].action == "route"


def test_route_table_names_the_evidence(run_cli: CliRunner, case_db: CaseDb) -> None:
    result = run_cli("route", "--seed", case_db.seed().id, *PURPOSE, "--db", case_db.db)
    assert result.returncode == 0, result.stderr
    assert "Route of target" in result.stdout and "km" in result.stdout
    assert "observed" in result.stdout and "inferred" in result.stdout


def test_sightings_lists_the_seed(run_cli: CliRunner, case_db: CaseDb) -> None:
    seed = case_db.seed()
    window = ("--since", _iso(seed.t_in - 60.0), "--until", _iso(seed.t_in + 60.0))
    listed = run_cli("sightings", "--camera", "P01-CRASH", *window, "--db", case_db.db, check=True)
    assert seed.id in listed.stdout and "P01-CRASH" in listed.stdout
    as_json = run_cli(
        "sightings", "--camera", "P01-CRASH", "--db", case_db.db, "--format", "json", check=True
    )
    rows = json.loads(as_json.stdout)
    assert seed.id in {r["id"] for r in rows}
    assert {r["camera_id"] for r in rows} == {"P01-CRASH"}
    times = [r["t_in"] for r in rows]
    assert times == sorted(times)
    _user_error(run_cli("sightings", "--since", "soon", "--db", case_db.db), "ISO 8601")


def _user_error(result: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    for needle in needles:
        assert needle in result.stderr, result.stderr


def test_bad_queries_are_named(run_cli: CliRunner, case_db: CaseDb, tmp_path: Path) -> None:
    seed = case_db.seed().id
    db = ("--db", case_db.db)
    before = len(AuditLog(case_db.db).entries())
    _user_error(run_cli("track", "--seed", "no-such-id", *PURPOSE, *db), "no-such-id")
    _user_error(run_cli("track", "--seed", seed, "--case", "", "--reason", "x" * 10, *db), "case")
    _user_error(run_cli("track", "--seed", seed, "--case", "HR", "--reason", "why", *db), "reason")
    _user_error(run_cli("track", "--seed", seed, *PURPOSE, *db, "--since", "yesterday"), "ISO 8601")
    _user_error(
        run_cli(
            "track", "--seed", seed, *PURPOSE, *db,
            "--since", "2026-03-15T00:00:00Z", "--until", "2026-03-14T00:00:00Z",
        ),
        "window is empty",
    )  # fmt: skip
    # malformed queries are refused before anything runs; a well-formed one is audited
    # even when its seed turns out not to exist
    assert len(AuditLog(case_db.db).entries()) == before + 1
    empty = tmp_path / "empty.db"
    _user_error(run_cli("track", "--seed", seed, *PURPOSE, "--db", str(empty)), "registry")
    missing = run_cli("track", "--seed", seed, "--db", case_db.db)
    assert missing.returncode == 2 and "--case" in missing.stderr


def test_a_shorter_horizon_stops_at_the_long_unwatched_stretch(
    run_cli: CliRunner, case_db: CaseDb
) -> None:
    seed, db = case_db.seed().id, ("--db", case_db.db)
    whole = json.loads(run_cli("track", "--seed", seed, *PURPOSE, *db, "-f", "json").stdout)
    short = run_cli("track", "--seed", seed, *PURPOSE, *db, "-f", "json", "--horizon", "300")
    part = json.loads(short.stdout)
    # the escape's 17 unwatched minutes are more than 300 s of free flow from any camera
    assert 2 <= len(part["sightings"]) < len(whole["sightings"])
    assert {s["id"] for s in part["sightings"]} <= {s["id"] for s in whole["sightings"]}
    _user_error(run_cli("track", "--seed", seed, *PURPOSE, *db, "--horizon", "0"), "horizon")


def test_a_lone_seed_has_no_route(run_cli: CliRunner, case_db: CaseDb) -> None:
    """Cut the window to the seed alone: the timeline says so and route explains why."""
    seed = case_db.seed()
    window = ("--since", _iso(seed.t_in - 1.0), "--until", _iso(seed.t_out + 1.0))
    track = run_cli("track", "--seed", seed.id, *PURPOSE, "--db", case_db.db, *window, check=True)
    assert "horizon" in track.stdout
    _user_error(
        run_cli("route", "--seed", seed.id, *PURPOSE, "--db", case_db.db, *window),
        "only the seed sighting",
    )


def _iso(seconds: float) -> str:
    from skynet.times import format_time

    return format_time(seconds)
