"""``skynet serve``: the API and the wall display under uvicorn."""

from __future__ import annotations

import errno
import socket
from typing import Annotated

import typer

from skynet.cli._common import DbOption, SiteOption, site_database, stderr
from skynet.errors import BadInputError

#: Ports below this need root on most systems; refusing them early says so plainly.
FIRST_FREE_PORT = 1024


def serve(
    host: Annotated[
        str, typer.Option("--host", help="Address to listen on (loopback unless you mean it).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="TCP port.")] = 8000,
    poll: Annotated[
        float,
        typer.Option("--poll", min=0.0, help="Seconds between looks for other processes' ingests."),
    ] = 2.0,
    max_body: Annotated[
        int, typer.Option("--max-body", min=1024, help="Largest request body accepted (bytes).")
    ] = 1_000_000,
    db: DbOption = None,
    site: SiteOption = None,
) -> None:
    """Serve the HTTP/WebSocket API and the wall display page (/wall).

    Every route but /health and the /wall page needs a bearer token; make one
    with 'skynet tokens create'. Open the wall at http://HOST:PORT/wall#token=TOKEN.
    The OpenAPI schema is at /openapi.json, its pages at /docs.

    Example: skynet serve --db case.db --port 8000
    (after: skynet tokens create --role wall --name "wall 1" --db case.db)
    """
    import uvicorn

    from api import Settings, create_app

    db = site_database(db, site)
    _check_free(host, port)
    try:
        app = create_app(Settings(db=db, poll_s=poll, max_body_bytes=max_body))
    except OSError as exc:
        raise BadInputError(f"cannot open the database ({exc})", field="--db") from None
    stderr.print(f"Skynet API on http://{host}:{port} (wall: /wall#token=..., schema: /docs)")
    config = uvicorn.Config(app, host=host, port=port, log_level="info", ws="auto")
    server = uvicorn.Server(config)
    try:
        server.run()
    except SystemExit:  # uvicorn exits when it cannot bind after all (a race for the port)
        raise BadInputError(f"cannot listen on {host}:{port}", field="--port") from None


def _check_free(host: str, port: int) -> None:
    """Refuse a port that is taken (or not ours to take) in one line, before loading anything."""
    try:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))
    except OSError as exc:
        hint = " (is another server on it?)" if exc.errno == errno.EADDRINUSE else ""
        if port < FIRST_FREE_PORT and exc.errno == errno.EACCES:
            hint = " (ports below 1024 need root)"
        msg = f"cannot listen on {host}:{port}: {exc.strerror or exc}{hint}"
        raise BadInputError(msg, field="--port") from None
