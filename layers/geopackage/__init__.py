"""GeoPackage files: reading, writing, the binary geometry codec, styles."""
