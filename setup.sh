#!/usr/bin/env bash
# Set up Tongcheng on Debian (12 or newer) and start it on the demo workspace.
#
#   ./setup.sh           install what is missing, then open the demo workspace
#   ./setup.sh --no-run  install only (used by ./test.sh and CI)
#
# Installs Debian packages with apt (as root, or through sudo), then a virtual
# environment in .venv built from Debian's python3, whose sqlite3 module can
# load mod_spatialite (pyenv/python.org builds often cannot).
set -euo pipefail
cd "$(dirname "$0")"

RUN=1
[ "${1:-}" = "--no-run" ] && RUN=0

DEBIAN_PACKAGES=(
  python3 python3-venv
  libsqlite3-mod-spatialite   # SpatiaLite for the workspace
  gdal-bin                    # ogrinfo/ogr2ogr: read-back checks and benchmarks
  python3-qgis                # tests: QGIS itself opens exported files (.csvt, .qml); bench/canvas.py
  postgresql-15 postgresql-15-postgis-3   # PostGIS masters (tests start a throwaway server; no service needed)
  # Qt's runtime libraries for a real window (and Xvfb for a virtual screen)
  xvfb xauth libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-randr0
  libxcb-render-util0 libxcb-shape0 libxcb-xfixes0 libxcb-xkb1 libxkbcommon-x11-0
  libegl1 libgl1 libfontconfig1 libdbus-1-3
  fonts-wqy-microhei          # a CJK font, so Chinese text renders
)

missing=()
for package in "${DEBIAN_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get -o DPkg::Lock::Timeout=120 update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get -o DPkg::Lock::Timeout=120 install -y -q "${missing[@]}"
fi

if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c "import sqlite3; sqlite3.connect(':memory:').enable_load_extension" 2>/dev/null; then
  echo "setup: creating .venv from /usr/bin/python3"
  rm -rf .venv
  /usr/bin/python3 -m venv .venv
fi
stamp=.venv/.tongcheng-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "setup: installing Python packages into .venv"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e '.[test,build]'
  # GDAL's GeoPackage validator; its 'gdal' dependency would need libgdal-dev and is not used by it.
  .venv/bin/python -m pip install -q --no-deps 'gdal-utils>=3.6'
  touch "$stamp"
fi
.venv/bin/python resources/translations/build.py

if [ "$RUN" = 1 ]; then
  DEMO="$(.venv/bin/python -c 'import platformdirs; print(platformdirs.user_data_path("tongcheng"))')/demo.sqlite"
  mkdir -p "$(dirname "$DEMO")"
  if [ ! -f "$DEMO" ]; then
    .venv/bin/tongcheng demo "$DEMO"
  fi
  if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ] || [ "$(uname)" = Darwin ]; then
    exec .venv/bin/tongcheng editor "$DEMO"
  fi
  echo "setup: no display here; the demo workspace is ready. On a desktop, run: .venv/bin/tongcheng editor"
  .venv/bin/tongcheng info "$DEMO"
fi
