"""ganpaint.engine.models.downloads against a loopback HTTP server (never the internet).

The server (``LoopbackServer``, also used by tests/cli/test_models_get.py and
tests/qt/test_get_models.py) serves files from memory with Range support, and can drop a
connection part-way, answer slowly, or hold a file back (404). Model files are tiny CycleGAN
generators saved as the official ``latest_net_G.pth`` files are (a bare state dict), so they
import through the real loader.
"""

from __future__ import annotations

import errno
import hashlib
import io
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import torch

from ganpaint.engine.models import downloads
from ganpaint.engine.models.catalogue import parse_catalogue
from ganpaint.engine.models.store import ModelStore
from ganpaint.nn import ResnetConfig, ResnetGenerator

SMALL = ResnetConfig(ngf=4, n_blocks=2)


def generator_bytes(seed: int = 0) -> bytes:
    """A tiny ResNet generator saved like the official zoo files (torch.save of the state dict)."""
    torch.manual_seed(seed)
    buf = io.BytesIO()
    torch.save(ResnetGenerator(SMALL).state_dict(), buf)
    return buf.getvalue()


class LoopbackServer:
    """Files served from 127.0.0.1 on a free port. ``drop_at[path] = n``: the next answer for
    ``path`` stops after byte n of the file and closes the connection (once); ``stall_at``: the
    same every time; ``delay``: seconds before answering; ``requests``: (path, Range) seen."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.drop_at: dict[str, int] = {}
        self.stall_at: dict[str, int] = {}
        self.delay = 0.0
        self.requests: list[tuple[str, str | None]] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802
                owner.requests.append((self.path, self.headers.get("Range")))
                if owner.delay:
                    time.sleep(owner.delay)
                data = owner.files.get(self.path)
                if data is None:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                start, status = 0, 200
                rng = self.headers.get("Range")
                if rng and rng.startswith("bytes="):
                    start = int(rng[6:].split("-", 1)[0])
                    if start >= len(data):
                        self.send_response(416)
                        self.send_header("Content-Range", f"bytes */{len(data)}")
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                    status = 206
                body = data[start:]
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("ETag", '"v1"')
                self.send_header("Accept-Ranges", "bytes")
                if status == 206:
                    self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
                self.end_headers()
                cut = owner.drop_at.pop(self.path, None)
                if cut is None:
                    cut = owner.stall_at.get(self.path)
                if cut is not None:
                    self.wfile.write(body[: max(0, cut - start)])
                    self.wfile.flush()
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def ranges(self, path: str) -> list[str | None]:
        return [r for p, r in self.requests if p == path]

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def free_port() -> int:
    """A port on 127.0.0.1 that nobody listens on."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return int(port)


def catalogue_dict(server: LoopbackServer, files: dict[str, bytes], **over: Any) -> dict[str, Any]:
    """A one-entry catalogue: a CycleGAN pair (a.pth forward, b.pth reverse) served by ``server``."""
    entry: dict[str, Any] = {
        "id": "test-pair", "title": "Test pair", "tools": ["season", "translate"], "licence": "BSD-2-Clause",
        "non_commercial": False, "training_data": "noise", "data_licence": "none",
        "description": "A tiny pair for tests.", "source": "tests/engine/test_downloads.py",
        "files": [
            {"name": name, "role": role, "url": server.url(f"/{name}"), "size": len(data),
             "sha256": hashlib.sha256(data).hexdigest()}
            for (name, data), role in zip(files.items(), ("forward", "reverse"), strict=False)
        ],
    }
    entry.update(over)
    return {"format": 1, "models": [entry]}


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY", "no_proxy",
                "NO_PROXY"):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture
def server():  # type: ignore[no-untyped-def]
    s = LoopbackServer()
    yield s
    s.close()


@pytest.fixture
def store(tmp_path: Path) -> ModelStore:
    return ModelStore(tmp_path / "models", include_resources=False)


