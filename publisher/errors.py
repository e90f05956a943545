"""Exceptions raised for people to read: each names the file, record and field."""

from __future__ import annotations


class PublisherError(Exception):
    """Base class of every error Release Publisher reports to a person."""


class InputError(PublisherError):
    """Input that cannot be read: names the file, the record and the field.

    ``record`` is the position of the record in its file (1-based, as people count)
    and, when known, its id.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        record: int | None = None,
        record_id: str | None = None,
        field: str | None = None,
    ) -> None:
        self.message = message
        self.file = file
        self.record = record
        self.record_id = record_id
        self.field = field
        super().__init__(self.describe())

    def describe(self) -> str:
        parts: list[str] = []
        if self.file:
            parts.append(self.file)
        record_id = _shorten(self.record_id) if self.record_id else None
        if self.record is not None:
            rec = f"record {self.record}"
            if record_id:
                rec += f" ({record_id})"
            parts.append(rec)
        elif record_id:
            parts.append(f"record {record_id}")
        if self.field is not None:  # '' is a field too: a key left empty
            parts.append(f"field '{_shorten(self.field)}'")
        where = ", ".join(parts)
        return one_line(f"{where}: {self.message}" if where else self.message)


def _shorten(text: str, limit: int = 100) -> str:
    """An id or field name as the input spelled it, cut short when it is long."""
    return text if len(text) <= limit else text[:limit] + "…"


def one_line(text: str) -> str:
    """``text`` with every character that is not printable (line breaks, U+2028,
    controls) written as its Python escape: an error stays one line on a terminal."""
    if text.isprintable():
        return text
    return "".join(
        c if c.isprintable() else c.encode("unicode_escape").decode("ascii")
        for c in text
    )


class ConfigError(PublisherError):
    """A setting has a value that cannot be used."""


class StoreError(PublisherError):
    """The store cannot do what was asked: unreachable, refused, timed out."""


class StoreUnavailableError(StoreError):
    """The store does not answer (down, unreachable, hung): try again later.

    ``retry_after``: seconds after which trying again makes sense.
    """

    def __init__(self, message: str, *, retry_after: int = 5) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class StoreLockedError(StoreError):
    """An embedded store is already open for writing in another process."""


class StoreConflictError(StoreError):
    """The store was built for another site, or holds something it should not."""
