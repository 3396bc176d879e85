"""Tests of the map canvas: transform, rendering, cancelling, tools, labels."""

import threading

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QColor, QWheelEvent
from PySide6.QtWidgets import QApplication

from desktop.canvas import (
    AddPointTool,
    ArrayLayerSource,
    FeatureArrays,
    IdentifyTool,
    LayerStyle,
    MapTransform,
    MovePointTool,
    PanTool,
    SelectTool,
    nice_length,
    scale_denominator,
)
from desktop.canvas.fastdraw import path_from_lines, polygon_from_xy, unique_pixels
from desktop.canvas.labels import place_labels
from desktop.canvas.style import SELECTION_COLOR
from desktop.canvas.tools import SNAP_COLOR
from tests.desktop.conftest import STATUS_STYLE, point_layer, rendered

GREEN = QColor("#2e7d32")
RED = QColor("#c62828")


def pixel(canvas, pos: QPointF, image=None) -> QColor:
    """Return the colour the canvas shows at a widget position."""
    if image is None:
        image = canvas.grab().toImage()
    dpr = image.devicePixelRatio()
    return image.pixelColor(int(pos.x() * dpr), int(pos.y() * dpr))


def overlaps(a, b) -> bool:
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]


def wheel(canvas, pos: QPointF, notches: int) -> None:
    event = QWheelEvent(pos, canvas.mapToGlobal(pos), QPoint(0, 0), QPoint(0, 120 * notches),
                        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier,
                        Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(canvas, event)


# -- transform ---------------------------------------------------------------

def test_transform_round_trip():
    t = MapTransform(cx=412345.5, cy=3387654.25, mupp=0.37, width=1920, height=1080)
    rng = np.random.default_rng(0)
    x = rng.uniform(t.extent()[0], t.extent()[2], 1000)
    y = rng.uniform(t.extent()[1], t.extent()[3], 1000)
    sx, sy = t.map_to_screen(x, y)
    back_x, back_y = t.screen_to_map(sx, sy)
    np.testing.assert_allclose(back_x, x, rtol=0, atol=1e-6)
    np.testing.assert_allclose(back_y, y, rtol=0, atol=1e-6)
    # y grows up on the map and down on screen; the centre is the middle
    assert t.map_to_screen(t.cx, t.cy) == (960.0, 540.0)
    assert t.map_to_screen(t.cx, t.cy + 1)[1] < 540.0


def test_canvas_round_trip_and_scale(canvas):
    p = QPointF(123.0, 45.0)
    x, y = canvas.to_map(p)
    back = canvas.to_screen(x, y)
    assert back.x() == pytest.approx(123.0) and back.y() == pytest.approx(45.0)
    assert canvas.scale() == pytest.approx(1.0 * 96 / 0.0254)
    canvas.set_scale(2000)
    assert canvas.scale() == pytest.approx(2000)
    assert canvas.map_units_per_pixel() == pytest.approx(2000 * 0.0254 / 96)
    assert scale_denominator(1.0, 96.0) == pytest.approx(3779.527, rel=1e-6)


def test_zoom_to_layer_shows_all_features(qtbot, canvas):
    layer = point_layer([0, 500, 10000], [0, 7000, 3000])
    canvas.set_layers([layer])
    canvas.zoom_to_layer("toilets")
    xmin, ymin, xmax, ymax = canvas.extent()
    assert xmin < 0 and ymin < 0 and xmax > 10000 and ymax > 7000
    canvas.set_center(0, 0)
    canvas.zoom_to_full_extent()
    assert canvas.center() == pytest.approx((5000, 3500))


def test_wheel_zoom_keeps_point_under_cursor(qtbot, canvas):
    pos = QPointF(310.0, 70.0)
    before = canvas.to_map(pos)
    mupp = canvas.map_units_per_pixel()
    with qtbot.waitSignal(canvas.scaleChanged):
        wheel(canvas, pos, 2)
    assert canvas.map_units_per_pixel() == pytest.approx(mupp / 2.0)
    assert canvas.to_map(pos) == pytest.approx(before, abs=1e-9)
    wheel(canvas, pos, -3)
    assert canvas.to_map(pos) == pytest.approx(before, abs=1e-9)


# -- rendering ---------------------------------------------------------------

def test_render_draws_class_colours_at_feature_positions(qtbot, canvas):
    layer = point_layer([1000, 1100, 900], [1000, 1050, 950], category=["在用", "停用", None])
    rendered(qtbot, canvas, lambda: canvas.set_layers([layer]))
    assert pixel(canvas, canvas.to_screen(1000, 1000)) == GREEN
    assert pixel(canvas, canvas.to_screen(1100, 1050)) == RED
    assert pixel(canvas, canvas.to_screen(900, 950)) == QColor("#888888")
    assert pixel(canvas, canvas.to_screen(1050, 1000)) == QColor("white")
    image = canvas.layer_image("toilets")
    p = canvas.to_screen(1100, 1050)
    dpr = image.devicePixelRatio()
    assert image.pixelColor(int(p.x() * dpr), int(p.y() * dpr)) == RED


def test_lines_and_layer_order_and_visibility(qtbot, canvas):
    road = ArrayLayerSource("tracks", "Tracks", "LINESTRING",
                            {"width": 1.0, "default_color": "#1565c0"}, [7],
                            lines=[np.array([[900.0, 1000.0], [1100.0, 1000.0]])])
    point = point_layer([1000], [1000], category=["在用"])
    rendered(qtbot, canvas, lambda: canvas.set_layers([point, road]))
    on_line = canvas.to_screen(950, 1000)
    assert pixel(canvas, on_line) == QColor("#1565c0")
    assert pixel(canvas, canvas.to_screen(1000, 1000)) == GREEN  # points on top
    rendered(qtbot, canvas, lambda: canvas.set_layer_order(["tracks", "toilets"]))
    assert pixel(canvas, canvas.to_screen(1000, 1000)) == QColor("#1565c0")
    rendered(qtbot, canvas, lambda: canvas.set_layer_visible("tracks", False))
    assert not canvas.is_layer_visible("tracks")
    assert pixel(canvas, on_line) == QColor("white")
    assert pixel(canvas, canvas.to_screen(1000, 1000)) == GREEN


def test_selection_is_highlighted_on_top(qtbot, canvas):
    layer = point_layer([1000, 1100], [1000, 1000], category=["在用", "在用"])
    rendered(qtbot, canvas, lambda: canvas.set_layers([layer]))
    rendered(qtbot, canvas, lambda: canvas.set_selection("toilets", [2]))
    assert canvas.selection("toilets") == frozenset({2})
    assert pixel(canvas, canvas.to_screen(1100, 1000)) == QColor(SELECTION_COLOR)
    assert pixel(canvas, canvas.to_screen(1000, 1000)) == GREEN


def test_only_changed_layers_are_rendered_again(qtbot, canvas):
    a = point_layer([1000], [1000], category=["在用"], name="a")
    b = point_layer([1100], [1000], category=["停用"], name="b")
    rendered(qtbot, canvas, lambda: canvas.set_layers([a, b]))
    names = []
    canvas.layerRendered.connect(names.append)
    a.move_point(1, 950, 1000)
    rendered(qtbot, canvas)
    assert names == ["a"]
    assert pixel(canvas, canvas.to_screen(950, 1000)) == GREEN
    assert pixel(canvas, canvas.to_screen(1000, 1000)) == QColor("white")


def test_render_error_is_reported_not_raised(qtbot, canvas):
    class Broken(ArrayLayerSource):
        def features_in_extent(self, bbox):
            raise OSError("database is locked")

    broken = Broken("broken", "Broken", "POINT", {}, [1], [1000.0], [1000.0])
    with qtbot.waitSignal(canvas.renderError) as blocker:
        canvas.set_layers([broken])
    assert blocker.args == ["broken", "database is locked"]
    qtbot.waitUntil(lambda: not canvas.is_rendering())


class BlockingSource(ArrayLayerSource):
    """Blocks its first query until released, to hold a render mid-way."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.entered = threading.Event()
        self.release = threading.Event()
        self.calls = 0

    def features_in_extent(self, bbox):
        self.calls += 1
        if self.calls == 1:
            self.entered.set()
            self.release.wait(10)
        return super().features_in_extent(bbox)


def test_view_change_during_render_discards_stale_image(qtbot, canvas):
    layer = BlockingSource("slow", "Slow", "POINT", STATUS_STYLE, [1, 2],
                           [1000.0, 1500.0], [1000.0, 1000.0], category=["在用", "停用"])
    accepted = []
    canvas.layerRendered.connect(lambda name: accepted.append(canvas.layer_image_transform(name)))
    canvas.set_layers([layer])
    qtbot.waitUntil(layer.entered.is_set)
    assert canvas.is_rendering()
    with qtbot.waitSignal(canvas.renderFinished, timeout=5000):
        canvas.set_center(1500.0, 1000.0)  # the first render is now stale
    layer.release.set()
    qtbot.waitUntil(lambda: canvas.discarded_results() >= 1)
    assert accepted == [canvas.transform()]
    assert canvas.layer_image_transform("slow") == canvas.transform()
    assert pixel(canvas, canvas.to_screen(1500, 1000)) == RED
    assert canvas.to_screen(1500, 1000) == QPointF(200, 150)


# -- panning -----------------------------------------------------------------

def test_drag_pans_by_dragged_distance_without_rendering_until_release(qtbot, canvas):
    layer = point_layer([1000], [1000], category=["在用"])
    rendered(qtbot, canvas, lambda: canvas.set_layers([layer]))
    canvas.set_map_tool(PanTool(canvas))
    starts = []
    canvas.renderStarted.connect(lambda: starts.append(1))
    center = canvas.center()
    start = QPoint(200, 150)
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=start)
    for step in range(1, 6):
        qtbot.mouseMove(canvas, start + QPoint(8 * step, 5 * step))
    QApplication.processEvents()
    assert canvas.is_panning()
    assert starts == [] and not canvas.is_rendering()
    # the last image is shown shifted by the drag
    assert pixel(canvas, QPointF(240.5, 175.5)) == GREEN
    assert pixel(canvas, QPointF(200.5, 150.5)) == QColor("white")
    with qtbot.waitSignal(canvas.renderFinished):
        qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=start + QPoint(40, 25))
    assert starts == [1]
    assert canvas.center() == pytest.approx((center[0] - 40.0, center[1] + 25.0))
    assert canvas.to_screen(1000, 1000) == QPointF(240, 175)
    assert pixel(canvas, QPointF(240.5, 175.5)) == GREEN


def test_middle_button_and_keys_move_the_view(qtbot, canvas):
    canvas.set_map_tool(IdentifyTool(canvas))
    qtbot.mousePress(canvas, Qt.MouseButton.MiddleButton, pos=QPoint(100, 100))
    qtbot.mouseMove(canvas, QPoint(130, 80))
    assert canvas.center() == (1000.0, 1000.0) and canvas.is_panning()
    qtbot.mouseRelease(canvas, Qt.MouseButton.MiddleButton, pos=QPoint(130, 80))
    assert canvas.center() == pytest.approx((970.0, 980.0))
    qtbot.keyClick(canvas, Qt.Key.Key_Left)
    assert canvas.center() == pytest.approx((870.0, 980.0))
    qtbot.keyClick(canvas, Qt.Key.Key_Plus)
    assert canvas.map_units_per_pixel() == pytest.approx(2 ** -0.5)


def test_replaced_source_with_same_name_is_rendered_again(qtbot, canvas):
    first = point_layer([1000], [1000], category=["在用"])
    rendered(qtbot, canvas, lambda: canvas.set_layers([first]))
    second = point_layer([1100], [1000], category=["停用"])
    rendered(qtbot, canvas, lambda: canvas.set_layers([second]))
    assert pixel(canvas, canvas.to_screen(1000, 1000)) == QColor("white")
    assert pixel(canvas, canvas.to_screen(1100, 1000)) == RED


# -- tools -------------------------------------------------------------------

def test_identify_within_two_millimetres(qtbot, canvas):
    layer = point_layer([1000, 1100], [1000, 1000], category=["在用", "停用"])
    canvas.set_layers([layer])
    tool = IdentifyTool(canvas)
    canvas.set_map_tool(tool)
    tolerance_px = 2.0 * 96 / 25.4  # 7.56 px
    found = []
    tool.featureIdentified.connect(lambda name, fid: found.append((name, fid)))
    misses = []
    tool.nothingIdentified.connect(lambda: misses.append(1))
    target = canvas.to_screen(1100, 1000)
    qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, pos=(target + QPointF(5, 4)).toPoint())
    assert found == [("toilets", 2)]
    qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton,
                     pos=(target + QPointF(0, tolerance_px + 2)).toPoint())
    assert found == [("toilets", 2)] and misses == [1]


def test_rectangle_select_returns_exactly_the_points_inside(qtbot, canvas):
    rng = np.random.default_rng(3)
    x = rng.uniform(850, 1150, 400)
    y = rng.uniform(900, 1100, 400)
    layer = point_layer(x, y)
    canvas.set_layers([layer])
    tool = SelectTool(canvas)
    canvas.set_map_tool(tool)
    results = []
    tool.featuresSelected.connect(results.append)
    p0, p1 = QPoint(150, 100), QPoint(260, 190)
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=p0)
    qtbot.mouseMove(canvas, QPoint(200, 140))
    qtbot.mouseMove(canvas, p1)
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=p1)
    (x0, y1), (x1, y0) = canvas.to_map(QPointF(p0)), canvas.to_map(QPointF(p1))
    inside = (x >= x0) & (x <= x1) & (y >= y0) & (y <= y1)
    expected = frozenset(int(f) for f in np.flatnonzero(inside) + 1)
    assert 10 < len(expected) < 400
    assert results == [{"toilets": expected}]
    # the tool does not change the selection; Shift adds to the current one
    assert canvas.selection("toilets") == frozenset()
    canvas.set_selection("toilets", [1, 2])
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ShiftModifier, p0)
    qtbot.mouseMove(canvas, p1)
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ShiftModifier, p1)
    assert results[-1] == {"toilets": expected | {1, 2}}


def test_click_select_and_add_point(qtbot, canvas):
    layer = point_layer([1000], [1000])
    canvas.set_layers([layer])
    select = SelectTool(canvas)
    canvas.set_map_tool(select)
    results = []
    select.featuresSelected.connect(results.append)
    qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, pos=QPoint(202, 151))
    qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, pos=QPoint(300, 50))
    assert results == [{"toilets": frozenset({1})}, {"toilets": frozenset()}]
    add = AddPointTool(canvas)
    canvas.set_map_tool(add)
    with qtbot.waitSignal(add.pointAdded) as blocker:
        qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, pos=QPoint(250, 100))
    assert blocker.args == pytest.approx([1050.0, 1050.0])


def test_move_point_snaps_to_neighbour_within_12_px(qtbot, canvas):
    layer = point_layer([1000, 1100], [1000, 1000], category=["在用", "停用"])
    rendered(qtbot, canvas, lambda: canvas.set_layers([layer]))
    tool = MovePointTool(canvas, "toilets")
    canvas.set_map_tool(tool)
    moves = []
    tool.pointMoved.connect(lambda *args: moves.append(args))
    start = canvas.to_screen(1000, 1000).toPoint()
    neighbour = canvas.to_screen(1100, 1000).toPoint()
    near = neighbour + QPoint(8, -7)  # 10.6 px away
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=start)
    qtbot.mouseMove(canvas, start + QPoint(30, 0))
    qtbot.mouseMove(canvas, near)
    assert tool.snap_target() == (1100.0, 1000.0)
    shown = canvas.grab().toImage()
    cue = [pixel(canvas, QPointF(x, near.y()), shown)
           for x in range(neighbour.x() - 20, neighbour.x() + 20)]
    assert SNAP_COLOR in cue  # the snap marker is drawn
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=near)
    assert moves == [("toilets", 1, 1000.0, 1000.0, 1100.0, 1000.0)]
    assert layer.point(1) == (1000.0, 1000.0)  # the tool changes no data

    far = neighbour + QPoint(10, -10)  # 14.1 px away
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=start)
    qtbot.mouseMove(canvas, start + QPoint(30, 0))
    qtbot.mouseMove(canvas, far)
    assert tool.snap_target() is None
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=far)
    fx, fy = canvas.to_map(QPointF(far))
    assert moves[-1] == ("toilets", 1, 1000.0, 1000.0, fx, fy)


def test_move_point_escape_cancels(qtbot, canvas):
    layer = point_layer([1000], [1000])
    canvas.set_layers([layer])
    tool = MovePointTool(canvas, "toilets")
    canvas.set_map_tool(tool)
    moves = []
    tool.pointMoved.connect(lambda *args: moves.append(args))
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=QPoint(200, 150))
    qtbot.mouseMove(canvas, QPoint(260, 150))
    qtbot.keyClick(canvas, Qt.Key.Key_Escape)
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=QPoint(260, 150))
    assert moves == []


# -- labels ------------------------------------------------------------------

def test_place_labels_never_overlap():
    rng = np.random.default_rng(5)
    anchors = [tuple(p) for p in rng.uniform(0, 300, (300, 2))]
    sizes = [(float(w), 14.0) for w in rng.uniform(20, 80, 300)]
    placed = place_labels(anchors, sizes, [8.0] * 300, (300, 300))
    rects = [r for _, r in placed]
    assert 10 < len(rects) < 300
    for i, a in enumerate(rects):
        assert 0 <= a[0] and a[0] + a[2] <= 300 and 0 <= a[1] and a[1] + a[3] <= 300
        for b in rects[i + 1:]:
            assert not overlaps(a, b)


def test_canvas_labels_do_not_overlap_and_only_at_large_scale(qtbot, canvas):
    rng = np.random.default_rng(7)
    n = 150
    x = rng.normal(1000, 40, n)
    y = rng.normal(1000, 30, n)
    layer = point_layer(x, y, label=[f"公厕 {i}" for i in range(n)])
    rendered(qtbot, canvas, lambda: canvas.set_layers([layer]))
    labels = canvas.label_image()
    assert labels is not None and 5 < len(labels.rects) < n
    for i, a in enumerate(labels.rects):
        for b in labels.rects[i + 1:]:
            assert not overlaps(a, b)
    # too many features in view: no labels
    many = point_layer(rng.uniform(800, 1200, 5000), rng.uniform(850, 1150, 5000),
                       label=["x"] * 5000)
    rendered(qtbot, canvas, lambda: canvas.set_layers([many]))
    assert canvas.label_image() is None


# -- pieces ------------------------------------------------------------------

def test_scale_bar_lengths_are_round():
    assert nice_length(123.0) == 100.0
    assert nice_length(480.0) == 200.0
    assert nice_length(5000.0) == 5000.0
    assert nice_length(0.9) == pytest.approx(0.5)


def test_scale_bar_caption(canvas):
    bar = canvas._scale_bar
    assert bar.text_for(500) == "500 m"
    assert bar.text_for(2000) == "2 km"
    metres, pixels = bar.length_for(3.0)
    assert metres == 200 and pixels == pytest.approx(200 / 3.0)


def test_style_classifies_without_python_loop():
    style = LayerStyle.from_dict(STATUS_STYLE)
    cats = np.array(["在用", None, "停用", "其他"], dtype=object)
    assert style.class_index(cats).tolist() == [0, 2, 1, 2]
    assert style.class_index(np.array(["停用", "在用"])).tolist() == [1, 0]
    assert LayerStyle.from_dict({"symbol": "blob", "default_color": "nope"}).symbol == "circle"


def test_bulk_geometry_helpers(qapp):
    x = np.array([1.5, 2.5, 3.25])
    y = np.array([4.0, 5.0, 6.5])
    polygon = polygon_from_xy(x, y)
    assert [(p.x(), p.y()) for p in polygon] == list(zip(x, y, strict=True))
    path = path_from_lines(np.array([[0, 0], [1, 1], [2, 0], [5, 5], [6, 6]], float),
                           np.array([3, 2]))
    assert path.elementCount() == 5
    assert path.elementAt(3).isMoveTo() and path.elementAt(4).isLineTo()
    ux, uy = unique_pixels(np.array([10.2, 10.7, 11.1]), np.array([5.5, 5.9, 5.0]), 20, 20, 2)
    assert sorted(zip(ux, uy, strict=True)) == [(10.5, 5.5), (11.5, 5.5)]


def test_array_source_queries_and_edits():
    layer = point_layer([0, 10, 20], [0, 10, 20], category=["在用", None, "停用"])
    found = layer.features_in_extent((5, 5, 25, 25))
    assert isinstance(found, FeatureArrays)
    assert found.fid.tolist() == [2, 3] and found.category.tolist() == [None, "停用"]
    revision = layer.revision
    layer.move_point(2, 100, 100)
    assert layer.revision != revision
    assert layer.extent() == (0, 0, 100, 100)
    new = layer.add_point(5, 5, "在用")
    assert new == 4 and layer.point(4) == (5.0, 5.0)
    layer.delete([1, 4])
    assert len(layer) == 2


def test_extent_given_as_numpy_scalars_paints(canvas, qtbot):
    # Workspace extents come from numpy (min/max of arrays); they must not leak into Qt calls.
    canvas.set_extent(tuple(np.float64(v) for v in (412_000, 3_387_000, 413_000, 3_388_000)))
    assert all(type(v) is float for v in (canvas.transform().cx, canvas.transform().cy, canvas.transform().mupp))
    canvas.grab()  # paints without a TypeError
