"""QGIS styles (QML and SLD) made from a layer definition's default style.

A definition's ``[style]`` names a field, one colour per value of its code
list, a colour for every other value, a marker symbol and size (points) or a
width (lines).  :func:`layer_qml` turns it into a QGIS categorized renderer
whose category labels are the code list's labels in the chosen language, with
the fields' labels as aliases, the definition's label field as labels, code
lists as value maps (the attribute table shows the labels of the stored
codes) and check boxes for booleans, so a partner opening an export in QGIS
sees the office's map in Chinese or English.  The columns may be named as a
file holds them (a Shapefile's 10-character names).  :func:`layer_sld` is the same as OGC SLD 1.1 for
other tools.  :func:`operation_qml` styles a change package by operation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import escape, quoteattr

if TYPE_CHECKING:
    from layers.schema.definitions import LayerDefinition

__all__ = ["COLUMN_LABELS", "layer_qml", "layer_sld", "operation_qml", "OPERATION_COLORS", "QGIS_VERSION"]

#: The QGIS version written into QML files (Debian's, likely at partners).
QGIS_VERSION = "3.22.16-Białowieża"

#: Colours of the operations in a change package.
OPERATION_COLORS = {"insert": "#1a9641", "update": "#fdae61", "delete": "#d7191c"}
_OPERATION_LABELS = {
    "zh_CN": {"insert": "新增", "update": "修改", "delete": "删除"},
    "en": {"insert": "Inserted", "update": "Updated", "delete": "Deleted"},
}
_OTHER = {"zh_CN": "其他", "en": "Other"}
_MARKERS = {"circle", "square", "triangle", "diamond", "cross", "cross2", "star", "pentagon",
            "hexagon", "cross_fill", "equilateral_triangle", "arrowhead"}
#: Labels of the columns of an exported layer that are not a definition's fields.
COLUMN_LABELS = {
    "uuid": {"zh_CN": "唯一标识码", "en": "Unique identifier"},
    "created_by": {"zh_CN": "创建人", "en": "Created by"},
    "created_at": {"zh_CN": "创建时间", "en": "Created at"},
    "modified_by": {"zh_CN": "修改人", "en": "Modified by"},
    "modified_at": {"zh_CN": "修改时间", "en": "Modified at"},
    "photo_files": {"zh_CN": "照片文件", "en": "Photo files"},
}
#: A category of a categorized renderer: (value, label, colour); value None is "every other value".
Category = tuple[str | None, str, str]

_SLD_MARKS = {"circle": "circle", "square": "square", "triangle": "triangle", "diamond": "square",
              "cross": "cross", "cross2": "x", "star": "star"}


def _rgba(color: object) -> str:
    """'#rrggbb' -> 'r,g,b,255' as QGIS writes colours."""
    text = str(color).lstrip("#")
    if len(text) != 6:
        return "128,128,128,255"
    r, g, b = (int(text[i:i + 2], 16) for i in (0, 2, 4))
    return f"{r},{g},{b},255"


def _option(name: str, value: object) -> str:
    return f'<Option type="QString" name={quoteattr(name)} value={quoteattr(str(value))}/>'


def _symbol(index: int, geometry_type: str, style: dict[str, Any], color: str) -> str:
    if "LINE" in geometry_type:
        options = [
            _option("line_color", _rgba(color)), _option("line_style", "solid"),
            _option("line_width", style.get("width", 0.6)), _option("line_width_unit", "MM"),
            _option("capstyle", "round"), _option("joinstyle", "round"),
        ]
        kind, layer_class = "line", "SimpleLine"
    else:
        shape = style.get("symbol", "circle")
        options = [
            _option("name", shape if shape in _MARKERS else "circle"),
            _option("color", _rgba(color)), _option("size", style.get("size", 2.0)),
            _option("size_unit", "MM"), _option("outline_color", "35,35,35,255"),
            _option("outline_style", "solid"), _option("outline_width", 0.2),
            _option("outline_width_unit", "MM"), _option("angle", 0),
        ]
        kind, layer_class = "marker", "SimpleMarker"
    body = "".join(options)
    return (f'<symbol type="{kind}" name="{index}" alpha="1" clip_to_extent="1" force_rhr="0">'
            f'<data_defined_properties><Option type="Map"><Option type="QString" name="name" value=""/>'
            f'<Option name="properties"/><Option type="QString" name="type" value="collection"/>'
            f'</Option></data_defined_properties>'
            f'<layer class="{layer_class}" enabled="1" pass="0" locked="0">'
            f'<Option type="Map">{body}</Option></layer></symbol>')


def _categories(definition: LayerDefinition, language: str) -> list[Category]:
    """(value, label, colour) per class, then (None, 'other', default colour)."""
    style = definition.style or {}
    name = style.get("field")
    field = definition.field(name) if name else None
    out: list[Category] = []
    for entry in style.get("classes", []):
        value = entry["value"]
        label = field.code_label(value, language) if field is not None else str(value)
        out.append((str(value), str(label), entry.get("color", "#808080")))
    out.append((None, _OTHER.get(language, "Other"), style.get("default_color", "#808080")))
    return out


def _geometry_code(geometry_type: str) -> int:
    if geometry_type == "NONE":  # QGIS's NullGeometry: an attributes table
        return 4
    return 1 if "LINE" in geometry_type else 2 if "POLYGON" in geometry_type else 0


def _labeling(column: str | None) -> tuple[str, str]:
    """The root attribute and the ``<labeling>`` element of labels drawn from *column* (none without one)."""
    if not column:
        return "", ""
    return (' labelsEnabled="1"',
            '<labeling type="simple"><settings calloutType="simple">'
            f'<text-style fieldName={quoteattr(column)} isExpression="0" fontSize="9" fontSizeUnit="Point" '
            'textColor="35,35,35,255" textOpacity="1" fontWeight="50" blendMode="0" multilineHeight="1">'
            '<text-buffer bufferDraw="1" bufferSize="0.8" bufferSizeUnits="MM" bufferColor="255,255,255,255" '
            'bufferOpacity="1" bufferNoFill="1" bufferJoinStyle="128" bufferBlendMode="0"/></text-style>'
            '<placement placement="6" dist="1" distUnits="MM" priority="5" quadOffset="4" offsetType="0"/>'
            '<rendering drawLabels="1" obstacle="1" obstacleType="1" displayAll="0" upsidedownLabels="0" '
            'scaleVisibility="0" labelPerPart="0" mergeLines="0" zIndex="0"/>'
            '</settings></labeling>')


def _widget(kind: str, options: str) -> str:
    return f'<editWidget type="{kind}"><config><Option type="Map">{options}</Option></config></editWidget>'


def _field_configuration(definition: LayerDefinition, language: str, names: Mapping[str, str],
                         stored: Mapping[str, str]) -> str:
    """Edit widgets: a value map per code list (labels shown for codes), a check box per boolean,
    a date format for a date the file stores as a date and time."""
    fields = []
    for f in definition.fields:
        column = names.get(f.name, f.name)
        kind = stored.get(f.name, f.type)
        if f.codes:
            entries = "".join(f'<Option type="Map">{_option(code.label(language), code.value)}</Option>'
                              for code in f.codes)
            widget = _widget("ValueMap", f'<Option type="List" name="map">{entries}</Option>')
        elif f.type == "boolean" and kind == "integer":
            widget = _widget("CheckBox", _option("CheckedState", 1) + _option("UncheckedState", 0))
        elif f.type == "date" and kind in ("datetime", "text"):
            widget = _widget("DateTime", _option("display_format", "yyyy-MM-dd")
                             + _option("field_format", "yyyy-MM-dd")
                             + '<Option type="bool" name="allow_null" value="true"/>')
        else:
            continue
        fields.append(f'<field name={quoteattr(column)} configurationFlags="None">{widget}</field>')
    return f"<fieldConfiguration>{''.join(fields)}</fieldConfiguration>" if fields else ""


def _qml(geometry_type: str, attribute: str | None, categories: list[Category],
         style: dict[str, Any], aliases: list[tuple[str, str]], label_column: str | None = None,
         fields_xml: str = "") -> str:
    cats, symbols = [], []
    for i, (value, label, color) in enumerate(categories):
        cats.append(f'<category render="true" symbol="{i}" value={quoteattr("" if value is None else value)}'
                    f' label={quoteattr(label)}/>')
        symbols.append(_symbol(i, geometry_type, style, color))
    if geometry_type == "NONE":  # nothing to draw: the style carries the field aliases
        renderer = ""
    elif attribute:
        renderer = (f'<renderer-v2 type="categorizedSymbol" attr={quoteattr(attribute)} '
                    f'symbollevels="0" enableorderby="0" forceraster="0" referencescale="-1">'
                    f'<categories>{"".join(cats)}</categories><symbols>{"".join(symbols)}</symbols>'
                    f'</renderer-v2>')
    else:
        single = _symbol(0, geometry_type, style, categories[-1][2])
        renderer = (f'<renderer-v2 type="singleSymbol" symbollevels="0" enableorderby="0" '
                    f'forceraster="0" referencescale="-1"><symbols>{single}</symbols></renderer-v2>')
    alias_xml = "".join(f'<alias field={quoteattr(f)} index="{i}" name={quoteattr(a)}/>'
                        for i, (f, a) in enumerate(aliases))
    enabled, labeling = _labeling(label_column)
    categories_flags = "Symbology|Labeling|Fields|Forms" if label_column or fields_xml else "Symbology|Fields"
    return ("<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n"
            f'<qgis version={quoteattr(QGIS_VERSION)} styleCategories="{categories_flags}"{enabled}>'
            f"{renderer}{labeling}{fields_xml}<aliases>{alias_xml}</aliases>"
            f"<layerGeometryType>{_geometry_code(geometry_type)}</layerGeometryType></qgis>\n")


def layer_qml(definition: LayerDefinition, language: str = "zh_CN", columns: Sequence[str] | None = None,
              *, names: Mapping[str, str] | None = None, stored: Mapping[str, str] | None = None) -> str:
    """A QGIS QML style of a layer: categorized by its style field, labels in *language*.

    Parameters
    ----------
    definition : LayerDefinition
    language : str
        Language of the category labels, value maps and field aliases (``zh_CN`` or ``en``).
    columns : sequence of str, optional
        The columns of the styled table, in order, by field name (default:
        ``uuid`` then the definition's fields).
    names : mapping, optional
        Field name -> the column's name in the file, where they differ (a
        Shapefile's names cut to 10 characters); the style refers to the
        file's names and gives each the full field's label as alias.
    stored : mapping, optional
        Field name -> the type the file stores it as, where it is not the
        definition's (``integer`` for a boolean, ``datetime`` or ``text`` for a
        date): booleans stored as 0/1 get a check box, such dates a date format.

    Returns
    -------
    str
        QML text; with no style field, a single-symbol renderer in the
        default colour; with a label field, labels drawn from it.
    """
    style = definition.style or {}
    names = names or {}
    columns = list(columns) if columns is not None else ["uuid", *definition.field_names]
    labels = {f.name: f.label(language) for f in definition.fields}
    aliases = [(names.get(c, c), labels.get(c, COLUMN_LABELS.get(c, {}).get(language, ""))) for c in columns]
    attribute = style.get("field")
    label_column = names.get(definition.label_field, definition.label_field) if definition.label_field else None
    return _qml(definition.geometry_type, names.get(attribute, attribute) if attribute else None,
                _categories(definition, language), style, aliases, label_column,
                _field_configuration(definition, language, names, stored or {}))


def operation_qml(definition: LayerDefinition, language: str = "zh_CN",
                  columns: Sequence[str] | None = None) -> str:
    """A QML style for a change package layer: categorized by ``op`` (insert/update/delete)."""
    style = dict(definition.style or {})
    labels = _OPERATION_LABELS.get(language, _OPERATION_LABELS["en"])
    categories: list[Category] = [(op, labels[op], color) for op, color in OPERATION_COLORS.items()]
    categories.append((None, _OTHER.get(language, "Other"), "#808080"))
    field_labels = {f.name: f.label(language) for f in definition.fields}
    columns = list(columns) if columns is not None else ["uuid", "op", *definition.field_names]
    aliases = [(c, field_labels.get(c, "")) for c in columns]
    return _qml(definition.geometry_type, "op", categories, style, aliases)


def layer_sld(definition: LayerDefinition, language: str = "zh_CN") -> str:
    """The same categories as an OGC SLD 1.1 document (one rule per class, then the rest); "" without geometry."""
    if definition.geometry_type == "NONE":
        return ""
    style = definition.style or {}
    attribute = style.get("field")
    line = "LINE" in definition.geometry_type
    categories = _categories(definition, language)
    rules = []
    values = [v for v, _, _ in categories if v is not None]
    for value, label, color in categories:
        if not attribute:
            condition = ""
        elif value is not None:
            condition = (f"<ogc:Filter><ogc:PropertyIsEqualTo><ogc:PropertyName>{escape(attribute)}"
                         f"</ogc:PropertyName><ogc:Literal>{escape(value)}</ogc:Literal>"
                         f"</ogc:PropertyIsEqualTo></ogc:Filter>")
        elif values:
            condition = "<se:ElseFilter/>"
        else:
            condition = ""
        if line:
            symbolizer = (f'<se:LineSymbolizer><se:Stroke><se:SvgParameter name="stroke">{color}'
                          f'</se:SvgParameter><se:SvgParameter name="stroke-width">'
                          f'{float(style.get("width", 0.6)) * 3.78:.2f}</se:SvgParameter></se:Stroke>'
                          f'</se:LineSymbolizer>')
        else:
            mark = _SLD_MARKS.get(style.get("symbol", "circle"), "circle")
            symbolizer = (f'<se:PointSymbolizer><se:Graphic><se:Mark><se:WellKnownName>{mark}'
                          f'</se:WellKnownName><se:Fill><se:SvgParameter name="fill">{color}'
                          f'</se:SvgParameter></se:Fill><se:Stroke><se:SvgParameter name="stroke">'
                          f'#232323</se:SvgParameter></se:Stroke></se:Mark><se:Size>'
                          f'{float(style.get("size", 2.0)) * 3.78:.1f}</se:Size></se:Graphic>'
                          f'</se:PointSymbolizer>')
        rules.append(f"<se:Rule><se:Name>{escape(label)}</se:Name><se:Description><se:Title>"
                     f"{escape(label)}</se:Title></se:Description>{condition}{symbolizer}</se:Rule>")
        if not attribute:
            break
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<StyledLayerDescriptor xmlns="http://www.opengis.net/sld" '
            'xmlns:ogc="http://www.opengis.net/ogc" xmlns:se="http://www.opengis.net/se" '
            'xmlns:xlink="http://www.w3.org/1999/xlink" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" version="1.1.0">'
            f"<NamedLayer><se:Name>{escape(definition.name)}</se:Name><UserStyle>"
            f"<se:Name>{escape(definition.name)}</se:Name><se:FeatureTypeStyle>{''.join(rules)}"
            "</se:FeatureTypeStyle></UserStyle></NamedLayer></StyledLayerDescriptor>\n")
