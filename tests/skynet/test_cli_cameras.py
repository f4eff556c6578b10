"""``skynet cameras`` through the installed console script (and every command's help)."""

from __future__ import annotations

import csv
import json
import sqlite3
import subprocess
from collections.abc import Callable
from pathlib import Path

from camera_registry import read_cameras, write_cameras

CliRunner = Callable[..., subprocess.CompletedProcess[str]]


def imported(run_cli: CliRunner, tmp_path: Path, sample: Path) -> str:
    db = str(tmp_path / "cli.db")
    result = run_cli("cameras", "import", str(sample), "--db", db, check=True)
    assert "41 added" in result.stderr and "EPSG:32650" in result.stderr
    return db


def test_import_list_show_export(
    run_cli: CliRunner, tmp_path: Path, sample_cameras_path: Path
) -> None:
    db = imported(run_cli, tmp_path, sample_cameras_path)
    again = run_cli("cameras", "import", str(sample_cameras_path), "--db", db, check=True)
    assert "0 added, 0 updated, 41 unchanged" in again.stderr

    table = run_cli("cameras", "list", "--db", db, check=True).stdout
    assert "41 of 41 cameras" in table and "J1-N" in table

    listed = json.loads(run_cli("cameras", "list", "--db", db, "-f", "json", check=True).stdout)
    assert len(listed) == 41 and {"id", "lon", "lat", "homography"} <= set(listed[0])

    near = json.loads(
        run_cli(
            "cameras",
            "list",
            "--db",
            db,
            "--near",
            "119.003,25.4568",
            "--radius",
            "100",
            "-f",
            "json",
            check=True,
        ).stdout
    )
    assert {c["id"] for c in near} == {"J1-N", "J1-E", "J1-S", "J1-W"}

    boxed = json.loads(
        run_cli(
            "cameras",
            "list",
            "--db",
            db,
            "--bbox",
            "119.03,25.46,119.06,25.48",
            "--kind",
            "village",
            "-f",
            "geojson",
            check=True,
        ).stdout
    )
    assert boxed["type"] == "FeatureCollection"
    assert {f["id"] for f in boxed["features"]} == {"V-XIA-3", "V-XIA-4", "V-XIA-DOME"}

    shown = json.loads(
        run_cli("cameras", "show", "CP4", "--db", db, "-f", "json", check=True).stdout
    )
    assert shown["name"] == "Industrial Park gate"
    assert "Industrial Park gate" in run_cli("cameras", "show", "CP4", "--db", db).stdout

    for suffix in ("csv", "geojson"):
        out = tmp_path / f"export.{suffix}"
        run_cli("cameras", "export", "--db", db, "--out", str(out), check=True)
        assert sorted(read_cameras(out).cameras, key=lambda c: c.id) == sorted(
            read_cameras(sample_cameras_path).cameras, key=lambda c: c.id
        )
    stdout_export = json.loads(run_cli("cameras", "export", "--db", db, check=True).stdout)
    assert len(stdout_export["features"]) == 41 and stdout_export["working_crs"] == "EPSG:32650"


def assert_user_error(result: subprocess.CompletedProcess[str], *needles: str) -> None:
    stderr = result.stderr
    assert result.returncode == 2, stderr
    lines = [line for line in stderr.strip().splitlines() if line.strip()]
    assert len(lines) == 1, stderr  # one line, no traceback
    assert "Traceback" not in stderr
    for needle in needles:
        assert needle in lines[0]


def test_user_errors_exit_2_with_one_line(
    run_cli: CliRunner, tmp_path: Path, sample_cameras_path: Path
) -> None:
    db = str(tmp_path / "e.db")
    assert_user_error(
        run_cli("cameras", "import", str(tmp_path / "nope.geojson"), "--db", db),
        "nope.geojson",
        "file not found",
    )
    bad = tmp_path / "bad.geojson"
    document = json.loads(sample_cameras_path.read_text())
    document["features"][3]["properties"]["range_m"] = -10
    bad.write_text(json.dumps(document))
    assert_user_error(run_cli("cameras", "import", str(bad), "--db", db), "#3", "range_m")
    assert not Path(db).exists() or sqlite3.connect(db).execute(
        "select count(*) from cameras"
    ).fetchone() == (0,)  # all or nothing

    db = imported(run_cli, tmp_path, sample_cameras_path)
    assert_user_error(run_cli("cameras", "show", "NOPE", "--db", db), "'NOPE'")
    assert_user_error(run_cli("cameras", "list", "--bbox", "1,2,3", "--db", db), "--bbox")
    assert_user_error(
        run_cli("cameras", "list", "--bbox", "1,2,3,4", "--near", "1,2", "--db", db), "not both"
    )
    assert_user_error(
        run_cli("cameras", "import", str(sample_cameras_path), "--crs", "EPSG:4547", "--db", db),
        "EPSG:32650",
        "EPSG:4547",
    )
    assert_user_error(run_cli("cameras", "list", "--db", str(tmp_path / "empty.db")), "empty")
    usage = run_cli("cameras", "list", "--format", "xml", "--db", db)
    assert usage.returncode == 2 and "Traceback" not in usage.stderr


