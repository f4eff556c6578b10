"""Time at the edges: ISO 8601 with an offset in and out, UTC seconds inside."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from skynet.errors import BadInputError


def parse_time(text: str, field: str = "time") -> float:
    """UTC seconds of an ISO 8601 time that carries its offset (``...+08:00`` or ``Z``)."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except (AttributeError, TypeError, ValueError):
        raise BadInputError(f"{text!r} is not an ISO 8601 time", field=field) from None
    if moment.tzinfo is None:
        raise BadInputError(f"{text!r} needs a UTC offset (e.g. +08:00 or Z)", field=field)
    return moment.timestamp()


def format_time(
    seconds: float, offset_hours: float = 0.0, *, timespec: str = "milliseconds"
) -> str:
    """ISO 8601 with the given UTC offset, to the millisecond (or ``timespec``)."""
    zone = UTC if offset_hours == 0 else timezone(timedelta(hours=offset_hours))
    return datetime.fromtimestamp(seconds, zone).isoformat(timespec=timespec)
