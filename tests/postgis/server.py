"""A throwaway PostgreSQL 15 server with PostGIS, in a temporary folder, for tests and benchmarks.

Debian's server binaries (``postgresql-15``, ``postgresql-15-postgis-3``) run
from ``/usr/lib/postgresql/15/bin``.  ``initdb`` and ``postgres`` refuse to run
as root: as root the server runs as the ``postgres`` system user (``runuser``),
as any other user as that user.  The server listens on a unix socket in its
folder (trust for local connections) and on 127.0.0.1 at a free port, where a
password is asked (scram-sha-256), so tests can give a wrong one.
"""

from __future__ import annotations

import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

__all__ = ["BIN", "Server", "start_server", "TEMPLATE", "new_database"]

BIN = Path(os.environ.get("TONGCHENG_PG_BIN", "/usr/lib/postgresql/15/bin"))
SUPERUSER = "postgres"
#: The superuser's password for connections over TCP (the unix socket trusts).
PASSWORD = "throwaway-test-password"
#: The database with PostGIS each test's database is copied from.
TEMPLATE = "tongcheng_template"
_numbers = itertools.count(1)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    """A running throwaway server: its folder, socket folder and port."""

    folder: Path
    port: int
    run_as: list[str]

    @property
    def socket_dir(self) -> str:
        return str(self.folder)

    def url(self, database: str = "postgres", user: str = SUPERUSER, schema: str | None = None) -> str:
        """A ``postgresql://`` URL over the unix socket (no password needed)."""
        query = f"host={self.socket_dir}&port={self.port}" + (f"&schema={schema}" if schema else "")
        return f"postgresql://{user}@/{database}?{query}"

    def tcp_url(self, database: str = "postgres", user: str = SUPERUSER) -> str:
        """A ``postgresql://`` URL over TCP, where the server asks for a password."""
        return f"postgresql://{user}@127.0.0.1:{self.port}/{database}"

    def psql(self, database: str, sql: str, user: str = SUPERUSER) -> subprocess.CompletedProcess[str]:
        """Run SQL with Debian's psql (the way a person at the office would); never raises."""
        return subprocess.run(
            [str(BIN / "psql"), "-X", "-v", "ON_ERROR_STOP=1", "-h", self.socket_dir, "-p", str(self.port),
             "-U", user, "-d", database, "-c", sql],
            capture_output=True, text=True, check=False)

    def stop(self) -> None:
        subprocess.run([*self.run_as, str(BIN / "pg_ctl"), "-D", str(self.folder / "data"), "-m", "immediate",
                        "-w", "stop"], capture_output=True, check=False)
        shutil.rmtree(self.folder, ignore_errors=True)


def start_server() -> Server:
    """Initialise and start a server in a new temporary folder (stop it with :meth:`Server.stop`)."""
    folder = Path(tempfile.mkdtemp(prefix="tongcheng-pg-", dir="/tmp"))
    run_as: list[str] = []
    if os.geteuid() == 0:
        account = pwd.getpwnam("postgres")
        os.chown(folder, account.pw_uid, account.pw_gid)
        run_as = ["runuser", "-u", "postgres", "--"]
    password_file = folder / "password"
    password_file.write_text(PASSWORD + "\n")
    if run_as:
        os.chown(password_file, pwd.getpwnam("postgres").pw_uid, -1)
    port = _free_port()
    try:
        subprocess.run([*run_as, str(BIN / "initdb"), "-D", str(folder / "data"), "-U", SUPERUSER,
                        "--pwfile", str(password_file), "--auth-local=trust", "--auth-host=scram-sha-256",
                        "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"],
                       check=True, capture_output=True, text=True)
        options = (f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={folder} "
                   "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=60 "
                   "-c shared_buffers=64MB")
        subprocess.run([*run_as, str(BIN / "pg_ctl"), "-D", str(folder / "data"), "-o", options,
                        "-l", str(folder / "server.log"), "-w", "-t", "60", "start"],
                       check=True, capture_output=True, text=True)
    except subprocess.CalledProcessError as exc:
        log = folder / "server.log"
        detail = log.read_text(errors="replace") if log.exists() else ""
        shutil.rmtree(folder, ignore_errors=True)
        raise RuntimeError(f"cannot start a test PostgreSQL server: {exc.stderr}{detail}") from None
    return Server(folder, port, run_as)


def new_database(server: Server, template: str = TEMPLATE) -> str:
    """A new database copied from *template* (fast), named uniquely; returns its name."""
    import psycopg

    name = f"test_{next(_numbers)}"
    with psycopg.connect(server.url(), autocommit=True) as con:
        con.execute(f"CREATE DATABASE {name} TEMPLATE {template}")
    return name
