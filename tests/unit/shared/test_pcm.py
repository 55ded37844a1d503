"""PCM blocks' energy and the stereo mixdown: the C helper, its Python fallback and numpy agree."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from shared import pcm
from shared.pcm import HELPER, Pcm, as_pcm, dbfs


def blocks() -> list[bytes]:
    rng = np.random.default_rng(3)
    loud = rng.integers(-32768, 32768, 5513, dtype=np.int16)  # full scale, odd length
    quiet = (rng.standard_normal(5512) * 30).astype(np.int16)
    return [loud.tobytes(), quiet.tobytes(), bytes(11024), b"", np.full(7, -32768, np.int16).tobytes()]


@pytest.mark.parametrize("which", ["helper", "python"])
def test_sum_squares_is_exact(which: str) -> None:
    if which == "helper" and not HELPER.is_file():
        pytest.skip(f"{HELPER} not built (./dev setup builds it)")
    fn = pcm.sum_squares if which == "helper" else pcm._python_sum_squares
    if which == "helper":
        assert fn is not pcm._python_sum_squares  # the helper was loaded, not the fallback
    for data in blocks():
        x = np.frombuffer(data, dtype="<i2").astype(np.int64)
        assert fn(data) == float((x * x).sum())


def test_levels() -> None:
    assert Pcm.of(bytes(11024)).level_dbfs == -120.0  # digital silence
    full = Pcm.of(np.full(100, -32768, np.int16).tobytes())
    assert full.level_dbfs == 0.0
    half = as_pcm(np.full(100, 16384, np.int16))
    assert half.level_dbfs == pytest.approx(-6.02, abs=0.01)
    assert Pcm.join([full, half]).sum_squares == full.sum_squares + half.sum_squares
    assert dbfs(0.0, 0) == -120.0
    assert Pcm.of(b"\x01\x00\x02").samples == 1  # a trailing odd byte is not a sample


def test_python_fallback_is_chosen_on_request() -> None:
    code = "import shared.pcm as p; print(p.sum_squares is p._python_sum_squares)"
    env = {"SODAV_PCM_HELPER": "python", "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.strip() == "True"


def test_mix_stereo_is_ffmpegs_float_mixdown() -> None:
    if pcm.mix_stereo is None:
        pytest.skip(f"{HELPER} not built (./dev setup builds it)")
    rng = np.random.default_rng(5)
    left = rng.uniform(-1, 1, 11025).astype(np.float32)
    right = rng.uniform(-1, 1, 11025).astype(np.float32)
    right[:5] = left[:5]  # identical channels, and opposite ones, cancel or add as they should
    right[5:10] = -left[5:10]
    k = np.float32(np.sqrt(0.5))
    want = left * k + right * k  # float32 throughout, as libswresample's sum2_float
    got = np.frombuffer(pcm.mix_stereo(left.tobytes(), right.tobytes()), dtype=np.float32)
    assert got.size == 11025 and np.all(got[5:10] == 0)
    assert np.array_equal(got, want)
    assert pcm.mix_stereo(b"", b"") == b""
    with pytest.raises(ValueError):
        pcm.mix_stereo(b"\0" * 8, b"\0" * 4)
