"""Make docs/apply_packages.png: Sync > Apply change packages to a master…, two packages checked against a demo
master file, a conflict to review.

    .venv/bin/python docs/make_apply_packages_screenshot.py [--output docs/apply_packages.png] [--language zh_CN]

Makes a demo master in a temporary folder, checks out two workspaces, renames
toilets in both (one toilet in both: a conflict) and writes their change
packages, then fills the dialog and runs its check (the core's dry run).
Runs on Qt's offscreen platform unless ``QT_QPA_PLATFORM`` says otherwise
(e.g. ``xcb`` under Xvfb); Chinese text needs a CJK font.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from desktop.app import application, set_language  # noqa: E402
from desktop.dialogs.apply_packages import ApplyPackagesDialog  # noqa: E402
from layers.sync.changes import write_changes  # noqa: E402
from layers.sync.checkout import checkout  # noqa: E402
from layers.sync.master import create_master, read_master  # noqa: E402
from layers.workspace.store import Workspace  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", default=str(Path(__file__).with_name("apply_packages.png")))
    parser.add_argument("--language", default="zh_CN", choices=["zh_CN", "en"])
    args = parser.parse_args(argv)

    from PySide6.QtCore import QSettings

    settings = tempfile.mkdtemp(prefix="tongcheng-screenshot-settings-")  # the user's own settings stay as they are
    QSettings.setPath(QSettings.Format.NativeFormat, QSettings.Scope.UserScope, settings)
    folder = Path(tempfile.mkdtemp(prefix="tongcheng-apply-screenshot-")) / "办公室"
    folder.mkdir()
    try:
        master = folder / "inventory.gpkg"
        create_master(master, user="office", demo=True, counts={"toilets": 60, "signboards": 20, "kiosks": 8})
        packages = []
        for who, user, renames in (("zhang", "张三", {0: "春熙路公厕（已翻新）", 1: "红星路公厕"}),
                                   ("li", "李四", {1: "红星路二段公厕", 2: "东大街公厕", 3: None})):
            path = folder / f"{who}.sqlite"
            checkout(master, path, user=user)
            with Workspace.open(path) as ws:
                rows = list(ws.raw_rows("toilets"))
                for i, name in renames.items():
                    fid = ws.find("toilets", rows[i]["uuid"]).fid
                    if name is None:
                        ws.delete("toilets", fid)
                    else:
                        ws.update("toilets", fid, {"name": name})
                package = folder / f"{who}-changes-20261207.gpkg"
                write_changes(ws, package)
                packages.append(package)
        app = application()
        set_language(app, args.language)
        definitions = read_master(master).definitions
        dialog = ApplyPackagesDialog(str(folder), definitions, args.language)
        dialog.set_master_file(master)
        dialog.add_packages(packages)
        dialog.show()
        if not dialog.check():
            raise SystemExit(f"the check failed: {dialog.status_text()}")
        dialog.resize(1100, 820)
        for _ in range(20):
            app.processEvents()
        image = dialog.grab().toImage()
        image.save(args.output)
        print(f"wrote {args.output} ({image.width()}x{image.height()})")
        dialog.close()
    finally:
        shutil.rmtree(folder.parent, ignore_errors=True)
        shutil.rmtree(settings, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
