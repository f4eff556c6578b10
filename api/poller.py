"""Hear what other processes write: new sightings and camera changes, polled from the store.

``skynet ingest`` in another terminal publishes on *its* event bus, which
the server cannot hear; the poller reads the clips committed since its last
look and publishes their sightings here (skipping those already heard on
this bus), and compares camera status and position to publish changes.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Sequence
from typing import Any, Final

import sqlalchemy as sa

from api.world import World
from camera_registry.io import camera_feature
from camera_registry.store import cameras_table
from skynet.errors import NotFoundError, SkynetError
from skynet.store import clips_table, sightings_table
from trackers.sighting import Sighting

log = logging.getLogger(__name__)
#: Sighting ids remembered as already heard on the bus.
REMEMBERED: Final = 100_000
CameraState = dict[str, tuple[str, float, float]]


class StorePoller:
    """A daemon thread that polls every ``interval_s`` seconds until stopped."""

    def __init__(self, world: World, interval_s: float) -> None:
        self.world = world
        self.interval_s = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="skynet-poller", daemon=True)
        self._heard: deque[str] = deque(maxlen=REMEMBERED)
        self._heard_set: set[str] = set()
        self._unsubscribe = world.events.subscribe("sightings", self._on_bus)
        self.mark = time.time()
        self.cameras: CameraState = self._camera_state()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._unsubscribe()
        if self._thread.is_alive():
            self._thread.join(timeout=self.interval_s + 5.0)

    def poll_once(self) -> None:
        """One look at the store: publish what is new since the last."""
        self.mark, found = self._added_since(self.mark)
        fresh = [s for s in found if s.id not in self._heard_set]
        if fresh:
            self.world.events.publish("sightings", fresh)
        self._publish_camera_changes()

    def _added_since(self, mark: float) -> tuple[float, list[Sighting]]:
        """Sightings of the clips committed after ``mark`` (ingest time), and the newest time."""
        clips, sightings = clips_table.c, sightings_table.c
        with self.world.engine.connect() as connection:
            rows = connection.execute(
                sa.select(clips.ingested_at, sightings.id)
                .select_from(clips_table.outerjoin(sightings_table, sightings.clip_id == clips.id))
                .where(clips.ingested_at > mark)
            ).all()
        if not rows:
            return mark, []
        ids = [str(row.id) for row in rows if row.id is not None]
        latest = max(float(row.ingested_at) for row in rows)
        return latest, self.world.sightings.find(ids=ids) if ids else []

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                self.poll_once()
            except (SkynetError, sa.exc.SQLAlchemyError) as exc:  # away a moment: try later
                log.warning("store poll failed: %s", exc)

    def _on_bus(self, _: str, sightings: Sequence[Sighting]) -> None:
        for s in sightings:
            if len(self._heard) == self._heard.maxlen:
                self._heard_set.discard(self._heard[0])
            self._heard.append(s.id)
            self._heard_set.add(s.id)

    def _camera_state(self) -> CameraState:
        table = cameras_table.c
        query = sa.select(table.id, table.status, table.lon, table.lat)
        try:
            with self.world.engine.connect() as connection:
                rows = connection.execute(query).all()
        except sa.exc.SQLAlchemyError as exc:
            log.warning("camera poll failed: %s", exc)
            return self.cameras if hasattr(self, "cameras") else {}
        return {str(r.id): (str(r.status), float(r.lon), float(r.lat)) for r in rows}

    def _publish_camera_changes(self) -> None:
        now = self._camera_state()
        changed = [key for key, state in now.items() if self.cameras.get(key) != state]
        removed = [key for key in self.cameras if key not in now]
        self.cameras = now
        if not changed and not removed:
            return
        self.world.cameras_changed()
        for key in changed:
            payload: dict[str, Any]
            try:
                payload = camera_feature(self.world.cameras.get(key))
            except NotFoundError:
                continue
            self.world.events.publish("camera", payload)
        for key in removed:
            self.world.events.publish("camera", {"id": key, "removed": True})
