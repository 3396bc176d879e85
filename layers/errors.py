"""The one small error hierarchy of Tongcheng's core.

Every error a user can cause is a ``TongchengError``; its message names the
file, layer, feature or field involved so the CLI and the editor can show it
as one clear line.
"""

from __future__ import annotations

__all__ = [
    "TongchengError",
    "DefinitionError",
    "WorkspaceError",
    "NotAWorkspaceError",
    "NewerWorkspaceError",
    "ValidationError",
    "ExpressionError",
    "FeatureNotFoundError",
    "GpsImportError",
    "GeoPackageError",
    "SyncError",
    "Cancelled",
    "FileInUseError",
    "DatabaseError",
    "ServerUnreachable",
    "LoginRefused",
]


class TongchengError(Exception):
    """Base of every error the user can cause or needs to see."""


class DefinitionError(TongchengError, ValueError):
    """A layer definition file is malformed or inconsistent."""


class WorkspaceError(TongchengError):
    """A workspace cannot be created, opened or written."""


class NotAWorkspaceError(WorkspaceError):
    """The file exists but is not a Tongcheng workspace."""


class NewerWorkspaceError(WorkspaceError):
    """The workspace was written by a newer Tongcheng than this one."""


class ValidationError(TongchengError, ValueError):
    """A feature breaks a rule of its layer definition.

    Attributes
    ----------
    layer, field, value, rule : the layer name, field name, offending value
        and the rule it breaks (all may be None where not applicable).
    """

    def __init__(
        self,
        message: str,
        *,
        layer: str | None = None,
        field: str | None = None,
        value: object = None,
        rule: str | None = None,
    ) -> None:
        super().__init__(message)
        self.layer = layer
        self.field = field
        self.value = value
        self.rule = rule


class ExpressionError(TongchengError, ValueError):
    """A filter expression cannot be read; names the character or the unknown field."""


class FeatureNotFoundError(TongchengError, KeyError):
    """No feature has the given fid or uuid in the layer."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class GpsImportError(TongchengError):
    """A GPS file cannot be read: names the file and, where known, the line."""

    #: The file and the line (1-based) of the problem, where the reader knows them.
    path: str | None = None
    line: int | None = None


class GeoPackageError(TongchengError):
    """A GeoPackage cannot be read or written, or is not what was expected."""


class SyncError(TongchengError):
    """A change package, update or merge cannot be carried out."""


class Cancelled(TongchengError):
    """The user cancelled a long operation; nothing was written."""


class FileInUseError(TongchengError):
    """Another program holds the file (an SQLite lock) and did not let go while we waited."""


class DatabaseError(SyncError):
    """A PostgreSQL master cannot be reached or used: the server, the login, PostGIS, or the database itself."""


class ServerUnreachable(DatabaseError):
    """The PostgreSQL server does not answer (down, wrong address, no network): work offline, by files."""


class LoginRefused(DatabaseError):
    """The PostgreSQL server refused the login or asks for a password that was not given."""
