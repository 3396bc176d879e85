"""Make docs/standard.png: zones and unit grid cells in the editor, the form of a billboard in the strict zone.

    Xvfb :93 -screen 0 1600x1000x24 &
    DISPLAY=:93 .venv/bin/python docs/make_standard_screenshot.py [--output docs/standard.png] [--language zh_CN]

Needs a real X display (the form and the window are grabbed together from the
screen) and a CJK font. The demo is made afresh in a temporary folder.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from shapely.geometry import Point  # noqa: E402

from desktop.app import application, open_window, set_language, wait_for_render  # noqa: E402
from desktop.forms.feature_form import FeatureForm  # noqa: E402
from layers.demo import fill_demo  # noqa: E402
from layers.workspace.located import with_location  # noqa: E402
from layers.workspace.store import Workspace  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", default=str(Path(__file__).with_name("standard.png")))
    parser.add_argument("--language", default="zh_CN", choices=["zh_CN", "en"])
    args = parser.parse_args(argv)

    app = application()
    set_language(app, args.language)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "demo.sqlite"
        with Workspace.create(path, user="screenshot") as workspace:
            fill_demo(workspace, counts={"toilets": 600, "signboards": 4000, "kiosks": 200})
        window = open_window(path, language=args.language, show=False)
        window.canvas.set_dpi(96.0)
        window.resize(1600, 1000)
        window.move(0, 0)
        window.show()
        wait_for_render(window)

        # Where the strict zone (inside the first ring road) meets the controlled zone.
        strict = next(f.geometry for f in window.workspace.features("zones") if f.attributes["zone"] == "严管区")
        point = strict.buffer(-300).representative_point()
        window.canvas.set_center(point.x + 1200, point.y)
        window.canvas.set_map_units_per_pixel(3.0)
        wait_for_render(window, 0.5)

        # A new outdoor advertisement there: the zone and grid cell come from the click; no permit yet.
        definition = window.workspace.layer("signboards")
        given = with_location(window.workspace, definition, {}, Point(point.x, point.y))
        form = FeatureForm(definition, attachments_folder=Path(folder), language=args.language, given=given,
                           parent=window)
        kind = form.editor("kind")
        kind.setCurrentIndex(kind.findData("户外广告"))
        kind.activated.emit(kind.currentIndex())
        form.editor("business_name").setText("天府广场大屏")
        form.editor("owner_contact").setText("13800000000")
        form.editor("district").setCurrentIndex(form.editor("district").findData("锦江区"))
        form.validate()
        form.resize(500, 960)
        form.move(1090, 20)
        form.show()
        form.scroll_area.ensureWidgetVisible(form.editor("kind"))
        wait_for_render(window, 0.5)
        app.processEvents()
        image = app.primaryScreen().grabWindow(0).toImage()
        image.save(args.output)
        print(f"wrote {args.output} ({image.width()}x{image.height()})")
        form.close()
        window.discard(ask=False)
        window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
