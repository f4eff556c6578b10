"""Options, consoles and output helpers shared by every ``skynet`` command."""

from __future__ import annotations

import json
import re
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

from camera_registry.database import data_home
from skynet.errors import BadInputError

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
SiteOption = Annotated[
    str | None,
    typer.Option(
        "--site",
        help="A named site: its database in the user data folder (sites/NAME/skynet.db); "
        "instead of --db.",
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


#: A site's name: a folder name on every system.
_SITE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


def site_database(db: str | None, site: str | None) -> str | None:
    """The database a command opens: ``--db`` as given, else the named site's
    (``sites/NAME/skynet.db`` in the user data folder, made on first use), else the
    default (``$SKYNET_DB``, then the user data folder's own)."""
    if site is None:
        return db
    if db is not None:
        raise BadInputError("give --db or --site, not both", field="--site")
    if not _SITE_NAME.fullmatch(site):
        msg = f"site name {site!r}: letters, digits, '.', '_' and '-' only (up to 64)"
        raise BadInputError(msg, field="--site")
    folder = data_home() / "sites" / site
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BadInputError(f"cannot make {folder}: {exc.strerror}", field="--site") from None
    return str(folder / "skynet.db")


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
