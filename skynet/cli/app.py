"""Entry point of the ``skynet`` command: the command tree and error handling.

User mistakes print one line and exit 2; faults print a short message with the
path of the log that holds the traceback and exit 1.
"""

from __future__ import annotations

import logging
import sys
import traceback
from datetime import UTC, datetime

import typer

from skynet.cli import (
    associate,
    audit,
    bench,
    cameras,
    demo,
    frontier,
    ingest,
    roads,
    serve,
    sightings,
    synth,
    tokens,
    track,
    watch,
)
from skynet.cli._common import stderr
from skynet.errors import SkynetError

app = typer.Typer(
    name="skynet",
    help="Reconstruct where a vehicle went from many georeferenced cameras.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(cameras.app, name="cameras")
app.command("demo")(demo.demo)
app.add_typer(roads.app, name="roads")
app.command("coverage")(roads.coverage)
app.add_typer(synth.app, name="synth")
app.command("ingest")(ingest.ingest_command)
app.command("sightings")(sightings.sightings)
app.command("track")(track.track)
app.command("route")(track.route)
app.command("frontier")(frontier.frontier_command)
app.command("associate")(associate.associate_command)
app.command("bench")(bench.bench)
app.add_typer(watch.app, name="watch")
app.command("serve")(serve.serve)
app.add_typer(tokens.app, name="tokens")
app.add_typer(audit.app, name="audit")

EXIT_FAULT = 1
EXIT_BAD_INPUT = 2


def _log_fault(exc: BaseException) -> str:
    from camera_registry.database import data_home

    path = data_home() / "skynet.log"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as log:
            log.write(f"--- {datetime.now(UTC).isoformat()} {' '.join(sys.argv)}\n")
            log.write("".join(traceback.format_exception(exc)))
    except OSError:
        return "(log not writable)"
    return str(path)


def _quiet_opencv() -> None:
    """OpenCV's own warnings (codec probing) are noise for users: our errors say it."""
    import cv2

    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)


def main() -> None:
    """Run the CLI, mapping our errors to exit codes without tracebacks."""
    logging.basicConfig(level=logging.WARNING)
    _quiet_opencv()
    try:
        app()  # usage errors are typer's own: message and exit code 2
    except SkynetError as exc:
        if exc.user_error:
            stderr.print(f"error: {exc}", markup=False)
            sys.exit(EXIT_BAD_INPUT)
        where = _log_fault(exc)
        stderr.print(f"fault: {exc} (details in {where})", markup=False)
        sys.exit(EXIT_FAULT)
    except KeyboardInterrupt:
        stderr.print("interrupted")
        sys.exit(130)
    except Exception as exc:
        where = _log_fault(exc)
        stderr.print(
            f"internal error: {type(exc).__name__}: {exc} (details in {where})", markup=False
        )
        sys.exit(EXIT_FAULT)


if __name__ == "__main__":
    main()
