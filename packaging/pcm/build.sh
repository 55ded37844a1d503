#!/usr/bin/env bash
# Build the agent's PCM energy helper: packaging/pcm/build.sh DEST_DIR
#
# One C function (sum_squares.c) that shared/pcm.py loads with ctypes from
# <venv>/lib/sodav/libsodavpcm.so for the agent's level meter. Without it the agent computes
# the same sums in Python, ~1 CPU s more per station-hour. Needs a C compiler (cc or gcc).
set -euo pipefail
DEST=${1:?usage: packaging/pcm/build.sh DEST_DIR}
cc=${CC:-$(command -v cc || command -v gcc || true)}
[ -n "$cc" ] || { echo "pcm helper: no C compiler: apt-get install gcc" >&2; exit 1; }
mkdir -p "$DEST"
"$cc" -O2 -fPIC -shared -Wall -Werror -o "$DEST/libsodavpcm.so.part" "$(dirname "$0")/sum_squares.c"
mv "$DEST/libsodavpcm.so.part" "$DEST/libsodavpcm.so"
echo "pcm helper -> $DEST/libsodavpcm.so"
