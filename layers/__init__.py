"""Tongcheng core: layer definitions, the SpatiaLite workspace, change tracking,
sync, GPS import and GeoPackage I/O. Never imports Qt."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("tongcheng")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"
