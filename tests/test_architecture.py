"""The house rules that keep the core usable without a GUI."""

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
GUI_MODULES = ("PySide6", "PyQt5", "PyQt6", "qtpy", "shiboken6", "desktop")


def imported_modules(path):
    tree = ast.parse(path.read_text("utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module


def test_the_core_never_imports_qt_or_the_desktop_package():
    offenders = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in sorted((ROOT / "layers").rglob("*.py"))
        for name in imported_modules(path)
        if name.split(".")[0] in GUI_MODULES
    ]
    assert offenders == []


def test_the_cli_runs_without_qt_loaded():
    code = (
        "import sys, importlib, pkgutil, layers, layers.cli.main;"
        "[importlib.import_module(m.name) for m in pkgutil.walk_packages(layers.__path__, 'layers.')];"
        "layers.cli.main.build_parser();"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'shiboken6')))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


# --- the GUI writes no SQL: it asks the core ------------------------------------------

_NAME = r'[\w."]+'
#: A string literal that is SQL: a statement keyword (any case) followed by SQL's own shape, so
#: that UI text such as "Delete", "Select by expression…" or "Update received" is not taken for it.
SQL_STATEMENT = re.compile(
    rf"""^\s*(?:
        SELECT\s+(?:DISTINCT\s+)?(?:\*|\d|{_NAME}\s*\(|{_NAME}(?:\s+AS\s+\w+)?\s*,|{_NAME}\s+(?-i:FROM)\s)
      | INSERT\s+(?:OR\s+\w+\s+)?INTO\s
      | REPLACE\s+INTO\s
      | UPDATE\s+{_NAME}\s+SET\s
      | DELETE\s+(?:(?-i:FROM)\s|FROM\s+{_NAME}\s+WHERE\s)
      | CREATE\s+(?:TEMP(?:ORARY)?\s+|UNIQUE\s+|VIRTUAL\s+)?(?:TABLE|INDEX|VIEW|TRIGGER)\s+(?:IF\s+NOT\s+EXISTS\s+)?
            {_NAME}\s*(?:\(|ON\s|AS\s|USING\s|BEFORE\s|AFTER\s|INSTEAD\s)
      | DROP\s+(?:TABLE|INDEX|VIEW|TRIGGER)\s+(?:IF\s+EXISTS\s+)?{_NAME}\s*(?:$|;)
      | PRAGMA\s+[\w.]+\s*(?:$|;|=|\()
      | ALTER\s+TABLE\s+{_NAME}\s+(?:ADD|RENAME|DROP)\s
    )""",
    re.IGNORECASE | re.VERBOSE,
)


def string_literals(path):
    """Every string constant of a module, the literal parts of f-strings included."""
    tree = ast.parse(path.read_text("utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield node.lineno, node.value


@pytest.mark.parametrize(
    "text",
    [
        "SELECT fid FROM toilets",
        "select * from toilets where fid = ?",
        "SELECT count(*) FROM t",
        "SELECT name, value FROM metadata",
        "\n    SELECT 1",
        "INSERT INTO toilets (name) VALUES (?)",
        "insert or replace into t values (?)",
        "UPDATE toilets SET name = ? WHERE fid = ?",
        "DELETE FROM toilets",
        "delete from toilets where fid = ?",
        "CREATE TABLE t (a INTEGER)",
        "create index if not exists t_a on t (a)",
        "DROP TABLE t",
        "PRAGMA integrity_check",
        "pragma journal_mode = wal",
        "ALTER TABLE t ADD COLUMN b TEXT",
    ],
)
def test_the_sql_detector_sees_sql(text):
    assert SQL_STATEMENT.match(text)


@pytest.mark.parametrize(
    "text",
    [
        "Delete",
        "Delete features",
        "Delete the %d selected features?",
        "Delete from the list",
        "Select",
        "Select by expression",
        "Select by &expression…",
        "Select features by clicking or by dragging a rectangle.",
        "Select the features to delete first",
        "Select within selection",
        "select",
        "Update received",
        "update/delete",
        "Create facilities from the checked unmatched waypoints",
        "Create table of contents",
        "Drop points faster than:",
        "Drop all edits since the last save",
        "Alter the style",
    ],
)
def test_the_sql_detector_leaves_ui_text_alone(text):
    assert not SQL_STATEMENT.match(text)


def test_the_gui_writes_no_sql():
    offenders = [
        f"{path.relative_to(ROOT)}:{line}: {text.strip()[:60]!r}"
        for path in sorted((ROOT / "desktop").rglob("*.py"))
        for line, text in string_literals(path)
        if SQL_STATEMENT.match(text)
    ]
    assert offenders == [], "the GUI asks the core (layers) instead of writing SQL"
