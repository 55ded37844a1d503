#!/bin/sh
# Build sodav-agent_<version>_<arch>.deb: a self-contained virtualenv under /opt/sodav-agent
# (the edge agent and its Python dependencies, no FastAPI/SQLAlchemy), the systemd unit, the
# example configuration and the maintainer scripts from packaging/debian/.
#
# usage: packaging/build-deb.sh [-o OUTDIR] [-z xz|gzip|zstd|none]
#
# Run it on the architecture and Debian release you deploy to (the venv holds compiled
# wheels: numpy, PyAV, ...): amd64 on a Debian 12 PC, arm64 on a Raspberry Pi OS 12 box.
# Needs: python3.11 with venv (python3.11-venv), dpkg-dev tools (dpkg-deb), fakeroot, and
# pip access to PyPI (or a local wheelhouse through PIP_FIND_LINKS / PIP_INDEX_URL); cmake,
# make, g++ and libfftw3-dev for the FFmpeg-free Chromaprint (packaging/chromaprint/build.sh; set
# SODAV_DEB_SYSTEM_CHROMAPRINT=1 to leave it out and use Debian's libchromaprint1).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/.." && pwd)
outdir=$src/dist
compress=xz
while getopts "o:z:" opt; do
    case $opt in
        o) outdir=$OPTARG ;;
        z) compress=$OPTARG ;;
        *) echo "usage: $0 [-o OUTDIR] [-z xz|gzip|zstd|none]" >&2; exit 2 ;;
    esac
done

python=${PYTHON:-/usr/bin/python3.11}
if ! [ -x "$python" ]; then
    echo "build-deb: $python not found; apt-get install python3.11 python3.11-venv (or set PYTHON)" >&2
    exit 2
fi
for tool in dpkg-deb fakeroot; do
    if ! command -v $tool >/dev/null; then
        echo "build-deb: $tool not found; apt-get install dpkg-dev fakeroot" >&2
        exit 2
    fi
done

version=$("$python" -c 'import sys, tomllib; print(tomllib.load(open(sys.argv[1], "rb"))["project"]["version"])' "$src/pyproject.toml")
arch=$(dpkg --print-architecture)
prefix=/opt/sodav-agent
stage=$(mktemp -d "${TMPDIR:-/tmp}/sodav-agent-deb.XXXXXX")
trap 'rm -rf "$stage"' EXIT INT TERM
root=$stage/root
mkdir -p "$root"

echo "build-deb: sodav-agent $version ($arch): virtualenv in $prefix"
"$python" -m venv "$root$prefix"
# --no-compile: bytecode is compiled below with the installed paths, not the staging ones.
"$root$prefix/bin/pip" install --quiet --no-compile --disable-pip-version-check "$src[agent]"
# The project's metadata points at this checkout: useless on the box.
find "$root$prefix" -name direct_url.json -delete
# The distribution also declares sodav-collector, which needs the [collector] extra: not here.
rm -f "$root$prefix/bin/sodav-collector"
# The package is never changed in place (upgrades come as a new .deb): no pip, no setuptools.
"$root$prefix/bin/python" -m pip uninstall --quiet --yes pip setuptools
rm -f "$root$prefix"/bin/Activate.ps1
# Scripts, activate* and pyvenv.cfg name the staging directory: point them at $prefix.
grep -rlI -- "$root$prefix" "$root$prefix" | while read -r f; do
    sed -i "s#$root$prefix#$prefix#g" "$f"
done
# Chromaprint without FFmpeg, which shared/chroma.py loads first: ~15 MB less RSS per agent.
if [ -z "${SODAV_DEB_SYSTEM_CHROMAPRINT:-}" ]; then
    "$src/packaging/chromaprint/build.sh" "$root$prefix/lib/sodav"
fi
# The PCM helper (shared/pcm.py): level sums ~1.5 CPU s less per station-hour, and the stereo
# mixdown outside FFmpeg's graph, ~0.56 MB less per station (bench/agent/pcm_helper.py).
"$src/packaging/pcm/build.sh" "$root$prefix/lib/sodav"
"$root$prefix/bin/python" -m compileall -q -j 0 -d "$prefix/lib" "$root$prefix/lib" >/dev/null

# Files outside the venv.
install -D -m 0644 "$src/packaging/systemd/sodav-agent.service" "$root/lib/systemd/system/sodav-agent.service"
install -D -m 0644 "$src/edge_agent/agent.example.toml" "$root/etc/sodav-agent/agent.example.toml"
install -D -m 0644 "$here/debian/copyright" "$root/usr/share/doc/sodav-agent/copyright"
install -D -m 0644 "$here/debian/README.Debian" "$root/usr/share/doc/sodav-agent/README.Debian"
mkdir -p "$root/usr/bin"
ln -s "$prefix/bin/sodav-agent" "$root/usr/bin/sodav-agent"

# Control area.
mkdir -p "$root/DEBIAN"
installed_kb=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
sed -e "s/@VERSION@/$version/" -e "s/@ARCH@/$arch/" -e "s/@INSTALLED_SIZE@/$installed_kb/" \
    "$here/debian/control" > "$root/DEBIAN/control"
install -m 0644 "$here/debian/conffiles" "$root/DEBIAN/conffiles"
for script in postinst prerm postrm; do
    install -m 0755 "$here/debian/$script" "$root/DEBIAN/$script"
done

mkdir -p "$outdir"
deb=$outdir/sodav-agent_${version}_${arch}.deb
fakeroot -- sh -c "chown -R 0:0 '$root' && dpkg-deb --root-owner-group -Z$compress --build '$root' '$deb'" >/dev/null
echo "build-deb: $deb ($(du -h "$deb" | cut -f1))"
