"""Make docs/screenshot.png: the editor's main window on the full demo workspace.

    .venv/bin/python docs/make_screenshot.py [--output docs/screenshot.png] [--language zh_CN]

Runs without a display (Qt's offscreen platform); Chinese text needs a CJK
font (``fonts-wqy-microhei``, installed by setup.sh). The demo workspace is
made afresh in a temporary folder, so the picture is the same on every run.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

import pyproj

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PySide6.QtCore import Qt  # noqa: E402

from desktop.app import application, open_window, set_language, wait_for_render  # noqa: E402
from layers.demo import CENTRE_LONLAT, fill_demo  # noqa: E402
from layers.workspace.store import Workspace  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", default=str(Path(__file__).with_name("screenshot.png")))
    parser.add_argument("--language", default="zh_CN", choices=["zh_CN", "en"])
    args = parser.parse_args(argv)

    app = application()
    set_language(app, args.language)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "demo.sqlite"
        with Workspace.create(path, user="screenshot") as workspace:
            fill_demo(workspace)
        window = open_window(path, language=args.language, show=False)
        window.canvas.set_dpi(96.0)
        window.resize(1440, 900)
        window.show()
        wait_for_render(window)

        # Central Chengdu at a street scale, where names are labelled.
        to_map = pyproj.Transformer.from_crs("EPSG:4326", window.workspace.crs, always_xy=True)
        x, y = to_map.transform(*CENTRE_LONLAT)
        window.canvas.set_center(x + 900, y + 400)
        window.canvas.set_scale(9000)
        wait_for_render(window)

        # A selection made with an expression, a feature identified, the table on visible toilets.
        window.set_current_layer("toilets")
        window.select_by_expression("toilets", "status = '停用'")
        window.set_tool("identify")
        visible = window.sources["toilets"].features_in_extent(window.canvas.extent())
        if len(visible):
            window.identify("toilets", int(visible.fid[len(visible) // 2]))
        if window.table is not None:
            window.table.set_layer("toilets")
            window.table.set_mode(window.table.VISIBLE)
            window.resizeDocks([window.table_dock], [230], Qt.Orientation.Vertical)
        window.resizeDocks([window.layer_dock], [250], Qt.Orientation.Horizontal)
        wait_for_render(window, 0.5)
        cx, cy = window.canvas.center()
        window._show_cursor(cx, cy)
        image = window.grab().toImage()
        image.save(args.output)
        print(f"wrote {args.output} ({image.width()}x{image.height()})")
        window.discard(ask=False)
        window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
