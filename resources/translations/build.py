"""Build the interface translations: every tongcheng_<language>.ts here becomes a .qm beside it.

    .venv/bin/python resources/translations/build.py            # lrelease: .ts -> .qm
    .venv/bin/python resources/translations/build.py --update   # first lupdate: desktop/ -> .ts

``--update`` collects the strings of every Python file under ``desktop/``
into the .ts files (keeping existing translations, dropping obsolete ones);
translate new entries with Qt Linguist (``pyside6-linguist``) and commit the
.ts files. The .qm files are build products and are not committed.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
SOURCES = ROOT / "desktop"


def tool(name):
    """The path of a Qt Linguist tool: PySide6's wrapper beside this Python, else one on PATH."""
    for candidate in (Path(sys.executable).with_name(f"pyside6-{name}"), shutil.which(f"pyside6-{name}"),
                      shutil.which(name)):
        if candidate and Path(candidate).exists():
            return str(candidate)
    try:
        import PySide6

        bundled = Path(PySide6.__file__).with_name(name)
        if bundled.exists():
            return str(bundled)
    except ImportError:
        pass
    raise SystemExit(f"build.py: {name} not found (install PySide6-Essentials, which ships pyside6-{name})")


def catalogues():
    return sorted(HERE.glob("tongcheng_*.ts"))


def update(ts_files):
    """Run lupdate over desktop/ into the .ts files."""
    sources = sorted(str(p.relative_to(ROOT)) for p in SOURCES.rglob("*.py") if "__pycache__" not in p.parts)
    command = [tool("lupdate"), "-no-obsolete", "-locations", "none", *sources, "-ts", *map(str, ts_files)]
    subprocess.run(command, check=True, cwd=ROOT)


def release(ts_files):
    """Run lrelease on each .ts file; returns the .qm paths."""
    built = []
    for ts in ts_files:
        qm = ts.with_suffix(".qm")
        subprocess.run([tool("lrelease"), "-silent", str(ts), "-qm", str(qm)], check=True)
        built.append(qm)
    return built


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--update", action="store_true", help="run lupdate over desktop/ first")
    args = parser.parse_args(argv)
    ts_files = catalogues()
    if not ts_files:
        raise SystemExit(f"build.py: no tongcheng_*.ts files in {HERE}")
    if args.update:
        update(ts_files)
    for qm in release(ts_files):
        print(f"built {qm.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
