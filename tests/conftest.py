"""Fixtures shared by the whole suite."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

sys.path.append(str(Path(__file__).parent / "support"))  # helper modules (importlib mode)
from _databases import db_url, postgres_server, postgres_url  # noqa: F401 (fixtures)

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
SAMPLE_CAMERAS = REPO / "sample_data" / "cameras.geojson"

CliRunner = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def sample_cameras_path() -> Path:
    return SAMPLE_CAMERAS


@pytest.fixture
def run_cli(tmp_path: Path) -> CliRunner:
    """Run the installed ``skynet`` console script as a user would."""
    script = Path(sys.executable).with_name("skynet")
    env = {**os.environ, "SKYNET_HOME": str(tmp_path / "home"), "COLUMNS": "200"}
    env.pop("SKYNET_DB", None)

    def run(*args: str, check: bool = False) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [str(script), *args], capture_output=True, text=True, env=env, timeout=120
        )
        if check and result.returncode != 0:
            pytest.fail(f"skynet {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
        return result

    return run
