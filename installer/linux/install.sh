#!/bin/sh
# Install the unpacked Tongcheng bundle for the current user (no root needed):
#
#   ./install.sh               copy this folder to ~/.local/lib/tongcheng, link ~/.local/bin/tongcheng,
#                              add the editor to the applications menu (with its icon)
#   ./install.sh --uninstall   remove all of that (your workspaces and settings stay)
#
# Honours XDG_DATA_HOME; PREFIX (default ~/.local) moves lib/ and bin/.
set -eu

HERE=$(cd "$(dirname "$0")" && pwd -P)
PREFIX=${PREFIX:-$HOME/.local}
DATA=${XDG_DATA_HOME:-$HOME/.local/share}
TARGET=$PREFIX/lib/tongcheng
LINK=$PREFIX/bin/tongcheng
ENTRY=$DATA/applications/tongcheng.desktop
ICON=$DATA/icons/hicolor/scalable/apps/tongcheng.svg

refresh_menus() {
  command -v update-desktop-database >/dev/null 2>&1 && update-desktop-database -q "$DATA/applications" || true
  command -v gtk-update-icon-cache >/dev/null 2>&1 && gtk-update-icon-cache -q -t "$DATA/icons/hicolor" || true
}

if [ "${1:-}" = "--uninstall" ]; then
  rm -f "$LINK" "$ENTRY" "$ICON"
  rm -rf "$TARGET"
  refresh_menus
  echo "tongcheng: uninstalled (workspaces and settings in $DATA/tongcheng and ~/.config are kept)"
  exit 0
fi
if [ -n "${1:-}" ]; then
  echo "usage: $0 [--uninstall]" >&2
  exit 2
fi
if [ ! -x "$HERE/tongcheng" ] || [ ! -d "$HERE/_internal" ]; then
  echo "install.sh: run me from the unpacked tongcheng folder" >&2
  exit 1
fi

# Copy the bundle (unless it is being installed where it already is), replacing an older one.
if [ "$HERE" != "$(cd "$TARGET" 2>/dev/null && pwd -P || true)" ]; then
  mkdir -p "$PREFIX/lib"
  rm -rf "$TARGET.new"
  cp -a "$HERE" "$TARGET.new"
  rm -rf "$TARGET"
  mv "$TARGET.new" "$TARGET"
fi

mkdir -p "$(dirname "$LINK")" "$(dirname "$ENTRY")" "$(dirname "$ICON")"
ln -sfn "$TARGET/tongcheng" "$LINK"
cp "$TARGET/share/icons/hicolor/scalable/apps/tongcheng.svg" "$ICON"
# The menu starts the editor by absolute path: ~/.local/bin is not on every session's PATH.
sed -e "s|^Exec=tongcheng |Exec=\"$TARGET/tongcheng\" |" -e "s|^TryExec=tongcheng\$|TryExec=$TARGET/tongcheng|" \
  "$TARGET/share/applications/tongcheng.desktop" > "$ENTRY"
chmod 644 "$ENTRY"
refresh_menus

echo "tongcheng $(cat "$TARGET/VERSION" 2>/dev/null || echo) installed in $TARGET"
echo "  command: $LINK"
echo "  menu:    $ENTRY"
case ":$PATH:" in
  *":$PREFIX/bin:"*) ;;
  *) echo "  note: $PREFIX/bin is not on your PATH; add it, or start the editor from the menu" ;;
esac
