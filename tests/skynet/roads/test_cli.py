"""``skynet roads`` and ``skynet coverage``: end to end through the installed command.

Each subprocess costs about two seconds (interpreter and imports), so the
table renderings and the other bad-input cases run in-process with typer's
runner; the subprocess runs check exit codes and one-line errors.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import networkx as nx
import pytest
from roads_helpers import SITE, camera_at, road_graph
from typer.testing import CliRunner

from camera_registry import RegistryStore
from skynet.cli.app import app
from skynet.errors import BadInputError, NotFoundError
from skynet.roads import RoadNetwork, RoadStore, save_road_network

SKYNET = str(Path(sys.executable).with_name("skynet"))


def cross_graph() -> nx.MultiDiGraph:
    nodes = {
        "O": (0.0, 0.0),
        "N": (0.0, 200.0),
        "E": (200.0, 0.0),
        "S": (0.0, -200.0),
        "W": (-200.0, 0.0),
    }
    roads = [("O", n, "primary") for n in "NES"] + [("O", "W", "track")]
    return road_graph(nodes, roads, node_extra={"W": {"village": "Beta"}})


def run(*args: str) -> subprocess.CompletedProcess[str]:
    # Wide columns: rich wraps stderr at 80 columns when it is not a terminal.
    env = {**os.environ, "COLUMNS": "300"}
    return subprocess.run([SKYNET, *args], capture_output=True, text=True, env=env, check=False)


@pytest.fixture
def roads_file(tmp_path: Path) -> Path:
    roads = tmp_path / "roads.graphml"
    save_road_network(RoadNetwork(cross_graph(), SITE), roads)
    return roads


def add_cameras(db: str) -> None:
    cameras = [
        camera_at("cN", 0.0, 5.0, 0.0, fov=60.0, reach=50.0),
        camera_at("cW", -5.0, 0.0, 270.0, fov=60.0, reach=50.0, status="offline"),
    ]
    RegistryStore(db).import_cameras(cameras)


def test_import_info_coverage_through_the_command(tmp_path: Path, roads_file: Path) -> None:
    db = str(tmp_path / "cli.db")
    imported = run("roads", "import", str(roads_file), "--db", db)
    assert imported.returncode == 0, imported.stderr
    assert "imported 5 nodes and 8 edges" in imported.stderr
    info = run("roads", "info", "--format", "json", "--db", db)
    assert info.returncode == 0, info.stderr
    summary = json.loads(info.stdout)
    assert summary["nodes"] == 5 and summary["roads"] == 4
    assert summary["km_by_class"] == {"primary": pytest.approx(0.6), "track": pytest.approx(0.2)}
    add_cameras(db)
    coverage = run("coverage", "--format", "json", "--db", db)
    assert coverage.returncode == 0, coverage.stderr
    report = json.loads(coverage.stdout)
    assert report["cameras"] == 2 and report["cameras_online"] == 1
    assert report["total"]["watched_online_m"] == pytest.approx(50.0, abs=0.05)
    assert report["total"]["watched_m"] == pytest.approx(100.0, abs=0.1)
    assert report["rules"]["village_cameras"]["ok"] is False  # 2 cameras, not 6
    failing = report["rules"]["intersection_approaches"]["failing"]
    assert [f["node"] for f in failing] == ["O"]
    assert set(failing[0]["unwatched_from"]) == {"E", "S", "W"}


def test_bad_file_is_one_line_and_exit_2(tmp_path: Path) -> None:
    path = tmp_path / "roads.graphml"
    path.write_text("<graphml")
    result = run("roads", "import", str(path), "--db", str(tmp_path / "bad.db"))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert "roads.graphml: not a GraphML road network" in lines[0]


def test_tables_render(tmp_path: Path, roads_file: Path) -> None:
    db = str(tmp_path / "tables.db")
    RoadStore(db).save(RoadNetwork(cross_graph(), SITE))
    add_cameras(db)
    runner = CliRunner()
    info = runner.invoke(app, ["roads", "info", "--db", db])
    assert info.exit_code == 0, info.output
    assert "EPSG:32650" in info.output and "km primary" in info.output
    coverage = runner.invoke(app, ["coverage", "--db", db])
    assert coverage.exit_code == 0, coverage.output
    assert "by road class" in coverage.output and "FAILS" in coverage.output
    assert "Beta: 2 cameras (1 online)" in coverage.output


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("roads.txt", "hello", "unknown road network format"),
        ("roads.osm", "<osm version='0.6'></osm>", "no drivable roads"),
        ("roads.geojson", '{"type": "FeatureCollection", "features": []}', "no LineString"),
    ],
)
def test_bad_files_raise_bad_input(tmp_path: Path, name: str, content: str, reason: str) -> None:
    path = tmp_path / name
    path.write_text(content)
    result = CliRunner().invoke(app, ["roads", "import", str(path), "--db", str(tmp_path / "x.db")])
    assert isinstance(result.exception, BadInputError)
    assert reason in str(result.exception) and name in str(result.exception)


def test_info_without_network(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["roads", "info", "--db", str(tmp_path / "empty.db")])
    assert isinstance(result.exception, NotFoundError)
    assert "skynet roads import" in str(result.exception)


def test_commands_document_an_example() -> None:
    from skynet.cli import roads

    for command in (roads.import_, roads.info, roads.coverage):
        assert "Example: skynet " in (command.__doc__ or "")
