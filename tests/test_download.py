"""Downloads against a local HTTP server: checksum match, mismatch and truncation."""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import http.server
import io
import threading
import zipfile

import pytest

from hmf import data
from hmf.data import registry

pytestmark = pytest.mark.filterwarnings("ignore::hmf.data.store.UnverifiedCopyWarning")


@pytest.fixture
def server(tmp_path):
    """Serve ``tmp_path/www`` on localhost; yields (folder, base url)."""
    www = tmp_path / "www"
    www.mkdir()
    handler = functools.partial(_QuietHandler, directory=str(www))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield www, f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def _ml100k_zip() -> tuple[bytes, dict[str, bytes]]:
    files = {
        "ml-100k/u.data": b"1\t1\t5\t100\n2\t1\t3\t200\n",
        "ml-100k/u.item": b"1|Toy Story (1995)|01-Jan-1995||u|" + b"|".join([b"0"] * 19) + b"\n",
        "ml-100k/u.user": b"1|24|M|technician|85711\n2|53|F|other|94043\n",
        "ml-100k/README": b"readme\n",
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as bundle:
        for name, content in files.items():
            bundle.writestr(name, content)
    return buffer.getvalue(), files


def _spec_for(monkeypatch, url: str, archive_md5: str | None, files: dict[str, bytes]):
    """ml-100k pointed at the local server, with digests of our synthetic files."""
    spec = registry.DATASETS["ml-100k"]
    file_specs = tuple(
        dataclasses.replace(f, digest="sha256:" + hashlib.sha256(files[f.path]).hexdigest())
        for f in spec.files
    )
    archive = dataclasses.replace(
        spec.archive, url=url, digest=archive_md5 and f"md5:{archive_md5}"
    )
    monkeypatch.setitem(
        registry.DATASETS, "ml-100k", dataclasses.replace(spec, files=file_specs, archive=archive)
    )


def _leftovers(root):
    return sorted(str(p.relative_to(root)) for p in root.rglob("*")) if root.exists() else []


def test_download_verifies_and_extracts(isolated_env, server, monkeypatch):
    www, base = server
    payload, files = _ml100k_zip()
    (www / "ml-100k.zip").write_bytes(payload)
    _spec_for(monkeypatch, f"{base}/ml-100k.zip", hashlib.md5(payload).hexdigest(), files)

    paths, verified = data.fetch("ml-100k", progress=False)
    assert verified
    cache = isolated_env / "cache"
    assert paths["ml-100k/u.data"] == cache / "ml-100k" / "u.data"
    assert _leftovers(cache) == ["ml-100k", "ml-100k/u.data", "ml-100k/u.item", "ml-100k/u.user"]
    ds = data.load("ml-100k")
    assert ds.verified and len(ds.interactions) == 2


def test_checksum_mismatch_names_digests_and_leaves_nothing(isolated_env, server, monkeypatch):
    www, base = server
    payload, files = _ml100k_zip()
    (www / "ml-100k.zip").write_bytes(payload)
    _spec_for(monkeypatch, f"{base}/ml-100k.zip", "0" * 32, files)

    with pytest.raises(data.ChecksumError) as info:
        data.fetch("ml-100k", progress=False)
    message = str(info.value)
    assert "ml-100k.zip" in message and "0" * 32 in message
    assert hashlib.md5(payload).hexdigest() in message
    assert _leftovers(isolated_env / "cache") == []


def test_truncated_download_without_published_digest(isolated_env, server, monkeypatch):
    www, base = server
    payload, files = _ml100k_zip()
    (www / "ml-100k.zip").write_bytes(payload[: len(payload) // 2])
    _spec_for(monkeypatch, f"{base}/ml-100k.zip", None, files)

    with pytest.raises(data.ChecksumError, match="corrupt or partial"):
        data.fetch("ml-100k", progress=False)
    assert _leftovers(isolated_env / "cache") == []


def test_member_digest_mismatch_leaves_nothing(isolated_env, server, monkeypatch):
    www, base = server
    payload, files = _ml100k_zip()
    (www / "ml-100k.zip").write_bytes(payload)
    tampered = dict(files, **{"ml-100k/u.user": b"something else"})
    _spec_for(monkeypatch, f"{base}/ml-100k.zip", None, tampered)

    with pytest.raises(data.ChecksumError, match=r"u\.user in ml-100k\.zip: expected sha256:"):
        data.fetch("ml-100k", progress=False)
    assert _leftovers(isolated_env / "cache") == []


def test_unreachable_server(isolated_env, monkeypatch):
    payload, files = _ml100k_zip()
    _spec_for(monkeypatch, "http://127.0.0.1:9/ml-100k.zip", None, files)
    with pytest.raises(
        data.DataError, match=r"download of http://127\.0\.0\.1:9/ml-100k\.zip failed"
    ):
        data.fetch("ml-100k", progress=False)
    assert _leftovers(isolated_env / "cache") == []


def test_gitblob_digest_matches_git():
    # `printf 'hello\n' | git hash-object --stdin` prints this id.
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "f"
        path.write_bytes(b"hello\n")
        assert data.store.file_digest(path, "gitblob") == "ce013625030ba8dba906f756967f9e9ca394464a"
