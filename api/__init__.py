"""The Skynet HTTP/WebSocket API and the wall display: ``create_app(Settings(db=...))``."""

from __future__ import annotations

from api.app import create_app
from api.settings import Settings

__all__ = ["Settings", "create_app"]
