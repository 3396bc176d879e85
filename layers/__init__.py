"""Tongcheng core: layer definitions, the SpatiaLite workspace, change tracking,
sync, GPS import and GeoPackage I/O. Never imports Qt."""

__all__ = ["__version__"]


def __getattr__(name: str) -> str:
    # ``__version__`` is looked up when first asked for: importlib.metadata takes a noticeable part of the
    # command's start-up, before its Ctrl+C guard can be in place (layers/cli/startup.py); so is ``typing``.
    if name != "__version__":
        raise AttributeError(f"module 'layers' has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        value = version("tongcheng")
    except PackageNotFoundError:  # running from a source tree that was never installed
        value = "0+unknown"
    globals()["__version__"] = value
    return value
