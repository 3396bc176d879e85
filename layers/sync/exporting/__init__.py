"""The parts of the partner export (``layers.sync.export``): formats and their types, styles, tables, files."""
