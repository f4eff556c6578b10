"""The one exception tree of Skynet, shared by every package.

::

    SkynetError                  base: anything Skynet raises on purpose
    ├── BadInputError            the user's input is wrong (names file, record, field)
    ├── NotFoundError            an id the user named does not exist
    ├── ConflictError            the request contradicts what is stored
    └── StoreError               the database failed (a fault, not the user's mistake)

Lower layers' errors (OpenCV, SQL, pyproj, JSON) are mapped into these at the
boundary so that callers catch one family. This module imports nothing.
"""

from __future__ import annotations


class SkynetError(Exception):
    """Base of every error Skynet raises on purpose."""

    #: True when the user can fix it by changing their input (CLI exit code 2).
    user_error = False


class BadInputError(SkynetError, ValueError):
    """Input that cannot be used; the message names where it is wrong.

    ``source`` is the file or stream, ``record`` the id or position of the
    offending record, ``field`` the attribute that failed.
    """

    user_error = True

    def __init__(
        self,
        reason: str,
        *,
        source: str | None = None,
        record: str | int | None = None,
        field: str | None = None,
    ) -> None:
        self.reason = reason
        self.source = source
        self.record = record
        self.field = field
        super().__init__(self._compose())

    def _compose(self) -> str:
        where = []
        if self.source is not None:
            where.append(str(self.source))
        if self.record is not None:
            label = f"#{self.record}" if isinstance(self.record, int) else self.record
            where.append(f"record {label}")
        if self.field is not None:
            where.append(f"field {self.field!r}")
        return f"{', '.join(where)}: {self.reason}" if where else self.reason


class NotFoundError(SkynetError, LookupError):
    """An id named by the user is not in the store."""

    user_error = True


class ConflictError(SkynetError):
    """The request contradicts stored state (e.g. a different working CRS)."""

    user_error = True


class StoreError(SkynetError):
    """The database could not do what was asked: a fault, not bad input."""
