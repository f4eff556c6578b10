"""Options, consoles and output helpers shared by every ``skynet`` command."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)

#: People read stdout; progress and messages go to stderr so pipes stay clean.
stdout = Console(highlight=False, soft_wrap=True)
stderr = Console(stderr=True, highlight=False, soft_wrap=True)


class OutputFormat(StrEnum):
    """How a command prints its result."""

    table = "table"
    json = "json"
    geojson = "geojson"


DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="Database URL or SQLite path (default: $SKYNET_DB, else the user data folder).",
        show_default=False,
    ),
]
FormatOption = Annotated[
    OutputFormat, typer.Option("--format", "-f", help="table for people; json/geojson for scripts.")
]
#: For commands with no GeoJSON to give (geojson prints the JSON document too).
TableJsonOption = Annotated[
    OutputFormat, typer.Option("--format", "-f", help="table for people; json for scripts.")
]


def print_json(document: Any) -> None:
    """Write a JSON document alone on stdout (nothing else is printed there)."""
    sys.stdout.write(json.dumps(document, ensure_ascii=False))
    sys.stdout.write("\n")


def progress() -> Progress:
    """A progress bar on stderr, silent when stderr is not a terminal."""
    return Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=stderr,
        disable=not stderr.is_terminal,
        transient=False,
    )
