"""The canvas picture and what a render reads: honest colours at a dense full extent,
columns fetched only when needed, layers with nothing in view left out."""

import numpy as np
from PySide6.QtGui import QColor

from tests.desktop.conftest import STATUS_STYLE, point_layer, rendered

FILLS = {"在用": QColor("#2e7d32"), "停用": QColor("#c62828"), None: QColor("#888888")}


def colour_shares(image, colours) -> dict:
    """The share of each colour among the pixels showing one of them exactly."""
    image = image.convertToFormat(image.Format.Format_ARGB32)
    pixels = np.frombuffer(image.constBits(), dtype=np.uint32, count=image.width() * image.height())
    counts = {key: int(np.count_nonzero(pixels == colour.rgba())) for key, colour in colours.items()}
    total = sum(counts.values())
    return {key: count / total for key, count in counts.items()}, total


def test_dense_full_extent_shows_every_category_in_proportion(qtbot, canvas):
    # Stored category by category (as a load sorted by status would be): drawn
    # one class after another, the last class painted over all the others.
    rng = np.random.default_rng(11)
    n = 60_000
    shares = {"在用": 0.5, "停用": 0.3, None: 0.2}
    category = np.concatenate([np.full(round(n * s), k, dtype=object) for k, s in shares.items()])
    xmin, ymin, xmax, ymax = canvas.extent()
    x = rng.uniform(xmin, xmax, n)
    y = rng.uniform(ymin, ymax, n)
    layer = point_layer(x, y, category=category)
    rendered(qtbot, canvas, lambda: canvas.set_layers([layer]))
    picture = canvas.grab().toImage()
    seen, total = colour_shares(picture, FILLS)
    assert total > 0.3 * picture.width() * picture.height()  # the map is mostly fill colour
    for key, share in shares.items():
        assert abs(seen[key] - share) < 0.05, (key, seen)
    # The legend's colours are the map's: nothing but the classes' fills
    # (and their outlines) is drawn.
    legend = {c["value"]: QColor(c["color"]) for c in STATUS_STYLE["classes"]}
    assert {k: v for k, v in FILLS.items() if k} == legend


def test_interleaving_is_stable_between_renders(qtbot, canvas):
    rng = np.random.default_rng(3)
    n = 20_000
    xmin, ymin, xmax, ymax = canvas.extent()
    category = rng.choice(np.array(["在用", "停用"], dtype=object), n)
    layer = point_layer(rng.uniform(xmin, xmax, n), rng.uniform(ymin, ymax, n), category=category)
    rendered(qtbot, canvas, lambda: canvas.set_layers([layer]))
    first = canvas.layer_image("toilets").copy()
    canvas.set_layers([])
    rendered(qtbot, canvas, lambda: canvas.set_layers([layer]))
    assert canvas.layer_image("toilets") == first


def test_only_layers_with_something_in_view_are_composed(qtbot, canvas):
    near = point_layer([1000.0], [1000.0], category=["在用"], name="near")
    far = point_layer([90_000.0], [90_000.0], category=["停用"], name="far")
    rendered(qtbot, canvas, lambda: canvas.set_layers([far, near]))
    assert canvas.layer_image("far") is None  # nothing in view: no image at all
    assert canvas.layer_image("near") is not None
    canvas.grab()
    assert canvas.composed_layers() == ["near"]
    # A drag shows the same composed picture shifted, without rendering.
    before = canvas.grab().toImage()
    canvas.preview_pan(30, 20)
    after = canvas.grab().toImage()
    assert after.pixelColor(230, 170) == before.pixelColor(200, 150) == QColor("#2e7d32")
    canvas.cancel_pan()
    rendered(qtbot, canvas, lambda: canvas.set_center(90_000.0, 90_000.0))
    canvas.grab()
    assert canvas.composed_layers() == ["far"]
