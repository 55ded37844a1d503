#!/bin/sh
# Build sodav-agent_<version>_<arch>.deb: a self-contained virtualenv under /opt/sodav-agent
# (the edge agent and its Python dependencies, no FastAPI/SQLAlchemy), the systemd unit, the
# example configuration and the maintainer scripts from packaging/debian/.
#
# usage: packaging/build-deb.sh [-o OUTDIR] [-z xz|gzip|zstd|none]
#
# Run it on the architecture and Debian release you deploy to (the venv holds compiled
# wheels: numpy, PyAV, ...): amd64 on a Debian 12 PC, arm64 on a Raspberry Pi OS 12 box.
# Needs: python3.11 with venv (python3.11-venv), dpkg-dev (dpkg-deb, dpkg-shlibdeps,
# dpkg-parsechangelog), binutils (strip), fakeroot, and pip access to PyPI for the agent's
# dependencies (or a local wheelhouse through PIP_FIND_LINKS / PIP_INDEX_URL); cmake, make, g++
# and libfftw3-dev for the FFmpeg-free Chromaprint (packaging/chromaprint/build.sh; set
# SODAV_DEB_SYSTEM_CHROMAPRINT=1 to leave it out and use Debian's libchromaprint1).
# The project itself is built from this checkout (packaging/build-wheel.sh), never fetched.
# lintian passes without errors; what policy allows for a venv in /opt is overridden, with the
# reasons, in packaging/debian/lintian-overrides.
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
for tool in dpkg-deb dpkg-shlibdeps dpkg-parsechangelog fakeroot strip; do
    if ! command -v $tool >/dev/null; then
        echo "build-deb: $tool not found; apt-get install dpkg-dev fakeroot binutils" >&2
        exit 2
    fi
done

version=$("$python" -c 'import sys, tomllib; print(tomllib.load(open(sys.argv[1], "rb"))["project"]["version"])' "$src/pyproject.toml")
changelog_version=$(dpkg-parsechangelog -l "$here/debian/changelog" -S Version)
if [ "$changelog_version" != "$version" ]; then
    echo "build-deb: packaging/debian/changelog is at $changelog_version, pyproject.toml at $version:" >&2
    echo "  add a changelog entry for $version (dch -v $version -c packaging/debian/changelog)" >&2
    exit 2
fi
arch=$(dpkg --print-architecture)
prefix=/opt/sodav-agent
stage=$(mktemp -d "${TMPDIR:-/tmp}/sodav-agent-deb.XXXXXX")
trap 'rm -rf "$stage"' EXIT INT TERM
root=$stage/root
mkdir -p "$root"

echo "build-deb: sodav-agent $version ($arch): virtualenv in $prefix"
"$python" -m venv "$root$prefix"
# The wheel of this checkout (clean: only its tracked files), then its [agent] dependencies.
PYTHON="$root$prefix/bin/python" "$here/build-wheel.sh" "$stage/wheel" >/dev/null
wheel=$(ls "$stage"/wheel/sodav_monitor-"$version"-*.whl)
# --no-compile: no bytecode in the package; postinst compiles it on the box (Debian's Python
# policy: .pyc files are made at install time, and removed by prerm).
"$root$prefix/bin/pip" install --quiet --no-compile --disable-pip-version-check "$wheel[agent]"
# The project's metadata points at the build directory: useless on the box.
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
# What policy asks of shared objects: stripped (like dh_strip; the wheels' own libraries mostly
# are already) and not executable. Files without a symbol table are left as they are.
find "$root$prefix" -type f \( -name '*.so' -o -name '*.so.*' \) | while read -r lib; do
    chmod 0644 "$lib"
    if readelf -S "$lib" 2>/dev/null | grep -q '\.symtab'; then
        strip --strip-unneeded --remove-section=.comment --remove-section=.note "$lib"
    fi
done
find "$root$prefix" -name __pycache__ -type d -prune -exec rm -rf {} +
# Modules are imported, never run: a wheel's stray executable bit (certifi's tests) goes.
find "$root$prefix/lib" -type f -name '*.py' -perm /111 -exec chmod 0644 {} +
# Depends on the libraries those objects link to (libc6, libstdc++6 ...), as dh_shlibdeps does;
# the wheels' bundled libraries (av.libs/) are found inside the package.
mkdir -p "$stage/shlibs/debian"
printf 'Source: sodav-agent\n\nPackage: sodav-agent\nArchitecture: any\n' > "$stage/shlibs/debian/control"
find "$root$prefix" -type f \( -name '*.so' -o -name '*.so.*' \) > "$stage/shlibs/objects"
privlibs=$(find "$root$prefix" -type d -name '*.libs' -printf '-l%p\n')
# shellcheck disable=SC2086  # one -l option per directory
shlibs=$(cd "$stage/shlibs" && xargs -d '\n' dpkg-shlibdeps -O --ignore-missing-info $privlibs \
    < objects 2>warnings | sed -n 's/^shlibs:Depends=//p')
if [ -z "$shlibs" ]; then
    tail -n 20 "$stage/shlibs/warnings" >&2
    echo "build-deb: dpkg-shlibdeps found no library dependencies (see above)" >&2
    exit 1
fi

# Files outside the venv.
install -D -m 0644 "$src/packaging/systemd/sodav-agent.service" "$root/lib/systemd/system/sodav-agent.service"
install -D -m 0644 "$src/edge_agent/agent.example.toml" "$root/etc/sodav-agent/agent.example.toml"
install -D -m 0644 "$here/debian/copyright" "$root/usr/share/doc/sodav-agent/copyright"
install -D -m 0644 "$here/debian/README.Debian" "$root/usr/share/doc/sodav-agent/README.Debian"
gzip -9n < "$here/debian/changelog" > "$stage/changelog.gz"
install -D -m 0644 "$stage/changelog.gz" "$root/usr/share/doc/sodav-agent/changelog.gz"
install -D -m 0644 "$here/debian/lintian-overrides" "$root/usr/share/lintian/overrides/sodav-agent"
mkdir -p "$root/usr/bin"
ln -s "$prefix/bin/sodav-agent" "$root/usr/bin/sodav-agent"

# Control area.
mkdir -p "$root/DEBIAN"
installed_kb=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
sed -e "s/@VERSION@/$version/" -e "s/@ARCH@/$arch/" -e "s/@INSTALLED_SIZE@/$installed_kb/" \
    -e "s/@SHLIBS_DEPENDS@/$shlibs/" \
    "$here/debian/control" > "$root/DEBIAN/control"
install -m 0644 "$here/debian/conffiles" "$root/DEBIAN/conffiles"
for script in postinst prerm postrm; do
    install -m 0755 "$here/debian/$script" "$root/DEBIAN/$script"
done
# md5sums, as dh_md5sums writes them: `dpkg --verify sodav-agent` checks the files against them
(cd "$root" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | LC_ALL=C sort -z \
    | xargs -0 md5sum > DEBIAN/md5sums)

mkdir -p "$outdir"
deb=$outdir/sodav-agent_${version}_${arch}.deb
fakeroot -- sh -c "chown -R 0:0 '$root' && dpkg-deb --root-owner-group -Z$compress --build '$root' '$deb'" >/dev/null
echo "build-deb: $deb ($(du -h "$deb" | cut -f1))"
