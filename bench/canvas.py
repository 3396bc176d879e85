"""Benchmark of the map canvas against QGIS on the same 1,000,000-point workspace.

Builds (or reuses, ``--keep DIR``) a SpatiaLite workspace with 1,000,000
toilets in four status classes, then measures in child processes, in the
same run and on the same file:

* ours (``WorkspaceLayerSource`` + ``render_layer``, 1920x1080, 3 mm symbols):
  the first frame after opening the workspace, a full-extent render, a view
  of about 20,000 points, the drag frame of a shown ``MapCanvas`` (a shift of
  the composed pixmap), and the process's peak RSS;
* QGIS (python3-qgis, OGR provider, categorised renderer with the same
  colours and symbol size, ``QgsMapRendererParallelJob``): the same figures
  except the drag frame;

and prints ours, QGIS's and the ratios. Without python3-qgis it prints ours
only and says so. ``--array`` also runs the older in-memory drawing figures.

Run: ``QT_QPA_PLATFORM=offscreen python bench/canvas.py [--points N] [--keep DIR]``
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
from PySide6.QtCore import QElapsedTimer, QEventLoop, QPointF, Qt, QTimer  # noqa: E402
from PySide6.QtGui import QColor, QImage, QPainter, QPen, QPixmap  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from desktop.canvas import ArrayLayerSource, MapCanvas, MapTransform  # noqa: E402
from desktop.canvas.fastdraw import draw_symbols, polygon_from_xy  # noqa: E402
from desktop.canvas.render import RenderSettings, render_layer  # noqa: E402
from desktop.canvas.style import mm_to_pixels, symbol_image  # noqa: E402

__all__ = ["main"]

WIDTH, HEIGHT = 1920, 1080
DPI = 96.0
STYLE = {
    "field": "status",
    "symbol": "circle",
    "size": 3.0,
    "default_color": "#888888",
    "classes": [
        {"value": "在用", "color": "#2e7d32"},
        {"value": "停用", "color": "#c62828"},
        {"value": "在建", "color": "#f9a825"},
        {"value": "拆除", "color": "#6a1b9a"},
    ],
    "label_field": "name",
}
# Chengdu centre in CGCS2000 / 3-degree Gauss-Kruger CM 105E (EPSG:4544), metres
CENTER = (404_000.0, 3_391_000.0)


def make_layer(n: int, seed: int = 1) -> ArrayLayerSource:
    """Return ``n`` random points over a 40 km x 30 km area, four classes."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(CENTER[0] - 20_000, CENTER[0] + 20_000, n)
    y = rng.uniform(CENTER[1] - 15_000, CENTER[1] + 15_000, n)
    values = np.array([c["value"] for c in STYLE["classes"]], dtype=object)
    category = values[rng.integers(0, 4, n)]
    return ArrayLayerSource("facilities", "Facilities", "POINT", STYLE,
                            np.arange(1, n + 1), x, y, category=category)


def timed(fn, repeat: int = 3) -> float:
    """Return the median wall time of ``fn()`` in milliseconds."""
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000.0)
    return statistics.median(times)


def wait_render(app: QApplication, canvas: MapCanvas, action) -> tuple[float, float]:
    """Run ``action``; return (ms until renderFinished, longest GUI stall ms)."""
    loop = QEventLoop()
    canvas.renderFinished.connect(loop.quit)
    ticks = []
    clock = QElapsedTimer()
    ticker = QTimer()
    ticker.setInterval(5)
    ticker.timeout.connect(lambda: ticks.append(clock.elapsed()))
    clock.start()
    ticker.start()
    t = time.perf_counter()
    action()
    QTimer.singleShot(60_000, loop.quit)
    loop.exec()
    elapsed = (time.perf_counter() - t) * 1000.0
    ticker.stop()
    canvas.renderFinished.disconnect(loop.quit)
    stamps = [0] + ticks + [clock.elapsed()]
    stall = max(b - a for a, b in zip(stamps, stamps[1:], strict=False))
    return elapsed, float(stall)


def bench_methods(n: int, diameter: float) -> dict[str, float]:
    """Time drawPoints (round AA pen) against drawPixmapFragments for n points."""
    rng = np.random.default_rng(2)
    x = rng.uniform(0, WIDTH, n)
    y = rng.uniform(0, HEIGHT, n)
    image = QImage(WIDTH, HEIGHT, QImage.Format.Format_ARGB32_Premultiplied)

    def points_round_pen():
        image.fill(0)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        pen = QPen(QColor("#2e7d32"), diameter)
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        painter.setPen(pen)
        painter.drawPoints(polygon_from_xy(x, y))
        painter.end()

    symbol = QPixmap.fromImage(symbol_image("circle", "#2e7d32", diameter))

    def fragments():
        image.fill(0)
        painter = QPainter(image)
        draw_symbols(painter, symbol, np.floor(x) + 0.5, np.floor(y) + 0.5)
        painter.end()

    repeat = 1 if n > 200_000 else 3
    return {"drawPoints round pen": timed(points_round_pen, repeat),
            "drawPixmapFragments symbol": timed(fragments, repeat)}


