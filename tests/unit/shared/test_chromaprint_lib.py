"""The FFmpeg-free Chromaprint that set-up builds gives the system library's values, bit for bit.

Each library is loaded in its own Python process (a process holds one libchromaprint.so.1):
real music (hedgewars) at the nominal rate and two rate variants, through shared.chroma as
the agent and the catalog use it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from shared.chroma import BUNDLED_LIB
from tests.support.audio import pcm11k, track

PROBE = """
import json, sys
import numpy as np
from shared.chroma import fingerprint_pcm, library_path, library_version
pcm = np.load(sys.argv[1])
maps = open("/proc/self/maps").read()
print(json.dumps({
    "path": library_path(),
    "version": library_version(),
    "ffmpeg_mapped": "libavcodec.so" in maps,
    "values": {str(ppm): fingerprint_pcm(pcm, 11025, ppm).tolist() for ppm in (0, -40000, 25000)},
}))
"""


def probe(pcm_file: Path, lib: str) -> dict[str, object]:
    env = {**os.environ, "SODAV_CHROMAPRINT_LIB": lib}
    out = subprocess.run(
        [sys.executable, "-c", PROBE, str(pcm_file)], env=env, capture_output=True, text=True, check=True
    ).stdout
    result: dict[str, object] = json.loads(out)
    return result


def test_bundled_library_is_built_and_matches_the_system_one(tmp_path: Path) -> None:
    assert BUNDLED_LIB.is_file(), f"{BUNDLED_LIB} is missing: run ./dev setup (packaging/chromaprint)"
    pcm = pcm11k(track(2))[: 11025 * 90]
    pcm_file = tmp_path / "pcm.npy"
    np.save(pcm_file, pcm)

    bundled = probe(pcm_file, str(BUNDLED_LIB))
    system = probe(pcm_file, "system")

    assert Path(str(bundled["path"])).resolve() == BUNDLED_LIB.resolve()
    assert bundled["ffmpeg_mapped"] is False  # the point of it: no FFmpeg in the process
    assert "libchromaprint.so.1" in str(system["path"]) and system["path"] != bundled["path"]
    assert bundled["version"] == system["version"]
    values_b, values_s = bundled["values"], system["values"]
    assert isinstance(values_b, dict) and isinstance(values_s, dict)
    for ppm, vals in values_s.items():
        assert len(vals) > 600
        assert values_b[ppm] == vals, f"rate variant {ppm} ppm differs"


def test_default_load_prefers_the_bundled_library(tmp_path: Path) -> None:
    # what the agent does with no setting at all
    env = {k: v for k, v in os.environ.items() if k != "SODAV_CHROMAPRINT_LIB"}
    out = subprocess.run(
        [sys.executable, "-c", "from shared.chroma import library_path; print(library_path())"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert Path(out).resolve() == BUNDLED_LIB.resolve()


def test_a_wrong_library_setting_is_a_clear_error(tmp_path: Path) -> None:
    env = {**os.environ, "SODAV_CHROMAPRINT_LIB": str(tmp_path / "nope.so")}
    proc = subprocess.run(
        [sys.executable, "-c", "from shared.chroma import library_version; library_version()"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert proc.returncode != 0
    assert "SODAV_CHROMAPRINT_LIB" in proc.stderr and "no such file" in proc.stderr
