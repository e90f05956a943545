"""Exceptions raised for people to read: each names the file, record and field.

Every error carries what each surface answers for it: ``status``, the HTTP status
the web gives it (publisher.web.errors renders it in the surface's format), and
``exit_code``, the CLI's (1 for data the rules refuse, 2 for bad usage or input
that cannot be read or stored).
"""

from __future__ import annotations

from typing import Any

#: the CLI's exit codes (publisher.cli): refused data, and everything else
EXIT_INVALID, EXIT_USAGE = 1, 2


class PublisherError(Exception):
    """Base class of every error Release Publisher reports to a person."""

    status = 500
    exit_code = EXIT_USAGE


class UsageError(PublisherError):
    """A command used in a way it cannot work (a missing file, an empty input)."""

    status = 400


class InputError(PublisherError):
    """Input that cannot be read: names the file, the record and the field.

    ``record`` is the position of the record in its file (1-based, as people count)
    and, when known, its id.
    """

    status = 422

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

    status = 503


class StoreUnavailableError(StoreError):
    """The store does not answer (down, unreachable, hung): try again later.

    ``retry_after``: seconds after which trying again makes sense.
    """

    def __init__(self, message: str, *, retry_after: int = 5) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class StoreRefusedError(StoreError):
    """The store refused a query or an update: it does not parse, or the store
    cannot do it (HTTP 400 where a client sent it, SPARQL Update)."""

    status = 400


class StoreLockedError(StoreError):
    """An embedded store is already open for writing in another process."""


class StoreConflictError(StoreError):
    """The store was built for another site, or holds something it should not."""


# Queries (publisher.queries, publisher.store.readers) ------------------------------


class QueryRefusedError(PublisherError):
    """A query or update that may not run here."""

    status = 400


class QuerySyntaxError(PublisherError):
    """SPARQL that does not parse; the message is the parser's."""

    status = 400


class QueryTimeoutError(StoreError):
    """The query ran past the time limit and was stopped."""

    status = 504


class ReadersBusyError(StoreError):
    """Every reader is busy: the cap on queries running at once is reached."""

    status = 503


class QueryFailedError(StoreRefusedError):
    """The store refused or failed the query (its message says why)."""


class QueryMemoryError(StoreError):
    """The reader's resident memory passed the cap and the query was stopped."""

    status = 507


# Publishing (publisher.publishing, publisher.lifecycle) ----------------------------


class NotFoundError(PublisherError):
    """No live release has this id (HTTP 404)."""

    status = 404


class PreconditionFailedError(PublisherError):
    """``If-Match`` names a version that is not the current one (HTTP 412)."""

    status = 412
    exit_code = EXIT_INVALID


class RejectedError(PublisherError):
    """The records violate the shapes or cannot be read (HTTP 422): the report."""

    status = 422
    exit_code = EXIT_INVALID

    def __init__(self, message: str, report: dict[str, Any]) -> None:
        super().__init__(message)
        self.report = report


class LifecycleError(PublisherError):
    """A change the release calendar's rules refuse (HTTP 409)."""

    status = 409
    exit_code = EXIT_INVALID

    def __init__(self, slug: str, message: str) -> None:
        super().__init__(f"{slug}: {message}")
        self.slug = slug


# Elsewhere -------------------------------------------------------------------------


class ServerUnreachableError(PublisherError):
    """The server could not be reached, or answered something that is not the API."""

    status = 502


class RemoteContextError(PublisherError):
    """A JSON-LD document asked for a context that is not shipped locally."""

    status = 400


class TooDeep(ValueError):
    """A document nests deeper than ``limit`` (publisher.nesting); ``path`` leads to
    where it does (keys and list positions), when known.

    A ValueError, like the parsers' syntax errors, so it is caught where they are.
    """

    status = 400
    exit_code = EXIT_USAGE
    #: the deepest a document may nest (publisher.nesting.MAX_DEPTH)
    limit = 100

    def __init__(self, path: tuple[str | int, ...] = (), at: str = "") -> None:
        self.path = path
        super().__init__(
            f"nested more than {self.limit} levels deep" + (f" ({at})" if at else "")
        )


class Unreadable(ValueError):
    """JSON that parses but holds a value Python will not make (an integer of
    more than 4,300 digits)."""

    status = 400
    exit_code = EXIT_USAGE


class ResultsCut(Exception):
    """Internal, never shown: raised from inside a results serialiser's write()
    once the row cap is passed, to stop it (publisher.store.results)."""
