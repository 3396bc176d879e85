"""The installer: build the one-folder bundle once, unpack its archive elsewhere, and run it as a user would.

Every run of the bundle gets an emptied environment (``HOME`` and
``PATH=/usr/bin:/bin`` only: no virtual environment, no PYTHONPATH, no
PROJ_DATA), so it works only if it carries what it needs. The build takes
about a minute and a half; select these tests with ``-m bundle``, leave them
out with ``-m "not bundle"``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.conftest import TESTDATA as DATA_ROOT

ROOT = Path(__file__).resolve().parents[2]
INSTALLER = ROOT / "installer"
sys.path.insert(0, str(INSTALLER))
import buildinfo  # noqa: E402

VERSION = buildinfo.installed_distribution().version
ARCHIVE = f"tongcheng-{VERSION}-linux-x86_64.tar.gz"
GLIBC = ("ld-linux", "libc.so", "libm.so", "libdl.so", "libpthread.so", "librt.so", "libresolv.so")

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the Linux bundle")


# --- building (once per session) ---------------------------------------------------------------

@pytest.fixture(scope="module")
def build(tmp_path_factory):
    """Run the README's build command into a temporary folder; the paths of its outputs."""
    out = tmp_path_factory.mktemp("installer")
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, str(INSTALLER / "build.py"), "--dist", str(out / "dist"), "--work", str(out / "build")],
        cwd=ROOT, capture_output=True, text=True, encoding="utf-8", timeout=1800)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
    return SimpleNamespace(dist=out / "dist", folder=out / "dist" / "tongcheng", archive=out / "dist" / ARCHIVE,
                           seconds=time.monotonic() - started, log=result.stdout)


@pytest.fixture(scope="module")
def bundle(build, tmp_path_factory):
    """The bundle unpacked from the archive into another folder (nothing may point back at the build)."""
    target = tmp_path_factory.mktemp("unpacked")
    subprocess.run(["tar", "-xzf", str(build.archive), "-C", str(target)], check=True)
    return target / "tongcheng"


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    """The user's home folder of the runs (settings, demo workspace and fontconfig cache go there)."""
    return tmp_path_factory.mktemp("home")


def run(bundle, home, *args, env=None, timeout=600, check=True, executable=None):
    """Run the bundle's tongcheng with an emptied environment (as ``env -i HOME=... PATH=/usr/bin:/bin``)."""
    environment = {"HOME": str(home), "PATH": "/usr/bin:/bin", **(env or {})}
    result = subprocess.run([str(executable or bundle / "tongcheng"), *map(str, args)], cwd=home, env=environment,
                            capture_output=True, text=True, encoding="utf-8", timeout=timeout)
    if check:
        assert result.returncode == 0, (
            f"tongcheng {' '.join(map(str, args))}: {result.stdout[-2000:]}\n{result.stderr[-4000:]}")
    return result


@pytest.fixture(scope="module")
def workspace(bundle, home):
    """A demo workspace made by the bundle."""
    path = home / "X.sqlite"
    run(bundle, home, "demo", path)
    return path


def no_traceback(result):
    assert "Traceback" not in result.stderr, result.stderr[-4000:]


# --- what the build makes ------------------------------------------------------------------------

@linux_only
@pytest.mark.bundle
def test_build_makes_the_folder_and_the_versioned_archive(build):
    assert (build.folder / "tongcheng").is_file() and os.access(build.folder / "tongcheng", os.X_OK)
    assert build.archive.is_file()
    assert buildinfo.archive_name(VERSION) == ARCHIVE
    assert (build.folder / "VERSION").read_text().strip() == VERSION
    size = sum(p.stat().st_size for p in build.folder.rglob("*") if p.is_file() and not p.is_symlink())
    print(f"\nbundle: {size / 1e6:.0f} MB, archive {build.archive.stat().st_size / 1e6:.0f} MB, "
          f"built in {build.seconds:.0f} s")
    assert size < 600e6