def bench_naive(n: int, diameter: float) -> float:
    """Return ms for one Python drawEllipse call per point (with outline)."""
    rng = np.random.default_rng(3)
    xy = rng.uniform(0, 1, (n, 2)) * (WIDTH, HEIGHT)
    image = QImage(WIDTH, HEIGHT, QImage.Format.Format_ARGB32_Premultiplied)
    colors = [QColor(c["color"]) for c in STYLE["classes"]]
    cls = rng.integers(0, 4, n)
    r = diameter / 2.0

    def loop():
        image.fill(0)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        for (px, py), k in zip(xy.tolist(), cls.tolist(), strict=True):
            painter.setPen(QPen(colors[k].darker(170), 1.0))
            painter.setBrush(colors[k])
            painter.drawEllipse(QPointF(px, py), r, r)
        painter.end()

    return timed(loop, 3)


def array_figures(n: int) -> None:
    """The in-memory figures (an ``ArrayLayerSource``): drawing methods and a per-point reference."""
    app = QApplication.instance() or QApplication([])
    diameter = mm_to_pixels(STYLE["size"], DPI)
    print(f"PySide6 {__import__('PySide6').__version__}, Qt platform {app.platformName()}, "
          f"{n:,} points, 4 classes, {STYLE['size']} mm symbols ({diameter:.1f} px), "
          f"{WIDTH}x{HEIGHT}")

    t = time.perf_counter()
    layer = make_layer(n)
    print(f"build layer                      {1000 * (time.perf_counter() - t):8.0f} ms")

    view = MapTransform(*CENTER, mupp=1.0, width=WIDTH, height=HEIGHT).fitted(layer.extent())
    settings = RenderSettings(dpi=DPI, dpr=1.0)
    full = timed(lambda: render_layer(layer, view, settings))
    print(f"render_layer, full extent        {full:8.0f} ms")
    panned = view.panned(200, 100)
    pan = timed(lambda: render_layer(layer, panned, settings))
    print(f"render_layer, panned view        {pan:8.0f} ms")
    zoom = view.zoomed(8.0)
    close = timed(lambda: render_layer(layer, zoom, settings))
    print(f"render_layer, zoomed in x8       {close:8.0f} ms")

    canvas = MapCanvas()
    canvas.set_dpi(DPI)
    canvas.resize(WIDTH, HEIGHT)
    canvas.show()
    app.processEvents()
    canvas.set_extent(layer.extent())
    app.processEvents()
    canvas_full, stall_full = wait_render(app, canvas, lambda: canvas.set_layers([layer]))
    print(f"MapCanvas first render           {canvas_full:8.0f} ms   "
          f"(longest GUI stall {stall_full:.0f} ms)")

    def pan_release():
        canvas.preview_pan(200, 100)
        canvas.finish_pan()

    canvas_pan, stall_pan = wait_render(app, canvas, pan_release)
    print(f"MapCanvas pan-release re-render  {canvas_pan:8.0f} ms   "
          f"(longest GUI stall {stall_pan:.0f} ms)")
    t = time.perf_counter()
    for _ in range(10):
        canvas.preview_pan(50, 20)
        canvas.repaint()
    drag = (time.perf_counter() - t) * 100.0
    canvas.cancel_pan()
    print(f"MapCanvas drag frame (no render) {drag:8.1f} ms")
    canvas.close()

    print("bulk point drawing, one class:")
    for count in (100_000, 1_000_000):
        for method, ms in bench_methods(count, diameter).items():
            print(f"  {count:>9,} {method:28s} {ms:8.0f} ms")

    sample = 10_000
    naive = bench_naive(sample, diameter) * (n / sample)
    print(f"reference: drawEllipse per point, {sample:,} measured, scaled to {n:,}: "
          f"{naive:8.0f} ms")
    print(f"ratio reference / render_layer   {naive / full:8.1f}x")
    print(f"ratio reference / MapCanvas      {naive / canvas_full:8.1f}x")


# -- against QGIS on a workspace file --------------------------------------------------

