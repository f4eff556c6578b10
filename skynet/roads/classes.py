"""Road classes, their ranks and free-flow speeds, and tag parsing.

OpenStreetMap ``highway`` values are ranked from motorway down to track; a
class's rank orders importance (0 is the most important), its code indexes
:data:`HIGHWAY_CLASSES` in vectorised work, and its default speed stands in
where ``maxspeed`` is missing or unreadable.
"""

from __future__ import annotations

import ast
import math
import re
from collections.abc import Iterable
from typing import Any, Final

#: Road classes in order of importance; ``other`` takes any unknown value.
HIGHWAY_CLASSES: Final = (
    "motorway",
    "motorway_link",
    "trunk",
    "trunk_link",
    "primary",
    "primary_link",
    "secondary",
    "secondary_link",
    "tertiary",
    "tertiary_link",
    "residential",
    "living_street",
    "unclassified",
    "road",
    "service",
    "track",
    "other",
)
HIGHWAY_CODE: Final = {name: code for code, name in enumerate(HIGHWAY_CLASSES)}
OTHER_CODE: Final = HIGHWAY_CODE["other"]
#: Codes up to this one are "tertiary or above" (links count as their road).
TERTIARY_CODE: Final = HIGHWAY_CODE["tertiary_link"]

#: Free-flow speeds (km/h) used when an edge has no readable ``maxspeed``.
DEFAULT_SPEED_KPH: Final = {
    "motorway": 100.0,
    "motorway_link": 60.0,
    "trunk": 80.0,
    "trunk_link": 50.0,
    "primary": 60.0,
    "primary_link": 40.0,
    "secondary": 50.0,
    "secondary_link": 40.0,
    "tertiary": 40.0,
    "tertiary_link": 30.0,
    "residential": 30.0,
    "living_street": 15.0,
    "unclassified": 30.0,
    "road": 30.0,
    "service": 20.0,
    "track": 20.0,
    "other": 30.0,
}
DEFAULT_SPEED_BY_CODE: Final = tuple(DEFAULT_SPEED_KPH[name] for name in HIGHWAY_CLASSES)

#: ``highway`` values a car may use: what the OSM importer keeps.
DRIVABLE: Final = frozenset(set(HIGHWAY_CLASSES) - {"other", "service"})

_MPH_TO_KPH: Final = 1.609344
_NUMBER = re.compile(r"(\d+(?:\.\d+)?)")


def as_list(value: Any) -> list[Any]:
    """A tag value as a list: osmnx keeps merged values as lists or list-strings."""
    if isinstance(value, list | tuple):
        return list(value)
    if isinstance(value, str) and value.startswith("[") and value.endswith("]"):
        try:
            parsed = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            return [value]
        return list(parsed) if isinstance(parsed, list | tuple) else [parsed]
    return [value]


def highway_class(value: Any) -> str:
    """The most important known class among a (possibly merged) ``highway`` value."""
    names = [str(v).strip() for v in as_list(value) if v is not None]
    known = [n for n in names if n in HIGHWAY_CODE]
    if not known:
        return "other"
    return min(known, key=HIGHWAY_CODE.__getitem__)


def parse_speed_kph(value: Any) -> float | None:
    """``maxspeed`` in km/h from ``50``, ``"30 mph"``, ``"['50', '60']"`` (mean), …

    None when nothing readable is there (``"signals"``, ``"none"``, missing).
    """
    if value is None:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        speed = float(value)
        return speed if math.isfinite(speed) and speed > 0.0 else None
    speeds = [s for s in (_one_speed(str(v)) for v in as_list(value)) if s is not None]
    return sum(speeds) / len(speeds) if speeds else None


def _one_speed(text: str) -> float | None:
    # A value like "50;60" names several speeds: take the lowest (the safe one).
    found = [float(n) for n in _NUMBER.findall(text)]
    found = [n for n in found if n > 0.0]
    if not found:
        return None
    speed = min(found)
    return speed * _MPH_TO_KPH if "mph" in text.lower() else speed


def parse_oneway(value: Any) -> bool:
    """osmnx's ``oneway`` (a bool, ``"True"``/``"False"``, or an OSM tag) as a bool."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    return text in ("true", "yes", "1", "-1", "reverse")


def rank_names(codes: Iterable[int]) -> list[str]:
    """Class names of codes, in order of importance and without repeats."""
    return [HIGHWAY_CLASSES[c] for c in sorted(set(codes))]
