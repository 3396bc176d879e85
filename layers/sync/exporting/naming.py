"""Names in exports: Shapefile field names, the folder or file each layer goes to, the files beside them."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path

from layers.sync.exporting.formats import FORMATS

__all__ = ["short_names", "Layout", "layout"]

#: Tables written beside the layer files of every export (GeoPackage: tables in the file).
CODE_LISTS = "code_lists"
FIELDS = "fields"


def short_names(columns: Iterable[str]) -> dict[str, str]:
    """Shapefile field names: at most 10 characters, unique (case-insensitive), the rest of a name cut off."""
    out: dict[str, str] = {}
    used: set[str] = set()
    for c in columns:
        short = c[:10]
        n = 1
        while short.lower() in used:
            suffix = f"_{n}"
            short = c[:10 - len(suffix)] + suffix
            n += 1
        used.add(short.lower())
        out[c] = short
    return out


class Layout:
    """Where an export's files go.

    Attributes
    ----------
    home : Path
        What is moved into place: the one file (single layer named as a
        file, GeoPackage) or the folder (several layers, or a name without
        the format's extension).
    folder : bool
        Whether *home* is a folder holding everything.
    files : dict of str to str
        Per layer the name of its file (inside the folder, or beside *home*).
    prefix : str
        Start of the names of the tables and photo folder beside a single
        file (``toilets_code_lists.csv``); empty inside a folder.
    """

    def __init__(self, home: Path, folder: bool, files: dict[str, str], prefix: str) -> None:
        self.home = home
        self.folder = folder
        self.files = files
        self.prefix = prefix

    @property
    def parent(self) -> Path:
        return self.home.parent

    def path(self, layer: str) -> Path:
        """Where a layer's file will be once the export is in place."""
        return self.home / self.files[layer] if self.folder else self.parent / self.files[layer]

    def extra(self, name: str) -> str:
        """The file name of a table or folder written beside the layers (``code_lists``, ``photos``)."""
        return f"{self.prefix}{name}"


def layout(out: str | os.PathLike[str], fmt: str, layers: Sequence[str]) -> Layout:
    """Where an export of *layers* in *fmt* to *out* writes.

    A GeoPackage is one file.  One layer in a one-layer format goes to *out* when it carries the
    format's extension; several go into a folder named as a folder: *out* without that extension
    (``out.geojson`` -> ``out/``), one file per layer.
    """
    out = Path(out).absolute()
    ext = FORMATS[fmt][1]
    suffix = out.suffix.lower()
    named_as_file = suffix == ext or (fmt == "GeoJSON" and suffix == ".json")
    if fmt == "GPKG":
        return Layout(out, False, {layer: out.name for layer in layers}, f"{out.stem}_")
    if len(layers) == 1 and named_as_file:
        return Layout(out, False, {layers[0]: out.name}, f"{out.stem}_")
    folder = out.with_suffix("") if named_as_file else out
    return Layout(folder, True, {layer: f"{layer}{ext}" for layer in layers}, "")
