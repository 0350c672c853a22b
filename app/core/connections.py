"""PostgreSQL connections with fewer round trips: no pre-ping, and no BEGIN or ROLLBACK for reads.

Under load every round trip to the database is two context switches on a machine shared by
the web workers and PostgreSQL (docs/benchmarks.md, *Pages under load*). A page view used to
make three that carried no query: the pool's pre-ping, ``BEGIN`` and the ``ROLLBACK`` that
ends the request's session. Two changes remove them, for every engine on PostgreSQL:

* **Liveness without a round trip.** Instead of a ``SELECT 1`` at every check-out, the pool
  looks whether the server has said anything on the idle connection's socket. An idle
  connection receives nothing unless the server is closing it (a restart, an administrator's
  ``pg_terminate_backend``, an idle timeout), so a readable socket means the connection is
  gone, and the pool opens a new one instead (``DisconnectionError``). (The server may also
  report a changed setting on an idle connection, rarely; that costs one needless new
  connection.) A connection lost without a word (a cut network) is found by its first
  statement, and SQLAlchemy then replaces every connection of the pool.
* **Reads outside a transaction in GET and HEAD requests.** A connection checked out while
  such a request is served runs in autocommit, so a ``SELECT`` sends no ``BEGIN`` and the end
  of the request no ``ROLLBACK``. Each statement sees the data committed when it starts, which
  is what PostgreSQL's default isolation (read committed) gives the statements of one
  transaction too. The first statement that does more than read (a write, ``SELECT …
  FOR UPDATE``, an advisory lock, a savepoint, a server-side cursor) begins a transaction
  first, so a request that reads and then writes (the access log of a page that shows
  personal data) writes in one transaction, committed or rolled back as before. Form
  submissions, tasks and commands keep their transactions from the first statement.
"""

from __future__ import annotations

import re
import select
from functools import lru_cache
from typing import Any

from flask import has_request_context, request
from sqlalchemy import event, exc
from sqlalchemy.engine import Engine

#: Requests that by HTTP's rules only read; their pages read outside a transaction.
SAFE_METHODS = frozenset({"GET", "HEAD"})
#: The pool's note on a connection checked out for a safe request.
_READS_OUTSIDE_TRANSACTION = "reads_outside_transaction"
_READ = re.compile(r"\s*(?:select|with)\b", re.IGNORECASE)
#: What in a SELECT (or its WITH) writes, takes locks, changes state or would differ outside
#: a transaction.
_NEEDS_TRANSACTION = re.compile(
    r"\b(?:insert|update|delete|merge)\b"
    r"|\bfor\s+(?:no\s+key\s+update|share|key\s+share)\b"
    r"|pg_advisory|nextval|setval|set_config|pg_notify|txid_current|pg_current_xact_id",
    re.IGNORECASE,
)


@lru_cache(maxsize=512)  # statements are SQLAlchemy's cached strings: a few hundred in all
def needs_transaction(statement: str) -> bool:
    """Whether ``statement`` must run inside a transaction: anything but a SELECT (or a WITH
    of SELECTs) that takes no lock."""
    return not _READ.match(statement) or bool(_NEEDS_TRANSACTION.search(statement))


def closed_by_server(dbapi_connection: Any) -> bool:
    """Whether an idle psycopg connection is gone, without a round trip: closed on our side,
    or the server has written to it (its goodbye) or hung up."""
    if dbapi_connection.closed or dbapi_connection.broken:
        return True
    poller = select.poll()
    poller.register(dbapi_connection.pgconn.socket, select.POLLIN | select.POLLPRI)
    return bool(poller.poll(0))


def configure_postgresql(engine: Engine) -> None:
    """Register the liveness check and the reads outside transactions on ``engine``."""
    from psycopg import ServerCursor
    from psycopg.pq import TransactionStatus

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        if closed_by_server(dbapi_connection):
            raise exc.DisconnectionError("PostgreSQL closed this connection")
        if has_request_context() and request.method in SAFE_METHODS:
            dbapi_connection.autocommit = True
            record.info[_READS_OUTSIDE_TRANSACTION] = True

    @event.listens_for(engine, "checkin")
    def _on_checkin(dbapi_connection: Any, record: Any) -> None:
        marked = record.info.pop(_READS_OUTSIDE_TRANSACTION, False)
        if marked and dbapi_connection is not None and not dbapi_connection.closed:
            dbapi_connection.autocommit = False  # the pool has ended any transaction by now

    @event.listens_for(engine, "before_cursor_execute")
    def _begin_before_what_needs_it(
        connection: Any, cursor: Any, statement: str, *_args: Any
    ) -> None:
        if not connection.connection.info.get(_READS_OUTSIDE_TRANSACTION):
            return
        dbapi_connection = cursor.connection
        if dbapi_connection.info.transaction_status != TransactionStatus.IDLE:
            return  # already in the transaction begun for an earlier statement
        if isinstance(cursor, ServerCursor) or needs_transaction(statement):
            # psycopg commits or rolls back whatever is open, autocommit or not.
            dbapi_connection.execute("BEGIN")


class RoundTrips:
    """Counts an engine's round trips to PostgreSQL while active, read off libpq's trace of
    what its connections send (for tests and ``bench/page_profile.py``): a simple query, or an
    extended one up to its Sync, waits for the server once. ``seen`` holds each one's first
    word (``PREPARED`` for a statement psycopg has prepared, which is sent without its text)."""

    def __init__(self, engine: Engine) -> None:
        import tempfile
        from pathlib import Path

        self.path = Path(tempfile.mkstemp(suffix=".trace")[1])
        self.seen: list[str] = []
        self._traced: dict[Any, Any] = {}
        self._active = False
        event.listen(engine, "checkout", self._on_checkout)
        event.listen(engine, "checkin", self._on_checkin)

    @property
    def count(self) -> int:
        return len(self.seen)

    def __enter__(self) -> RoundTrips:
        self.path.write_text("")
        self._active = True
        return self

    def __exit__(self, *_exc: object) -> None:
        self._active = False
        for dbapi_connection in list(self._traced):
            self._on_checkin(dbapi_connection, None)
        self.seen = _round_trips(self.path.read_text())

    def _on_checkout(self, dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        if self._active and dbapi_connection not in self._traced:
            from psycopg import pq

            trace = open(self.path, "a")  # noqa: SIM115 - closed at check-in
            dbapi_connection.pgconn.trace(trace.fileno())
            dbapi_connection.pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS)
            self._traced[dbapi_connection] = trace

    def _on_checkin(self, dbapi_connection: Any, _record: Any) -> None:
        trace = self._traced.pop(dbapi_connection, None)
        if trace is not None:
            if not dbapi_connection.closed:
                dbapi_connection.pgconn.untrace()
            trace.close()


def _round_trips(trace: str) -> list[str]:
    seen: list[str] = []
    statement = "PREPARED"  # psycopg prepares a statement run five times: no Parse then
    # One message per record; a statement's own line breaks stay inside its record.
    for record in re.split(r"\n(?=[FB]\t\d+\t)", trace):
        fields = record.split("\t")
        if fields[0] != "F" or len(fields) < 3:
            continue
        if fields[2] == "Query":
            seen.append(re.findall(r'"(.*?)"', record, re.DOTALL)[0].split()[0].upper())
        elif fields[2] == "Parse":
            statement = re.findall(r'"(.*?)"', record, re.DOTALL)[1].split()[0].upper()
        elif fields[2] == "Sync":
            seen.append(statement)
            statement = "PREPARED"
    return seen
