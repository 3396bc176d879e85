"""Whether a master location is a PostgreSQL connection string, and one made from its parts (no psycopg needed)."""

from __future__ import annotations

import urllib.parse

__all__ = ["SCHEMES", "is_postgres", "server_url"]

SCHEMES = ("postgresql://", "postgres://")


def is_postgres(location: object) -> bool:
    """True if *location* is a ``postgresql://`` (or ``postgres://``) connection string."""
    return isinstance(location, str) and location.lower().startswith(SCHEMES)


def server_url(host: str, port: int | None, database: str, user: str, schema: str | None = None) -> str:
    """The ``postgresql://user@host:port/database[?schema=name]`` string of a connection's parts.

    A *host* starting with ``/`` is the folder of the server's unix socket
    (passed as ``?host=``); an IPv6 address is bracketed.  Names are
    percent-encoded; ``public`` (or no *schema*) adds no ``schema``.  There is
    never a password in it (libpq: ``PGPASSWORD``, ``~/.pgpass``).
    """
    host, user, database, schema = host.strip(), user.strip(), database.strip(), (schema or "").strip()
    query: list[tuple[str, str]] = []
    if host.startswith("/"):
        netloc = ""
        query.append(("host", host))
        if port:
            query.append(("port", str(port)))
    else:
        netloc = f"[{host}]" if ":" in host else urllib.parse.quote(host, safe=".-_")
        if port:
            netloc += f":{port}"
    if user:
        netloc = f"{urllib.parse.quote(user, safe='')}@{netloc}"
    if schema and schema != "public":
        query.append(("schema", schema))
    text = f"postgresql://{netloc}/{urllib.parse.quote(database, safe='')}"
    return f"{text}?{urllib.parse.urlencode(query, safe='/', quote_via=urllib.parse.quote)}" if query else text
