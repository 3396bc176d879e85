"""Benchmark of the map canvas: 1,000,000 points in four style classes.

Prints, in milliseconds:

* a full render of the layer to a 1920x1080 image (``render_layer``, in this
  thread), and the same through a shown ``MapCanvas`` (worker threads),
* the re-render after a pan is released,
* the longest stall of the GUI event loop during the canvas renders,
* bulk point drawing methods for 100k and 1M points: ``drawPoints`` with a
  round antialiased pen against a pre-rendered symbol stamped with
  ``drawPixmapFragments`` (what the canvas uses),
* a reference: one ``drawEllipse`` call per point, measured on 10,000
  points and scaled up to 1,000,000, and the ratio to the canvas.

Run: ``QT_QPA_PLATFORM=offscreen python bench/canvas.py [--points N]``
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

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
        {"value": "维修", "color": "#f9a825"},
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


def main(argv=None) -> None:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=1_000_000)
    args = parser.parse_args(argv)
    n = args.points
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


if __name__ == "__main__":
    main()
