"""What the bundle is built from: the version, SpatiaLite and its libraries, the font, Windows parts.

Used by ``tongcheng.spec`` and ``build.py`` (and tested on its own); imports
nothing of PyInstaller's so that it can be imported anywhere.
"""

from __future__ import annotations

import platform
import re
import shutil
import subprocess
import sys
import tomllib
from importlib.metadata import distributions
from pathlib import Path

__all__ = [
    "ROOT",
    "DISTRIBUTION",
    "installed_distribution",
    "project_version",
    "require_entry_points",
    "archive_name",
    "spatialite_module",
    "spatialite_dependencies",
    "spatialite_proj_data",
    "cjk_font",
    "fonts_conf",
    "windows_version_info",
    "make_ico",
]

ROOT = Path(__file__).resolve().parents[1]
DISTRIBUTION = "tongcheng"
ENTRY_POINT_GROUP = "tongcheng.commands"

#: Where Debian keeps mod_spatialite (libsqlite3-mod-spatialite) and PROJ's data (proj-data).
SPATIALITE_CANDIDATES = (
    Path("/usr/lib/x86_64-linux-gnu/mod_spatialite.so"),
    Path("/usr/lib/aarch64-linux-gnu/mod_spatialite.so"),
    Path("/usr/lib64/mod_spatialite.so"),
    Path("/usr/lib/mod_spatialite.so"),
)
SYSTEM_PROJ_DATA = Path("/usr/share/proj")
#: Files of PROJ's data SpatiaLite needs (its transformations use no grids here: they are 20 MB more).
PROJ_DATA_FILES = ("proj.db", "proj.ini", "*.json")
#: The CJK font (Debian's fonts-wqy-microhei): Apache-2.0 or GPL-3+ with the font exception; we take Apache-2.0.
CJK_FONT = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
CJK_FONT_COPYRIGHT = Path("/usr/share/doc/fonts-wqy-microhei/copyright")
APACHE_LICENCE = Path("/usr/share/common-licenses/Apache-2.0")


def installed_distribution():
    """The ``tongcheng`` distribution installed in this Python (its ``.dist-info`` in site-packages).

    Leaves out the source tree itself, where a stale ``tongcheng.egg-info``
    from an old setuptools run may lie and would win when the tree is on
    ``sys.path``.
    """
    path = [p for p in sys.path if Path(p or ".").resolve() != ROOT]
    for found in distributions(name=DISTRIBUTION, path=path):
        return found
    raise SystemExit(f"build: the {DISTRIBUTION} package is not installed in {sys.prefix}; run ./setup.sh --no-run")


def metadata_folder() -> Path:
    """The folder of the installed distribution's metadata (what the bundle carries)."""
    found = installed_distribution()
    records = [f for f in (found.files or []) if f.name in ("METADATA", "PKG-INFO")]
    folder = Path(records[0].locate()).parent if records else Path(found._path)  # (_path: no RECORD)
    if not (folder / "METADATA").exists() and not (folder / "PKG-INFO").exists():
        raise SystemExit(f"build: no metadata in {folder}")
    return folder


def project_version(root: Path = ROOT) -> str:
    """The version of the installed ``tongcheng`` distribution (its metadata), checked against pyproject.toml.

    The metadata is what ``tongcheng --version`` reports, in the bundle too;
    a mismatch means the virtual environment is stale (``./setup.sh --no-run``
    reinstalls when pyproject.toml changes).
    """
    version = installed_distribution().version
    declared = tomllib.loads((root / "pyproject.toml").read_text("utf-8"))["project"].get("version")
    if declared and declared != version:
        raise SystemExit(f"build: installed {DISTRIBUTION} {version} differs from pyproject.toml's {declared}; "
                         "run ./setup.sh --no-run to reinstall")
    return version


def require_entry_points(required=("editor",)) -> dict:
    """The ``tongcheng.commands`` entry points of the installed metadata; exits if one is missing.

    The bundle carries this metadata, so the frozen CLI finds its command
    groups exactly as the installed one does.
    """
    found = {ep.name: ep.value for ep in installed_distribution().entry_points if ep.group == ENTRY_POINT_GROUP}
    missing = [name for name in required if name not in found]
    if missing:
        raise SystemExit(f"build: the installed metadata lacks the {ENTRY_POINT_GROUP} entry point(s) {missing}; "
                         "run ./setup.sh --no-run")
    return found


def platform_tag() -> str:
    system = {"linux": "linux", "win32": "windows", "darwin": "macos"}.get(sys.platform, sys.platform)
    machine = platform.machine().lower().replace("amd64", "x86_64")
    return f"{system}-{machine}"


def archive_name(version: str) -> str:
    """``tongcheng-<version>-<system>-<machine>.tar.gz`` (``.zip`` on Windows)."""
    suffix = ".zip" if sys.platform == "win32" else ".tar.gz"
    return f"{DISTRIBUTION}-{version}-{platform_tag()}{suffix}"


def spatialite_module() -> Path:
    """The mod_spatialite library to bundle (Debian's libsqlite3-mod-spatialite)."""
    for candidate in SPATIALITE_CANDIDATES:
        if candidate.exists():
            return candidate
    raise SystemExit("build: mod_spatialite.so not found; install libsqlite3-mod-spatialite (./setup.sh does)")


