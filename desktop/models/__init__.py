"""Qt item models over the core's queries (the attribute table)."""

from .attribute_table import FID_COLUMN, AttributeTableModel, FidRole, RawValueRole

__all__ = ["AttributeTableModel", "FidRole", "RawValueRole", "FID_COLUMN"]