@linux_only
@pytest.mark.bundle
def test_bundle_carries_spatialite_its_libraries_and_the_data(bundle):
    internal = bundle / "_internal"
    assert (internal / "mod_spatialite.so").is_file()
    for soname, _path in buildinfo.spatialite_dependencies().items():
        if not soname.startswith(GLIBC):
            assert (internal / soname).is_file(), f"{soname} (linked by mod_spatialite) is not in the bundle"
    for name in ("libproj.so.25", "libgeos_c.so.1", "librttopo.so.1", "libfreexl.so.1", "libminizip.so.1"):
        assert (internal / name).is_file(), name
    assert (bundle / "share" / "proj" / "proj.db").is_file()
    assert (internal / "pyproj" / "proj_dir" / "share" / "proj" / "proj.db").is_file()
    assert (internal / "fiona" / "gdal_data" / "gdalvrt.xsd").is_file()
    assert (internal / "fiona" / "proj_data" / "proj.db").is_file()

    definitions = sorted(p.name for p in (ROOT / "layers" / "definitions").glob("*.toml"))
    assert sorted(p.name for p in (internal / "layers" / "definitions").glob("*.toml")) == definitions
    icons = sorted(p.name for p in (ROOT / "resources" / "icons").glob("*.svg"))
    assert sorted(p.name for p in (internal / "resources" / "icons").glob("*.svg")) == icons
    for ts in (ROOT / "resources" / "translations").glob("*.ts"):
        assert (internal / "resources" / "translations" / ts.with_suffix(".qm").name).is_file()
    assert (internal / "PySide6" / "Qt" / "translations" / "qtbase_zh_CN.qm").is_file()
    assert (internal / "resources" / "fonts" / "wqy-microhei.ttc").is_file()
    assert (internal / "resources" / "fonts" / "fonts.conf").is_file()
    assert (internal / "README.md").read_text("utf-8") == (ROOT / "README.md").read_text("utf-8")  # Help > Guide
    entry_points = list(internal.glob("tongcheng-*.dist-info/entry_points.txt"))
    assert entry_points and "desktop.cli:add_commands" in entry_points[0].read_text()


# --- running it ------------------------------------------------------------------------------------

@linux_only
@pytest.mark.bundle
def test_version_comes_from_the_metadata_and_start_time(bundle, home):
    times = []
    for _ in range(3):
        started = time.monotonic()
        result = run(bundle, home, "--version")
        times.append(time.monotonic() - started)
    assert result.stdout.strip() == f"tongcheng {VERSION}"
    print(f"\ntongcheng --version: {min(times):.2f} s (best of 3; first {times[0]:.2f} s)")
    assert min(times) < 10
    assert "editor" in run(bundle, home, "--help").stdout


@linux_only
@pytest.mark.bundle
def test_selfcheck_finds_every_library_and_data_file_inside_the_bundle(bundle, home):
    result = run(bundle, home, "selfcheck", "--qt", "--json", env={"QT_QPA_PLATFORM": "offscreen"})
    report = json.loads(result.stdout)
    failed = [c for c in report["checks"] if not c["ok"]]
    assert report["ok"] and not failed, failed
    facts = report["facts"]
    inside = str(bundle.resolve())
    assert facts["frozen"] and facts["bundle"] == inside
    assert facts["spatialite"]["proj_db"].startswith(inside)      # SpatiaLite's PROJ: share/proj
    assert facts["pyproj"]["data"].startswith(inside)              # pyproj's PROJ: its own data
    assert facts["fiona"]["proj_data"].startswith(inside)          # GDAL's PROJ: fiona's data
    assert facts["fiona"]["gdal_data"].startswith(inside)
    outside = [name for name in facts["libraries_outside_bundle"] if not name.startswith(GLIBC)]
    assert outside == [], f"libraries loaded from the system: {outside}"
    assert any("WenQuanYi" in family for family in facts["cjk_fonts"])


