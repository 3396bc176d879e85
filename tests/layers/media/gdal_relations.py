"""GDAL's own reading of a GeoPackage's relationships, through its C API (GDAL 3.6's ogrinfo does not print them)."""

from __future__ import annotations

import ctypes
import ctypes.util

GDAL_OF_READONLY_VECTOR = 0x00 | 0x04


def relationships(path: str) -> dict[str, dict[str, str]]:
    """Per relationship name: left and right table, mapping table and related table type, as GDAL reads them."""
    lib = ctypes.CDLL(ctypes.util.find_library("gdal") or "libgdal.so")
    lib.GDALOpenEx.restype = ctypes.c_void_p
    lib.GDALOpenEx.argtypes = [ctypes.c_char_p, ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p]
    lib.GDALDatasetGetRelationshipNames.restype = ctypes.POINTER(ctypes.c_char_p)
    lib.GDALDatasetGetRelationshipNames.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
    lib.GDALDatasetGetRelationship.restype = ctypes.c_void_p
    lib.GDALDatasetGetRelationship.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
    for getter in ("LeftTableName", "RightTableName", "MappingTableName", "RelatedTableType"):
        function = getattr(lib, f"GDALRelationshipGet{getter}")
        function.restype = ctypes.c_char_p
        function.argtypes = [ctypes.c_void_p]
    lib.GDALClose.argtypes = [ctypes.c_void_p]
    lib.CSLDestroy.argtypes = [ctypes.c_void_p]
    lib.GDALAllRegister()
    dataset = lib.GDALOpenEx(path.encode(), GDAL_OF_READONLY_VECTOR, None, None, None)
    assert dataset, f"GDAL cannot open {path}"
    found: dict[str, dict[str, str]] = {}
    try:
        names = lib.GDALDatasetGetRelationshipNames(dataset, None)
        i = 0
        while names and names[i] is not None:
            relation = lib.GDALDatasetGetRelationship(dataset, names[i])
            found[names[i].decode()] = {
                key: getattr(lib, f"GDALRelationshipGet{getter}")(relation).decode()
                for key, getter in (("left", "LeftTableName"), ("right", "RightTableName"),
                                    ("mapping", "MappingTableName"), ("type", "RelatedTableType"))}
            i += 1
        if names:
            lib.CSLDestroy(ctypes.cast(names, ctypes.c_void_p))
    finally:
        lib.GDALClose(dataset)
    return found