def spatialite_dependencies(module: Path | None = None) -> dict[str, Path]:
    """{soname: path} of every library mod_spatialite loads, from ``ldd``.

    PyInstaller collects these itself when mod_spatialite is a binary of the
    bundle (leaving out glibc and the graphics stack); the list is what the
    build checks it did.
    """
    module = module or spatialite_module()
    output = subprocess.run(["ldd", str(module)], check=True, capture_output=True, text=True).stdout
    found = {}
    for line in output.splitlines():
        match = re.match(r"\s*(\S+) => (/\S+)", line)
        if match:
            found[match.group(1)] = Path(match.group(2))
    return found


def spatialite_proj_data() -> list[Path]:
    """The files of the system's PROJ data that SpatiaLite's PROJ needs (proj.db first)."""
    if not (SYSTEM_PROJ_DATA / "proj.db").exists():
        raise SystemExit(f"build: {SYSTEM_PROJ_DATA}/proj.db not found; install proj-data")
    files = []
    for pattern in PROJ_DATA_FILES:
        files += sorted(SYSTEM_PROJ_DATA.glob(pattern))
    return files


def cjk_font() -> list[tuple[Path, str]]:
    """[(source, name in the bundle)] of the CJK font and its licence texts."""
    if not CJK_FONT.exists():
        raise SystemExit(f"build: {CJK_FONT} not found; install fonts-wqy-microhei (./setup.sh does)")
    files = [(CJK_FONT, CJK_FONT.name)]
    if CJK_FONT_COPYRIGHT.exists():
        files.append((CJK_FONT_COPYRIGHT, "wqy-microhei.COPYRIGHT.txt"))
    if APACHE_LICENCE.exists():
        files.append((APACHE_LICENCE, "Apache-2.0.txt"))
    return files


FONTS_CONF = """<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">
<!-- The bundle's fontconfig file (FONTCONFIG_FILE, set by desktop/paths.py):
     the system's configuration and fonts, and the CJK font beside this file. -->
<fontconfig>
  <include ignore_missing="yes">/etc/fonts/fonts.conf</include>
  <dir prefix="relative">.</dir>
  <cachedir prefix="xdg">fontconfig</cachedir>
</fontconfig>
"""


def fonts_conf(folder: Path) -> Path:
    """Write the bundle's fonts.conf into ``folder`` and return its path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "fonts.conf"
    path.write_text(FONTS_CONF, "utf-8")
    return path


def _version_tuple(version: str) -> tuple[int, int, int, int]:
    numbers = [int(n) for n in re.findall(r"\d+", version.split("+")[0])[:4]]
    return tuple(numbers + [0] * (4 - len(numbers)))


def windows_version_info(version: str, path: Path) -> Path:
    """Write the VSVersionInfo file PyInstaller embeds in tongcheng.exe (``EXE(version=...)``)."""
    numbers = _version_tuple(version)
    strings = {
        "CompanyName": "Tongcheng",
        "FileDescription": "Tongcheng street-facility editor",
        "FileVersion": version,
        "InternalName": "tongcheng",
        "LegalCopyright": "MIT licence",
        "OriginalFilename": "tongcheng.exe",
        "ProductName": "Tongcheng 同城",
        "ProductVersion": version,
    }
    string_structs = ",\n".join(f"          StringStruct({key!r}, {value!r})" for key, value in strings.items())
    text = f"""# UTF-8
# Generated by installer/buildinfo.py from the package metadata; do not edit.
VSVersionInfo(
  ffi=FixedFileInfo(
    filevers={numbers!r},
    prodvers={numbers!r},
    mask=0x3f,
    flags=0x0,
    OS=0x40004,
    fileType=0x1,
    subtype=0x0,
    date=(0, 0)
  ),
  kids=[
    StringFileInfo([
      StringTable(
        '080404b0',
        [
{string_structs}
        ])
    ]),
    VarFileInfo([VarStruct('Translation', [0x0804, 1200, 0x0409, 1200])])
  ]
)
"""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, "utf-8")
    return path


def make_ico(svg: Path, ico: Path, size: int = 256) -> Path:
    """Render the SVG icon into a Windows .ico (Qt's SVG renderer and ICO writer; Windows scales it down)."""
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication, QImage, QImageWriter, QPainter
    from PySide6.QtSvg import QSvgRenderer

    app = QGuiApplication.instance() or QGuiApplication(["make_ico", "-platform", "offscreen"])  # noqa: F841
    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise SystemExit(f"build: cannot read the icon {svg}")
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    renderer.render(painter)
    painter.end()
    ico.parent.mkdir(parents=True, exist_ok=True)
    writer = QImageWriter(str(ico), b"ico")
    if not writer.write(image):
        raise SystemExit(f"build: cannot write {ico}: {writer.errorString()}")
    return ico


def copy_files(files, folder: Path) -> None:
    """Copy files into ``folder`` (made if missing)."""
    folder.mkdir(parents=True, exist_ok=True)
    for source in files:
        shutil.copy2(source, folder / Path(source).name)
