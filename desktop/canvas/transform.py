"""Map-to-screen transform: a map centre, map units per pixel and a screen size.

The transform is an immutable value, so a render worker can keep the one it
was started with while the user keeps moving the view.  Screen y grows
downwards, map y grows upwards.  Map units are metres (a projected CRS).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

__all__ = ["MapTransform", "METRES_PER_INCH", "scale_denominator"]

METRES_PER_INCH = 0.0254


def scale_denominator(map_units_per_pixel: float, dpi: float) -> float:
    """Return N of the scale 1:N for a view in metres shown at ``dpi``.

    Parameters
    ----------
    map_units_per_pixel : float
        Metres covered by one screen pixel.
    dpi : float
        Physical pixels per inch of the screen.
    """
    return map_units_per_pixel * dpi / METRES_PER_INCH


@dataclass(frozen=True)
class MapTransform:
    """Where the map is on screen.

    Attributes
    ----------
    cx, cy : float
        Map coordinates of the centre of the view.
    mupp : float
        Map units per (logical) pixel.
    width, height : int
        View size in logical pixels.
    """

    cx: float = 0.0
    cy: float = 0.0
    mupp: float = 1.0
    width: int = 1
    height: int = 1

    def map_to_screen(self, x, y):
        """Return screen coordinates of map coordinates (scalars or arrays)."""
        sx = (np.asarray(x, dtype=np.float64) - self.cx) / self.mupp + self.width / 2.0
        sy = self.height / 2.0 - (np.asarray(y, dtype=np.float64) - self.cy) / self.mupp
        if np.ndim(sx) == 0:
            return float(sx), float(sy)
        return sx, sy

    def screen_to_map(self, sx, sy):
        """Return map coordinates of screen coordinates (scalars or arrays)."""
        x = self.cx + (np.asarray(sx, dtype=np.float64) - self.width / 2.0) * self.mupp
        y = self.cy - (np.asarray(sy, dtype=np.float64) - self.height / 2.0) * self.mupp
        if np.ndim(x) == 0:
            return float(x), float(y)
        return x, y

    def extent(self) -> tuple[float, float, float, float]:
        """Return the visible map box (xmin, ymin, xmax, ymax)."""
        hw = self.width * self.mupp / 2.0
        hh = self.height * self.mupp / 2.0
        return (self.cx - hw, self.cy - hh, self.cx + hw, self.cy + hh)

    def with_size(self, width: int, height: int) -> MapTransform:
        """Return the same view (centre and resolution) for another size."""
        return replace(self, width=max(1, int(width)), height=max(1, int(height)))

    def with_center(self, cx: float, cy: float) -> MapTransform:
        """Return the view moved to a new centre."""
        return replace(self, cx=float(cx), cy=float(cy))

    def panned(self, dx: float, dy: float) -> MapTransform:
        """Return the view after dragging the map by (dx, dy) screen pixels."""
        return replace(self, cx=self.cx - dx * self.mupp, cy=self.cy + dy * self.mupp)

    def zoomed(self, factor: float, sx: float | None = None, sy: float | None = None) -> MapTransform:
        """Return the view zoomed in by ``factor`` keeping a screen point fixed.

        Parameters
        ----------
        factor : float
            Greater than 1 zooms in (fewer map units per pixel).
        sx, sy : float, optional
            Screen point that keeps its map position; the centre by default.
        """
        if sx is None or sy is None:
            sx, sy = self.width / 2.0, self.height / 2.0
        mx, my = self.screen_to_map(sx, sy)
        mupp = self.mupp / factor
        cx = mx - (sx - self.width / 2.0) * mupp
        cy = my + (sy - self.height / 2.0) * mupp
        return replace(self, cx=cx, cy=cy, mupp=mupp)

    def fitted(self, bbox, margin: float = 0.05, min_size: float = 50.0) -> MapTransform:
        """Return the view showing all of ``bbox`` with a small margin.

        Parameters
        ----------
        bbox : tuple of float
            (xmin, ymin, xmax, ymax) to show.
        margin : float
            Fraction of the box added around it.
        min_size : float
            Smallest box side in map units (a single point is shown at a
            street-level scale rather than infinitely zoomed in).
        """
        xmin, ymin, xmax, ymax = (float(v) for v in bbox)  # numpy scalars would leak into Qt calls
        w = max(xmax - xmin, min_size) * (1.0 + 2 * margin)
        h = max(ymax - ymin, min_size) * (1.0 + 2 * margin)
        mupp = max(w / self.width, h / self.height)
        return replace(self, cx=(xmin + xmax) / 2.0, cy=(ymin + ymax) / 2.0, mupp=mupp)
