"""The geometry rules of a layer: type, emptiness, finite coordinates, validity; and the
multi-part form a MULTI layer stores (see ``layers.schema.definitions`` for the fields)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NoReturn

import numpy as np
import shapely
from shapely.geometry import LineString, MultiLineString, MultiPoint, MultiPolygon, Point, Polygon
from shapely.geometry.base import BaseGeometry
from shapely.validation import explain_validity

from layers.errors import ValidationError

if TYPE_CHECKING:
    from layers.schema.definitions import LayerDefinition

__all__ = ["conform_geometry", "validate_geometries", "validate_geometry"]


_GEOMETRY_CLASSES = {
    "POINT": (Point,),
    "MULTIPOINT": (MultiPoint, Point),
    "LINESTRING": (LineString,),
    "MULTILINESTRING": (MultiLineString, LineString),
    "POLYGON": (Polygon,),
    "MULTIPOLYGON": (MultiPolygon, Polygon),
}


def conform_geometry(definition: LayerDefinition, geometry: Any) -> Any:
    """The geometry as its layer stores it: a single line or point becomes a multi-part one in a MULTI layer."""
    if definition.geometry_type == "MULTILINESTRING" and isinstance(geometry, LineString):
        return MultiLineString([geometry])
    if definition.geometry_type == "MULTIPOINT" and isinstance(geometry, Point):
        return MultiPoint([geometry])
    if definition.geometry_type == "MULTIPOLYGON" and isinstance(geometry, Polygon):
        return MultiPolygon([geometry])
    return geometry


_GEOMETRY_TYPE_IDS = {
    "POINT": (0,),
    "MULTIPOINT": (0, 4),
    "LINESTRING": (1,),
    "MULTILINESTRING": (1, 5),
    "POLYGON": (3,),
    "MULTIPOLYGON": (3, 6),
}


def validate_geometries(
    definition: LayerDefinition, geometries: Sequence[Any] | np.ndarray, first_number: int = 1
) -> np.ndarray:
    """Check many geometries at once (vectorised) and return them conformed to the layer.

    Raises
    ------
    ValidationError
        For the first geometry that breaks a rule, naming its number
        (counting from ``first_number``).
    """
    array = np.asarray(geometries, dtype=object)
    if len(array) == 0:
        return array
    if definition.geometry_type not in _GEOMETRY_TYPE_IDS:  # "NONE": an attributes table
        validate_geometry(definition, array[0])
    try:
        type_ids = shapely.get_type_id(array)
    except TypeError:
        type_ids = np.full(len(array), -2)
    bad = ~np.isin(type_ids, _GEOMETRY_TYPE_IDS[definition.geometry_type])
    if not bad.any():
        bad = shapely.is_empty(array) | ~shapely.is_valid(array)
        if definition.geometry_type == "POINT" and not bad.any():
            bad = ~np.isfinite(shapely.get_coordinates(array)).all(axis=1)
    if bad.any():
        index = int(np.argmax(bad))
        try:
            validate_geometry(definition, array[index])
        except ValidationError as e:
            raise ValidationError(
                f"feature {first_number + index}: {e}", layer=e.layer, field=e.field, value=e.value, rule=e.rule
            ) from None
    if definition.geometry_type.startswith("MULTI"):
        return np.array([conform_geometry(definition, g) for g in array], dtype=object)
    return array


def validate_geometry(definition: LayerDefinition, geometry: Any) -> Any:
    """Check a geometry's type and validity against a layer definition.

    Raises
    ------
    ValidationError
        With field ``geom``, naming the layer and the rule broken.
    """
    layer = definition.name

    def refuse(rule: str) -> NoReturn:
        raise ValidationError(f"{layer}.geom: {rule}", layer=layer, field="geom", value=geometry, rule=rule)

    if definition.geometry_type not in _GEOMETRY_CLASSES:  # "NONE": an attributes table
        refuse("the layer has no geometry")
    if not isinstance(geometry, BaseGeometry):
        refuse(f"{type(geometry).__name__} is not a geometry")
    if not isinstance(geometry, _GEOMETRY_CLASSES[definition.geometry_type]):
        refuse(f"a {geometry.geom_type} cannot go in a {definition.geometry_type} layer")
    if geometry.is_empty:
        refuse("the geometry is empty")
    if not np.isfinite(shapely.get_coordinates(geometry)).all():
        refuse("the geometry has coordinates that are not finite numbers")
    if not geometry.is_valid:
        refuse(f"the geometry is not valid ({explain_validity(geometry)})")
    return geometry