@linux_only
@pytest.mark.bundle
def test_selfcheck_ignores_other_gis_installations_data(bundle, home, tmp_path):
    """A PROJ_DATA or GDAL_DATA left by another GIS install must not reach the bundled libraries."""
    (tmp_path / "proj.db").write_bytes(b"not a database")
    result = run(bundle, home, "selfcheck", "--json", env={"PROJ_DATA": tmp_path, "PROJ_LIB": tmp_path,
                                                         "GDAL_DATA": tmp_path})
    assert json.loads(result.stdout)["ok"]


@linux_only
@pytest.mark.bundle
def test_demo_info_export_and_gps_import(bundle, home, workspace, tmp_path):
    from osgeo_utils.samples import validate_gpkg

    info = run(bundle, home, "info", workspace).stdout
    assert "toilets" in info and "公厕" in info

    out = tmp_path / "out.gpkg"
    result = run(bundle, home, "export", workspace, out)
    no_traceback(result)
    validate_gpkg.check(str(out), extra_checks=True, warning_as_error=True)

    gpx = tmp_path / "korita-zbevnica.gpx"
    shutil.copy2(DATA_ROOT / "gpx" / "korita-zbevnica.gpx", gpx)
    copy = tmp_path / "gps.sqlite"          # the file lies in Slovenia: a CRS whose area of use holds it
    no_traceback(run(bundle, home, "init", copy, "--crs", "EPSG:3857"))
    result = run(bundle, home, "gps", "import", copy, gpx)
    no_traceback(result)
    tracks = [line for line in run(bundle, home, "info", copy).stdout.splitlines() if line.startswith("gps_tracks")]
    assert tracks and int(tracks[0].split()[3]) > 0, tracks


@linux_only
@pytest.mark.bundle
def test_editor_opens_its_window_offscreen(bundle, home, workspace, tmp_path):
    from PySide6.QtGui import QImage

    # The editor's main window on the workspace, saved as an image (tongcheng selfcheck --screenshot
    # runs desktop.app's application/set_language/open_window, as `tongcheng editor` does).
    shot = tmp_path / "editor.png"
    result = run(bundle, home, "selfcheck", "--screenshot", shot, workspace, "--json",
                 env={"QT_QPA_PLATFORM": "offscreen"})
    report = json.loads(result.stdout)
    assert report["ok"], [c for c in report["checks"] if not c["ok"]]
    image = QImage(str(shot))
    assert not image.isNull() and (image.width(), image.height()) == (1280, 800)
    colours = {image.pixel(x, y) for x in range(0, 1280, 16) for y in range(0, 800, 16)}
    assert len(colours) > 20, "the window looks blank"
    print(f"\neditor window shown {report['facts']['screenshot']['since_process_start']} s after the process started")

    # `tongcheng editor X.sqlite` itself: it starts, opens the workspace and runs its event loop.
    environment = {"HOME": str(home), "PATH": "/usr/bin:/bin", "QT_QPA_PLATFORM": "offscreen",
                   "TONGCHENG_SCREENSHOT": str(tmp_path / "editor-command.png")}
    process = subprocess.Popen([str(bundle / "tongcheng"), "editor", str(workspace)], cwd=home, env=environment,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, encoding="utf-8")
    try:
        stdout, stderr = process.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        process.terminate()
        stdout, stderr = process.communicate(timeout=30)
        assert "Traceback" not in stderr and "tongcheng: error" not in stderr, stderr[-4000:]
    else:
        # It quit by itself: only the screenshot hook may make it (TONGCHENG_SCREENSHOT, see the README).
        assert process.returncode == 0, stderr[-4000:]
        assert not QImage(str(tmp_path / "editor-command.png")).isNull(), stderr[-4000:]


