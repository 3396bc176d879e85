"""Coordinate reference systems: EPSG codes and China's web-map datums."""