QGIS_PYTHON = "/usr/bin/python3"
VIEW_POINTS = 20_000


def make_workspace(path: Path, n: int) -> None:
    """A workspace with ``n`` toilets over 40 km x 30 km, four status classes (child process)."""
    import shapely

    from layers.workspace.store import Workspace

    rng = np.random.default_rng(1)
    statuses = [c["value"] for c in STYLE["classes"]]

    def features():
        for start in range(0, n, 50_000):
            m = min(50_000, n - start)
            x = rng.uniform(CENTER[0] - 20_000, CENTER[0] + 20_000, m)
            y = rng.uniform(CENTER[1] - 15_000, CENTER[1] + 15_000, m)
            status = rng.integers(0, 4, m)
            for i, point in enumerate(shapely.points(np.column_stack((x, y)))):
                attributes = {"name": f"公厕{start + i}", "district": "锦江区", "status": statuses[status[i]],
                              "zone": "管控区"}
                yield attributes, point

    with Workspace.create(path, user="bench") as workspace:
        with workspace.untracked():
            workspace.insert_many("toilets", features())


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def ours(path: str) -> dict:
    """Our figures on the workspace file (child process)."""
    from desktop.workspace_source import ReaderPool, WorkspaceLayerSource
    from layers.workspace.editing import EditSession
    from layers.workspace.store import Workspace

    app = QApplication.instance() or QApplication([])
    settings = RenderSettings(dpi=DPI, dpr=1.0)
    start = time.perf_counter()
    workspace = Workspace.open(path)
    readers = ReaderPool(workspace)
    source = WorkspaceLayerSource(EditSession(workspace), "toilets", readers, "en")
    extent = source.extent()
    view = MapTransform(0, 0, 1.0, WIDTH, HEIGHT).fitted(extent)
    first_image = render_layer(source, view, settings)
    first = (time.perf_counter() - start) * 1000.0
    count = first_image.feature_count  # (a count(*) would read the whole table)
    full = timed(lambda: render_layer(source, view, settings))
    # the same box as QGIS's view: the data's extent shrunk about its centre
    f = math.sqrt(count / VIEW_POINTS)
    cx, cy = (extent[0] + extent[2]) / 2, (extent[1] + extent[3]) / 2
    w, h = (extent[2] - extent[0]) / f / 2, (extent[3] - extent[1]) / f / 2
    close = view.fitted((cx - w, cy - h, cx + w, cy + h))
    shown = render_layer(source, close, settings).feature_count
    zoom = timed(lambda: render_layer(source, close, settings), 5)

    canvas = MapCanvas()
    canvas.set_dpi(DPI)
    canvas.resize(WIDTH, HEIGHT)
    canvas.show()
    app.processEvents()
    canvas.set_extent(extent)
    wait_render(app, canvas, lambda: canvas.set_layers([source]))
    canvas.repaint()  # composes the rendered images once
    frames = []
    for step in range(20):
        t = time.perf_counter()
        canvas.preview_pan(5 * step, 2 * step)
        canvas.repaint()
        frames.append((time.perf_counter() - t) * 1000.0)
    canvas.cancel_pan()
    canvas.shutdown()
    canvas.close()
    readers.close()
    workspace.close()
    return {"first": first, "full": full, "view": zoom, "view_points": shown, "drag": statistics.median(frames),
            "drawn_full": first_image.feature_count, "rss": peak_rss_mb()}


