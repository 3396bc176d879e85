"""The GeoPackage metadata extension (``gpkg_metadata``): lineage documents for the file or a layer."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from layers.geopackage.sql import NOW, table_exists

if TYPE_CHECKING:
    from layers.geopackage.gpkg import GeoPackage

__all__ = ["METADATA_EXTENSION", "add_metadata", "metadata"]

METADATA_EXTENSION = "http://www.geopackage.org/spec/#extension_metadata"

_METADATA_DDL = (
    "CREATE TABLE gpkg_metadata (id INTEGER CONSTRAINT m_pk PRIMARY KEY ASC NOT NULL,"
    " md_scope TEXT NOT NULL DEFAULT 'dataset', md_standard_uri TEXT NOT NULL,"
    " mime_type TEXT NOT NULL DEFAULT 'text/xml', metadata TEXT NOT NULL DEFAULT '')",
    "CREATE TABLE gpkg_metadata_reference (reference_scope TEXT NOT NULL,"
    " table_name TEXT, column_name TEXT, row_id_value INTEGER,"
    f" timestamp DATETIME NOT NULL DEFAULT ({NOW}),"
    " md_file_id INTEGER NOT NULL, md_parent_id INTEGER,"
    " CONSTRAINT crmr_mfi_fk FOREIGN KEY (md_file_id) REFERENCES gpkg_metadata(id),"
    " CONSTRAINT crmr_mpi_fk FOREIGN KEY (md_parent_id) REFERENCES gpkg_metadata(id))",
)


def add_metadata(gp: GeoPackage, document: str, *, layer: str | None = None,
                 md_scope: str = "dataset",
                 standard_uri: str = "http://www.isotc211.org/2005/gmd",
                 mime_type: str = "text/xml") -> int:
    """Add a ``gpkg_metadata`` document, referenced to the file or to a layer.

    Parameters
    ----------
    gp : GeoPackage
        Opened for writing.
    document : str
        The document (ISO 19115 XML, or e.g. JSON lineage with
        ``mime_type='application/json'``).
    layer : str, optional
        Reference the document to this table; otherwise to the whole
        GeoPackage.
    md_scope : str
        A scope of the spec's list ('dataset', 'featureType', ...).
    standard_uri, mime_type : str

    Returns
    -------
    int
        The metadata row id.
    """
    gp._writable()
    if layer is not None:
        gp.schema(layer)
    con = gp.connection
    with gp._sql("writing gpkg_metadata"):
        if not table_exists(con, "gpkg_metadata"):
            for ddl in _METADATA_DDL:
                con.execute(ddl)
            con.executemany(
                "INSERT INTO gpkg_extensions VALUES (?, NULL, 'gpkg_metadata', ?, "
                "'read-write')",
                [("gpkg_metadata", METADATA_EXTENSION),
                 ("gpkg_metadata_reference", METADATA_EXTENSION)])
        md_id = con.execute(
            "INSERT INTO gpkg_metadata (md_scope, md_standard_uri, mime_type, metadata) "
            "VALUES (?, ?, ?, ?)", (md_scope, standard_uri, mime_type, document)).lastrowid
        assert md_id is not None  # an INSERT always sets it
        con.execute(
            "INSERT INTO gpkg_metadata_reference (reference_scope, table_name, "
            f"md_file_id, timestamp) VALUES (?, ?, ?, {NOW})",
            ("table" if layer else "geopackage", layer, md_id))
    return md_id


def metadata(gp: GeoPackage) -> list[dict[str, Any]]:
    """All metadata documents with their reference (scope, table, timestamp); empty without the table."""
    con = gp.connection
    with gp._sql("reading gpkg_metadata"):
        if not table_exists(con, "gpkg_metadata"):
            return []
        cursor = con.execute(
            "SELECT m.id, m.md_scope, m.md_standard_uri, m.mime_type, m.metadata, "
            "r.reference_scope, r.table_name, r.timestamp FROM gpkg_metadata m "
            "LEFT JOIN gpkg_metadata_reference r ON r.md_file_id = m.id ORDER BY m.id")
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]