def test_download_verify_and_import_a_pair_with_the_catalogue_card(server, store, tmp_path):
    a, b = generator_bytes(1), generator_bytes(2)
    server.files = {"/a.pth": a, "/b.pth": b}
    cat = parse_catalogue(catalogue_dict(server, {"a.pth": a, "b.pth": b}), "test")
    seen: list[tuple[int, int | None, str]] = []
    entry = downloads.install(cat.get("test-pair"), store, cache_dir=tmp_path / "cache",
                              progress=lambda d, t, m: seen.append((d, t, m)))
    assert entry.name == "test-pair" and entry.tool == "season" and entry.tools == ("season", "translate")
    card = entry.card
    assert card.components == ("forward", "reverse")
    assert card.licence == "BSD-2-Clause" and card.source == "tests/engine/test_downloads.py"
    assert card.training_data == ({"name": "noise", "licence": "none"},)
    assert card.extra["catalogue_id"] == "test-pair" and card.extra["non_commercial"] is False
    assert [f["sha256"] for f in card.source_files] == [hashlib.sha256(x).hexdigest() for x in (a, b)]
    assert card.source_files[0]["url"] == server.url("/a.pth")
    # listed under both tools, loadable with the real loader
    assert [e.name for e in store.list(tool="translate")] == ["test-pair"]
    from ganpaint.engine.models.loading import load_model

    net = load_model(entry.path, component="reverse")
    torch.manual_seed(2)
    want = ResnetGenerator(SMALL).state_dict()
    assert all(torch.equal(net.state_dict()[k], want[k]) for k in want)
    # progress reached each file's end; nothing left in the cache
    assert (len(a), len(a)) in [(d, t) for d, t, _ in seen] and (len(b), len(b)) in [(d, t) for d, t, _ in seen]
    assert not any((tmp_path / "cache").rglob("*.pth*"))


def test_a_wrong_hash_deletes_the_file_and_imports_nothing(server, store, tmp_path):
    a = generator_bytes()
    server.files = {"/a.pth": a}
    data = catalogue_dict(server, {"a.pth": a})
    data["models"][0]["files"][0]["sha256"] = "0" * 64
    with pytest.raises(downloads.HashMismatch) as err:
        downloads.install(parse_catalogue(data).get("test-pair"), store, cache_dir=tmp_path / "cache")
    assert "deleted" in str(err.value) and "\n" not in str(err.value)
    assert not list((tmp_path / "cache").rglob("a.pth*"))
    assert store.list() == []


def test_a_wrong_md5_is_refused_too(server, tmp_path):
    a = generator_bytes()
    server.files = {"/a.pth": a}
    with pytest.raises(downloads.HashMismatch):
        downloads.download(server.url("/a.pth"), tmp_path / "a.pth", md5="0" * 32)
    assert not list(tmp_path.iterdir())
    good = hashlib.md5(a).hexdigest()
    assert downloads.download(server.url("/a.pth"), tmp_path / "a.pth", md5=good).read_bytes() == a


def test_a_dropped_connection_is_resumed_by_range_in_the_same_call(server, tmp_path):
    data = bytes(range(256)) * 2000  # 512 KB
    server.files = {"/big.bin": data}
    server.drop_at["/big.bin"] = 100_000
    out = downloads.download(server.url("/big.bin"), tmp_path / "big.bin",
                             sha256=hashlib.sha256(data).hexdigest())
    assert out.read_bytes() == data
    ranges = server.ranges("/big.bin")
    assert ranges[0] is None and len(ranges) == 2 and ranges[1] == "bytes=100000-"
    assert not (tmp_path / "big.bin.part").exists()


def test_an_interrupted_download_is_resumed_by_a_later_call(server, tmp_path):
    data = bytes(range(256)) * 1000
    server.files = {"/f.bin": data}
    calls = {"n": 0}

    def cancel() -> bool:  # cancel once the first chunk is on disk
        calls["n"] += 1
        return (tmp_path / "f.bin.part").exists() and (tmp_path / "f.bin.part").stat().st_size > 0

    with pytest.raises(downloads.DownloadCancelled):
        downloads.download(server.url("/f.bin"), tmp_path / "f.bin", cancel=cancel)
    kept = (tmp_path / "f.bin.part").stat().st_size
    assert 0 < kept < len(data) and not (tmp_path / "f.bin").exists()
    out = downloads.download(server.url("/f.bin"), tmp_path / "f.bin", sha256=hashlib.sha256(data).hexdigest())
    assert out.read_bytes() == data
    assert server.ranges("/f.bin")[-1] == f"bytes={kept}-"


