"""packaging/build-deb.sh: build the agent's .deb once per session, then look inside it the
way an operator would (dpkg-deb -I / -c / -x), run lintian on it, unpack it with dpkg into an
empty root and run the packaged virtualenv.

The build takes about 2 minutes on the 2-core CI machine (pip installs the project's wheel with
its [agent] extra into a fresh venv, then gzip compresses ~100 MB); set
SODAV_TEST_DEB=/path/to/sodav-agent_*.deb to check an existing package instead.
NOT tested here: the maintainer scripts at run time (only `sh -n` and what they contain):
`dpkg --configure` would add a system user and run in a chroot, which needs a debootstrapped
Debian (minutes, and the network). That was done by hand: docs/ops/deploy.md says what to expect.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.fixtures.once import built_once

ROOT = Path(__file__).resolve().parents[3]
MUSIC = Path("/usr/share/games/wesnoth/1.16/data/core/music/battle.ogg")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(900),
    pytest.mark.skipif(
        shutil.which("dpkg-deb") is None or shutil.which("fakeroot") is None,
        reason="dpkg-deb and fakeroot needed",
    ),
]


def _version() -> str:
    with (ROOT / "pyproject.toml").open("rb") as fh:
        version: str = tomllib.load(fh)["project"]["version"]
    return version


def _arch() -> str:
    return subprocess.run(
        ["dpkg", "--print-architecture"], capture_output=True, text=True, check=True
    ).stdout.strip()


def _build_deb(out: Path) -> Path:
    result = subprocess.run(
        [str(ROOT / "packaging" / "build-deb.sh"), "-o", str(out), "-z", "gzip"],
        capture_output=True,
        text=True,
        timeout=840,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    path = out / f"sodav-agent_{_version()}_{_arch()}.deb"
    assert path.exists(), result.stdout
    return path


@pytest.fixture(scope="session")
def deb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The package, built once for all pytest-xdist workers (or SODAV_TEST_DEB's)."""
    given = os.environ.get("SODAV_TEST_DEB")
    if given:
        return Path(given)
    return built_once(tmp_path_factory, "deb", _build_deb)


