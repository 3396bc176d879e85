"""The editor's access to PostgreSQL servers: passwords typed in this session, and one line per failure.

A password typed in File > Check out from server… (or asked by the Sync
menu) is kept in this process's memory for the rest of the session, by
server, database and user: never in a file, the settings, a workspace or a
log. Work on a server runs inside :func:`with_password`, which hands it to
the core's connections (``layers.postgres.connection.password_given``) on
the thread doing the work. With no password typed, libpq's own ways apply:
``~/.pgpass`` or ``PGPASSWORD``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from PySide6.QtCore import QCoreApplication

from layers.errors import LoginRefused, ServerUnreachable, TongchengError
from layers.postgres.urls import is_postgres

__all__ = ["remember_password", "forget_password", "password_for", "with_password", "server_error_line"]

T = TypeVar("T")
_passwords: dict[str, str] = {}


def _tr(text: str) -> str:
    return QCoreApplication.translate("ServerAccess", text)


def _key(url: str) -> str:
    """Server, port, database and user of *url* (not its schema): who the password is for."""
    from layers.postgres.connection import parse_location

    return parse_location(url).conninfo


def remember_password(url: str, password: str | None) -> None:
    """Keep *password* for the server of *url* until the editor quits (an empty one forgets it)."""
    if password:
        _passwords[_key(url)] = password
    else:
        forget_password(url)


def forget_password(url: str) -> None:
    _passwords.pop(_key(url), None)


def password_for(url: str) -> str | None:
    """The password typed for the server of *url* in this session, or None (then ~/.pgpass or PGPASSWORD)."""
    return _passwords.get(_key(url)) if is_postgres(url) else None


def with_password(url: object, work: Callable[[], T], password: str | None = None) -> Callable[[], T]:
    """*work* wrapped to log in with *password* (default: the one kept for *url*) on whichever thread runs it."""
    if not is_postgres(url):
        return work
    from layers.postgres.connection import password_given

    given = password if password is not None else password_for(str(url))

    def run() -> T:
        with password_given(given):
            return work()

    return run


def server_error_line(error: BaseException) -> str:
    """One line saying why a server could not be used (in the interface language where we know the reason)."""
    if isinstance(error, LoginRefused):
        return _tr("The server refused the login: wrong user or password, or no password given "
                   "(a ~/.pgpass file works too).")
    if isinstance(error, ServerUnreachable):
        return _tr("The server cannot be reached: is it running, is the address right, is there a network?")
    if isinstance(error, TongchengError):
        return str(error)
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
