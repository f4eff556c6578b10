"""Fixtures of the scale-out ingestion tests (defined in tests/support/_batch.py)."""

from _batch import armed_drill, batch, crash_drill_file, ray_local  # noqa: F401 (fixtures)
