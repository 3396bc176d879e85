"""Whether a master location is a PostgreSQL connection string (no database library needed to tell)."""

from __future__ import annotations

__all__ = ["SCHEMES", "is_postgres"]

SCHEMES = ("postgresql://", "postgres://")


def is_postgres(location: object) -> bool:
    """True if *location* is a ``postgresql://`` (or ``postgres://``) connection string."""
    return isinstance(location, str) and location.lower().startswith(SCHEMES)
