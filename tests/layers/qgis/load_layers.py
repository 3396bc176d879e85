"""Run by Debian's python3 with python3-qgis (tests/layers/test_export_qgis.py): open each layer as a partner
would in QGIS and print, as JSON, what QGIS made of it (validity, fields and types, aliases, renderer, labels,
widgets, feature count, and the messages QGIS logged, e.g. about a .csvt it refused).

    python3 load_layers.py URI PROVIDER [URI PROVIDER ...]
"""

import json
import os
import sys

from qgis.core import QgsApplication, QgsVectorLayer

app = QgsApplication([], False)
app.initQgis()
messages = []
QgsApplication.messageLog().messageReceived.connect(lambda text, tag, level: messages.append(text))
out = []
arguments = sys.argv[1:]
for uri, provider in zip(arguments[::2], arguments[1::2], strict=True):
    layer = QgsVectorLayer(uri, "layer", provider)
    app.processEvents()
    renderer = layer.renderer()
    labeling = layer.labeling()
    out.append({
        "uri": uri,
        "valid": layer.isValid(),
        "count": layer.featureCount(),
        "fields": {f.name(): f.typeName().lower() for f in layer.fields()},
        "aliases": {f.name(): f.alias() for f in layer.fields()},
        "widgets": {f.name(): layer.editorWidgetSetup(i).type() for i, f in enumerate(layer.fields())},
        "renderer": renderer.type() if renderer else None,
        "attribute": renderer.classAttribute() if renderer and renderer.type() == "categorizedSymbol" else None,
        "categories": [c.label() for c in renderer.categories()] if renderer and renderer.type() == "categorizedSymbol"
        else [],
        "labels": layer.labelsEnabled(),
        "label_field": labeling.settings().fieldName if labeling else None,
        "crs": layer.crs().authid(),
        "messages": list(messages),
    })
    messages.clear()
print(json.dumps(out, ensure_ascii=False), flush=True)
os._exit(0)  # QGIS 3.22 may crash while tearing down its providers; what it read is printed
