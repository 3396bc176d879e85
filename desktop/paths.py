"""Where the editor's files are: the one module that knows source tree from installed bundle.

From a source checkout the resources sit beside the packages
(``<repo>/resources``); in a PyInstaller bundle they sit in the bundle folder
(``sys._MEIPASS``). The user's own files (the demo workspace, logs) live in
the platform's data folders (platformdirs), wherever the program runs from.

The bundle's layout (made by ``installer/tongcheng.spec``)::

    tongcheng/                  the unpacked folder
      tongcheng                 the executable
      install.sh                puts it into the user's menu (installer/linux/)
      share/proj/               PROJ data of SpatiaLite's PROJ (found by that
                                libproj as ``../share/proj`` from its own folder)
      _internal/                sys._MEIPASS
        mod_spatialite.so, libproj.so.25, libgeos_c.so.1, ...
        resources/icons/ resources/translations/*.qm resources/fonts/
        pyproj/proj_dir/share/proj/   pyproj's PROJ data
        fiona/gdal_data/ fiona/proj_data/  GDAL's and fiona's PROJ data
        PySide6/Qt/translations/qtbase_zh_CN.qm

Three PROJ libraries live in one process (pyproj's, the one inside fiona's
GDAL, and the system one SpatiaLite links); each finds its own ``proj.db``
(their database layouts differ), so the bundle never sets ``PROJ_DATA``, and
``prepare_environment`` removes one inherited from another GIS install.
"""

from __future__ import annotations

import os
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
    "log_file",
    "LOG_DIR_VARIABLE",
    "demo_workspace_path",
    "attachments_folder",
    "fonts_folder",
    "spatialite_proj_data_folder",
    "prepare_environment",
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


LOG_DIR_VARIABLE = "TONGCHENG_LOG_DIR"
"""An environment variable naming another log folder (tests set it, so they never write the user's)."""


def log_folder() -> Path:
    """The editor's log folder (its log and crash reports): ``$TONGCHENG_LOG_DIR``, else the user's
    Tongcheng log folder (``layers.log.log_folder()``); not created here."""
    override = os.environ.get(LOG_DIR_VARIABLE)
    if override:
        return Path(override)
    from layers.log import log_folder as user_log_folder

    return user_log_folder()


def log_file() -> Path:
    """The editor's rotating log file in :func:`log_folder`."""
    from layers.log import LOG_FILE_NAME

    return log_folder() / LOG_FILE_NAME


def demo_workspace_path() -> Path:
    """Where the demo workspace lives (made on the editor's first start)."""
    return user_data_folder() / "demo.sqlite"


def attachments_folder(workspace_path) -> Path:
    """The folder of a workspace's attachments (photos): ``<name>.attachments`` beside the file."""
    path = Path(workspace_path)
    return path.with_name(path.stem + ".attachments")


def fonts_folder() -> Path:
    """The fonts the bundle carries (a CJK font); from a source checkout the system's fonts serve."""
    return resources_folder() / "fonts"


def spatialite_proj_data_folder() -> Path | None:
    """The PROJ data of the PROJ library SpatiaLite links, in a bundle (``<bundle>/share/proj``); else None.

    From a source checkout that library is the system's and finds the
    system's data (``/usr/share/proj``) itself.
    """
    if not is_bundled():
        return None
    return bundle_root().parent / "share" / "proj"


#: Variables that would point the bundle's GDAL and PROJ libraries at another
#: installation's data or plugins (e.g. QGIS or OSGeo4W), whose versions differ.
FOREIGN_GIS_VARIABLES = ("PROJ_DATA", "PROJ_LIB", "GDAL_DATA", "GDAL_DRIVER_PATH", "PROJ_NETWORK")


def prepare_environment(environ=None) -> dict:
    """Set up the process environment of a bundle before the core starts (does nothing from source).

    Removes variables that would point the bundled GDAL/PROJ at another
    installation (each bundled library finds its own data; see the module
    docstring), and points fontconfig at a configuration that adds the
    bundled CJK font to the system's fonts (unless ``FONTCONFIG_FILE`` is
    already set). Returns the changes made, ``{name: new value or None}``.
    """
    environ = os.environ if environ is None else environ
    changes = {}
    if not is_bundled():
        return changes
    for name in FOREIGN_GIS_VARIABLES:
        if name in environ:
            del environ[name]
            changes[name] = None
    fonts_conf = fonts_folder() / "fonts.conf"
    if fonts_conf.exists() and not environ.get("FONTCONFIG_FILE"):
        environ["FONTCONFIG_FILE"] = str(fonts_conf)
        changes["FONTCONFIG_FILE"] = str(fonts_conf)
    return changes