@linux_only
@pytest.mark.bundle
def test_install_script_puts_the_editor_in_the_menu_and_uninstalls(bundle, tmp_path):
    user = tmp_path / "user"
    user.mkdir()
    environment = {"HOME": str(user), "PATH": "/usr/bin:/bin"}
    result = subprocess.run([str(bundle / "install.sh")], env=environment, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr

    link = user / ".local" / "bin" / "tongcheng"
    entry = user / ".local" / "share" / "applications" / "tongcheng.desktop"
    icon = user / ".local" / "share" / "icons" / "hicolor" / "scalable" / "apps" / "tongcheng.svg"
    assert link.is_symlink() and entry.is_file() and icon.is_file()
    installed = user / ".local" / "lib" / "tongcheng"
    text = entry.read_text("utf-8")
    assert f'Exec="{installed}/tongcheng" editor %f' in text and "Icon=tongcheng" in text
    if shutil.which("desktop-file-validate"):
        check = subprocess.run(["desktop-file-validate", str(entry)], capture_output=True, text=True)
        assert check.returncode == 0, check.stdout + check.stderr
    # The command through the link, from anywhere (the bundle follows the link to its folder).
    assert run(bundle, user, "--version", executable=link).stdout.strip() == f"tongcheng {VERSION}"

    result = subprocess.run([str(installed / "install.sh"), "--uninstall"], env=environment, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert not link.exists() and not link.is_symlink() and not entry.exists() and not icon.exists()
    assert not installed.exists()


# --- parts that need no build --------------------------------------------------------------------------

def test_windows_version_info_is_generated_from_the_metadata(tmp_path, monkeypatch):
    import types

    import PyInstaller.compat

    # PyInstaller's version-info parser imports Windows-only modules it needs only to patch an .exe.
    monkeypatch.setitem(sys.modules, "pefile", types.ModuleType("pefile"))
    monkeypatch.setattr(PyInstaller.compat, "win32api", types.ModuleType("win32api"), raising=False)
    monkeypatch.delitem(sys.modules, "PyInstaller.utils.win32.versioninfo", raising=False)
    from PyInstaller.utils.win32 import versioninfo

    path = buildinfo.windows_version_info("1.2.3rc1", tmp_path / "version_info.txt")
    info = versioninfo.load_version_info_from_text_file(str(path))
    assert info.ffi.fileVersionMS == (1 << 16) | 2 and info.ffi.fileVersionLS == (3 << 16) | 1
    assert "StringStruct('ProductVersion', '1.2.3rc1')" in str(info)
    assert info.toRaw()  # what PyInstaller writes into tongcheng.exe


def test_windows_icon_is_rendered_from_the_svg(tmp_path, qapp):
    from PySide6.QtGui import QImage

    ico = buildinfo.make_ico(ROOT / "resources" / "icons" / "tongcheng.svg", tmp_path / "tongcheng.ico")
    image = QImage(str(ico))
    assert not image.isNull() and image.width() == 256


def test_paths_prepare_the_bundle_environment(tmp_path, monkeypatch):
    from desktop import paths

    environ = {"PROJ_DATA": "/opt/qgis/share/proj", "GDAL_DATA": "/x", "HOME": "/home/u"}
    assert paths.prepare_environment(environ) == {} and "PROJ_DATA" in environ  # from source: nothing changes
    assert paths.spatialite_proj_data_folder() is None

    internal = tmp_path / "tongcheng" / "_internal"
    (internal / "resources" / "fonts").mkdir(parents=True)
    (internal / "resources" / "fonts" / "fonts.conf").write_text("<fontconfig/>")
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "_MEIPASS", str(internal), raising=False)
    changes = paths.prepare_environment(environ)
    assert environ == {"HOME": "/home/u", "FONTCONFIG_FILE": str(internal / "resources" / "fonts" / "fonts.conf")}
    assert changes == {"PROJ_DATA": None, "GDAL_DATA": None, "FONTCONFIG_FILE": environ["FONTCONFIG_FILE"]}
    assert paths.spatialite_proj_data_folder() == tmp_path / "tongcheng" / "share" / "proj"
    assert paths.icon_path("tongcheng") == internal / "resources" / "icons" / "tongcheng.svg"
    mine = {"FONTCONFIG_FILE": "/etc/mine.conf"}
    paths.prepare_environment(mine)
    assert mine == {"FONTCONFIG_FILE": "/etc/mine.conf"}
