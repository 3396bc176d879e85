"""Make docs/definitions_update.png: the editor right after Receive update brought a new toilets definition and a
new layer (benches): the form of a toilet with the new fields, the table's new columns, the layer panel's new layer.

    Xvfb :57 -screen 0 1600x1000x24 &
    DISPLAY=:57 .venv/bin/python docs/make_definitions_screenshot.py [--output docs/definitions_update.png]

Needs a real X display (the form and the window are grabbed together from the
screen) and a CJK font. The master, the workspace and the office's changes
(``definitions update`` and ``definitions add``) are made afresh in a temporary folder.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PySide6.QtCore import QPointF  # noqa: E402
from shapely.geometry import Point  # noqa: E402

from desktop.app import application, open_window, set_language, wait_for_render  # noqa: E402
from desktop.dialogs import Prompts  # noqa: E402
from desktop.dialogs.sync_dialogs import SyncPrompts  # noqa: E402
from desktop.forms.feature_form import FeatureForm  # noqa: E402
from desktop.sync_menu import SyncMenu  # noqa: E402
from layers.sync.apply import apply_package  # noqa: E402
from layers.sync.changes import write_changes  # noqa: E402
from layers.sync.checkout import checkout  # noqa: E402
from layers.sync.definition_changes import add_layer, update_definition  # noqa: E402
from layers.sync.master import create_master  # noqa: E402
from layers.workspace.store import Workspace  # noqa: E402
from tests.desktop.test_definitions_follow import BENCHES  # noqa: E402
from tests.layers.test_definition_changes import MAPPINGS, version_two  # noqa: E402


class Answers(Prompts):
    """Go on at "a restore point is made first"; notes are printed, not shown."""

    def confirm_restore_point(self, action, reason):
        return True

    def information(self, title, message):
        print(f"{title}:\n{message}\n")


class SyncAnswers(SyncPrompts):
    def __init__(self, window, master):
        super().__init__(window)
        self.master = master

    def master_path(self, folder):
        return str(self.master)

    def review_update(self, dialog):
        return True


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", default=str(Path(__file__).with_name("definitions_update.png")))
    parser.add_argument("--language", default="zh_CN", choices=["zh_CN", "en"])
    args = parser.parse_args(argv)

    app = application()
    set_language(app, args.language)
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        master, field = folder / "master.gpkg", folder / "field.sqlite"
        create_master(master, user="office", demo=True, counts={"toilets": 300, "signboards": 600, "kiosks": 80})
        checkout(master, field, user="张三")
        window = open_window(field, language=args.language, prompts=Answers(None), show=False)
        window.prompts.parent = window
        window.canvas.set_dpi(96.0)
        window.resize(1600, 1000)
        window.move(0, 0)
        window.show()
        wait_for_render(window)

        # The office: toilets version 2 (new fields, a new code, a renamed label, community -> neighbourhood),
        # a new layer of benches, and a few benches placed in the workspace's view.
        (folder / "benches.toml").write_text(BENCHES, "utf-8")
        update_definition(master, version_two(folder), mappings=MAPPINGS, user="科长")
        add_layer(master, folder / "benches.toml", user="科长")
        checkout(master, folder / "office.sqlite", user="office")
        canvas = window.canvas
        with Workspace.open(folder / "office.sqlite") as ws:
            for i, (fx, fy) in enumerate([(0.3, 0.35), (0.45, 0.6), (0.62, 0.3), (0.7, 0.7), (0.25, 0.75)]):
                x, y = canvas.to_map(QPointF(canvas.width() * fx, canvas.height() * fy))
                ws.insert("benches", {"name": f"座椅{i + 1}", "seats": 3 + i}, Point(x, y))
            package = write_changes(ws, folder / "benches.gpkg")
        apply_package(master, package.path)

        sync = next(e for e in window.extensions if isinstance(e, SyncMenu))
        sync.prompts = SyncAnswers(window, master)
        assert sync.receive_update() is not None
        wait_for_render(window, 0.5)
        window.layer_panel.set_current_layer("benches")
        window.table.set_layer("toilets")  # the new columns, at the right end
        model = window.table.view.model()
        window.table.view.scrollTo(model.index(0, model.column_of("has_water")))

        toilet = next(window.workspace.features("toilets"))
        form = FeatureForm(window.workspace.layer("toilets"), dict(toilet.attributes), attachments_folder=folder,
                           language=args.language, parent=window)
        form.resize(520, 700)
        form.move(1060, 40)
        form.show()
        form.scroll_area.ensureWidgetVisible(form.editor("has_water"))
        wait_for_render(window, 0.5)
        app.processEvents()
        image = app.primaryScreen().grabWindow(0).toImage()
        image.save(args.output)
        print(f"wrote {args.output} ({image.width()}x{image.height()}); {window.statusBar().currentMessage()}")
        form.close()
        window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
