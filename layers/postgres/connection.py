"""Connection strings (``postgresql://user@host/db[?schema=name]``) and connections with one-line errors.

The password never comes from the connection string: libpq reads it from
``PGPASSWORD`` or ``~/.pgpass``.  A string that carries one is refused, so it
cannot end up in a shell history, a log or a workspace's settings.  A program
that asked for a password (the editor) hands it to the connections made
inside :func:`password_given`, in memory, for that thread only.  Errors name
the server and the database, never a password.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from layers.errors import DatabaseError, LoginRefused, ServerUnreachable
from layers.log import logger
from layers.postgres.urls import SCHEMES, is_postgres

__all__ = ["SCHEMES", "PgLocation", "is_postgres", "parse_location", "connect", "password_given"]

log = logger(__name__)

#: Seconds to wait for a server that does not answer.
CONNECT_TIMEOUT = 10

#: The password given for the connections of this thread (``password_given``); never stored, never logged.
_password: ContextVar[str | None] = ContextVar("tongcheng_pg_password", default=None)


@contextmanager
def password_given(password: str | None) -> Iterator[None]:
    """Connections made inside (by this thread) log in with *password*, ahead of PGPASSWORD and ~/.pgpass.

    None or an empty string leaves the password to libpq (``PGPASSWORD``,
    ``~/.pgpass``).  The password is held in memory for the block only: it
    is never part of a connection string, a message or a log record.
    """
    token = _password.set(password or None)
    try:
        yield
    finally:
        _password.reset(token)


@dataclass(frozen=True)
class PgLocation:
    """A master in a PostgreSQL database: where to connect and the schema its tables are in.

    Attributes
    ----------
    conninfo : str
        What libpq is given (the string without ``schema``).
    schema : str
        The schema of the master's tables (default ``public``).
    shown : str
        The string as the user gave it (it holds no password): for messages and settings.
    """

    conninfo: str
    schema: str
    shown: str
    database: str
    host: str

    def __str__(self) -> str:
        return self.shown


def parse_location(text: str) -> PgLocation:
    """Read a ``postgresql://user@host[:port]/db[?schema=name]`` string; DatabaseError if malformed.

    Other query parameters (``host=/run/postgresql``, ``port``, ``sslmode`` ...)
    are libpq's and are passed on.
    """
    parts = urllib.parse.urlsplit(text)
    query = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    schemas = [v for k, v in query if k == "schema"]
    rest = [(k, v) for k, v in query if k != "schema"]
    if parts.password is not None or any(k == "password" for k, _ in rest):
        raise DatabaseError(f"{parts.scheme}://{parts.hostname or ''}/{parts.path.lstrip('/')}: the connection "
                            "string carries a password; put it in PGPASSWORD or ~/.pgpass instead")
    conninfo = urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(rest, quote_via=urllib.parse.quote)))
    try:
        params = conninfo_to_dict(conninfo)
    except psycopg.ProgrammingError as exc:
        raise DatabaseError(f"{text}: not a valid connection string ({exc})") from None
    schema = schemas[-1] if schemas else "public"
    if not schema or len(schema) > 63:
        raise DatabaseError(f"{text}: schema must be a name of 1 to 63 characters")
    database = str(params.get("dbname") or params.get("user") or "")
    host = str(params.get("host") or "localhost")
    return PgLocation(conninfo, schema, text, database, host)


def _explain(location: PgLocation, exc: psycopg.Error) -> DatabaseError:
    """The error to raise, with one line on why the connection failed (without the server's multi-line detail)."""
    text = str(exc).strip()
    lowered = text.lower()
    where = f"{location.shown}"
    if "password authentication failed" in lowered:
        return LoginRefused(f"{where}: the server refused the login (wrong password or user); "
                            "check PGPASSWORD or ~/.pgpass")
    if "no password supplied" in lowered or "password is required" in lowered:
        return LoginRefused(f"{where}: the server asks for a password; set PGPASSWORD or add the server to "
                            "~/.pgpass")
    if "does not exist" in lowered and "database" in lowered:
        return DatabaseError(f"{where}: the server has no database {location.database!r}")
    if "role" in lowered and "does not exist" in lowered:
        return LoginRefused(f"{where}: the server has no such user (role)")
    if any(s in lowered for s in ("connection refused", "could not translate host", "timeout expired",
                                  "no such file or directory", "network is unreachable", "no route to host",
                                  "name or service not known", "could not connect")):
        return ServerUnreachable(f"{where}: cannot reach the PostgreSQL server at {location.host} (is it running, "
                                 "is the address right?)")
    first = text.splitlines()[0] if text else type(exc).__name__
    return DatabaseError(f"{where}: cannot connect: {first}")


def connect(location: PgLocation, *, autocommit: bool = False, **options: Any) -> psycopg.Connection[Any]:
    """A connection to *location*'s database with ``search_path`` set to its schema (then public).

    Raises
    ------
    DatabaseError
        No such database, or another reason: one line naming the server.
    ServerUnreachable
        The server does not answer (a DatabaseError).
    LoginRefused
        Wrong password or user, or no password given (a DatabaseError).
    """
    password = _password.get()
    if password is not None and "password" not in options:
        options["password"] = password
    try:
        con = psycopg.connect(location.conninfo, autocommit=True, connect_timeout=CONNECT_TIMEOUT,
                              application_name="tongcheng", **options)
    except psycopg.Error as exc:
        log.debug("connection to %s failed: %s", location.shown, exc)
        raise _explain(location, exc) from None
    try:
        con.execute(sql.SQL("SET search_path TO {}, public").format(sql.Identifier(location.schema)))
    except psycopg.Error as exc:
        con.close()
        raise DatabaseError(f"{location.shown}: cannot use the database: {str(exc).splitlines()[0]}") from None
    con.autocommit = autocommit
    return con
