"""Query parameters several routes share: a W,S,E,N box, a list of ids."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

from skynet.errors import BadInputError

Box = tuple[float, float, float, float]

BboxQuery = Annotated[
    str | None,
    Query(
        description="W,S,E,N in degrees (lon/lat): only what lies inside.",
        examples=["118.95,25.38,119.10,25.50"],
        max_length=200,
    ),
]


def parse_bbox(text: str | None) -> Box | None:
    """A ``W,S,E,N`` box, or None; 400 naming ``bbox`` when it is not one."""
    if text is None or text.strip() == "":
        return None
    parts = text.split(",")
    try:
        west, south, east, north = (float(p) for p in parts)
    except ValueError:
        raise BadInputError(f"{text!r} is not four numbers W,S,E,N", field="bbox") from None
    if not (-180 <= west < east <= 180 and -90 <= south < north <= 90):
        msg = "the box must have -180 <= W < E <= 180 and -90 <= S < N <= 90"
        raise BadInputError(msg, field="bbox")
    return west, south, east, north


def parse_ids(text: str | None, field: str) -> list[str] | None:
    """A comma-separated list of ids, or None."""
    if text is None or text.strip() == "":
        return None
    ids = [part.strip() for part in text.split(",") if part.strip()]
    if not ids:
        raise BadInputError(f"{text!r} names no id", field=field)
    return ids
