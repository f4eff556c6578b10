"""``skynet bench``: list and run the measured claims in ``benchmarks/`` (one script each)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from skynet.cli._common import stdout
from skynet.errors import BadInputError, NotFoundError


def benchmarks_dir() -> Path:
    """The repository's ``benchmarks/`` folder (an editable install finds it)."""
    folder = Path(__file__).resolve().parents[2] / "benchmarks"
    if not folder.is_dir():
        msg = (
            f"benchmarks not found at {folder}; they come with the repository "
            "(install Skynet from it with 'python -m pip install -e .')"
        )
        raise NotFoundError(msg)
    return folder


def available() -> dict[str, tuple[Path, str]]:
    """Benchmark name (``bench_store.py`` → ``store``) → its script and first doc line."""
    found = {}
    for script in sorted(benchmarks_dir().glob("*.py")):
        name = script.stem.removeprefix("bench_")
        doc = ast.get_docstring(ast.parse(script.read_text(encoding="utf-8"))) or ""
        found[name] = (script, doc.splitlines()[0] if doc else "")
    return found


def bench(
    name: Annotated[
        str | None, typer.Argument(help="Benchmark to run (omit to list them).")
    ] = None,
    args: Annotated[
        list[str] | None, typer.Argument(help="Options passed to the benchmark (after --).")
    ] = None,
) -> None:
    """List the benchmarks, or run one with its own options; figures go to stdout.

    Each script measures one claim against its peer in the same run; their
    results are recorded in benchmarks/README.md. 'skynet bench NAME -- --help'
    shows a benchmark's options.

    Example: skynet bench frontier -- --escapes 5 --workers 2
    """
    scripts = available()
    if name is None:
        table = Table(title="benchmarks (skynet bench NAME -- OPTIONS)")
        table.add_column("name")
        table.add_column("measures")
        for key, (_, doc) in scripts.items():
            table.add_row(key, doc)
        stdout.print(table)
        return
    if name not in scripts:
        msg = f"no benchmark {name!r}; one of: {', '.join(scripts)}"
        raise BadInputError(msg, field="name")
    script, _ = scripts[name]
    done = subprocess.run([sys.executable, str(script), *(args or [])], check=False)
    raise typer.Exit(done.returncode)
