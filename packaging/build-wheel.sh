#!/usr/bin/env bash
# Build the project's wheel, sodav_monitor-<version>-py3-none-any.whl, into OUTDIR (dist/).
#
# usage: packaging/build-wheel.sh [OUTDIR]        (./dev wheel runs it with the project's venv)
#
# sodav-monitor is not on PyPI: agents and collectors are installed from this wheel (pip install
# 'dist/sodav_monitor-0.1.0-py3-none-any.whl[agent]'), from the .deb (build-deb.sh, which uses
# this script) or from a git checkout. The wheel is built from a clean copy of the checkout's
# files (git ls-files: tracked files and new ones not ignored), so a stale build/ directory, a
# virtualenv or a local database never ends up in it. File times come from the last commit
# (SOURCE_DATE_EPOCH): the same commit gives the same wheel.
# The web application is built first (web/scripts/build.sh: npm ci, npm run build, into
# collector/web_dist, each only when its inputs changed) and carried in the wheel, so
# `pip install ...[collector]` serves it without Node.js (./dev wheel builds it itself and sets
# SODAV_WEB_BUILT=1).
# Needs: Python >= 3.11 with pip (PYTHON, default python3); pip fetches setuptools and wheel
# for the build from PyPI (or PIP_INDEX_URL / PIP_FIND_LINKS); Node.js >= 18.18 (Debian 12's is
# enough) and npm.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/.." && pwd)
out=${1:-$src/dist}
python=${PYTHON:-python3}
if ! "$python" -m pip --version >/dev/null 2>&1; then
    echo "build-wheel: $python has no pip: apt-get install python3-pip, or set PYTHON=/path/to/venv/bin/python" >&2
    exit 2
fi
if [ -f "$src/web/package.json" ] && [ "${SODAV_WEB_BUILT:-}" != 1 ]; then
    if ! command -v npm >/dev/null 2>&1; then
        echo "build-wheel: the web application needs Node.js >= 18.18 and npm: ./dev setup installs them" >&2
        exit 2
    fi
    "$src/web/scripts/build.sh"  # only as far as web/ changed since the last build
fi
if [ ! -f "$src/collector/web_dist/index.html" ]; then
    echo "build-wheel: collector/web_dist is missing: build the web application (cd web && npm ci && npm run build)" >&2
    exit 2
fi
stage=$(mktemp -d "${TMPDIR:-/tmp}/sodav-wheel.XXXXXX")
trap 'rm -rf "$stage"' EXIT INT TERM
sources=(pyproject.toml README.md shared edge_agent collector)

mkdir -p "$stage/src"
if git -C "$src" rev-parse --git-dir >/dev/null 2>&1; then
    (
        cd "$src"
        git ls-files -z --cached --others --exclude-standard -- "${sources[@]}" \
            | while IFS= read -r -d '' f; do
                # a file deleted but not yet committed is still listed: skip it
                if [ -f "$f" ]; then cp --parents -- "$f" "$stage/src/"; fi
            done
    )
    SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git -C "$src" log -1 --format=%ct)}
    export SOURCE_DATE_EPOCH
else  # an unpacked source archive: take the sources as they are, without bytecode
    (cd "$src" && tar -c --exclude=__pycache__ --exclude='*.pyc' "${sources[@]}") | tar -x -C "$stage/src"
fi

# the built web application (ignored by git, so not copied above); not its build stamps
mkdir -p "$stage/src/collector/web_dist"
(cd "$src/collector/web_dist" && tar -c --exclude=.vite --exclude=.sodav-built .) | tar -x -C "$stage/src/collector/web_dist"

"$python" -m pip wheel --quiet --no-deps --disable-pip-version-check -w "$stage/out" "$stage/src" >&2
mkdir -p "$out"
wheel=$(cd "$stage/out" && ls sodav_monitor-*.whl)
mv -f "$stage/out/$wheel" "$out/$wheel"
echo "$out/$wheel"