def test_export_to_an_unwritable_path_is_bad_input(
    run_cli: CliRunner, tmp_path: Path, sample_cameras_path: Path
) -> None:
    db = imported(run_cli, tmp_path, sample_cameras_path)
    missing = tmp_path / "no_such_dir" / "c.geojson"
    assert_user_error(
        run_cli("cameras", "export", "--db", db, "--out", str(missing)),
        str(missing),
        "cannot write",
    )
    folder = tmp_path / "folder.csv"
    folder.mkdir()
    assert_user_error(
        run_cli("cameras", "export", "--db", db, "--out", str(folder)), str(folder), "cannot write"
    )
    assert not missing.parent.exists() and not any(folder.iterdir())


def test_list_rejects_bad_coordinates_and_radius(
    run_cli: CliRunner, tmp_path: Path, sample_cameras_path: Path
) -> None:
    db = imported(run_cli, tmp_path, sample_cameras_path)
    for option, value, needle in (
        ("--near", "119,95", "latitude 95"),
        ("--near", "-190,25", "longitude -190"),
        ("--near", "nan,25", "longitude nan"),
        ("--bbox", "119,25,119.1,91", "latitude 91"),
        ("--bbox", "181,25,119.1,26", "longitude 181"),
    ):
        assert_user_error(run_cli("cameras", "list", option, value, "--db", db), option, needle)
    assert_user_error(
        run_cli("cameras", "list", "--radius", "10", "--db", db), "--radius needs --near"
    )
    for radius in ("-5", "0", "nan", "inf"):
        assert_user_error(
            run_cli("cameras", "list", "--near", "119.003,25.4568", "--radius", radius, "--db", db),
            "--radius",
            "positive",
        )
    default = run_cli("cameras", "list", "--near", "119.003,25.4568", "--db", db, check=True)
    assert "of 41 cameras" in default.stdout  # --radius stays optional with --near


def test_bad_csv_record_exits_2_and_writes_nothing(
    run_cli: CliRunner, tmp_path: Path, sample_cameras_path: Path
) -> None:
    good = tmp_path / "good.csv"
    write_cameras(read_cameras(sample_cameras_path).cameras, good)
    with good.open(newline="", encoding="utf-8") as stream:
        rows = list(csv.DictReader(stream))
    rows[5]["fov_deg"] = "400"
    bad = tmp_path / "bad.csv"
    with bad.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.DictWriter(stream, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    db = str(tmp_path / "csv.db")
    assert_user_error(
        run_cli("cameras", "import", str(bad), "--db", db), "bad.csv", "#5", "fov_deg"
    )
    assert not Path(db).exists() or sqlite3.connect(db).execute(
        "select count(*) from cameras"
    ).fetchone() == (0,)  # all or nothing


def test_fault_exits_1_and_points_to_the_log(run_cli: CliRunner, tmp_path: Path) -> None:
    db = tmp_path / "old.db"
    with sqlite3.connect(db) as connection:
        connection.execute("create table skynet_meta (key varchar primary key, value text)")
        connection.execute("insert into skynet_meta values ('registry_schema_version', '0')")
    result = run_cli("cameras", "list", "--db", str(db))
    assert result.returncode == 1
    assert "schema version 0" in result.stderr and "skynet.log" in result.stderr
    assert (tmp_path / "home" / "skynet.log").read_text().count("Traceback") == 1


def test_summary_counts_the_imported_registry(
    run_cli: CliRunner, sample_cameras_path: Path
) -> None:
    run_cli("cameras", "import", str(sample_cameras_path), check=True)
    result = run_cli("cameras", "summary", check=True)
    assert "41 cameras" in result.stdout and "EPSG:32650" in result.stdout
    assert "Coverage by area" in result.stdout and "watched ground" in result.stdout
    figures = json.loads(run_cli("cameras", "summary", "--format", "json", check=True).stdout)
    assert figures["cameras"] == 41 and sum(figures["by_kind"].values()) == 41


def test_help_shows_examples(run_cli: CliRunner) -> None:
    for command in (
        ["cameras", "import"],
        ["cameras", "list"],
        ["cameras", "show"],
        ["cameras", "export"],
        ["cameras", "summary"],
        ["demo"],
        ["frontier"],
        ["bench"],
        ["watch", "add"],
        ["watch", "list"],
        ["watch", "remove"],
        ["watch", "run"],
    ):
        assert "Example: skynet" in run_cli(*command, "--help", check=True).stdout
