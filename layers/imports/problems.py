"""What can go wrong in an import: the error that stops it, and the problems of single rows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from layers.errors import TongchengError

__all__ = ["InventoryImportError", "RowProblem"]


class InventoryImportError(TongchengError):
    """The source, the mapping or the target cannot be used; nothing was written."""


@dataclass(frozen=True)
class RowProblem:
    """One value or geometry of a source row that breaks the layer's rules.

    ``row`` is the row as the user finds it in the source: the line of a
    spreadsheet or CSV file, the feature number (from 1) of a vector file.
    ``field`` is the layer's field (``geom`` for the geometry), ``column`` the
    source column it came from (empty for constants and geometries).
    """

    row: int
    field: str
    column: str
    value: Any
    message: str

    def as_dict(self) -> dict[str, Any]:
        value = self.value
        if value is not None and not isinstance(value, (str, int, float, bool)):
            value = str(value)
        return {"row": self.row, "field": self.field, "column": self.column, "value": value,
                "message": self.message}
