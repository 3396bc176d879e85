"""A scale bar of a round length (1, 2 or 5 times a power of ten, in m or km)."""

from __future__ import annotations

import math

from PySide6.QtCore import QObject, QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFontMetricsF, QPainter, QPen

__all__ = ["ScaleBar", "nice_length"]


def nice_length(max_metres: float) -> float:
    """Return the largest 1, 2 or 5 x 10^k metres not above ``max_metres``.

    Parameters
    ----------
    max_metres : float
        Upper bound, > 0.
    """
    if not max_metres > 0 or not math.isfinite(max_metres):
        return 0.0
    power = 10.0 ** math.floor(math.log10(max_metres))
    for step in (5.0, 2.0, 1.0):
        if step * power <= max_metres * (1 + 1e-9):
            return step * power
    return power  # unreachable: 1 * power <= max_metres


class ScaleBar(QObject):
    """Paints a scale bar in a corner of the canvas.

    Parameters
    ----------
    parent : QObject, optional
        Usually the canvas.
    max_width : float
        Longest bar in logical pixels.
    """

    MARGIN = 10.0

    def __init__(self, parent: QObject | None = None, max_width: float = 120.0):
        super().__init__(parent)
        self.max_width = max_width
        self.visible = True

    def length_for(self, map_units_per_pixel: float) -> tuple[float, float]:
        """Return (metres, pixels) of the bar for a resolution."""
        metres = nice_length(map_units_per_pixel * self.max_width)
        if metres <= 0:
            return 0.0, 0.0
        return metres, metres / map_units_per_pixel

    def text_for(self, metres: float) -> str:
        """Return the bar's caption, e.g. '500 m' or '2 km'."""
        if metres >= 1000:
            value = metres / 1000.0
            return self.tr("{0} km").format(_format_number(value))
        return self.tr("{0} m").format(_format_number(metres))

    def paint(self, painter: QPainter, rect: QRectF, map_units_per_pixel: float) -> None:
        """Paint the bar at the bottom-left corner of ``rect``."""
        if not self.visible:
            return
        metres, pixels = self.length_for(map_units_per_pixel)
        if pixels < 1:
            return
        text = self.text_for(metres)
        metrics = QFontMetricsF(painter.font())
        text_w = metrics.horizontalAdvance(text)
        x0 = rect.left() + self.MARGIN
        y0 = rect.bottom() - self.MARGIN
        box = QRectF(x0 - 4, y0 - metrics.height() - 12, max(pixels, text_w) + 8, metrics.height() + 16)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(255, 255, 255, 190))
        painter.drawRect(box)
        pen = QPen(QColor(20, 20, 20), 2.0)
        pen.setCapStyle(Qt.PenCapStyle.FlatCap)
        painter.setPen(pen)
        painter.drawLine(QPointF(x0, y0), QPointF(x0 + pixels, y0))
        painter.drawLine(QPointF(x0, y0), QPointF(x0, y0 - 6))
        painter.drawLine(QPointF(x0 + pixels, y0), QPointF(x0 + pixels, y0 - 6))
        painter.drawText(QPointF(x0, y0 - 8 - metrics.descent()), text)
        painter.restore()


def _format_number(value: float) -> str:
    if value >= 1 and float(value).is_integer():
        return str(int(value))
    return f"{value:g}"