def test_a_partial_file_of_another_address_is_not_resumed(server, tmp_path):
    data = b"x" * 70_000
    server.files = {"/one.bin": data, "/two.bin": b"y" * 70_000}
    with pytest.raises(downloads.DownloadCancelled):
        downloads.download(server.url("/one.bin"), tmp_path / "f.bin",
                           cancel=lambda: (tmp_path / "f.bin.part").exists())
    out = downloads.download(server.url("/two.bin"), tmp_path / "f.bin")
    assert out.read_bytes() == b"y" * 70_000 and server.ranges("/two.bin") == [None]


def test_cancel_in_install_leaves_nothing_imported(server, store, tmp_path):
    a = generator_bytes()
    server.files = {"/a.pth": a}
    cat = parse_catalogue(catalogue_dict(server, {"a.pth": a}))
    event = threading.Event()
    with pytest.raises(downloads.DownloadCancelled):
        downloads.install(cat.get("test-pair"), store, cache_dir=tmp_path / "cache",
                          progress=lambda d, t, m: event.set(), cancel=event)
    assert store.list() == []


def test_non_commercial_is_refused_before_any_request(server, store, tmp_path):
    a = generator_bytes()
    server.files = {"/a.pth": a}
    cat = parse_catalogue(catalogue_dict(server, {"a.pth": a}, non_commercial=True, licence="CC-BY-NC-4.0"))
    with pytest.raises(downloads.LicenceNotAccepted) as err:
        downloads.install(cat.get("test-pair"), store, cache_dir=tmp_path / "cache")
    assert "commercial" in str(err.value) and server.requests == []
    entry = downloads.install(cat.get("test-pair"), store, cache_dir=tmp_path / "cache", accept_licence=True)
    assert entry.card.extra["non_commercial"] is True and "non-commercial" in entry.card.licence


def test_offline_is_one_sentence(tmp_path):
    url = f"http://127.0.0.1:{free_port()}/a.pth"
    with pytest.raises(downloads.DownloadError) as err:
        downloads.download(url, tmp_path / "a.pth")
    text = str(err.value)
    assert err.value.reason == "offline" and "refused the connection" in text and "\n" not in text
    assert "Traceback" not in text and "Errno" not in text


def test_an_unknown_host_name_reads_as_offline(tmp_path, monkeypatch):
    def no_dns(*args: Any, **kw: Any) -> Any:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_dns)
    with pytest.raises(downloads.DownloadError) as err:
        downloads.download("https://models.example.org/a.pth", tmp_path / "a.pth")
    assert err.value.reason == "offline" and "models.example.org" in str(err.value)


def test_a_dead_proxy_is_named(server, tmp_path, monkeypatch):
    server.files = {"/a.pth": b"abc"}
    proxy = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("http_proxy", proxy)
    with pytest.raises(downloads.DownloadError) as err:
        downloads.download(server.url("/a.pth"), tmp_path / "a.pth")
    assert err.value.reason == "proxy" and proxy in str(err.value) and "\n" not in str(err.value)
    assert server.requests == []


def test_404_and_timeout_are_reported(server, tmp_path):
    with pytest.raises(downloads.DownloadError) as err:
        downloads.download(server.url("/missing.pth"), tmp_path / "m.pth")
    assert err.value.reason == "not found" and "404" in str(err.value)
    server.files = {"/slow.pth": b"abc"}
    server.delay = 1.5
    t0 = time.monotonic()
    with pytest.raises(downloads.DownloadError) as err:
        downloads.download(server.url("/slow.pth"), tmp_path / "s.pth", timeout=0.3)
    assert err.value.reason == "timeout" and "did not answer" in str(err.value)
    assert time.monotonic() - t0 < 1.4


def test_disk_full_is_reported_and_the_part_kept(server, tmp_path, monkeypatch):
    server.files = {"/a.pth": b"z" * 200_000}
    real_open = open

    class Full(io.RawIOBase):
        def __init__(self, f: Any) -> None:
            self.f = f

        def write(self, b: Any) -> int:
            raise OSError(errno.ENOSPC, "No space left on device")

        def close(self) -> None:
            self.f.close()

    def fake_open(path: Any, mode: str = "r", *a: Any, **k: Any) -> Any:
        f = real_open(path, mode, *a, **k)
        return Full(f) if str(path).endswith(".part") and "a" in mode else f

    monkeypatch.setattr(downloads, "open", fake_open, raising=False)
    with pytest.raises(downloads.DownloadError) as err:
        downloads.download(server.url("/a.pth"), tmp_path / "a.pth")
    assert err.value.reason == "disk full" and "disk full" in str(err.value)


