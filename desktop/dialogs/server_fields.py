"""The fields of a PostgreSQL server connection (host, port, database, user, schema, password), remembered.

One widget for every dialog that reaches a PostGIS master (File > Check out
from server…, Sync > Apply change packages to a master…). The connection
string is made from the fields by the core (``layers.postgres.urls``); the
fields but never the password are remembered for next time; a password
typed is for this session only (``desktop.server_access``).
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QSettings, Signal
from PySide6.QtWidgets import QFormLayout, QLabel, QLineEdit, QSpinBox, QWidget

from layers.postgres.urls import server_url
from layers.workspace.identity import login_name

__all__ = ["ServerFields"]

_SETTINGS = "server_checkout"  # the group the connection fields are kept in (shared by the dialogs)
_REMEMBERED = ("host", "database", "user", "schema")


def _tr(text: str) -> str:
    return QCoreApplication.translate("ServerFields", text)


class ServerFields(QWidget):
    """Host, port, database, user, schema and password of a server, in a form.

    Signals
    -------
    edited()
        The user changed a field: what was reached with the old ones is no longer known to be the server's.
    """

    edited = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.form = QFormLayout(self)
        self.form.setContentsMargins(0, 0, 0, 0)
        self.host = QLineEdit("localhost")
        self.host.setObjectName("host")
        self.host.setToolTip(_tr("Name or address of the PostgreSQL server (or the folder of its socket)"))
        self.port = QSpinBox()
        self.port.setObjectName("port")
        self.port.setRange(1, 65535)
        self.port.setValue(5432)
        self.database = QLineEdit()
        self.database.setObjectName("database")
        self.user = QLineEdit(login_name())
        self.user.setObjectName("user")
        self.schema = QLineEdit("public")
        self.schema.setObjectName("schema")
        self.password = QLineEdit()
        self.password.setObjectName("password")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setPlaceholderText(_tr("empty: from ~/.pgpass"))
        self.form.addRow(_tr("Host:"), self.host)
        self.form.addRow(_tr("Port:"), self.port)
        self.form.addRow(_tr("Database:"), self.database)
        self.form.addRow(_tr("User:"), self.user)
        self.form.addRow(_tr("Schema:"), self.schema)
        self.form.addRow(_tr("Password:"), self.password)
        self.password_note = QLabel(_tr(
            "The password is used only while the editor runs: it is never saved, nor written to a log. "
            "Leave it empty to use ~/.pgpass (or PGPASSWORD)."))
        self.password_note.setWordWrap(True)
        self.password_note.setStyleSheet("color: palette(placeholder-text)")
        self.form.addRow("", self.password_note)
        self.restore()
        for edit in (self.host, self.database, self.user, self.schema, self.password):
            edit.textEdited.connect(lambda _text: self.edited.emit())
        self.port.valueChanged.connect(lambda _value: self.edited.emit())

    def url(self) -> str:
        """The connection string of the fields (never with the password)."""
        return server_url(self.host.text(), self.port.value(), self.database.text(), self.user.text(),
                          self.schema.text())

    def complete(self) -> bool:
        """Whether the host and the database are given."""
        return bool(self.host.text().strip() and self.database.text().strip())

    def restore(self) -> None:
        """The fields as last remembered."""
        settings = QSettings()
        settings.beginGroup(_SETTINGS)
        for name in _REMEMBERED:
            value = settings.value(name)
            if value:
                getattr(self, name).setText(str(value))
        port = settings.value("port")
        if port:
            self.port.setValue(int(port))
        settings.endGroup()

    def remember(self) -> None:
        """Keep the fields for next time (never the password)."""
        settings = QSettings()
        settings.beginGroup(_SETTINGS)
        for name in _REMEMBERED:
            settings.setValue(name, getattr(self, name).text().strip())
        settings.setValue("port", self.port.value())
        settings.endGroup()
