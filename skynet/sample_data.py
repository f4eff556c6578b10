"""Where the bundled sample data lives (``sample_data/`` beside the packages)."""

from __future__ import annotations

from pathlib import Path

from skynet.errors import NotFoundError


def sample_data_dir() -> Path:
    """The repository's ``sample_data/`` folder; an editable install finds it."""
    folder = Path(__file__).resolve().parent.parent / "sample_data"
    if not folder.is_dir():
        msg = (
            f"bundled sample data not found at {folder}; "
            "install Skynet from its repository with 'python -m pip install -e .'"
        )
        raise NotFoundError(msg)
    return folder


def sample_registry_path() -> Path:
    """The hand-made sample camera registry used by the demo and the tests."""
    return sample_data_dir() / "cameras.geojson"


def sample_scenario_spec() -> Path:
    """The hit-and-run scenario's spec (``sample_data/hit_and_run/spec.json``)."""
    return sample_data_dir() / "hit_and_run" / "spec.json"
