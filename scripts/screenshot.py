#!/usr/bin/env python3
"""The README's picture: the top of a real report page (`make report` writes it), with four of
the course's test images chosen in its "Try your own photos" and classified by the page itself,
photographed by headless Chromium from Debian's package, driven by Playwright as the page's
tests drive it (no browser download), and saved as a small palette PNG.

    .venv/bin/python scripts/screenshot.py [reports/index.html] [--out docs/_static/page.png]
"""

import argparse
import io
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline import config  # noqa: E402
from pipeline.artifacts.files import write_bytes  # noqa: E402
from pipeline.errors import UserError  # noqa: E402

# As the page's tests launch it: no background traffic on a closed network, no sandbox as root.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
MAX_BYTES = 300_000  # the README's picture stays small in the repository
COLORS = 128  # a palette this size keeps the page's text and figures legible


TEST_IMAGES = (13, 1)  # a mistake (a butterfly called cat) under a cat it gets right


def photos(folder, test_file):
    """The chosen course test images as PNG files in folder: their paths."""
    from PIL import Image

    from pipeline.artifacts.features import load_split

    images, labels, classes = load_split(test_file, "test")
    paths = []
    for index in TEST_IMAGES:
        path = folder / f"test{index}_{classes[labels[index]]}.png"
        Image.fromarray(images[index]).save(path)
        paths.append(path)
    return paths


def photograph(page, paths, width, height):
    """PNG bytes of the page's first width x height pixels, opened from file:// offline, once it
    has classified the photos at paths."""
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        raise SystemExit("error: no chromium on PATH: apt-get install chromium fonts-dejavu-core")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            tab = browser.new_page(viewport={"width": width, "height": height})
            tab.goto(page.resolve().as_uri())
            tab.wait_for_load_state("load")
            tab.set_input_files("#photo-input", [str(p) for p in paths])
            tab.locator(".photo-result, .photo-error").nth(len(paths) - 1).wait_for()
            return tab.screenshot(full_page=False)
        finally:
            browser.close()


def shrink(png):
    """The screenshot as an optimized palette PNG (a screenshot has few distinct colors)."""
    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("RGB")
    small = image.quantize(colors=COLORS, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    out = io.BytesIO()
    small.save(out, format="PNG", optimize=True)
    return out.getvalue()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("page", nargs="?", type=Path, default=config.REPORTS_DIR / "index.html")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "_static" / "page.png")
    parser.add_argument("--test-file", type=Path, default=config.TEST_FILE)
    parser.add_argument("--width", type=int, default=1100)
    parser.add_argument("--height", type=int, default=1100)
    args = parser.parse_args(argv)
    if not args.page.is_file():
        print(f"error: {args.page} not found: run `make report` first", file=sys.stderr)
        return 2
    try:
        with tempfile.TemporaryDirectory() as folder:
            paths = photos(Path(folder), args.test_file)
            png = shrink(photograph(args.page, paths, args.width, args.height))
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    if len(png) > MAX_BYTES:
        print(f"error: the screenshot is {len(png):,} bytes, over {MAX_BYTES:,}: "
              "take a smaller --height", file=sys.stderr)
        return 1
    write_bytes(args.out, png)
    print(f"{args.out}: {args.width} x {args.height}, {len(png):,} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
