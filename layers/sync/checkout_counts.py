"""What a checkout of an area would take: per layer of the master, the features (or records) in it.

A scope chooser shows these beside each layer before anything is made: the
same rule as :func:`~layers.sync.checkout.checkout` (features whose geometry
meets the area; of a child layer such as inspections, the records of the
features taken, counted per parent layer so a chooser can add up those of
the layers ticked).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from shapely.geometry.base import BaseGeometry

from layers.log import logger
from layers.schema.definitions import LayerDefinition
from layers.sync.checkout import checkout_area, parse_bbox, taken
from layers.sync.children import parent_key, parent_layers
from layers.sync.rows import CHUNK, geometries
from layers.sync.store import MasterLocation, MasterStore, open_master

__all__ = ["CheckoutCounts", "checkout_counts"]

log = logger(__name__)


@dataclass
class CheckoutCounts:
    """The features a checkout of one area would take.

    Attributes
    ----------
    scope, bbox : str or None
        The area counted (both None: the whole master).
    features : dict of str to int
        Per layer with geometry, the features in the area.
    children : dict of str to dict of str to int
        Per child layer, the records of those features, by parent layer.
    """

    scope: str | None = None
    bbox: str | None = None
    features: dict[str, int] = field(default_factory=dict)
    children: dict[str, dict[str, int]] = field(default_factory=dict)

    def count(self, layer: str, with_layers: Sequence[str] | None = None) -> int:
        """The features of *layer* in the area; of a child layer, the records of the features of *with_layers*
        (default: of every parent layer)."""
        if layer in self.children:
            return sum(n for parent, n in self.children[layer].items()
                       if with_layers is None or parent in with_layers)
        return self.features.get(layer, 0)


def checkout_counts(master: MasterLocation, *, scope: str | None = None, bbox: str | Sequence[float] | None = None,
                    progress: Callable[[int, int], None] | None = None) -> CheckoutCounts:
    """Count, per layer, what a checkout of *scope* (or *bbox*, or the whole master) would take.

    Parameters
    ----------
    master : path-like or str
        A master GeoPackage or a ``postgresql://`` connection string.
    scope : str, optional
        ``district:CODE``, ``street:CODE``, ``city:CODE`` or a box (``layers.sync.areas``).
    bbox : str or four numbers, optional
        A box in the master's CRS (not with *scope*).
    progress : callable(done, total), optional
        Called as features are read; it may raise (``Cancelled``) to stop.

    Returns
    -------
    CheckoutCounts

    Raises
    ------
    SyncError, GeoPackageError, DatabaseError
        An unknown area, a malformed box, a master that cannot be read.
    """
    with open_master(master) as store:
        return _count(store, scope, bbox, progress)


def _count(store: MasterStore, scope_text: str | None, bbox_text: str | Sequence[float] | None,
           progress: Callable[[int, int], None] | None) -> CheckoutCounts:
    info = store.info
    _scope, bbox, shape = checkout_area(store, scope_text, bbox_text)
    shown = ",".join(repr(v) for v in parse_bbox(bbox_text) or ()) or None
    result = CheckoutCounts(scope_text, shown)
    spatial = [n for n in info.layers if info.definitions[n].has_geometry]
    child_records = {n: list(store.rows(info.definitions[n])) for n in info.layers
                     if info.definitions[n].child_of is not None}
    parents = {p for n, records in child_records.items() if records
               for p in parent_layers(info.definitions[n], spatial)}
    total = sum(store.count(info.definitions[n], bbox) for n in spatial if shape is not None or n in parents)
    done = 0
    keys: set[tuple[str, str]] = set()
    for name in spatial:
        definition = info.definitions[name]
        if shape is None and name not in parents:  # the whole layer, and no record names its features
            result.features[name] = store.count(definition)
            continue
        n = 0
        for read, chunk in _taken_uuids(store, definition, bbox, shape):
            n += len(chunk)
            done += read
            keys.update((name, u) for u in chunk)
            if progress is not None:
                progress(done, total)
        result.features[name] = n
    for name, records in child_records.items():
        definition = info.definitions[name]
        by_parent = dict.fromkeys(parent_layers(definition, spatial), 0)
        for record in records:
            key = parent_key(definition, record)
            if key in keys:
                by_parent[key[0]] = by_parent.get(key[0], 0) + 1
        result.children[name] = by_parent
    log.info("%s: a checkout of %s takes %s", store.location, scope_text or shown or "the whole master",
             {n: result.count(n) for n in info.layers})
    return result


def _taken_uuids(store: MasterStore, definition: LayerDefinition, bbox: tuple[float, float, float, float] | None,
                 shape: BaseGeometry | None) -> Iterator[tuple[int, list[str]]]:
    """The uuids of a layer's features a checkout of *shape* takes, a chunk at a time (with the rows read)."""
    batch: list[dict[str, Any]] = []

    def kept(rows: list[dict[str, Any]]) -> tuple[int, list[str]]:
        keep = taken(geometries([r["geom"] for r in rows]), shape)
        return len(rows), [r["uuid"] for r, k in zip(rows, keep, strict=True) if k]

    for row in store.rows(definition, bbox):
        batch.append(row)
        if len(batch) >= CHUNK:
            yield kept(batch)
            batch = []
    yield kept(batch)
