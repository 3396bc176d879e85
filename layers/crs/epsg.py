"""Coordinate reference systems as the product uses them: always an EPSG code."""

from __future__ import annotations

import pyproj

from layers.errors import TongchengError

__all__ = ["epsg_crs"]


def epsg_crs(crs: str | int, error_class: type[TongchengError]) -> tuple[int, pyproj.CRS]:
    """Parse a CRS given as ``EPSG:n`` (or anything pyproj reads that has an EPSG code).

    Parameters
    ----------
    crs : str or int
        E.g. ``"EPSG:4544"``.
    error_class : type
        The ``TongchengError`` to raise (the caller's: WorkspaceError, SyncError ...).

    Returns
    -------
    (int, pyproj.CRS)
        The EPSG code and the parsed CRS.
    """
    try:
        parsed = pyproj.CRS.from_user_input(crs)
    except pyproj.exceptions.CRSError as e:
        raise error_class(f"unknown CRS {crs!r}: {e}") from None
    authority = parsed.to_authority()
    if not authority or authority[0] != "EPSG":
        raise error_class(f"CRS {crs!r} has no EPSG code; give one as EPSG:n")
    return int(authority[1]), parsed
