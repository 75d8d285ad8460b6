"""The way in: a README that fits on a screen with the two commands and the picture of the page,
links that lead somewhere, and a documentation site whose build fails on a broken link.

The whole site is built by `make docs` (and CI), not here: this builds a one-page copy of its
configuration, which takes seconds."""

import importlib.util
import os
import re
import subprocess
import sys

import pytest
from helpers import ROOT, one_page_site
from PIL import Image

README = ROOT / "README.md"
PICTURE = ROOT / "docs" / "_static" / "page.png"
MAX_PICTURE_BYTES = 300_000


def test_the_readme_fits_on_a_screen_and_starts_with_the_commands_and_the_picture():
    lines = README.read_text().splitlines()
    assert len(lines) <= 150, f"README.md has {len(lines)} lines; the details go in docs/"
    first = "\n".join(lines[:20])
    assert re.search(r"^\s+make train\s", first, re.M), "make train is not in the first 20 lines"
    assert re.search(r"^\s+make test\s", first, re.M), "make test is not in the first 20 lines"
    assert "](docs/_static/page.png)" in first, "the page's picture is not in the first 20 lines"


def test_the_picture_is_a_small_png_of_a_page():
    data = PICTURE.read_bytes()
    assert len(data) <= MAX_PICTURE_BYTES, f"{len(data):,} bytes: scripts/screenshot.py shrinks it"
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    with Image.open(PICTURE) as image:
        image.verify()
    with Image.open(PICTURE) as image:
        width, height = image.size
    assert 600 <= width <= 2000 and 400 <= height <= 2000, image.size


def test_every_file_the_readme_links_exists():
    links = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", README.read_text())
    local = [link for link in links if "://" not in link]
    assert local, "the README links no page of the site"
    missing = [link for link in local if not (ROOT / link).exists()]
    assert not missing, f"README.md links files that do not exist: {missing}"


def test_the_license_is_mit_and_names_the_authors():
    text = (ROOT / "LICENSE").read_text()
    assert text.startswith("MIT License") and "2026 the catvnoncat authors" in text


@pytest.mark.skipif(importlib.util.find_spec("sphinx") is None
                    or importlib.util.find_spec("myst_nb") is None,
                    reason="the docs extra is not installed (make docs installs it)")
def test_a_broken_link_fails_the_site_build(tmp_path):
    """The site's own configuration on one page with a good link and a link to a page that does
    not exist: sphinx-build -W must fail, and its only warning must be that link."""
    site = one_page_site(
        tmp_path, "# A page\n\nSee [the heading](#a-page) and [the lesson](no-such-page.md).\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "CATVNONCAT_HOME": str(tmp_path)}
    build = subprocess.run([sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b",
                            "html", *site],
                           capture_output=True, text=True, env=env, timeout=300)
    assert build.returncode != 0
    warnings = [line for line in build.stderr.splitlines() if "WARNING" in line]
    assert len(warnings) == 1 and "no-such-page" in warnings[0], build.stderr
