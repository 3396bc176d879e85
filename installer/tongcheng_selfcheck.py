"""``tongcheng selfcheck``: check an installed bundle's libraries and data on this machine.

    tongcheng selfcheck                 core checks (SpatiaLite, PROJ x3, GDAL), a table
    tongcheng selfcheck --qt            also the editor's Qt parts (translations, CJK font)
    tongcheng selfcheck --json          the same as JSON (what the bundle test reads)
    tongcheng selfcheck --screenshot shot.png WORKSPACE
                                        also open WORKSPACE in the editor's main window
                                        (offscreen when there is no display) and save it

Support staff run it when the bundle misbehaves on an office machine; the
bundle test runs it in an emptied environment. It uses only the packages'
public functions (``layers.sqlite.spatialite.connect``, ``desktop.app.open_window``
...), the same code the ``tongcheng`` commands run. Exits 1 when a check fails.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

# A point in central Chengdu and the workspace's default CRS.
LONLAT = (104.0665, 30.6595)
TARGET_CRS = 4544
TOLERANCE_M = 0.01


class Report:
    def __init__(self):
        self.checks = []
        self.facts = {}

    def check(self, name, ok, detail=""):
        self.checks.append({"name": name, "ok": bool(ok), "detail": str(detail)})

    def run(self, name, function):
        """Run ``function()`` (which records facts and checks); an exception is a failed check."""
        try:
            function()
        except Exception as e:  # noqa: BLE001 - a self-check reports every failure and goes on
            self.check(name, False, f"{type(e).__name__}: {e}")

    @property
    def ok(self):
        return all(c["ok"] for c in self.checks)


def _bundle_root():
    from desktop import paths

    return paths.bundle_root().parent if paths.is_bundled() else None


def _inside_bundle(path):
    root = _bundle_root()
    return root is not None and Path(path).resolve().is_relative_to(root.resolve())


def loaded_libraries():
    """{file name: path} of the shared libraries mapped into this process (Linux)."""
    found = {}
    try:
        with open("/proc/self/maps", encoding="utf-8", errors="replace") as maps:
            for line in maps:
                parts = line.split(None, 5)
                if len(parts) == 6 and ".so" in parts[5]:
                    path = parts[5].strip()
                    found.setdefault(Path(path).name, path)
    except OSError:
        pass
    return found


def check_core(report):
    from layers import __version__

    report.facts["version"] = __version__
    report.facts["frozen"] = bool(getattr(sys, "frozen", False))
    report.facts["bundle"] = str(_bundle_root()) if _bundle_root() else None
    report.facts["python"] = sys.version.split()[0]

    def pyproj_check():
        import pyproj

        transformer = pyproj.Transformer.from_crs("EPSG:4326", f"EPSG:{TARGET_CRS}", always_xy=True)
        report.facts["pyproj"] = {"version": pyproj.__version__, "proj": pyproj.proj_version_str,
                                  "data": pyproj.datadir.get_data_dir()}
        report.facts["xy"] = transformer.transform(*LONLAT)
        report.check("pyproj transforms EPSG:4326 -> 4544", all(abs(v) > 1000 for v in report.facts["xy"]),
                     report.facts["xy"])

    def fiona_check():
        # fiona before SpatiaLite (see layers/export.py): SQLite loads mod_spatialite globally.
        import fiona
        import fiona.transform
        from fiona.env import GDALDataFinder, PROJDataFinder

        xs, ys = fiona.transform.transform("EPSG:4326", f"EPSG:{TARGET_CRS}", [LONLAT[0]], [LONLAT[1]])
        gdal_data = GDALDataFinder().search()
        proj_data = PROJDataFinder().search()
        report.facts["fiona"] = {"version": fiona.__version__, "gdal": fiona.__gdal_version__,
                                 "gdal_data": gdal_data, "proj_data": proj_data}
        report.check("fiona (GDAL) has the GPKG driver", "GPKG" in fiona.supported_drivers)
        report.check("fiona (GDAL) finds its data", gdal_data and Path(gdal_data, "gdalvrt.xsd").exists(), gdal_data)
        report.check("fiona (GDAL) transforms like pyproj", _close((xs[0], ys[0]), report.facts.get("xy")),
                     (xs[0], ys[0]))

    def spatialite_check():
        from layers.sqlite import spatialite as spatialite

        connection = spatialite.connect(":memory:")
        try:
            row = connection.execute(
                "SELECT spatialite_version(), proj_version(), geos_version(), PROJ_GetDatabasePath()").fetchone()
            report.facts["spatialite"] = dict(zip(("version", "proj", "geos", "proj_db"), row, strict=True),
                                              library=spatialite.spatialite_library())
            connection.execute("SELECT InitSpatialMetadata(1)")
            xy = connection.execute(
                "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_Transform(MakePoint(?, ?, 4326), ?) AS p)",
                (*LONLAT, TARGET_CRS)).fetchone()
            # While the connection is open: SQLite unloads mod_spatialite (and what it alone links) on close.
            report.facts["libraries"] = loaded_libraries()
        finally:
            connection.close()
        report.check("SpatiaLite transforms like pyproj", xy[0] is not None and _close(xy, report.facts.get("xy")), xy)
        if report.facts["frozen"]:
            report.check("SpatiaLite's PROJ uses the bundle's proj.db", row[3] and _inside_bundle(row[3]), row[3])

    report.run("pyproj", pyproj_check)
    report.run("fiona", fiona_check)
    report.run("SpatiaLite", spatialite_check)

    libraries = report.facts.get("libraries") or loaded_libraries()
    report.facts["libraries"] = libraries
    if report.facts["frozen"]:
        outside = sorted(name for name, path in libraries.items() if not _inside_bundle(path))
        report.facts["libraries_outside_bundle"] = outside
        for stem in ("mod_spatialite", "libproj.so", "libgeos_c", "libgeos.so", "librttopo", "libfreexl", "libminizip"):
            paths = [p for name, p in libraries.items() if name.startswith(stem) and "-" not in name]
            report.check(f"{stem} is loaded from the bundle", paths and all(_inside_bundle(p) for p in paths), paths)


def process_age():
    """Seconds since this process started (Linux; None elsewhere): the start time includes the bootloader."""
    try:
        with open("/proc/self/stat", encoding="ascii") as stat:
            start_ticks = int(stat.read().rsplit(")", 1)[1].split()[19])
        with open("/proc/uptime", encoding="ascii") as uptime:
            up = float(uptime.read().split()[0])
        return round(up - start_ticks / os.sysconf("SC_CLK_TCK"), 2)
    except (OSError, ValueError, IndexError):
        return None


def _close(a, b):
    return a is not None and b is not None and all(abs(p - q) < TOLERANCE_M for p, q in zip(a, b, strict=True))


def check_qt(report):
    from PySide6.QtGui import QFontDatabase

    from desktop import app as editor_app
    from desktop import paths

    qt_app = editor_app.application()

    def translations():
        from desktop import i18n

        installed = i18n.install_translators(qt_app, "zh_CN")
        files = sorted(t.filePath() for t in installed)
        report.facts["translators"] = files
        report.check("the editor's zh_CN translation loads", any("tongcheng_zh_CN" in f for f in files), files)
        report.check("Qt's qtbase_zh_CN translation loads", any("qtbase_zh_CN" in f for f in files), files)
        i18n.install_translators(qt_app, "en")

    def fonts():
        families = QFontDatabase.families()
        cjk = [f for f in families if QFontDatabase.WritingSystem.SimplifiedChinese in QFontDatabase.writingSystems(f)]
        report.facts["cjk_fonts"] = cjk
        report.facts["fontconfig_file"] = os.environ.get("FONTCONFIG_FILE")
        report.check("a CJK font is available", cjk, cjk[:5])
        if paths.is_bundled():
            report.check("the bundled CJK font is available", any("WenQuanYi" in f for f in families), cjk[:5])

    report.run("translations", translations)
    report.run("fonts", fonts)


def screenshot(report, output, workspace, language="zh_CN", size=(1280, 800)):
    """Open ``workspace`` in the editor's main window and save the window as an image."""
    from PySide6.QtWidgets import QApplication

    from desktop import app as editor_app

    started = time.monotonic()
    qt_app = editor_app.application()
    editor_app.set_language(qt_app, language)
    window = editor_app.open_window(workspace, language=language, show=False)
    try:
        window.resize(*size)
        window.show()
        editor_app.wait_for_render(window)
        image = window.grab().toImage()
        saved = image.save(str(output))
        report.facts["screenshot"] = {"path": str(output), "width": image.width(), "height": image.height(),
                                      "title": window.windowTitle(), "seconds": round(time.monotonic() - started, 2),
                                      "since_process_start": process_age()}
        report.check("the editor's window opens and is saved as an image", saved and not image.isNull(), output)
    finally:
        window.close()
        QApplication.processEvents()


