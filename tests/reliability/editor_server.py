"""Save edits through the editor's window in forked children of one process that imported PySide6 once.

Protocol on stdin/stdout, one JSON line each way (like ``forkserver.py``): the
test sends ``{"workspace": path, "out": path, "mode": "edit" | "again", "seed": n}``; the
server forks a child and answers ``{"pid": N}``, then ``{"status": S}`` when it
ended (-9 for a kill -9). The child (``QT_QPA_PLATFORM=offscreen``) opens the
window on the workspace with ``desktop.app.open_window``, makes its edits
through the window's API and writes ``saving`` to ``out`` just before
``window.save()``, then ``saved SECONDS`` after it. Mode ``edit``: the seeded
edits of a kill trial (attribute changes, new features); ``again``: one more
change and a save, after a trial.
"""

from __future__ import annotations

import os
import random
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from tests.reliability.forkserver import fork_requests  # noqa: E402

#: New toilets a trial's save writes, beside its attribute changes.
ADDED = 60


def edit(window, seed: int) -> None:
    from shapely import Point

    rng = random.Random(seed)
    for layer, field in (("toilets", "name"), ("signboards", "business_name")):
        for fid in window.workspace.connection.execute(f"SELECT fid FROM {layer} ORDER BY fid").fetchall():
            window.change_attributes(layer, fid[0], {field: f"改{layer}{fid[0]}"})
    for i in range(ADDED):
        window.add_feature("toilets", {"name": f"新{i}", "district": "锦江区"},
                           Point(400_000 + rng.uniform(0, 5000), 3_390_000 + rng.uniform(0, 5000)))


def child(request: dict) -> int:
    from PySide6.QtWidgets import QApplication

    from desktop.app import open_window
    from desktop.dialogs.prompts import Prompts

    class Refusing(Prompts):
        """A refused edit or a failed save ends the child with its message (no modal dialog)."""

        def error(self, title: str, message: str, details: str | None = None) -> None:
            raise RuntimeError(f"{title}: {message}")

    app = QApplication.instance() or QApplication([])
    window = open_window(request["workspace"], show=False, prompts=Refusing())
    if request["mode"] == "edit":
        edit(window, request["seed"])
    else:
        fid = window.workspace.connection.execute("SELECT min(fid) FROM kiosks").fetchone()[0]
        window.change_attributes("kiosks", fid, {"name": "再存一次"})
    with open(request["out"], "w") as out:
        out.write("saving\n")
        out.flush()
        started = time.monotonic()
        ok = window.save()
        out.write(f"saved {time.monotonic() - started:.4f}\n" if ok else "failed\n")
    app.processEvents()
    return 0 if ok else 1


def report_child(request: dict) -> int:
    """The forked child: output to /dev/null, an exception written to the request's ``out``."""
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1)
    try:
        return child(request)
    except BaseException as exc:  # noqa: BLE001  (reported through the status)
        with open(request["out"], "a") as out:
            out.write(f"error {exc!r}\n")
        return 1


def serve() -> None:
    import PySide6.QtWidgets  # noqa: F401  (imported once, before the forks)

    import desktop.app  # noqa: F401

    fork_requests(report_child)


if __name__ == "__main__":
    serve()