QGIS_SCRIPT = r"""
import json, os, resource, statistics, sys, time
from qgis.PyQt.QtCore import QSize
from qgis.PyQt.QtGui import QColor
from qgis.core import (QgsApplication, QgsCategorizedSymbolRenderer, QgsMapRendererParallelJob, QgsMapSettings,
                       QgsMarkerSymbol, QgsRectangle, QgsRendererCategory, QgsVectorLayer)
path, width, height = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
dpi, view_points, symbol, size = float(sys.argv[4]), int(sys.argv[5]), sys.argv[6], float(sys.argv[8])
classes = json.loads(sys.argv[7])
QgsApplication.setPrefixPath("/usr", True)
app = QgsApplication([], False)
app.initQgis()

def render(layer, extent):
    settings = QgsMapSettings()
    settings.setLayers([layer])
    settings.setDestinationCrs(layer.crs())
    settings.setOutputSize(QSize(width, height))
    settings.setOutputDpi(dpi)
    settings.setBackgroundColor(QColor("white"))
    settings.setExtent(extent)
    job = QgsMapRendererParallelJob(settings)
    job.start()
    job.waitForFinished()
    return job.renderedImage()

def timed(fn, repeat=3):
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000.0)
    return statistics.median(times)

start = time.perf_counter()
layer = QgsVectorLayer(f"{path}|layername=toilets", "toilets", "ogr")
assert layer.isValid(), "QGIS could not open the layer"
symbol_name = symbol
categories = []
for c in classes:
    color = QColor(c["color"])
    symbol = QgsMarkerSymbol.createSimple({"name": symbol_name, "color": c["color"], "size": str(size),
                                           "outline_color": color.darker(170).name(), "outline_width": "0.26"})
    categories.append(QgsRendererCategory(c["value"], symbol, c["value"]))
layer.setRenderer(QgsCategorizedSymbolRenderer("status", categories))
extent = layer.extent()
render(layer, extent)
first = (time.perf_counter() - start) * 1000.0
full = timed(lambda: render(layer, extent))
count = layer.featureCount()
f = (count / view_points) ** 0.5
c = extent.center()
w, h = extent.width() / f / 2, extent.height() / f / 2
close = QgsRectangle(c.x() - w, c.y() - h, c.x() + w, c.y() + h)
view = timed(lambda: render(layer, close), 5)
print(json.dumps({"first": first, "full": full, "view": view,
                  "rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0}), flush=True)
os._exit(0)  # exitQgis() crashes QGIS 3.22 in a script: leave without tearing down
"""


def qgis_available() -> bool:
    if not Path(QGIS_PYTHON).exists():
        return False
    probe = subprocess.run([QGIS_PYTHON, "-c", "import qgis.core"], capture_output=True)
    return probe.returncode == 0


def child(command: list[str]) -> dict:
    result = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    if result.returncode != 0:
        raise RuntimeError(f"{command[0]} failed: {result.stderr[-2000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def main(argv=None) -> None:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--keep", help="folder to keep the workspace in (reused when it is there)")
    parser.add_argument("--array", action="store_true", help="also the in-memory drawing figures")
    args = parser.parse_args(argv)
    n = args.points
    folder = Path(args.keep or tempfile.mkdtemp(prefix="tongcheng-canvas-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"canvas-{n}.sqlite"
    if not path.exists():
        t = time.perf_counter()
        subprocess.run([sys.executable, __file__, "--make", str(path), str(n)], check=True)
        print(f"built {n:,}-point workspace in {time.perf_counter() - t:.0f} s: {path}")
    from layers.workspace.store import Workspace

    with Workspace.open(path) as workspace:  # the layer's own style, drawn by both
        style = workspace.layer("toilets").style
    print(f"{n:,} points, {len(style['classes'])} classes, {style['symbol']} {style['size']} mm symbols, "
          f"{WIDTH}x{HEIGHT}, {DPI:.0f} dpi")
    mine = child([sys.executable, __file__, "--ours", str(path)])
    theirs = None
    if qgis_available():
        classes = json.dumps([{"value": c["value"], "color": c["color"]} for c in style["classes"]])
        theirs = child([QGIS_PYTHON, "-c", QGIS_SCRIPT, str(path), str(WIDTH), str(HEIGHT), str(DPI),
                        str(VIEW_POINTS), style["symbol"], classes, str(style["size"])])
    rows = [("first frame after opening", "first", "ms", 0.6), ("full extent render", "full", "ms", 0.5),
            (f"~{mine['view_points']:,}-point view render", "view", "ms", 0.8),
            ("drag frame (pixmap shift)", "drag", "ms", None), ("peak RSS", "rss", "MB", 2.0)]
    if theirs is None:
        print("QGIS (python3-qgis) not available: our figures only")
    print(f"{'':32s} {'ours':>10s} {'QGIS':>10s} {'ratio':>8s}  goal")
    for title, key, unit, goal in rows:
        ref = theirs.get(key) if theirs else None
        ratio = f"{mine[key] / ref:7.2f}x" if ref else "       -"
        goal_text = f"<= {goal}x" if goal and ref else ("< 8 ms" if key == "drag" else "")
        if key == "rss":
            goal_text += "  (< 400 MB)"
        ref_text = f"{ref:7.1f} {unit}" if ref else "         -"
        print(f"{title:32s} {mine[key]:7.1f} {unit} {ref_text} {ratio}  {goal_text}")
    if args.array:
        array_figures(n)
    if not args.keep:
        shutil.rmtree(folder)


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--make":
        make_workspace(Path(sys.argv[2]), int(sys.argv[3]))
    elif len(sys.argv) == 3 and sys.argv[1] == "--ours":
        print(json.dumps(ours(sys.argv[2])))
    else:
        main()
