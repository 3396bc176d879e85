"""Layer styles: categorised colours from a layer definition, and point symbols.

A style comes from the layer definition file as a dict::

    {"field": "status", "symbol": "circle", "size": 3.0,
     "default_color": "#888888",
     "classes": [{"value": "在用", "color": "#2e7d32",
                  "label": {"zh_CN": "在用", "en": "In use"}}, ...],
     "label_field": "name"}

Line layers use ``"width"`` (mm) instead of ``"size"``; polygon layers draw
their outline at ``"width"`` and fill with the class colour at ``"fill_opacity"``
(0 to 1; 0 draws the outline only).  Point symbols of all
classes are drawn interleaved, in a stable pseudo-random order (see
``fastdraw.shuffled_winners``), so a dense view shows every class in
proportion; lines are drawn one class at a time: features of no listed class
first (default colour), then the classes in the order listed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPainterPath, QPen, QPolygonF

__all__ = [
    "StyleClass",
    "LayerStyle",
    "SELECTION_COLOR",
    "SYMBOLS",
    "mm_to_pixels",
    "symbol_image",
]

SELECTION_COLOR = "#ffe000"
"""Highlight colour of selected features (QGIS uses yellow too)."""

SYMBOLS = ("circle", "square", "diamond", "triangle", "cross")
"""Point symbol shapes that can be named in a style."""

DEFAULT_POINT_SIZE_MM = 3.0
DEFAULT_LINE_WIDTH_MM = 0.6
DEFAULT_COLOR = "#888888"


def mm_to_pixels(mm: float, dpi: float) -> float:
    """Return the number of pixels covering ``mm`` millimetres at ``dpi``."""
    return mm * dpi / 25.4


@dataclass(frozen=True)
class StyleClass:
    """One category of a style.

    Attributes
    ----------
    value : object
        Field value of the features of this class.
    color : str
        Colour as ``#rrggbb``.
    label : dict
        Legend text per language code, e.g. ``{"zh_CN": ..., "en": ...}``.
    """

    value: object
    color: str
    label: dict


@dataclass(frozen=True)
class LayerStyle:
    """A parsed, validated layer style.

    Attributes
    ----------
    field : str or None
        Attribute that selects the class.
    symbol : str
        Point symbol shape, one of :data:`SYMBOLS`.
    size_mm : float
        Point symbol diameter in millimetres.
    width_mm : float
        Line width in millimetres.
    default_color : str
        Colour of features of no listed class.
    classes : tuple of StyleClass
        The categories, in drawing order.
    label_field : str or None
        Attribute used as label text.
    """

    field: str | None = None
    symbol: str = "circle"
    size_mm: float = DEFAULT_POINT_SIZE_MM
    width_mm: float = DEFAULT_LINE_WIDTH_MM
    default_color: str = DEFAULT_COLOR
    classes: tuple[StyleClass, ...] = ()
    label_field: str | None = None
    fill_opacity: float = 0.0

    @classmethod
    def from_dict(cls, style: dict | None) -> LayerStyle:
        """Build a style from a layer definition's style table.

        Unknown symbols fall back to a circle and invalid colours to the
        default grey, so a typo in a definition never stops the map drawing.
        """
        style = style or {}
        symbol = str(style.get("symbol", "circle"))
        if symbol not in SYMBOLS:
            symbol = "circle"
        classes = tuple(
            StyleClass(
                value=c.get("value"),
                color=_valid_color(c.get("color"), DEFAULT_COLOR),
                label=dict(c.get("label") or {}),
            )
            for c in style.get("classes", ())
        )
        return cls(
            field=style.get("field"),
            symbol=symbol,
            size_mm=float(style.get("size", DEFAULT_POINT_SIZE_MM)),
            width_mm=float(style.get("width", DEFAULT_LINE_WIDTH_MM)),
            default_color=_valid_color(style.get("default_color"), DEFAULT_COLOR),
            classes=classes,
            label_field=style.get("label_field"),
            fill_opacity=min(1.0, max(0.0, float(style.get("fill_opacity", 0.0)))),
        )

    def colors(self) -> list[str]:
        """Return the colour of each class index (classes, then default)."""
        return [c.color for c in self.classes] + [self.default_color]

    @property
    def default_index(self) -> int:
        """Class index given to features of no listed class."""
        return len(self.classes)

    def draw_order(self) -> list[int]:
        """Return class indices in drawing order (default first)."""
        return [self.default_index] + list(range(len(self.classes)))

    def class_index(self, category) -> np.ndarray:
        """Return the class index of each feature, vectorised.

        Parameters
        ----------
        category : numpy.ndarray or None
            The style field's value per feature.

        Returns
        -------
        numpy.ndarray
            int16 indices into :meth:`colors`.
        """
        if category is None:
            return np.empty(0, np.int16)
        category = np.asarray(category)
        index = np.full(category.shape[0], self.default_index, dtype=np.int16)
        if category.shape[0] == 0:
            return index
        text = category.dtype.kind == "U"
        for i, c in enumerate(self.classes):
            value = str(c.value) if text else c.value
            index[np.asarray(category == value, dtype=bool)] = i
        return index


def _valid_color(value, fallback: str) -> str:
    color = QColor(str(value)) if value is not None else QColor()
    return color.name() if color.isValid() else fallback


def symbol_image(symbol: str, color: str, diameter: float, outline: bool = True) -> QImage:
    """Render one point symbol into a small premultiplied ARGB image.

    The image side is odd, so the symbol's centre is the centre of a pixel.

    Parameters
    ----------
    symbol : str
        One of :data:`SYMBOLS`.
    color : str
        Fill colour.
    diameter : float
        Symbol size in device pixels.
    outline : bool
        Draw a thin darker outline (keeps dense clusters readable).
    """
    diameter = max(1.0, float(diameter))
    side = int(math.ceil(diameter)) + 2
    if side % 2 == 0:
        side += 1
    image = QImage(side, side, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    fill = QColor(color)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    if outline and diameter >= 4:
        pen = QPen(fill.darker(170), 1.0)
        pen.setJoinStyle(Qt.PenJoinStyle.MiterJoin)
        painter.setPen(pen)
        r = diameter / 2.0 - 0.5
    else:
        painter.setPen(Qt.PenStyle.NoPen)
        r = diameter / 2.0
    painter.setBrush(fill)
    c = side / 2.0
    if symbol == "square":
        painter.drawRect(QRectF(c - r, c - r, 2 * r, 2 * r))
    elif symbol == "diamond":
        painter.drawPolygon(QPolygonF([QPointF(c, c - r), QPointF(c + r, c),
                                       QPointF(c, c + r), QPointF(c - r, c)]))
    elif symbol == "triangle":
        h = r * math.sqrt(3) / 2
        painter.drawPolygon(QPolygonF([QPointF(c, c - r), QPointF(c + r, c + h * 0.9),
                                       QPointF(c - r, c + h * 0.9)]))
    elif symbol == "cross":
        path = QPainterPath()
        t = max(1.0, r / 2.5)
        path.addRect(QRectF(c - r, c - t, 2 * r, 2 * t))
        path.addRect(QRectF(c - t, c - r, 2 * t, 2 * r))
        painter.drawPath(path.simplified())
    else:
        painter.drawEllipse(QPointF(c, c), r, r)
    painter.end()
    return image
