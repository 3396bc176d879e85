"""Benchmark: open the attribute table on a 1,000,000-row layer and scroll through it.

Builds (once, or reuses with ``--workspace``) a workspace with N toilets loaded
by ``Workspace.insert_many`` in an untracked session, then measures, without a
view and with a real QTableView offscreen:

- open: ``AttributeTableModel(...)`` until the row count is known;
- first page: the data of the first 40 rows (what a view paints first);
- window fetch: a jump to a random place (one window read from SQLite);
- scroll: the view scrolled page by page through 200 pages, worst frame;
- text filter and fids filter times.

    .venv/bin/python bench/attribute_table.py [--rows 1000000] [--workspace PATH]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import shapely  # noqa: E402

from layers.workspace.store import Workspace  # noqa: E402

EXTENT = (395_000.0, 3_380_000.0, 425_000.0, 3_410_000.0)
STATUSES = ["在用", "停用", "在建", "拆除"]
DISTRICTS = ["锦江区", "青羊区", "金牛区", "武侯区", "成华区"]


def make_workspace(path, rows, seed=1):
    """A workspace with ``rows`` toilets, loaded as base state (untracked)."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(EXTENT[0], EXTENT[2], rows)
    y = rng.uniform(EXTENT[1], EXTENT[3], rows)
    points = shapely.points(np.column_stack([x, y]))
    status = rng.integers(0, len(STATUSES), rows)
    district = rng.integers(0, len(DISTRICTS), rows)
    seats = rng.integers(0, 20, rows)

    def features():
        for i in range(rows):
            yield ({
                "name": f"公厕{i}号",
                "district": DISTRICTS[district[i]],
                "status": STATUSES[status[i]],
                "seats_male": int(seats[i]),
                "open_24h": bool(i % 2),
                "last_inspected": "2026-05-01",
            }, points[i])

    with Workspace.create(path, user="bench") as ws, ws.untracked():
        ws.insert_many("toilets", features())


def ms(seconds):
    return f"{seconds * 1000:8.1f} ms"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--workspace", type=Path, help="reuse (or create) this workspace file")
    args = parser.parse_args(argv)

    from PySide6.QtWidgets import QApplication, QTableView

    from desktop.models import AttributeTableModel
    from layers.workspace.editing import EditSession

    app = QApplication.instance() or QApplication([])
    folder = tempfile.TemporaryDirectory()
    path = args.workspace or Path(folder.name) / "bench.sqlite"
    if not path.exists():
        started = time.perf_counter()
        make_workspace(path, args.rows)
        print(f"made {args.rows:,} rows in {time.perf_counter() - started:.1f} s: {path}")

    with Workspace.open(path) as ws:
        session = EditSession(ws)
        rows = session.count("toilets")
        print(f"attribute table over {rows:,} rows")

        started = time.perf_counter()
        model = AttributeTableModel(session, "toilets", language="zh_CN")
        count = model.rowCount()
        open_time = time.perf_counter() - started
        print(f"open (row count {count:,}):        {ms(open_time)}")

        started = time.perf_counter()
        for row in range(40):
            for column in range(model.columnCount()):
                model.data(model.index(row, column))
        print(f"first page (40 rows x {model.columnCount()} cols):  {ms(time.perf_counter() - started)}")

        rng = random.Random(1)
        jumps = []
        for _ in range(30):
            row = rng.randrange(count)
            started = time.perf_counter()
            for column in range(model.columnCount()):
                model.data(model.index(row, column))
            jumps.append(time.perf_counter() - started)
        print(f"random jump (one window fetch):  median {ms(statistics.median(jumps))}, worst {ms(max(jumps))}")

        view = QTableView()
        view.resize(1600, 900)
        view.setModel(model)
        view.show()
        app.processEvents()
        bar = view.verticalScrollBar()
        frames = []
        for _ in range(200):
            started = time.perf_counter()
            bar.setValue(bar.value() + bar.pageStep())
            view.viewport().repaint()
            app.processEvents()
            frames.append(time.perf_counter() - started)
        print(f"scroll 200 pages in a view:      median {ms(statistics.median(frames))}, worst {ms(max(frames))}")
        frames = []
        for fraction in np.linspace(0.0, 1.0, 50):
            started = time.perf_counter()
            bar.setValue(int(bar.maximum() * fraction))
            view.viewport().repaint()
            app.processEvents()
            frames.append(time.perf_counter() - started)
        print(f"drag scroll bar (50 positions):  median {ms(statistics.median(frames))}, worst {ms(max(frames))}")

        started = time.perf_counter()
        model.set_filter(text="公厕12345")
        print(f"text filter ({model.rowCount():,} rows):      {ms(time.perf_counter() - started)}")
        fids = np.arange(1, count + 1, 10, dtype=np.int64)
        started = time.perf_counter()
        model.set_filter(fids=fids)
        print(f"fids filter ({model.rowCount():,} rows):    {ms(time.perf_counter() - started)}")
        started = time.perf_counter()
        rows_found = model.rows_of(fids[:5000])
        found = int((rows_found >= 0).sum())
        print(f"rows_of 5,000 fids:              {ms(time.perf_counter() - started)} ({found} found)")
        started = time.perf_counter()
        model.set_filter()
        print(f"filter cleared ({model.rowCount():,} rows):  {ms(time.perf_counter() - started)}")
        view.close()
        del view, model
    return 0


if __name__ == "__main__":
    sys.exit(main())
