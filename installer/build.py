"""Build Tongcheng's one-folder bundle and its archive.

    .venv/bin/python installer/build.py [--dist DIR] [--work DIR] [--no-archive]

Makes ``dist/tongcheng/`` (PyInstaller, ``installer/tongcheng.spec``) and
``dist/tongcheng-<version>-linux-x86_64.tar.gz``, the version read from the
installed package's metadata. The interface translations are built first
(``resources/translations/build.py``). Needs the ``build`` extra
(``pip install -e '.[build]'``; ``./setup.sh`` installs it).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tarfile
import time
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import buildinfo  # noqa: E402

HERE = Path(__file__).resolve().parent
ROOT = buildinfo.ROOT
NAME = "tongcheng"


def build_translations():
    script = ROOT / "resources" / "translations" / "build.py"
    if script.exists() and any(script.parent.glob("*.ts")):
        subprocess.run([sys.executable, str(script)], check=True, cwd=ROOT)


def run_pyinstaller(dist: Path, work: Path):
    try:
        import PyInstaller  # noqa: F401
    except ImportError:
        raise SystemExit("build: PyInstaller is missing; "
                         "run ./setup.sh --no-run (it installs the 'build' extra)") from None
    command = [sys.executable, "-m", "PyInstaller", "--noconfirm", "--clean", "--log-level", "WARN",
               "--distpath", str(dist), "--workpath", str(work), str(HERE / f"{NAME}.spec")]
    subprocess.run(command, check=True, cwd=ROOT)


def make_archive(bundle: Path, archive: Path) -> Path:
    """Pack the bundle folder as ``tongcheng/...`` into a .tar.gz (a .zip on Windows)."""
    partial = archive.with_name(archive.name + ".part")
    if archive.suffix == ".zip":
        with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as z:
            for path in sorted(bundle.rglob("*")):
                z.write(path, Path(NAME) / path.relative_to(bundle))
    else:
        def normalise(info):
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            return info

        with tarfile.open(partial, "w:gz", compresslevel=6) as tar:
            tar.add(bundle, arcname=NAME, filter=normalise)
    os.replace(partial, archive)
    return archive


def folder_size(folder: Path) -> int:
    return sum(p.lstat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dist", type=Path, default=ROOT / "dist", help="output folder (default: dist/)")
    parser.add_argument("--work", type=Path, default=ROOT / "build", help="PyInstaller's work folder (default: build/)")
    parser.add_argument("--no-archive", action="store_true", help="make only the folder, not the archive")
    args = parser.parse_args(argv)

    started = time.monotonic()
    version = buildinfo.project_version()
    dist, work = args.dist.resolve(), args.work.resolve()
    print(f"build: tongcheng {version} into {dist}", flush=True)
    build_translations()
    run_pyinstaller(dist, work)
    bundle = dist / NAME
    print(f"build: {bundle} ({folder_size(bundle) / 1e6:.0f} MB) in {time.monotonic() - started:.0f} s", flush=True)
    if not args.no_archive:
        archive = make_archive(bundle, dist / buildinfo.archive_name(version))
        print(f"build: {archive} ({archive.stat().st_size / 1e6:.0f} MB) in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
