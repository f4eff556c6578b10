"""The peer of ``bench_api.py``: the ceiling of Skynet's HTTP stack.

The same stack as ``skynet serve`` (uvicorn with the same settings, FastAPI)
answering ``GET /cameras?bbox=...`` with the bytes Skynet answered for that
box, read once from a JSON file: no token, no registry, no model, no
serialisation. Run by ``bench_api.py`` in its own process.

Example: python benchmarks/_api_peer.py --port 8001 --bodies benchmarks/_out/api/bodies.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import uvicorn
from fastapi import FastAPI, Response


def peer_app(bodies: dict[str, bytes]) -> FastAPI:
    app = FastAPI()

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/cameras")
    async def cameras(bbox: str = "") -> Response:
        body = bodies.get(bbox)
        if body is None:
            return Response(status_code=404)
        return Response(body, media_type="application/json")

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--bodies", type=Path, required=True, help="JSON: bbox -> body text")
    args = parser.parse_args()
    text = json.loads(args.bodies.read_text(encoding="utf-8"))
    bodies = {box: body.encode("utf-8") for box, body in text.items()}
    # as skynet serve configures it (skynet/cli/serve.py), so that only the app differs
    config = uvicorn.Config(
        peer_app(bodies), host="127.0.0.1", port=args.port, log_level="info", ws="auto"
    )
    uvicorn.Server(config).run()


if __name__ == "__main__":
    main()
