"""Where the editor's files are: the one module that knows source tree from installed bundle.

From a source checkout the resources sit beside the packages
(``<repo>/resources``); in a PyInstaller bundle they sit in the bundle folder
(``sys._MEIPASS``). The user's own files (the demo workspace, logs) live in
the platform's data folders (platformdirs), wherever the program runs from.
"""

from __future__ import annotations

import sys
from pathlib import Path

import platformdirs

__all__ = [
    "APP_NAME",
    "is_bundled",
    "bundle_root",
    "resources_folder",
    "icons_folder",
    "icon_path",
    "translations_folder",
    "user_data_folder",
    "log_folder",
    "demo_workspace_path",
    "attachments_folder",
]

APP_NAME = "tongcheng"


def is_bundled() -> bool:
    """True when running from a frozen (PyInstaller) bundle."""
    return bool(getattr(sys, "frozen", False) and getattr(sys, "_MEIPASS", None))


def bundle_root() -> Path:
    """The folder holding ``resources/``: the bundle folder or the source checkout."""
    if is_bundled():
        return Path(sys._MEIPASS)
    return Path(__file__).resolve().parents[1]


def resources_folder() -> Path:
    """The ``resources`` folder (icons, translations, styles)."""
    return bundle_root() / "resources"


def icons_folder() -> Path:
    """The folder of the editor's SVG icons."""
    return resources_folder() / "icons"


def icon_path(name: str) -> Path:
    """The path of icon ``name`` (without ``.svg``)."""
    return icons_folder() / f"{name}.svg"


def translations_folder() -> Path:
    """The folder of the ``.ts`` sources and built ``.qm`` translations."""
    return resources_folder() / "translations"


def user_data_folder() -> Path:
    """The user's Tongcheng data folder (e.g. ``~/.local/share/tongcheng``); not created here."""
    return platformdirs.user_data_path(APP_NAME)


def log_folder() -> Path:
    """The user's Tongcheng log folder (crash reports go there); not created here."""
    return platformdirs.user_log_path(APP_NAME)


def demo_workspace_path() -> Path:
    """Where the demo workspace lives (made on the editor's first start)."""
    return user_data_folder() / "demo.sqlite"


def attachments_folder(workspace_path) -> Path:
    """The folder of a workspace's attachments (photos): ``<name>.attachments`` beside the file."""
    path = Path(workspace_path)
    return path.with_name(path.stem + ".attachments")
