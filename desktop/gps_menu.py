"""Editor extension: gps (not built yet)."""

__all__ = ["install"]


def install(window):
    """Add this extension's menus and docks to the main window; returns an object with retranslate(), or None."""
    return None
