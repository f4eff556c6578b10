"""``--site NAME``: one named database in the user data folder, the same option on every command."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

CliRunner = Callable[..., subprocess.CompletedProcess[str]]
CAMERAS = Path(__file__).resolve().parents[2] / "sample_data" / "cameras.geojson"


def test_a_site_keeps_its_own_database(run_cli: CliRunner, tmp_path: Path) -> None:
    run_cli("cameras", "import", str(CAMERAS), "--site", "county", check=True)
    listed = json.loads(run_cli("cameras", "list", "--site", "county", "--format", "json",
                                check=True).stdout)  # fmt: skip
    assert listed and all("id" in camera for camera in listed)
    assert (tmp_path / "home" / "sites" / "county" / "skynet.db").is_file()
    # another site, and the default database, know nothing of it
    other = run_cli("cameras", "list", "--site", "harbour", "--format", "json")
    assert other.returncode == 2 and "registry is empty" in other.stderr
    summary = json.loads(run_cli("cameras", "summary", "--site", "county", "--format", "json",
                                 check=True).stdout)  # fmt: skip
    assert summary["cameras"] == len(listed)


def test_bad_sites_are_refused(run_cli: CliRunner, tmp_path: Path) -> None:
    both = run_cli("cameras", "list", "--site", "county", "--db", str(tmp_path / "x.db"))
    assert both.returncode == 2 and "--db or --site" in both.stderr
    bad = run_cli("roads", "info", "--site", "../etc")
    assert bad.returncode == 2 and "site name" in bad.stderr
    for command in (["track"], ["route"], ["frontier"], ["associate"], ["sightings"],
                    ["watch", "list"], ["coverage"]):  # fmt: skip
        assert "--site" in run_cli(*command, "--help").stdout, command
