"""What one API server is configured with."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

from skynet.events import EventBus

#: Largest request body accepted (bytes): a camera record is a few hundred.
MAX_BODY_BYTES: Final = 1_000_000


@dataclass(frozen=True)
class Settings:
    """The database, the event bus and the limits of one app.

    ``events`` is the in-process bus the WebSocket relays; give the one that
    an in-process ingest publishes to (a fresh one otherwise). ``cache`` is
    the folder of the camera transition model's cache (default: the user
    data folder). ``poll_s`` is how often the store is polled for sightings
    and camera changes written by other processes (``skynet ingest`` in
    another terminal); 0 turns it off.
    """

    db: str | None = None
    events: EventBus = field(default_factory=EventBus)
    max_body_bytes: int = MAX_BODY_BYTES
    cache: str | None = None
    poll_s: float = 2.0
    #: Messages a slow WebSocket client may fall behind by before the oldest are dropped.
    client_queue: int = 512