@pytest.fixture(scope="session")
def unpacked(deb: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("unpacked")
    subprocess.run(["dpkg-deb", "-x", str(deb), str(root)], check=True)
    subprocess.run(["dpkg-deb", "-e", str(deb), str(root / "DEBIAN")], check=True)
    return root


def test_name_and_control_fields(deb: Path) -> None:
    assert deb.name == f"sodav-agent_{_version()}_{_arch()}.deb"

    def field(name: str) -> str:
        return subprocess.run(
            ["dpkg-deb", "-f", str(deb), name], capture_output=True, text=True, check=True
        ).stdout.strip()

    assert field("Package") == "sodav-agent"
    assert field("Version") == _version()
    assert field("Architecture") == _arch()
    depends = {d.strip().split(" ")[0] for d in field("Depends").split(",")}
    wanted = {"python3.11", "adduser", "libchromaprint1", "libfftw3-single3", "libportaudio2"}
    # from dpkg-shlibdeps: what the compiled modules and the FFmpeg-free Chromaprint link to
    wanted |= {"libc6", "libstdc++6"}
    assert wanted <= depends
    assert "ffmpeg" not in depends  # the agent runs no ffmpeg binary: a box need not carry one
    assert int(field("Installed-Size")) > 10_000


def test_contents(deb: Path, unpacked: Path) -> None:
    listing = subprocess.run(["dpkg-deb", "-c", str(deb)], capture_output=True, text=True, check=True).stdout
    paths = {line.split()[5] for line in listing.splitlines()}
    for expected in (
        "./opt/sodav-agent/bin/sodav-agent",
        "./opt/sodav-agent/pyvenv.cfg",
        "./lib/systemd/system/sodav-agent.service",
        "./etc/sodav-agent/agent.example.toml",
        "./usr/bin/sodav-agent",
        "./usr/share/doc/sodav-agent/copyright",
        "./usr/share/doc/sodav-agent/changelog.gz",
        "./usr/share/lintian/overrides/sodav-agent",
    ):
        assert expected in paths, expected
    # no bytecode: postinst compiles it on the box, prerm removes it (Debian's Python policy)
    assert not [p for p in paths if "__pycache__" in p or p.endswith(".pyc")]
    assert "./opt/sodav-agent/bin/sodav-collector" not in paths  # needs the [collector] extra
    # every file belongs to root; the service user is created by postinst
    assert all(" root/root " in line for line in listing.splitlines())
    assert os.readlink(unpacked / "usr/bin/sodav-agent") == "/opt/sodav-agent/bin/sodav-agent"
    unit = (unpacked / "lib/systemd/system/sodav-agent.service").read_text()
    assert unit == (ROOT / "packaging/systemd/sodav-agent.service").read_text()
    assert (unpacked / "DEBIAN/conffiles").read_text().split() == ["/etc/sodav-agent/agent.example.toml"]


def test_venv_points_at_opt_not_at_the_build_directory(unpacked: Path) -> None:
    venv = unpacked / "opt/sodav-agent"
    assert (venv / "bin/sodav-agent").read_text().splitlines()[0] == "#!/opt/sodav-agent/bin/python3.11"
    assert "/opt/sodav-agent" in (venv / "pyvenv.cfg").read_text()
    leaked = subprocess.run(
        ["grep", "-rlI", "sodav-agent-deb.", str(venv)], capture_output=True, text=True
    ).stdout.split()
    assert leaked == []
    site = venv / "lib/python3.11/site-packages"
    for heavy in ("fastapi", "sqlalchemy", "psycopg", "uvicorn", "pip"):
        assert not (site / heavy).exists(), heavy


@pytest.mark.skipif(not Path("/usr/bin/python3.11").exists(), reason="Debian python3.11 needed")
def test_packaged_agent_fingerprints_a_real_file(unpacked: Path) -> None:
    """Run the packaged venv in place (python finds its pyvenv.cfg next to bin/)."""
    python = unpacked / "opt/sodav-agent/bin/python3.11"
    version = subprocess.run(
        [str(python), "-m", "edge_agent.cli", "--version"], capture_output=True, text=True, timeout=60
    )
    assert version.stdout.strip() == f"sodav-agent {_version()}", version.stderr
    fp = subprocess.run(
        [str(python), "-m", "edge_agent.cli", "fingerprint", "--json", str(MUSIC)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert fp.returncode == 0, fp.stderr
    assert '"fingerprint"' in fp.stdout
    # with the package's own FFmpeg-free Chromaprint, which gives the system library's values
    lib = unpacked / "opt/sodav-agent/lib/sodav/libchromaprint.so.1"
    assert lib.is_file()
    probe = "from shared.chroma import library_path; print(library_path())"
    used = subprocess.run([str(python), "-c", probe], capture_output=True, text=True, timeout=60)
    assert Path(used.stdout.strip()).resolve() == lib.resolve(), used.stderr
    assert "libavcodec" not in subprocess.run(["ldd", str(lib)], capture_output=True, text=True).stdout
    system = subprocess.run(
        [str(Path(sys.executable).with_name("sodav-agent")), "fingerprint", "--json", str(MUSIC)],
        env={**os.environ, "SODAV_CHROMAPRINT_LIB": "system"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert system.stdout == fp.stdout


def test_maintainer_scripts_parse(unpacked: Path) -> None:
    for script in ("postinst", "prerm", "postrm"):
        path = unpacked / "DEBIAN" / script
        assert os.access(path, os.X_OK), script
        subprocess.run(["sh", "-n", str(path)], check=True)
        if shutil.which("shellcheck"):
            subprocess.run(["shellcheck", "-s", "sh", str(path)], check=True)
    postinst = (unpacked / "DEBIAN/postinst").read_text()
    assert "adduser --system --group" in postinst and "sodav-agent audio" in postinst
    assert "/opt/sodav-agent/bin/python3.11 -m compileall" in postinst
    assert "-name __pycache__" in (unpacked / "DEBIAN/prerm").read_text()


def test_lintian_finds_no_error(deb: Path) -> None:
    """Errors fixed; what Debian allows a venv in /opt is overridden, each with its reason."""
    if shutil.which("lintian") is None:
        pytest.fail("lintian is not installed: apt-get install lintian (./dev setup does)")
    result = subprocess.run(
        ["lintian", "--tag-display-limit", "0", str(deb)], capture_output=True, text=True, timeout=600
    )
    lines = result.stdout.splitlines()
    errors = [line for line in lines if line.startswith("E:")]
    assert errors == [], result.stdout[-6000:]
    # every override still silences something, and only what it names
    stale = [line for line in lines if "unused-override" in line or "mismatched-override" in line]
    assert stale == [], result.stdout[-6000:]


def test_dpkg_unpacks_it(deb: Path, tmp_path: Path) -> None:
    """dpkg itself takes the package: file list, conffiles, md5sums (in an empty root)."""
    root = tmp_path / "root"
    admin = root / "var/lib/dpkg"
    (admin / "info").mkdir(parents=True)
    (admin / "updates").mkdir()
    (admin / "status").touch()
    dpkg = ["fakeroot", "dpkg", f"--root={root}", "--log=/dev/null"]
    unpack = subprocess.run([*dpkg, "--force-depends", "--unpack", str(deb)], capture_output=True, text=True)
    assert unpack.returncode == 0, unpack.stderr
    status = subprocess.run([*dpkg, "-s", "sodav-agent"], capture_output=True, text=True, check=True)
    assert "Status: install ok unpacked" in status.stdout
    # the md5sums match every file; the conffile waits as .dpkg-new until `dpkg --configure`
    verify = subprocess.run([*dpkg, "--verify", "sodav-agent"], capture_output=True, text=True)
    assert verify.stdout.splitlines() == ["missing   c /etc/sodav-agent/agent.example.toml"], verify
    assert (root / "etc/sodav-agent/agent.example.toml.dpkg-new").is_file()
    assert (root / "opt/sodav-agent/bin/sodav-agent").is_file()
