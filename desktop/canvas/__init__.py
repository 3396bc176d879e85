"""Map canvas: background-rendered layers, scale bar and map tools."""

from .canvas import MapCanvas
from .render import LabelImage, LayerImage, RenderSettings, render_labels, render_layer
from .scalebar import ScaleBar, nice_length
from .source import LINESTRING, POINT, ArrayLayerSource, FeatureArrays, LayerSource
from .style import LayerStyle, StyleClass
from .tools import AddPointTool, Hit, IdentifyTool, MapTool, MovePointTool, PanTool, SelectTool
from .transform import MapTransform, scale_denominator

__all__ = [
    "MapCanvas",
    "MapTransform",
    "scale_denominator",
    "LayerSource",
    "ArrayLayerSource",
    "FeatureArrays",
    "POINT",
    "LINESTRING",
    "LayerStyle",
    "StyleClass",
    "RenderSettings",
    "LayerImage",
    "LabelImage",
    "render_layer",
    "render_labels",
    "ScaleBar",
    "nice_length",
    "MapTool",
    "Hit",
    "PanTool",
    "IdentifyTool",
    "SelectTool",
    "AddPointTool",
    "MovePointTool",
]
