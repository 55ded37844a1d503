#!/usr/bin/env bash
# Build Chromaprint without FFmpeg, for the edge agent: packaging/chromaprint/build.sh DEST_DIR
#
# Debian's libchromaprint1 links libavcodec for one FFT. Loading it maps Debian's whole
# FFmpeg and the ~95 libraries behind it (x265, librsvg, gnutls, ICU...): ~15 MB of RSS in
# every process that fingerprints, on top of PyAV's own FFmpeg. Chromaprint built with FFTW
# (Debian's libfftw3-single3: libm and libc only) gives the same raw fingerprints bit for bit
# (tests/unit/shared/test_chromaprint_lib.py checks it against the system library). Its
# bundled KissFFT would save 2 MB more but costs ~10 % more agent CPU (measured, see
# docs/benchmarks.md).
#
# The source is Debian's own upstream tarball (the same version as libchromaprint1 in
# bookworm), checked against its SHA-256. Needs cmake, make, g++ and libfftw3-dev. Writes
# DEST_DIR/libchromaprint.so.1, which shared/chroma.py loads before pyacoustid does.
set -euo pipefail
DEST=${1:?usage: packaging/chromaprint/build.sh DEST_DIR}
VERSION=1.5.1
SHA256=a1aad8fa3b8b18b78d3755b3767faff9abb67242e01b478ec9a64e190f335e1c
URL=${SODAV_CHROMAPRINT_URL:-http://deb.debian.org/debian/pool/main/c/chromaprint/chromaprint_${VERSION}.orig.tar.gz}

for tool in cmake make g++; do
  command -v "$tool" >/dev/null || { echo "chromaprint: $tool not found: apt-get install cmake make g++ libfftw3-dev" >&2; exit 1; }
done
[ -e /usr/include/fftw3.h ] || { echo "chromaprint: FFTW headers not found: apt-get install libfftw3-dev" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tarball=${SODAV_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sodav}/chromaprint_${VERSION}.orig.tar.gz
if ! echo "$SHA256  $tarball" | sha256sum -c --status 2>/dev/null; then
  mkdir -p "$(dirname "$tarball")"
  if command -v curl >/dev/null; then curl -fsSL -o "$tarball.part" "$URL"
  else python3 -c 'import sys, urllib.request; urllib.request.urlretrieve(sys.argv[1], sys.argv[2])' "$URL" "$tarball.part"
  fi
  echo "$SHA256  $tarball.part" | sha256sum -c --status || {
    echo "chromaprint: $URL does not have the expected SHA-256 ($SHA256)" >&2; rm -f "$tarball.part"; exit 1; }
  mv "$tarball.part" "$tarball"
fi
tar -xzf "$tarball" -C "$work"
cmake -S "$work/chromaprint-$VERSION" -B "$work/build" -DCMAKE_BUILD_TYPE=Release \
  -DFFT_LIB=fftw3f -DCMAKE_DISABLE_FIND_PACKAGE_FFmpeg=ON -DBUILD_TESTS=OFF -DBUILD_TOOLS=OFF >"$work/cmake.log" 2>&1 \
  || { cat "$work/cmake.log" >&2; exit 1; }
make -C "$work/build" -j"$(nproc)" chromaprint >"$work/make.log" 2>&1 || { tail -30 "$work/make.log" >&2; exit 1; }
mkdir -p "$DEST"
install -m 0644 "$work/build/src/libchromaprint.so.$VERSION" "$DEST/libchromaprint.so.1"
if ldd "$DEST/libchromaprint.so.1" | grep -q libavcodec; then
  echo "chromaprint: the build links FFmpeg after all" >&2; exit 1
fi
echo "chromaprint $VERSION (FFTW, no FFmpeg) -> $DEST/libchromaprint.so.1"
