"""The composition root of the editor: logging, QApplication, translators, error handling, the main window.

``main()`` is what ``tongcheng editor [WORKSPACE]`` runs. Nothing else in
``desktop`` creates the application, installs translators or decides which
workspace opens.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QLocale, QSettings, Qt, QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QProgressDialog, QWidget

from layers.errors import Cancelled, TongchengError
from layers.log import logger
from layers.workspace.store import Workspace

from . import paths
from .dialogs import ErrorDialog, Prompts
from .error_reporting import configure_logging, install_excepthook
from .main_window import LANGUAGES, MainWindow, saved_language

__all__ = ["main", "application", "choose_language", "set_language", "create_demo_workspace",
           "open_window", "open_windows", "install_excepthook", "configure_logging", "ORGANIZATION"]

ORGANIZATION = "Tongcheng"
_log = logger(__name__)
_windows: list[MainWindow] = []  # keeps the open windows alive


def _tr(text: str) -> str:
    return QCoreApplication.translate("app", text)


def application(argv=None) -> QApplication:
    """The QApplication (made once, with the organisation and name QSettings use)."""
    app = QApplication.instance()
    if app is None:
        QCoreApplication.setOrganizationName(ORGANIZATION)
        QCoreApplication.setApplicationName(paths.APP_NAME)
        app = QApplication(list(argv if argv is not None else sys.argv[:1]))
        app.setWindowIcon(QIcon(str(paths.icon_path("tongcheng"))))
    return app


def choose_language(requested: str | None = None) -> str:
    """The interface language: the one asked for, else the saved setting, else the system locale."""
    codes = dict(LANGUAGES)
    if requested in codes:
        return requested
    saved = saved_language()
    if saved:
        return saved
    try:
        from .i18n import system_language
    except ImportError:
        return "zh_CN" if QLocale.system().name().startswith("zh") else "en"
    language = system_language()
    return language if language in codes else "en"


def set_language(app: QApplication, language: str) -> bool:
    """Install the translators of a language (when the i18n module is present); True if installed."""
    app.setProperty("tongcheng_language", language)
    try:
        from .i18n import install_translators
    except ImportError:
        return False
    install_translators(app, language)
    return True


def create_demo_workspace(path, parent: QWidget | None = None, counts=None) -> Path:
    """Make the demo workspace at ``path`` with a progress dialog.

    It is written under a temporary name and renamed when complete, so an
    interrupted first start never leaves a half-filled demo behind.

    Raises
    ------
    Cancelled
        The user cancelled; nothing is left behind.
    """
    from layers.demo import DEMO_COUNTS, fill_demo

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".new")
    for suffix in ("", "-wal", "-shm"):
        Path(str(partial) + suffix).unlink(missing_ok=True)
    total = sum((counts or DEMO_COUNTS).values())
    dialog = QProgressDialog(_tr("Making the demo workspace (a district of central Chengdu)…"), _tr("Cancel"),
                             0, total, parent)
    dialog.setWindowTitle(_tr("First start"))
    dialog.setWindowModality(Qt.WindowModality.ApplicationModal)
    dialog.setMinimumDuration(0)
    dialog.setValue(0)
    QApplication.processEvents()

    def progress(done, _total):
        dialog.setValue(done)
        QApplication.processEvents()
        if dialog.wasCanceled():
            raise Cancelled("the demo workspace was not made")

    try:
        with Workspace.create(partial) as workspace:
            fill_demo(workspace, counts=counts, progress=progress)
        os.replace(partial, path)
    finally:
        dialog.close()
        dialog.deleteLater()
        for suffix in ("", "-wal", "-shm"):
            Path(str(partial) + suffix).unlink(missing_ok=True)
    return path


def open_window(path, *, language: str = "zh_CN", prompts: Prompts | None = None, show: bool = True) -> MainWindow:
    """Open a workspace in a new main window (the application must exist)."""
    workspace = Workspace.open(path)
    try:
        window = MainWindow(workspace, language=language, prompts=prompts)
    except BaseException:
        workspace.close()
        raise
    window.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
    window.openWorkspaceRequested.connect(lambda new_path, w=window: _switch_workspace(w, new_path))
    window.languageRequested.connect(lambda code: _change_language(code))
    window.destroyed.connect(lambda *_: _windows.remove(window) if window in _windows else None)
    _windows.append(window)
    if show:
        window.show()
    return window


def open_windows() -> list[MainWindow]:
    """The editor's open main windows, oldest first."""
    return list(_windows)


def _switch_workspace(window: MainWindow, path: str) -> None:
    # prompts given to the window from outside (scripted answers) answer for the next window too
    prompts = window.prompts if getattr(window.prompts, "parent", None) is not window else None
    try:
        new = open_window(path, language=window.language, prompts=prompts, show=False)
    except TongchengError as e:
        window.prompts.error(_tr("Cannot open the workspace"), str(e))
        return
    if window.close():
        new.show()
    else:
        new.shutdown()
        new.deleteLater()


def _change_language(language: str) -> None:
    QSettings().setValue("language", language)
    app = QApplication.instance()
    set_language(app, language)
    for window in list(_windows):
        window.set_language(language)


def main(workspace=None, language: str | None = None, argv=None) -> int:
    """Run the editor on a workspace (the demo workspace by default); returns the exit code."""
    log_file = configure_logging()
    _log.info("Tongcheng editor starting (log %s)", log_file)
    app = application(argv)
    language = choose_language(language)
    set_language(app, language)
    install_excepthook(lambda: QApplication.activeWindow())
    if workspace is None:
        path = paths.demo_workspace_path()
        if not path.exists():
            try:
                create_demo_workspace(path)
            except Cancelled:
                return 1
    else:
        path = Path(workspace)
    try:
        window = open_window(path, language=language)
    except TongchengError as e:
        ErrorDialog(_tr("Cannot open the workspace"), str(e)).exec()
        return 1
    if screenshot := os.environ.get("TONGCHENG_SCREENSHOT"):  # the bundle test: save the window, then quit
        QTimer.singleShot(0, lambda: (wait_for_render(window), window.grab().save(screenshot), window.close(),
                                      app.quit()))
    return app.exec()


def wait_for_render(window, settle_seconds=0.3, timeout=30.0):
    """Process events until the window's map has rendered its view, then a little longer (for screenshots)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        QApplication.processEvents()
        if not window.canvas.is_rendering():
            break
        time.sleep(0.01)
    pause = time.monotonic() + settle_seconds
    while time.monotonic() < pause:
        QApplication.processEvents()
        time.sleep(0.01)
