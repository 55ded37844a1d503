"""The collector's PDF reports print Wolof letters ("Ŋ") with the fonts its image and role install.

collector/reports/pdf.py embeds DejaVu Sans when it finds it under /usr/share/fonts, and
falls back to Helvetica otherwise, which has no "Ŋ": it prints as a black box (and the
collector logs a warning naming the package to install). So the test
renders a real report with `sodav-collector reports generate` in a private mount namespace where
/usr/share/fonts holds exactly the files that the listed Debian packages ship (``dpkg -L`` on
this machine), and reads the PDF back with pdffonts and pdftotext. Which packages: the runtime
``apt-get install`` of packaging/docker/Dockerfile and ``collector_packages`` of the collector
role. Needs root (for the mount namespace) and those packages installed (./dev setup does).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.integration.packaging.test_dockerfile import runtime_packages

ROOT = Path(__file__).resolve().parents[3]
FONTS = Path("/usr/share/fonts")
STATION = "Ŋaari FM"

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="a private mount namespace needs root"),
    pytest.mark.skipif(shutil.which("unshare") is None, reason="unshare (util-linux) needed"),
]


def _role_packages() -> list[str]:
    defaults = yaml.safe_load((ROOT / "ansible/roles/collector/defaults/main.yml").read_text())
    packages: list[str] = defaults["collector_packages"]
    return packages


def _fonts_of(packages: list[str], dest: Path) -> None:
    """Copy into ``dest`` what the packages install under /usr/share/fonts."""
    for package in packages:
        listed = subprocess.run(["dpkg-query", "-L", package], capture_output=True, text=True)
        if listed.returncode != 0:
            pytest.fail(f"{package} is not installed here: apt-get install {package} (./dev setup does)")
        for line in listed.stdout.splitlines():
            path = Path(line)
            if path.is_relative_to(FONTS) and path.is_file():
                target = dest / path.relative_to(FONTS)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, target)


def _report(tmp: Path, fonts: Path) -> tuple[Path, str]:
    """A month's playlist PDF of the station, rendered with ``fonts`` as /usr/share/fonts, and
    what the command logged."""
    collector = str(Path(sys.executable).with_name("sodav-collector"))
    env = {
        **os.environ,
        "SODAV_COLLECTOR_DATABASE_URL": f"sqlite:///{tmp / 'collector.db'}",
        "SODAV_COLLECTOR_REPORT_DIR": str(tmp / "reports"),
    }
    for args in (["db", "upgrade"], ["stations", "add", "ngaari", "--name", STATION]):
        subprocess.run([collector, *args], env=env, check=True, capture_output=True, timeout=120)
    script = f'mount --bind "$1" {FONTS} && exec "$2" reports generate --period 2026-01 --station ngaari'
    result = subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh", str(fonts), collector],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return tmp / "reports/2026-01/playlist-ngaari-2026-01.pdf", result.stderr


def _embedded_fonts(pdf: Path) -> set[str]:
    out = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout
    # "AAAAAA+DejaVuSans  TrueType  WinAnsi  yes yes yes  7  0": name and the "emb" column
    return {
        re.sub(r"^[A-Z]{6}\+", "", cols[0])
        for cols in (line.split() for line in out.splitlines()[2:])
        if len(cols) >= 7 and cols[-5] == "yes"
    }


def _text(pdf: Path) -> str:
    return subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout


@pytest.mark.parametrize("source", ["image", "role"])
def test_listed_packages_give_the_pdf_its_wolof_letters(tmp_path: Path, source: str) -> None:
    packages = runtime_packages() if source == "image" else _role_packages()
    fonts = tmp_path / "fonts"
    fonts.mkdir()
    _fonts_of(packages, fonts)
    pdf, log = _report(tmp_path, fonts)
    assert {"DejaVuSans", "DejaVuSans-Bold"} <= _embedded_fonts(pdf), packages
    assert "fonts-dejavu-core" not in log
    assert f"Relevé de diffusion — {STATION} — 2026-01" in _text(pdf)


def test_without_the_fonts_the_letter_is_a_black_box(tmp_path: Path) -> None:
    """The check above has teeth: with no font under /usr/share/fonts "Ŋ" is lost."""
    fonts = tmp_path / "fonts"
    fonts.mkdir()
    pdf, log = _report(tmp_path, fonts)
    assert _embedded_fonts(pdf) == set()
    text = _text(pdf)
    assert "Ŋ" not in text and "■aari FM" in text
    # and the collector says so, and what to install
    assert "DejaVu Sans is not in /usr/share/fonts/truetype/dejavu" in log
    assert "apt-get install fonts-dejavu-core" in log
