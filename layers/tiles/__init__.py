"""Tile pyramids (MBTiles, GeoPackage tiles) read as plain data and image bytes; drawing is the caller's.

The package's public API is re-exported here; import it from ``layers.tiles``.
"""

from layers.tiles.reader import DEFAULT_TILE_SIZE, WEB_MERCATOR_HALF, TileFile, TileFileError, TileMatrix, image_size

__all__ = ["WEB_MERCATOR_HALF", "DEFAULT_TILE_SIZE", "TileFile", "TileFileError", "TileMatrix", "image_size"]
