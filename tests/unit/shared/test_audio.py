"""The block converter (the capture's and the file decoder's) gives the PCM the per-frame
resampler gives, and loses nothing.

Real music (hedgewars), decoded by PyAV as the agent does: MP3 (planar float, batched),
WAV (packed s16, frame by frame), and a source whose sample rate changes mid-stream. The
energy each block carries (the agent has no numpy to measure it later) is its samples'.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import av
import numpy as np
import numpy.typing as npt
import pytest

from shared import audio
from shared import pcm as pcm_module
from shared.audio import BLOCK_SECONDS as FEED_SECONDS
from shared.audio import PcmConverter, Resampler
from shared.audio import frames_to_pcm as _frames_to_pcm
from shared.chroma import fingerprint_pcm
from shared.pcm import Pcm
from tests.support.audio import excerpt, track

RATE = 11025


def frames_of(path: Path) -> list[av.AudioFrame]:
    with av.open(str(path)) as container:
        return list(container.decode(container.streams.audio[0]))


def samples(pcm: Pcm) -> npt.NDArray[np.int16]:
    return np.frombuffer(pcm.data, dtype="<i2")


def one_by_one(frames: list[av.AudioFrame]) -> npt.NDArray[np.int16]:
    rs = Resampler(RATE)
    parts = [pcm for frame in frames for pcm in _frames_to_pcm(rs, frame)]
    parts += _frames_to_pcm(rs, None)
    return samples(Pcm.join(parts))


def batched(frames: list[av.AudioFrame]) -> tuple[npt.NDArray[np.int16], list[Pcm]]:
    conv = PcmConverter(RATE, FEED_SECONDS)
    parts = [pcm for frame in frames for pcm in conv.add(frame)]
    parts += conv.finish()
    return samples(Pcm.join(parts)), parts


@pytest.mark.parametrize("codec", ["mp3", "wav"])
def test_blocks_match_frame_by_frame(tmp_path: Path, codec: str) -> None:
    src = excerpt(track(0), tmp_path / f"clip.{codec}", 20, 30, codec=codec)
    frames = frames_of(src)
    ref = one_by_one(frames)
    got, parts = batched(frames)
    # every sample comes out: 30 s at 11025 Hz, as the frame-by-frame path gives
    assert abs(got.size - ref.size) <= 1
    assert abs(got.size - 30 * RATE) <= 0.01 * 30 * RATE
    n = min(got.size, ref.size)
    assert np.abs(got[:n].astype(np.int32) - ref[:n]).max() <= 2  # rounding of the mixdown only
    if codec == "mp3":  # planar float frames are resampled in blocks, not per 26 ms frame
        assert len(parts) <= 30 / FEED_SECONDS + 2
    # and the fingerprints the collector will match are the same
    a, b = fingerprint_pcm(got, RATE), fingerprint_pcm(ref, RATE)
    assert a.size == b.size
    assert np.mean(a == b) > 0.99


def test_sample_rate_change_mid_stream(tmp_path: Path) -> None:
    # a stream that switches from 44.1 kHz to 22.05 kHz (an HLS variant change): the audio
    # before the switch is flushed at the old rate and nothing is lost on either side
    first = excerpt(track(1), tmp_path / "a.mp3", 10, 12)
    second = tmp_path / "b.mp3"
    at_22k = ["-ss", "30", "-t", "8", "-i", str(track(1)), "-ar", "22050", str(second)]
    subprocess.run(["ffmpeg", "-v", "error", "-y", *at_22k], check=True)
    got, _ = batched(frames_of(first) + frames_of(second))
    assert abs(got.size - 20 * RATE) <= 0.01 * 20 * RATE


def test_blocks_carry_the_level_of_their_samples(tmp_path: Path) -> None:
    # music with a fade to digital silence: every block's energy is the energy of its
    # samples, and digital silence reads -120 dBFS
    src = tmp_path / "fade.mp3"
    music = ["-ss", "20", "-t", "6", "-i", str(track(2))]
    silence = ["-f", "lavfi", "-t", "3", "-i", "anullsrc=r=44100:cl=stereo"]
    mix = ["-filter_complex", "[0:a]afade=t=out:st=3:d=3[m];[m][1:a]concat=n=2:v=0:a=1"]
    subprocess.run(["ffmpeg", "-v", "error", "-y", *music, *silence, *mix, str(src)], check=True)
    _, parts = batched(frames_of(src))
    levels = []
    for pcm in parts:
        x = samples(pcm).astype(np.float64)
        assert pcm.sum_squares == float(np.dot(x, x))
        levels.append(pcm.level_dbfs)
    assert max(levels[:4]) > -40  # the music
    assert levels[-2] == -120.0  # the silence after the fade


def test_stereo_is_mixed_down_as_ffmpeg_mixes_it(tmp_path: Path) -> None:
    """With the PCM helper the converter mixes stereo blocks itself before resampling (less
    memory than the graph's mixdown stage): what comes out is what that stage gives, to the
    sample."""
    if pcm_module.mix_stereo is None:
        pytest.skip(f"{pcm_module.HELPER} not built (./dev setup builds it)")
    assert audio.__dict__["mix_stereo"] is pcm_module.mix_stereo  # the converter uses it
    frames = frames_of(excerpt(track(3), tmp_path / "clip.mp3", 40, 20))
    assert frames[0].layout.name == "stereo" and frames[0].format.name == "fltp"
    got, _ = batched(frames)
    # the same blocks, stereo, through the graph (its mixdown stage does the work)
    rs, ref_parts, held = Resampler(RATE), list[Pcm](), list[av.AudioFrame]()
    for i, frame in enumerate(frames):
        held.append(frame)
        if sum(f.samples for f in held) >= FEED_SECONDS * frame.sample_rate or i == len(frames) - 1:
            block = av.AudioFrame(format="fltp", layout="stereo", samples=sum(f.samples for f in held))
            for c, plane in enumerate(block.planes):
                plane.update(b"".join(bytes(f.planes[c])[: 4 * f.samples] for f in held))
            block.sample_rate = frame.sample_rate
            ref_parts += _frames_to_pcm(rs, block)
            held = []
    ref = samples(Pcm.join([*ref_parts, *_frames_to_pcm(rs, None)]))
    assert got.size == ref.size and np.array_equal(got, ref)
