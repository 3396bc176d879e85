"""Greedy label placement: each label takes the first free spot around its point.

Labels are placed in priority order (top layer first, then feature order).
Each label tries a few candidate positions around its anchor; the first one
that stays inside the view and overlaps no occupied rectangle (earlier
labels, and the point symbols themselves) is taken, otherwise the label is
dropped.  Occupied rectangles are kept in a uniform grid so each test only
looks at near neighbours.
"""

from __future__ import annotations

from collections import defaultdict

__all__ = ["Rect", "OccupancyGrid", "candidate_rects", "place_labels"]

Rect = tuple[float, float, float, float]
"""(x, y, width, height) in device pixels, y down."""


def _overlap(a: Rect, b: Rect) -> bool:
    return (a[0] < b[0] + b[2] and b[0] < a[0] + a[2]
            and a[1] < b[1] + b[3] and b[1] < a[1] + a[3])


class OccupancyGrid:
    """Rectangles already taken, bucketed in square cells.

    Parameters
    ----------
    cell : float
        Cell side in pixels; about the size of a typical label.
    """

    def __init__(self, cell: float = 64.0):
        self.cell = float(cell)
        self._cells: dict[tuple[int, int], list[Rect]] = defaultdict(list)

    def _keys(self, rect: Rect):
        c = self.cell
        i0, i1 = int(rect[0] // c), int((rect[0] + rect[2]) // c)
        j0, j1 = int(rect[1] // c), int((rect[1] + rect[3]) // c)
        for i in range(i0, i1 + 1):
            for j in range(j0, j1 + 1):
                yield (i, j)

    def collides(self, rect: Rect) -> bool:
        """Return True when ``rect`` overlaps an occupied rectangle."""
        for key in self._keys(rect):
            for other in self._cells.get(key, ()):
                if _overlap(rect, other):
                    return True
        return False

    def add(self, rect: Rect) -> None:
        """Mark ``rect`` as occupied."""
        for key in self._keys(rect):
            self._cells[key].append(rect)


def candidate_rects(x: float, y: float, w: float, h: float, gap: float) -> list[Rect]:
    """Return label rectangles around an anchor, in order of preference.

    Right, left, above, below, then the four diagonals, all ``gap`` pixels
    away from the anchor.
    """
    return [
        (x + gap, y - h / 2, w, h),
        (x - gap - w, y - h / 2, w, h),
        (x - w / 2, y - gap - h, w, h),
        (x - w / 2, y + gap, w, h),
        (x + gap, y - gap - h, w, h),
        (x + gap, y + gap, w, h),
        (x - gap - w, y - gap - h, w, h),
        (x - gap - w, y + gap, w, h),
    ]


def place_labels(anchors, sizes, gaps, bounds, obstacles=(), padding: float = 1.0):
    """Place labels greedily without overlaps.

    Parameters
    ----------
    anchors : sequence of (float, float)
        Anchor point of each label (the feature on screen), in priority order.
    sizes : sequence of (float, float)
        Width and height of each label's text.
    gaps : sequence of float
        Distance from anchor to label (the symbol radius plus a margin).
    bounds : (float, float)
        Width and height of the view; labels must lie inside it.
    obstacles : sequence of Rect
        Rectangles labels must not cover (point symbols).
    padding : float
        Empty space kept around each placed label.

    Returns
    -------
    list of (int, Rect)
        Index of each placed label and its rectangle (without padding).
    """
    grid = OccupancyGrid(cell=max(32.0, max((s[0] for s in sizes), default=64.0)))
    for rect in obstacles:
        grid.add(rect)
    width, height = bounds
    placed: list[tuple[int, Rect]] = []
    for i, ((x, y), (w, h), gap) in enumerate(zip(anchors, sizes, gaps, strict=True)):
        if w <= 0 or h <= 0:
            continue
        for rect in candidate_rects(x, y, w, h, gap):
            if rect[0] < 0 or rect[1] < 0 or rect[0] + w > width or rect[1] + h > height:
                continue
            padded = (rect[0] - padding, rect[1] - padding, w + 2 * padding, h + 2 * padding)
            if grid.collides(padded):
                continue
            grid.add(padded)
            placed.append((i, rect))
            break
    return placed