def main(argv=None):
    parser = argparse.ArgumentParser(prog="tongcheng selfcheck", description=__doc__.splitlines()[0])
    parser.add_argument("--qt", action="store_true", help="also check the editor's translations and fonts")
    parser.add_argument("--screenshot", nargs=2, metavar=("IMAGE", "WORKSPACE"),
                        help="open WORKSPACE in the editor and save the window as IMAGE (implies --qt)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args(argv)

    if (args.qt or args.screenshot) and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    started = time.monotonic()
    report = Report()
    check_core(report)
    if args.qt or args.screenshot:
        report.run("Qt", lambda: check_qt(report))
    if args.screenshot:
        report.run("screenshot", lambda: screenshot(report, Path(args.screenshot[0]), Path(args.screenshot[1])))
    report.facts["seconds"] = round(time.monotonic() - started, 2)

    if args.json:
        print(json.dumps({"ok": report.ok, "checks": report.checks, "facts": report.facts}, ensure_ascii=False,
                         indent=1, default=str))
    else:
        for check in report.checks:
            detail = f"  ({check['detail']})" if not check["ok"] else ""
            print(f"{'ok  ' if check['ok'] else 'FAIL'}  {check['name']}{detail}")
        for key in ("version", "bundle", "spatialite", "pyproj", "fiona"):
            if key in report.facts:
                print(f"{key}: {report.facts[key]}")
        print("all checks passed" if report.ok else "some checks FAILED")
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
