"""``skynet watch``: a watch made from the demo's target fires when the next cameras'
footage is ingested (the real pipeline on rendered footage), and bad requests are named."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from skynet.audit import AuditLog
from skynet.demo import DEMO_PURPOSE, DemoRun, run_demo
from skynet.events import EventBus
from skynet.sample_data import sample_scenario_spec
from skynet.synthetic.footage import render_footage

CliRunner = Callable[..., subprocess.CompletedProcess[str]]
PURPOSE = ("--case", DEMO_PURPOSE.case_id, "--reason", "the three-wheeler may come back")


@pytest.fixture(scope="module")
def demo_case(tmp_path_factory: pytest.TempPathFactory) -> tuple[DemoRun, str]:
    """The demo on the escape's first 4 cameras; its store is the case database."""
    run = run_demo(sample_scenario_spec(), tmp_path_factory.mktemp("cache"), cameras=4, workers=2)
    return run, str(run.footage.parent / "case.db")


def test_watch_fires_when_the_target_reappears(
    run_cli: CliRunner, demo_case: tuple[DemoRun, str], tmp_path: Path
) -> None:
    run, db = demo_case
    target = run.result.target_id
    added = run_cli("watch", "add", "--target", target, *PURPOSE, "--db", db, check=True)
    assert "watch " in added.stdout and "three_wheeler" in added.stdout
    listed = json.loads(run_cli("watch", "list", "--format", "json", "--db", db, check=True).stdout)
    assert len(listed) == 1 and listed[0]["origin_camera"] == "CP01"

    # the footage of the next two cameras the escape passed, pulled now
    scenario = run.scenario
    seen = sorted((s for s in scenario.sightings if s.camera_online), key=lambda s: s.t_in)
    later = [s for s in seen if s.camera_id not in {"P01-CRASH", "J0064-S", "J0064-N", "CP01"}]
    chosen = {later[0].camera_id, later[1].camera_id}
    cameras = [c for c in scenario.cameras if c.id in chosen]
    window = (later[0].t_in - 30.0, later[1].t_out + 30.0)
    render_footage(scenario, tmp_path / "pulled", cameras=cameras, window=window, workers=1)
    result = run_cli(
        "watch", "run", str(tmp_path / "pulled"), "--db", db, "--format", "json", check=True
    )
    alerts = [json.loads(line) for line in result.stdout.splitlines()]
    assert alerts, result.stderr
    assert {a["camera_id"] for a in alerts} <= chosen
    assert all(a["similarity"] >= 0.75 for a in alerts)
    assert "alerts" in result.stderr

    watch = listed[0]["id"]
    run_cli("watch", "remove", watch, *PURPOSE, "--db", db, check=True)
    assert json.loads(run_cli("watch", "list", "--format", "json", "--db", db).stdout) == []
    actions = [e.action for e in AuditLog(db).entries(DEMO_PURPOSE.case_id)]
    assert "watch" in actions and "unwatch" in actions


def test_watch_bad_requests_are_named(run_cli: CliRunner, demo_case: tuple[DemoRun, str]) -> None:
    run, db = demo_case
    target = run.result.target_id
    for args, needle in (
        (("add", "--target", "nope", *PURPOSE), "no target"),
        (("add", "--target", target, *PURPOSE, "--area", "10,10,10.1,10.1"), "holds no camera"),
        (("add", "--target", target, *PURPOSE, "--threshold", "1.5"), "threshold"),
        (("add", "--target", target, "--case", "OTHER-1", "--reason", "another case"), "belongs"),
        (("remove", "nope", *PURPOSE), "no watch"),
    ):
        result = run_cli("watch", *args, "--db", db)
        assert result.returncode == 2, (args, result.stderr)
        assert needle in result.stderr and "Traceback" not in result.stderr


def test_event_bus_keeps_going_past_a_broken_subscriber() -> None:
    bus = EventBus()
    heard: list[object] = []

    def broken(kind: str, payload: object) -> None:
        raise RuntimeError("boom")

    bus.subscribe("alert", broken)
    stop = bus.subscribe("alert", lambda kind, payload: heard.append(payload))
    bus.subscribe("*", lambda kind, payload: heard.append(kind))
    assert bus.publish("alert", 1) == 2 and heard == [1, "alert"]
    stop()
    assert bus.publish("alert", 2) == 1 and heard == [1, "alert", "alert"]
    assert bus.publish("sightings", 3) == 1
