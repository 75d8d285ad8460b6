"""Fetching: mirror first, then URLs in turn; sha256 checked for each source; no half-writes."""

import hashlib
import http.server
import threading
from functools import partial

import pytest
from helpers import run_cli

from pipeline import config
from pipeline.cli import UserError, run
from pipeline.stages import data
from pipeline.stages.data import fetch

PAYLOAD = b"pretend this is an HDF5 file\n" * 1000
SHA = hashlib.sha256(PAYLOAD).hexdigest()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def http_server(tmp_path):
    """A server on 127.0.0.1 serving tmp_path/www; yields its base URL."""
    www = tmp_path / "www"
    www.mkdir()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(QuietHandler, directory=www))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield www, f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def test_from_a_mirror_folder(tmp_path):
    mirror, dest = tmp_path / "mirror", tmp_path / "raw"
    mirror.mkdir()
    (mirror / "f.h5").write_bytes(PAYLOAD)
    path = fetch("f.h5", dest, SHA, mirror=mirror, urls=(), quiet=True)
    assert path == dest / "f.h5" and path.read_bytes() == PAYLOAD
    assert [p.name for p in dest.iterdir()] == ["f.h5"]


def test_first_url_fails_and_the_second_works(tmp_path, http_server):
    www, base = http_server
    (www / "good").mkdir()
    (www / "good" / "f.h5").write_bytes(PAYLOAD)
    dest = tmp_path / "raw"
    path = fetch("f.h5", dest, SHA, mirror=tmp_path / "empty-mirror",
                 urls=(base + "missing/", base + "good/"), timeout=5, quiet=True)
    assert path.read_bytes() == PAYLOAD


def test_hash_mismatch_is_refused_and_leaves_no_file(tmp_path, http_server):
    www, base = http_server
    (www / "f.h5").write_bytes(PAYLOAD + b"tampered")
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    (mirror / "f.h5").write_bytes(b"also wrong")
    dest = tmp_path / "raw"
    with pytest.raises(UserError) as err:
        fetch("f.h5", dest, SHA, mirror=mirror, urls=(base,), timeout=5, quiet=True)
    message = str(err.value)
    assert message.count("is not the expected") == 2 and config.MIRROR_ENV in message
    assert "\n" not in message
    assert list(dest.iterdir()) == []


def test_a_corrupt_file_already_present_is_fetched_again(tmp_path):
    mirror, dest = tmp_path / "mirror", tmp_path / "raw"
    mirror.mkdir()
    dest.mkdir()
    (mirror / "f.h5").write_bytes(PAYLOAD)
    (dest / "f.h5").write_bytes(PAYLOAD[:100])  # an interrupted copy from some other tool
    fetch("f.h5", dest, SHA, mirror=mirror, urls=(), quiet=True)
    assert (dest / "f.h5").read_bytes() == PAYLOAD


def test_a_good_file_already_present_is_kept(tmp_path):
    dest = tmp_path / "raw"
    dest.mkdir()
    (dest / "f.h5").write_bytes(PAYLOAD)
    fetch("f.h5", dest, SHA, mirror=None, urls=(), quiet=True)  # no source needed
    assert (dest / "f.h5").read_bytes() == PAYLOAD


def test_cli_fetches_the_real_files_from_the_mirror(tmp_path, raw_files):
    result = run_cli("data", "--dest", tmp_path, "--quiet",
                     env={config.MIRROR_ENV: str(raw_files[0].parent)})
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(config.SHA256)


def test_cli_with_no_working_source_says_which_variable_to_set(tmp_path, http_server,
                                                               monkeypatch, capsys):
    _, base = http_server  # serves nothing: every URL answers 404
    monkeypatch.setattr(config, "URLS", (base + "a/", base + "b/"))
    monkeypatch.setenv(config.MIRROR_ENV, str(tmp_path))  # an empty mirror
    assert run(data.main, ["--dest", str(tmp_path / "raw"), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: could not obtain")
    assert "404" in err and config.MIRROR_ENV in err
