"""Summary figures of a registry: counts by kind, status and area; watched ground."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

from camera_registry.registry import CameraRegistry


@dataclass(frozen=True)
class AreaCoverage:
    """One area's cameras and the ground their views cover."""

    area: str
    cameras: int
    online: int
    watched_m2: float


@dataclass(frozen=True)
class RegistrySummary:
    """Headline figures of a registry for people (demo, CLI, API)."""

    cameras: int
    working_crs: str
    by_kind: dict[str, int]
    by_status: dict[str, int]
    with_homography: int
    bbox: tuple[float, float, float, float]
    extent_km: tuple[float, float]
    watched_m2: float
    watched_online_m2: float
    areas: list[AreaCoverage]

    @property
    def online_share(self) -> float:
        return self.by_status.get("online", 0) / self.cameras if self.cameras else 0.0


def summarise(registry: CameraRegistry) -> RegistrySummary:
    """Counts and coverage figures; union areas are computed in the metric CRS."""
    lonlat, xy = registry.lonlat, registry.xy
    online = np.array([c.status == "online" for c in registry], dtype=bool)
    areas = np.array([c.area or "(none)" for c in registry], dtype=object)
    per_area = []
    for name in sorted(set(areas)):
        rows = np.flatnonzero(areas == name)
        per_area.append(
            AreaCoverage(
                str(name), rows.size, int(online[rows].sum()), registry.watched_area_m2(rows)
            )
        )
    span = np.ptp(xy, axis=0) / 1000.0 if len(registry) else np.zeros(2)
    bbox = (
        tuple(float(v) for v in (*lonlat.min(axis=0), *lonlat.max(axis=0)))
        if len(registry)
        else (0.0, 0.0, 0.0, 0.0)
    )
    return RegistrySummary(
        cameras=len(registry),
        working_crs=registry.crs.code,
        by_kind=dict(Counter(c.kind for c in registry).most_common()),
        by_status=dict(Counter(c.status for c in registry).most_common()),
        with_homography=sum(c.homography is not None for c in registry),
        bbox=bbox,  # type: ignore[arg-type]
        extent_km=(float(span[0]), float(span[1])),
        watched_m2=registry.watched_area_m2(),
        watched_online_m2=registry.watched_area_m2(np.flatnonzero(online)),
        areas=per_area,
    )
