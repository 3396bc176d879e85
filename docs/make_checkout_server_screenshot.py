"""Make docs/checkout_server.png: File > Check out from server… connected to a demo PostGIS master, a district
chosen, its layers with the features counted in it (one unticked).

    .venv/bin/python docs/make_checkout_server_screenshot.py [--output docs/checkout_server.png] [--language zh_CN]

Starts a throwaway PostgreSQL server (tests/postgis/server.py: Debian's
postgresql-15 and PostGIS), makes the demo master in a database
``inventory``, and connects the dialog to it over TCP with a password, as
a user would. Runs on Qt's offscreen platform unless ``QT_QPA_PLATFORM`` says
otherwise (e.g. ``xcb`` under Xvfb); Chinese text needs a CJK font.
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

import psycopg  # noqa: E402
import pyproj  # noqa: E402

from desktop.app import application, set_language  # noqa: E402
from desktop.dialogs.server_checkout import ServerCheckoutDialog  # noqa: E402
from layers.demo import CENTRE_LONLAT  # noqa: E402
from layers.sync.postgis.create import create_postgis_master  # noqa: E402
from tests.postgis.server import PASSWORD, start_server  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", default=str(Path(__file__).with_name("checkout_server.png")))
    parser.add_argument("--language", default="zh_CN", choices=["zh_CN", "en"])
    args = parser.parse_args(argv)

    from PySide6.QtCore import QSettings

    settings = tempfile.mkdtemp(prefix="tongcheng-screenshot-settings-")  # the user's own settings stay as they are
    QSettings.setPath(QSettings.Format.NativeFormat, QSettings.Scope.UserScope, settings)
    server = start_server()
    try:
        with psycopg.connect(server.url(), autocommit=True) as con:
            con.execute("CREATE DATABASE inventory")
        with psycopg.connect(server.url("inventory"), autocommit=True) as con:
            con.execute("CREATE EXTENSION postgis")
        create_postgis_master(server.url("inventory"), user="office", demo=True,
                              counts={"toilets": 300, "signboards": 100, "kiosks": 30})
        app = application()
        set_language(app, args.language)
        x, y = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:4544", always_xy=True).transform(*CENTRE_LONLAT)
        dialog = ServerCheckoutDialog(str(Path.home()), (x - 1500, y - 1000, x + 1500, y + 1000), "EPSG:4544")
        dialog.host.setText("127.0.0.1")
        dialog.port.setValue(server.port)
        dialog.database.setText("inventory")
        dialog.user.setText("postgres")
        dialog.schema.setText("public")
        dialog.password.setText(PASSWORD)
        dialog.show()
        if not dialog.connect_to_server():
            raise SystemExit(f"cannot connect: {dialog.status_text()}")
        dialog.choose_area("510104")
        dialog.area_item("510104").setSelected(True)
        dialog.choose_layers(["toilets", "signboards"])
        while dialog.counting():
            app.processEvents()
        dialog.resize(940, 760)
        for _ in range(20):
            app.processEvents()
        image = dialog.grab().toImage()
        image.save(args.output)
        print(f"wrote {args.output} ({image.width()}x{image.height()})")
        dialog.close()
    finally:
        server.stop()
        shutil.rmtree(settings, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
