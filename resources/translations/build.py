"""Build the interface translations: every tongcheng_<language>.ts here becomes a .qm beside it.

    .venv/bin/python resources/translations/build.py            # lrelease: .ts -> .qm
    .venv/bin/python resources/translations/build.py --update   # first lupdate: desktop/ -> .ts

``--update`` collects the strings of every Python file under ``desktop/``
into the .ts files (keeping existing translations, dropping obsolete ones);
translate new entries with Qt Linguist (``pyside6-linguist``) and commit the
.ts files. ``tongcheng_en.ts`` holds only the strings with a count (``%n``),
with their English singular and plural forms. The .qm files are build products and are not committed.

Besides ``self.tr("...")`` and ``QCoreApplication.translate("Context", "...")``,
a module may define a one-line helper ``def _tr(text): return
QCoreApplication.translate("Context", text)``: its ``_tr("...")`` strings are
collected under that module's context (lupdate alone would file them under
an empty context, which never matches at run time).
"""

from __future__ import annotations

import argparse
import ast
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
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


HELPER = "_tr"
SOURCE_LANGUAGE = "en"  # the language of the source strings: its catalogue holds plural forms only


def helper_context(path):
    """The context of a module's ``_tr(text)`` helper (``QCoreApplication.translate("Context", text)``), or None."""
    try:
        tree = ast.parse(Path(path).read_text(encoding="utf-8"))
    except (SyntaxError, UnicodeDecodeError):
        return None
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == HELPER:
            for call in ast.walk(node):
                if (isinstance(call, ast.Call) and getattr(call.func, "attr", None) == "translate" and call.args
                        and isinstance(call.args[0], ast.Constant) and isinstance(call.args[0].value, str)):
                    return call.args[0].value
    return None


def update(ts_files):
    """Collect the strings of desktop/ into the .ts files, keeping their translations.

    lupdate writes a fresh catalogue to a temporary file; strings of ``_tr``
    helpers are moved to their module's context; then every message takes
    its translation from the committed .ts where it has one (new ones are
    left unfinished) and messages no longer in the sources are dropped.
    """
    sources = sorted(p for p in SOURCES.rglob("*.py") if "__pycache__" not in p.parts)
    contexts = {p.resolve(): helper_context(p) for p in sources}
    for ts in ts_files:
        with tempfile.TemporaryDirectory() as folder:
            fresh = Path(folder) / ts.name
            fresh.write_text(f'<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE TS>\n'
                             f'<TS version="2.1" language="{ts.stem.split("_", 1)[1]}" sourcelanguage="en"></TS>\n',
                             encoding="utf-8")
            command = [tool("lupdate"), "-silent", "-locations", "absolute", "-tr-function-alias", f"tr+={HELPER}",
                       *map(str, sources), "-ts", str(fresh)]
            subprocess.run(command, check=True, cwd=ROOT)
            merge(ts, ET.parse(fresh), contexts, fresh.parent,
                  plurals_only=ts.stem.split("_", 1)[1] == SOURCE_LANGUAGE)


def copy_element(element):
    """A deep copy of an ElementTree element."""
    return ET.fromstring(ET.tostring(element))


def merge(ts, fresh, contexts, fresh_folder, plurals_only=False):
    """Write ``ts`` with the messages of ``fresh`` and the translations ``ts`` already has.

    The source language's catalogue (``tongcheng_en.ts``) holds only the
    messages with a count (``%n``): their English singular and plural forms,
    as lupdate's ``-pluralonly`` would (Qt's way to say "1 feature", "2 features").

    lupdate writes each location's file name relative to the folder of the
    catalogue it writes (``fresh_folder``), so that is where they are resolved.
    """
    old = {}
    if ts.exists():
        for context in ET.parse(ts).getroot().findall("context"):
            for message in context.findall("message"):
                old[(context.findtext("name") or "", message.findtext("source"))] = message.find("translation")
    messages = {}  # context -> {source: message}
    for context in fresh.getroot().findall("context"):
        name = context.findtext("name") or ""
        for message in context.findall("message"):
            wheres = [name]
            if not name:  # a _tr helper's string: its module says the context (each module's, when several use it)
                wheres = []
                for location in message.findall("location"):
                    where = contexts.get((fresh_folder / location.get("filename")).resolve()) or ""
                    if where not in wheres:
                        wheres.append(where)
                wheres = wheres or [""]
            for location in message.findall("location"):
                message.remove(location)
            if plurals_only and message.get("numerus") != "yes":
                continue
            source = message.findtext("source")
            for where in wheres:
                copy = copy_element(message)
                translation = old.get((where, source))
                if translation is not None:
                    copy.remove(copy.find("translation"))
                    copy.append(copy_element(translation))
                messages.setdefault(where, {}).setdefault(source, copy)
    root = ET.Element("TS", fresh.getroot().attrib)
    for name in sorted(messages):
        context = ET.SubElement(root, "context")
        ET.SubElement(context, "name").text = name
        context.extend(messages[name].values())
    tree = ET.ElementTree(root)
    ET.indent(tree, space="    ")
    with open(ts, "wb") as f:
        f.write(b'<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE TS>\n')
        tree.write(f, encoding="utf-8")
        f.write(b"\n")


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
