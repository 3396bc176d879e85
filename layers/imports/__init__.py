"""Import an existing inventory (a Shapefile, GeoJSON, GeoPackage, FlatGeobuf, CSV or XLSX
table) into a layer of a workspace.

* ``sources``: read a source file into columns and rows (encodings detected).
* ``mapping``: the mapping file (source column per field, value maps, constants,
  the source CRS, the key column) and the suggested first mapping.
* ``coordinates``: the source CRS (EPSG, or the web-map datums GCJ-02 and BD-09)
  to the workspace CRS, and the check against the CRS's area of use.
* ``importer``: validation of every row (``plan_import``), then the import in one
  transaction (``apply_import``), and the report.
"""

from layers.imports.problems import InventoryImportError

__all__ = ["InventoryImportError"]
