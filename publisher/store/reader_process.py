"""A SPARQL reader process: ``python -m publisher.store.reader_process``.

Started by publisher.store.readers, which tells it, one JSON line per request on
its stdin, which *source* to open (a checkpoint of the embedded store, an N-Quads
copy of an in-memory store, or the remote store's endpoint) and which query to
run; it answers with one JSON line (kind, truncated, payload length, or an error)
and the payload bytes on its stdout. It may be killed at any moment (the time
limit, the memory cap): it holds nothing another process needs.
"""

from __future__ import annotations

import json
import re
import sys
from typing import IO, Any

from publisher.errors import (
    QueryRefusedError,
    QuerySyntaxError,
    StoreError,
    StoreRefusedError,
)
from publisher.store import QueryJob, Store


def _open(source: dict[str, str]) -> Store:
    kind = source.get("kind")
    if kind == "checkpoint":
        from publisher.store.oxigraph import EmbeddedStore

        return EmbeddedStore.read_only(source["path"])
    if kind == "nquads":
        from publisher.store.oxigraph import EmbeddedStore

        return EmbeddedStore.from_nquads(source["path"])
    if kind == "remote":
        from publisher.store.sparql import RemoteStore

        return RemoteStore(
            source["endpoint"],
            update_endpoint=source["update_endpoint"],
            gsp_endpoint=source["gsp_endpoint"],
            user=source["user"],
            password=source["password"],
            token=source["token"],
            timeout=float(source["timeout"]),
            retries=0,
        )
    raise StoreError(f"unknown reader source {kind!r}")


def _answer(out: IO[bytes], head: dict[str, Any], payload: bytes) -> None:
    head["length"] = len(payload)
    out.write(json.dumps(head).encode("utf-8") + b"\n")
    out.write(payload)
    out.flush()


def main() -> None:
    """Answer query requests on stdin until it closes."""
    from publisher.workers import end_with_parent

    end_with_parent()  # a query running when the server is killed ends with it

    out = sys.stdout.buffer
    out.write(b"ready\n")
    out.flush()
    opened: tuple[dict[str, str], Store] | None = None
    for line in sys.stdin.buffer:
        request = json.loads(line)
        source, job = request["source"], request["job"]
        has_dataset = bool(job["has_dataset"])
        if request.get("check"):
            try:
                # imported on the first check, not before "ready": its parser
                # is 7 MB of each reader's memory, and most queries need none
                from publisher.queries import inspect_query

                has_dataset = inspect_query(request["check"]).has_dataset
            except QuerySyntaxError as exc:
                _answer(out, {"refused": "syntax", "error": str(exc)}, b"")
                continue
            except QueryRefusedError as exc:
                _answer(out, {"refused": "refused", "error": str(exc)}, b"")
                continue
        try:
            if opened is None or opened[0] != source:
                if opened is not None:
                    opened[1].close()
                    opened = None
                opened = (source, _open(source))
            answer = opened[1].run_query(
                QueryJob(
                    query=job["query"],
                    default_graphs=_tuple(job["default_graphs"]),
                    named_graphs=_tuple(job["named_graphs"]),
                    has_dataset=has_dataset,
                    max_rows=int(job["max_rows"]),
                )
            )
        except StoreRefusedError as exc:
            # the store's own parser (pyoxigraph: "bad SPARQL query: error at
            # 3:7: ..."), its lines counted from the BASE line put in front
            _answer(out, _refusal(str(exc), source), b"")
            continue
        except StoreError as exc:
            _answer(out, {"error": str(exc)}, b"")
            continue
        except Exception as exc:
            _answer(out, {"error": f"the query failed: {exc}"}, b"")
            opened = None
            continue
        _answer(
            out, {"kind": answer.kind, "truncated": answer.truncated}, answer.payload
        )


_POSITION = re.compile(r"^bad SPARQL query: error at (\d+):(\d+): ")


def _refusal(message: str, source: dict[str, str]) -> dict[str, str]:
    """An embedded store's syntax error as the client's (a 400 naming the line
    and column in the text they sent); any other refusal as a failure."""
    found = _POSITION.match(message)
    if found is None or source.get("kind") == "remote":
        return {"error": message}
    line, column = int(found.group(1)) - 1, int(found.group(2))
    rest = message[found.end() :]
    return {
        "refused": "syntax",
        "error": f"SPARQL syntax error at line {line}, column {column}: {rest}",
    }


def _tuple(value: list[str] | None) -> tuple[str, ...] | None:
    return None if value is None else tuple(value)


if __name__ == "__main__":
    main()
