"""One in-process event interface: publishers say what happened, subscribers hear it.

Kinds used: ``"sightings"`` (a clip's new sightings committed), ``"alert"`` (a
watch fired). The API's WebSocket and ``skynet watch run`` subscribe here;
a subscriber that raises is dropped from that one event, not from the bus.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

Handler = Callable[[str, Any], None]
log = logging.getLogger(__name__)


class EventBus:
    """Subscribers by kind (``"*"`` hears every kind); thread-safe to publish and subscribe."""

    def __init__(self) -> None:
        self._handlers: dict[str, list[Handler]] = {}
        self._lock = threading.Lock()

    def subscribe(self, kind: str, handler: Handler) -> Callable[[], None]:
        """Hear ``kind``; returns the function that stops it."""
        with self._lock:
            self._handlers.setdefault(kind, []).append(handler)

        def unsubscribe() -> None:
            with self._lock:
                if handler in self._handlers.get(kind, []):
                    self._handlers[kind].remove(handler)

        return unsubscribe

    def publish(self, kind: str, payload: Any) -> int:
        """Tell every subscriber of ``kind`` (and of ``"*"``); returns how many heard it."""
        with self._lock:
            handlers = [*self._handlers.get(kind, []), *self._handlers.get("*", [])]
        heard = 0
        for handler in handlers:
            try:
                handler(kind, payload)
                heard += 1
            except Exception:  # one broken subscriber must not stop the others
                log.exception("event subscriber failed on %s", kind)
        return heard
