"""The house rules that keep the core usable without a GUI."""

import ast
import subprocess
import sys
from pathlib import Path

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
        "import sys, layers.cli.main, layers.workspace.store, layers.workspace.editing, layers.geopackage.gpkg,"
        " layers.sync.merge, layers.gps;"
        "layers.cli.main.build_parser();"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'shiboken6')))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
