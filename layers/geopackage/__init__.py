"""GeoPackage files: reading, writing, the binary geometry codec, styles.

The package's public API is re-exported here; import it from ``layers.geopackage``.
"""

from layers.geopackage.codec import (
    decode_gpb,
    decode_gpb_many,
    encode_gpb,
    encode_gpb_many,
    envelopes,
    gpb_envelope,
    gpb_wkb,
)
from layers.geopackage.gpkg import (
    APPLICATION_ID,
    COLUMN_TYPES,
    GEOMETRY_TYPES,
    USER_VERSION,
    Column,
    GeoPackage,
    LayerSchema,
    open_geopackage,
    temporary_path,
)

__all__ = [
    "APPLICATION_ID",
    "USER_VERSION",
    "COLUMN_TYPES",
    "GEOMETRY_TYPES",
    "Column",
    "LayerSchema",
    "GeoPackage",
    "open_geopackage",
    "temporary_path",
    "encode_gpb",
    "encode_gpb_many",
    "decode_gpb",
    "decode_gpb_many",
    "gpb_wkb",
    "gpb_envelope",
    "envelopes",
]
