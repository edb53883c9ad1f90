#!/bin/sh
# Adds NTK Lab to the desktop's application menu (current user only): run it from the unpacked
# bundle folder, e.g. ./install-desktop-entry.sh. Remove with ./install-desktop-entry.sh --remove.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
APPS="${XDG_DATA_HOME:-$HOME/.local/share}/applications"
ICONS="${XDG_DATA_HOME:-$HOME/.local/share}/icons/hicolor/256x256/apps"
if [ "${1:-}" = "--remove" ]; then
    rm -f "$APPS/ntklab.desktop" "$ICONS/ntklab.png"
    echo "Removed the NTK Lab menu entry."
    exit 0
fi
mkdir -p "$APPS" "$ICONS"
cp "$HERE/_internal/resources/ntklab.png" "$ICONS/ntklab.png"
sed -e "s|^Exec=.*|Exec=\"$HERE/ntklab\"|" -e "s|^Icon=.*|Icon=$ICONS/ntklab.png|" \
    "$HERE/_internal/resources/ntklab.desktop" > "$APPS/ntklab.desktop"
chmod +x "$APPS/ntklab.desktop"
echo "Added NTK Lab to the application menu ($APPS/ntklab.desktop)."
