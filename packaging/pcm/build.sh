#!/usr/bin/env bash
# Build the agent's PCM helper: packaging/pcm/build.sh DEST_DIR
#
# Two C functions (pcm.c), the level meter's sum of squares and the stereo mixdown, that
# shared/pcm.py loads with ctypes from <venv>/lib/sodav/libsodavpcm.so. Without it the agent
# does the same in Python, a few CPU s more per station-hour. Needs a C compiler (cc or gcc).
set -euo pipefail
DEST=${1:?usage: packaging/pcm/build.sh DEST_DIR}
cc=${CC:-$(command -v cc || command -v gcc || true)}
[ -n "$cc" ] || { echo "pcm helper: no C compiler: apt-get install gcc" >&2; exit 1; }
mkdir -p "$DEST"
"$cc" -O2 -fPIC -shared -Wall -Werror -o "$DEST/libsodavpcm.so.part" "$(dirname "$0")/pcm.c"
mv "$DEST/libsodavpcm.so.part" "$DEST/libsodavpcm.so"
echo "pcm helper -> $DEST/libsodavpcm.so"
