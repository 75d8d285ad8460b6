"""Stage `data`: obtain the .h5 files into data/raw, from a mirror folder first, then the URLs.

Whatever the source, a file is accepted only if its sha256 is the pinned one; it is written under
a temp name and renamed, so nothing half-downloaded or unverified ever sits under the final name.
"""

import os
import shutil
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path

from pipeline import config
from pipeline.artifacts.files import StrPath, atomic_path, sha256_of
from pipeline.cli import Parser, UserError, progress_bar

CHUNK = 1 << 16  # bytes per read while downloading


def copy_from_mirror(name: str, mirror: StrPath, tmp: Path) -> None:
    source = Path(mirror) / name
    if not source.is_file():
        raise OSError(f"no {name} in mirror {mirror}")
    shutil.copyfile(source, tmp)


def download(url: str, tmp: Path, timeout: float, quiet: bool) -> None:
    with urllib.request.urlopen(url, timeout=timeout) as response, open(tmp, "wb") as out:
        size = int(response.headers.get("Content-Length") or 0) or None
        with progress_bar(size, Path(url).name, quiet, unit="B", unit_scale=True) as bar:
            while block := response.read(CHUNK):
                out.write(block)
                bar.update(len(block))


def short_url(url: str) -> str:
    """Enough of a URL to tell the sources apart in a one-line error: host/owner."""
    parts = urllib.parse.urlsplit(url)
    return parts.netloc + "/" + parts.path.strip("/").split("/")[0]


def fetch(name: str, dest_dir: StrPath, sha256: str, *, mirror: StrPath | None = None,
          urls: Sequence[str] = config.URLS, timeout: float = config.DOWNLOAD_TIMEOUT,
          quiet: bool = False) -> Path:
    """Put a verified copy of `name` at dest_dir/name and return its path.

    A file already there with the right hash is kept; one with a wrong hash is fetched again.
    Sources: the mirror folder (if given), then each base URL in turn. Raises UserError when none
    of them yields the right bytes.
    """
    dest = Path(dest_dir) / name
    if dest.is_file() and sha256_of(dest) == sha256:
        return dest
    sources: list[tuple[str, Callable[[Path], None]]] = (
        [("mirror " + str(mirror), lambda tmp: copy_from_mirror(name, mirror, tmp))]
        if mirror else [])
    sources += [(short_url(base), partial(download, base + name, timeout=timeout, quiet=quiet))
                for base in urls]
    failures = []
    for label, obtain in sources:
        try:
            with atomic_path(dest) as tmp:
                obtain(tmp)
                got = sha256_of(tmp)
                if got != sha256:
                    raise ValueError(f"sha256 {got[:12]}... is not the expected {sha256[:12]}...")
            return dest
        except (OSError, ValueError) as err:  # URLError and timeouts are OSErrors
            reason = err.reason if type(err) is urllib.error.URLError else err  # not "<urlopen..."
            failures.append(f"{label}: {reason}")
    raise UserError(f"could not obtain {name} ({'; '.join(failures) or 'no source'}); "
                    f"set {config.MIRROR_ENV}=/folder/with/the/h5/files and run again")


def main(argv: list[str] | None = None) -> None:
    parser = Parser(prog="python -m pipeline data", description=__doc__.splitlines()[0])
    parser.add_argument("--dest", type=Path, default=config.RAW_DIR, help="folder to fill")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    mirror = os.environ.get(config.MIRROR_ENV) or None
    for name, sha256 in config.SHA256.items():
        path = fetch(name, args.dest, sha256, mirror=mirror, urls=config.URLS, quiet=args.quiet)
        print(f"{path}: sha256 ok")