def test_plain_http_only_where_allowed(tmp_path):
    with pytest.raises(downloads.DownloadError) as err:
        downloads.download("http://models.example.org/a.pth", tmp_path / "a.pth")
    assert err.value.reason == "plain http"
    with pytest.raises(downloads.DownloadError):
        downloads.check_url("ftp://models.example.org/a.pth")
    downloads.check_url("http://models.example.org/a.pth", plain_http_ok=True)
    downloads.check_url("http://localhost:8000/a.pth")


def test_a_redirect_from_https_to_http_is_refused(monkeypatch):
    import urllib.request

    handler = downloads._NoDowngrade(plain_http_ok=False)
    req = urllib.request.Request("https://models.example.org/a.pth")
    with pytest.raises(downloads.DownloadError):
        handler.redirect_request(req, None, 302, "Found", {}, "http://evil.example.org/a.pth")


def test_catalogue_from_an_address(server, monkeypatch):
    from ganpaint.engine.models.catalogue import load_catalogue

    a = generator_bytes()
    server.files = {"/catalogue.json": json.dumps(catalogue_dict(server, {"a.pth": a})).encode()}
    monkeypatch.setenv("GANPAINT_CATALOGUE", server.url("/catalogue.json"))
    cat = load_catalogue()
    assert [e.id for e in cat.entries] == ["test-pair"] and cat.origin == server.url("/catalogue.json")


def test_get_any_address_with_sha256(server, store, tmp_path):
    a = generator_bytes(3)
    server.files = {"/checkpoints/latest_net_G.pth": a}
    entry = downloads.install_url(server.url("/checkpoints/latest_net_G.pth"), "mine", store,
                                  sha256=hashlib.sha256(a).hexdigest(), tool="translate", cache_dir=tmp_path / "c")
    assert entry.name == "mine" and entry.tool == "translate"
    assert entry.card.source == server.url("/checkpoints/latest_net_G.pth")
    assert "catalogue_id" not in entry.card.extra


def test_a_finished_file_that_checks_is_not_fetched_again(server, tmp_path):
    data = b"q" * 50_000
    server.files = {"/q.bin": data}
    sha = hashlib.sha256(data).hexdigest()
    downloads.download(server.url("/q.bin"), tmp_path / "q.bin", sha256=sha)
    downloads.download(server.url("/q.bin"), tmp_path / "q.bin", sha256=sha)
    assert server.ranges("/q.bin") == [None]
    (tmp_path / "q.bin").write_bytes(b"damaged")
    assert downloads.download(server.url("/q.bin"), tmp_path / "q.bin", sha256=sha).read_bytes() == data
    assert server.ranges("/q.bin") == [None, None]


def _nvlabs_dir() -> Path:
    from ganpaint.testing.compat import compat_dir

    return compat_dir("nvlabs")


@pytest.mark.skipif(not (_nvlabs_dir() / "stylegan2ada_16px_w64.pkl").is_file(),
                    reason="NVlabs test vectors not present (../shared/compat/nvlabs)")
def test_an_nvidia_pickle_downloads_with_its_slider_directions(server, store, tmp_path):
    from ganpaint.engine.models.directions import directions_path, load_directions

    data = (_nvlabs_dir() / "stylegan2ada_16px_w64.pkl").read_bytes()  # never copied into the repo
    server.files = {"/g.pkl": data}
    cat = parse_catalogue({"format": 1, "models": [{
        "id": "nv-faces", "title": "NV", "tools": ["faces", "stylemix"],
        "licence": "LicenseRef-NVIDIA-Source-Code-License-NC", "non_commercial": True, "training_data": "random",
        "description": "d", "source": "s",
        "files": [{"name": "g.pkl", "url": server.url("/g.pkl"), "size": len(data),
                   "sha256": hashlib.sha256(data).hexdigest()}]}]})
    entry = downloads.install(cat.get("nv-faces"), store, accept_licence=True, cache_dir=tmp_path / "cache")
    assert entry.card.architecture == "stylegan2" and entry.tools == ("faces", "stylemix")
    assert directions_path("nv-faces", store.root).is_file()
    ds = load_directions("nv-faces", sha256=entry.card.sha256, root=store.root)
    assert ds is not None and ds.vectors
    assert str(tmp_path / "cache") not in entry.report
