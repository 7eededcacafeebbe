#!/usr/bin/env bash
# Paint in the real editor as a person would, under Xvfb, driven by xdotool (issue 11's judge).
#
#   bash tools/soak_xvfb.sh [STROKES] [OUT_DIR]        (default 500 strokes, build/soak)
#
# Starts `.venv/bin/ganpaint SAMPLE` on a virtual screen (a fresh GANPAINT_DATA_DIR, so the first
# run is what a newcomer sees), closes the welcome panel if one shows, then draws STROKES brush
# strokes with real mouse drags over the canvas, pressing B (brush), [ and ] (size) and Ctrl+Z
# now and then. Screenshots go to OUT_DIR (first.png, every 100 strokes, last.png). Exits 0 only
# when the editor is still running at the end; its stderr is OUT_DIR/editor.log.
# Needs Debian's xvfb, xdotool and imagemagick (import).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
STROKES=${1:-500}
OUT=${2:-$ROOT/build/soak}
SAMPLE=${SAMPLE:-$(sed -n 's/^SAMPLE := //p' "$ROOT/Makefile")}
DISPLAY_NUM=${SOAK_DISPLAY:-:97}
mkdir -p "$OUT"
data=$(mktemp -d)

Xvfb "$DISPLAY_NUM" -screen 0 1600x1000x24 -nolisten tcp >/dev/null 2>&1 &
xvfb=$!
export DISPLAY=$DISPLAY_NUM
cleanup() { kill "$app" 2>/dev/null || true; kill "$xvfb" 2>/dev/null || true; rm -rf "$data"; }
trap cleanup EXIT
sleep 1

GANPAINT_DATA_DIR=$data "$ROOT/.venv/bin/ganpaint" "$ROOT/$SAMPLE" >"$OUT/editor.log" 2>&1 &
app=$!
win=""
for _ in $(seq 60); do
    win=$(xdotool search --name "GANPaint" 2>/dev/null | tail -1 || true)
    [ -n "$win" ] && break
    sleep 0.5
done
[ -n "$win" ] || { echo "soak: no GANPaint window appeared"; cat "$OUT/editor.log"; exit 1; }
sleep 3
import -window root "$OUT/first.png"
# a first-run panel may sit over the canvas: Escape closes a dialog, harmless otherwise
xdotool key --clearmodifiers Escape
sleep 0.5
# the main window: the largest visible window whose title names GANPaint
main_window() {
    local best="" area=0 w
    for w in $(xdotool search --onlyvisible --name "GANPaint" 2>/dev/null); do
        eval "$(xdotool getwindowgeometry --shell "$w")"
        if [ $((WIDTH * HEIGHT)) -gt "$area" ]; then area=$((WIDTH * HEIGHT)); best=$w; fi
    done
    echo "$best"
}
win=$(main_window)
xdotool windowactivate --sync "$win" 2>/dev/null || true
eval "$(xdotool getwindowgeometry --shell "$win")"
# the canvas is the window's middle; stay clear of the docks and their splitters
cx=$((X + WIDTH / 2 - 30)); cy=$((Y + HEIGHT / 2))
echo "soak: window at $X,$Y size ${WIDTH}x$HEIGHT; painting around $cx,$cy"
xdotool key b
t0=$(date +%s)
for i in $(seq "$STROKES"); do
    kill -0 "$app" 2>/dev/null || { echo "soak: the editor died after $((i - 1)) strokes"; tail -20 "$OUT/editor.log"; exit 1; }
    x=$((cx - 150 + (i * 37) % 300)); y=$((cy - 120 + (i * 53) % 240))
    xdotool mousemove --sync "$x" "$y"
    xdotool mousedown 1
    for k in 1 2 3 4 5; do xdotool mousemove --sync "$((x + 12 * k))" "$((y + 7 * k))"; sleep 0.01; done
    xdotool mouseup 1
    sleep 0.02
    case $((i % 50)) in
        10) xdotool key bracketright ;;
        20) xdotool key bracketleft ;;
        30) xdotool key ctrl+z ;;
    esac
    [ $((i % 100)) -eq 0 ] && import -window root "$OUT/strokes-$i.png"
done
sleep 2
import -window root "$OUT/last.png"
if kill -0 "$app" 2>/dev/null; then
    echo "soak: $STROKES strokes in $(( $(date +%s) - t0 )) s; the editor is still running (its History panel counts the strokes: see last.png)"
    exit 0
fi
echo "soak: the editor exited"; tail -20 "$OUT/editor.log"; exit 1
