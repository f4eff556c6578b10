"""``skynet bench``: the benchmark scripts listed and run through the console script."""

from __future__ import annotations

import subprocess
from collections.abc import Callable

CliRunner = Callable[..., subprocess.CompletedProcess[str]]


def test_bench_lists_every_script(run_cli: CliRunner) -> None:
    listed = run_cli("bench", check=True).stdout
    for name in ("demo", "frontier", "engine", "scenario", "store", "eval_tracking"):
        assert name in listed


def test_bench_runs_one_with_its_options(run_cli: CliRunner) -> None:
    result = run_cli("bench", "frontier", "--", "--escapes", "1", "--workers", "1", check=True)
    assert "cameras opened" not in result.stderr
    assert "total opened: Skynet" in result.stdout and "by distance" in result.stdout


def test_bench_unknown_name_is_bad_input(run_cli: CliRunner) -> None:
    result = run_cli("bench", "nope")
    assert result.returncode == 2 and "no benchmark 'nope'" in result.stderr
    assert "frontier" in result.stderr and "Traceback" not in result.stderr
