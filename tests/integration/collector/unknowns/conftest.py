"""The recognizers' stand-in, serving four reference recordings on a real 127.0.0.1 socket."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.audio import track
from tests.support.recognizers_standin import References, Standin, write_catalog

# which of AudD's blocks carries each reference's ISRC
ISRC_IN = ["all", "spotify", "musicbrainz", "none"]
OFF_CATALOG = Path("/usr/share/games/wesnoth/1.16/data/core/music/battle.ogg")


@pytest.fixture(scope="session")
def standin_refs(tmp_path_factory: pytest.TempPathFactory) -> References:
    directory = tmp_path_factory.mktemp("standin-catalog")
    write_catalog(directory, [track(i) for i in range(len(ISRC_IN))], ISRC_IN)
    return References.load(directory)


@pytest.fixture
def standin(standin_refs: References) -> Iterator[Standin]:
    with Standin(standin_refs) as s:
        yield s
