"""``skynet frontier``: the store holds footage up to the target's sixth camera only; the
frontier must point at the next one, and marking cameras reviewed or found must update it."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from skynet.audit import AuditLog
from skynet.synthetic.case_db import CaseDb, add_sightings, make_case_db
from skynet.times import format_time
from trackers.sighting import Sighting

CliRunner = Callable[..., subprocess.CompletedProcess[str]]
PURPOSE = ("--case", "HR-0314", "--reason", "hit-and-run, two injured")
SEEN = 6  # target sightings whose footage is in the store at first


def passages(case: CaseDb) -> list[Sighting]:
    return sorted(case.simulated.of_vehicle(case.scenario.target_id), key=lambda s: s.t_in)


@pytest.fixture(scope="module")
def cut_case(tmp_path_factory: pytest.TempPathFactory) -> tuple[CaseDb, float]:
    """Every camera's footage up to just after the target left its sixth camera."""
    db = str(tmp_path_factory.mktemp("frontier") / "case.db")
    probe = make_case_db(db, keep=lambda s: False)
    cut = passages(probe)[SEEN - 1].t_out + 1.0
    add_sightings(db, [s for s in probe.simulated.sightings if s.t_out <= cut])
    return probe, cut


def frontier_json(run_cli: CliRunner, *args: str) -> dict[str, object]:
    result = run_cli("frontier", *args, "--format", "json", check=True)
    document = json.loads(result.stdout)
    assert isinstance(document, dict)
    return document


def track(run_cli: CliRunner, case: CaseDb) -> dict[str, object]:
    """Follow the seed as the investigator would first: the target and its timeline."""
    result = run_cli(
        "track", "--seed", case.seed().id, *PURPOSE, "--db", case.db, "--format", "json",
        check=True,
    )  # fmt: skip
    document = json.loads(result.stdout)
    assert isinstance(document, dict)
    return document


def camera_ids(document: dict[str, object]) -> list[str]:
    cameras = document["cameras"]
    assert isinstance(cameras, list)
    return [c["camera_id"] for c in cameras]


def test_frontier_points_at_the_next_camera_and_follows_what_is_found(
    run_cli: CliRunner, cut_case: tuple[CaseDb, float]
) -> None:
    case, cut = cut_case
    db = ("--db", case.db)
    tracked = track(run_cli, case)
    target = str(tracked["target_id"])
    truth = passages(case)
    assert len(tracked["sightings"]) == SEEN  # type: ignore[arg-type]
    now = ("--now", format_time(cut + 900.0))
    first = frontier_json(run_cli, "--target", target, *PURPOSE, *db, *now, "--limit", "10")
    ranked = camera_ids(first)
    following = truth[SEEN]
    assert following.camera_id in ranked  # the camera the target passed next is listed
    last = first["last_sighting"]
    assert isinstance(last, dict) and last["camera_id"] == truth[SEEN - 1].camera_id
    # what the found sightings imply lies between two of them; the camera to open first
    # is a camera not opened yet, and a find there settles only cameras not opened either
    implied = first["implied_cameras"]
    listed = tracked["sightings"]
    assert isinstance(listed, list) and isinstance(implied, list)
    found_ids = {s["id"] for s in listed}
    assert all(set(i["between"]) <= found_ids for i in implied)
    opening = first["open_first"]
    assert isinstance(opening, dict)
    seen_cameras = {t.camera_id for t in truth[:SEEN]}
    assert opening["camera_id"] not in seen_cameras
    assert not set(opening["settles"]) & seen_cameras

    # the investigator opens the best-ranked wrong camera: nothing there
    wrong = next(c for c in ranked if c != following.camera_id)
    second = frontier_json(
        run_cli, "--target", target, *PURPOSE, *db, *now, "--reviewed", wrong, "--limit", "10"
    )
    assert wrong not in camera_ids(second) and second["reviewed_cameras"] == 1
    # ... then pulls the right camera's footage, finds the target there and says so
    pulled = [s for s in case.simulated.sightings if s.camera_id == following.camera_id]
    add_sightings(case.db, [s for s in pulled if s.t_out > cut], "pulled")
    third = frontier_json(run_cli, "--target", target, *PURPOSE, *db, *now, "--found", following.id)
    last = third["last_sighting"]
    assert isinstance(last, dict) and last["id"] == following.id
    assert following.camera_id not in camera_ids(third)
    actions = [e.action for e in AuditLog(case.db).entries("HR-0314")]
    assert {"frontier", "review", "found"} <= set(actions)


def test_frontier_table_and_bad_requests(
    run_cli: CliRunner, cut_case: tuple[CaseDb, float]
) -> None:
    case, cut = cut_case
    db = ("--db", case.db)
    target = str(track(run_cli, case)["target_id"])
    now = ("--now", format_time(cut + 900.0))
    table = run_cli("frontier", "--target", target, *PURPOSE, *db, *now, check=True)
    assert "last seen at" in table.stdout and "open from" in table.stdout
    for args, needle in (
        (("--target", "nope"), "no target"),
        (("--target", target, "--reviewed", "NOPE-1"), "NOPE-1"),
        (("--target", target, "--reviewed", ","), "--reviewed"),
        (("--target", target, "--now", "tomorrow"), "ISO 8601"),
        (("--target", target, "--found", "no-such-sighting"), "no-such-sighting"),
    ):
        result = run_cli("frontier", *args, *PURPOSE, *db)
        assert result.returncode == 2, (args, result.stderr)
        assert needle in result.stderr and "Traceback" not in result.stderr
    other_case = run_cli(
        "frontier", "--target", target, "--case", "X-1", "--reason", "another case", *db
    )
    assert other_case.returncode == 2 and "belongs to case" in other_case.stderr


def test_frontier_needs_a_case(run_cli: CliRunner, tmp_path: Path) -> None:
    result = run_cli("frontier", "--target", "t", "--case", " ", "--reason", "because of it")
    assert result.returncode == 2 and "case" in result.stderr
