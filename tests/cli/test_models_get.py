"""``ganpaint models available`` and ``ganpaint models get`` against a loopback server.

The catalogue comes from GANPAINT_CATALOGUE (served by the same 127.0.0.1 server); each test
has its own GANPAINT_DATA_DIR, so the real model store and cache are never touched, and no
test reaches the internet.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest

from ganpaint.engine.models import downloads


def _helpers() -> Any:
    path = Path(__file__).resolve().parents[1] / "engine" / "test_downloads.py"
    spec = importlib.util.spec_from_file_location("_gp_download_helpers_cli", path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


H = _helpers()


@pytest.fixture
def server():  # type: ignore[no-untyped-def]
    s = H.LoopbackServer()
    yield s
    s.close()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    data = tmp_path / "gpdata"
    monkeypatch.setenv("GANPAINT_DATA_DIR", str(data))
    monkeypatch.setenv("GANPAINT_DISABLE_PLUGINS", "1")
    for var in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY", "no_proxy",
                "NO_PROXY"):
        monkeypatch.delenv(var, raising=False)
    return data


@pytest.fixture
def cli(env: Path, capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    from ganpaint.__main__ import main

    def run(*argv: str) -> tuple[int, str, str]:
        code = main([str(a) for a in argv])
        cap = capsys.readouterr()
        return code, cap.out, cap.err

    return run


def _serve_catalogue(server: Any, monkeypatch: pytest.MonkeyPatch, **over: Any) -> tuple[bytes, bytes]:
    a, b = H.generator_bytes(1), H.generator_bytes(2)
    server.files.update({"/a.pth": a, "/b.pth": b})
    cat = H.catalogue_dict(server, {"a.pth": a, "b.pth": b}, **over)
    nc = json.loads(json.dumps(cat["models"][0]))
    nc.update(id="nc-model", title="NC model", non_commercial=True, licence="CC-BY-NC-4.0", tools=["translate"])
    nc["files"] = nc["files"][:1]
    cat["models"].append(nc)
    server.files["/catalogue.json"] = json.dumps(cat).encode()
    monkeypatch.setenv("GANPAINT_CATALOGUE", server.url("/catalogue.json"))
    return a, b


def test_available_lists_the_catalogue_and_what_is_installed(cli, server, monkeypatch):
    _serve_catalogue(server, monkeypatch)
    code, out, err = cli("models", "available")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].split()[:5] == ["ID", "TOOLS", "SIZE", "LICENCE", "INSTALLED"]
    row = next(line for line in lines if line.startswith("test-pair"))
    assert "season,translate" in row and "BSD-2-Clause" in row and " - " in row
    assert "CC-BY-NC-4.0 (non-commercial)" in next(line for line in lines if line.startswith("nc-model"))
    code, out, _ = cli("models", "available", "--tool", "season")
    assert "test-pair" in out and "nc-model" not in out

    code, out, err = cli("models", "get", "test-pair")
    assert code == 0, err
    assert "stored as test-pair@1 for the 'season' tool" in out
    assert "100%" in err  # progress on stderr
    code, out, _ = cli("models", "available", "--tool", "season")
    assert "yes" in next(line for line in out.splitlines() if line.startswith("test-pair"))
    code, out, _ = cli("models", "list", "--tool", "translate")
    assert "test-pair" in out and "BSD-2-Clause" in out


def test_get_resumes_a_dropped_connection_in_the_same_command(cli, server, monkeypatch):
    a, _ = _serve_catalogue(server, monkeypatch)
    server.drop_at["/a.pth"] = len(a) // 2
    code, out, err = cli("models", "get", "test-pair")
    assert code == 0, err
    assert server.ranges("/a.pth") == [None, f"bytes={len(a) // 2}-"]


def test_an_interrupted_get_is_resumed_by_the_next_one(cli, server, monkeypatch, env):
    a, _ = _serve_catalogue(server, monkeypatch)
    half = len(a) // 2
    server.stall_at["/a.pth"] = half  # every answer stops there: the command gives up
    monkeypatch.setattr(downloads, "RETRIES", 1)
    code, _, err = cli("models", "get", "test-pair")
    errors = [line for line in err.splitlines() if line.startswith("ganpaint: error:")]
    assert code == 1 and len(errors) == 1 and "run the same command again to resume" in errors[0]
    part = env / "cache" / "downloads" / "test-pair" / "a.pth.part"
    assert part.stat().st_size == half
    server.stall_at.clear()
    code, out, err = cli("models", "get", "test-pair")
    assert code == 0, err
    assert server.ranges("/a.pth")[-1] == f"bytes={half}-" and "stored as test-pair@1" in out
    assert not part.exists()


def test_a_wrong_hash_imports_nothing(cli, server, monkeypatch, env):
    a, b = H.generator_bytes(1), H.generator_bytes(2)
    server.files.update({"/a.pth": a, "/b.pth": b})
    cat = H.catalogue_dict(server, {"a.pth": a, "b.pth": b})
    cat["models"][0]["files"][1]["sha256"] = hashlib.sha256(b"other").hexdigest()
    server.files["/catalogue.json"] = json.dumps(cat).encode()
    monkeypatch.setenv("GANPAINT_CATALOGUE", server.url("/catalogue.json"))
    code, _, err = cli("models", "get", "test-pair")
    assert code == 1 and "does not have the published sha256" in err
    assert not list((env / "models").glob("*.safetensors"))
    assert not list((env / "cache" / "downloads").rglob("b.pth*"))


def test_non_commercial_needs_accept_licence(cli, server, monkeypatch):
    _serve_catalogue(server, monkeypatch)
    code, _, err = cli("models", "get", "nc-model")
    assert code == 2 and "--accept-licence" in err and "commercial" in err
    assert server.ranges("/a.pth") == []
    code, out, err = cli("models", "get", "nc-model", "--accept-licence")
    assert code == 0, err
    code, out, _ = cli("models", "list")
    assert "non-commercial" in out


def test_get_an_address_with_sha256_and_as(cli, server, monkeypatch):
    a = H.generator_bytes(5)
    server.files["/zoo/latest_net_G.pth"] = a
    url = server.url("/zoo/latest_net_G.pth")
    code, _, err = cli("models", "get", url)
    assert code == 2 and "--as NAME" in err
    code, _, err = cli("models", "get", url, "--as", "mine", "--sha256", "0" * 64)
    assert code == 1 and "deleted" in err
    code, out, err = cli("models", "get", url, "--as", "mine", "--sha256", hashlib.sha256(a).hexdigest(),
                         "--tool", "translate")
    assert code == 0, err
    assert "stored as mine@1 for the 'translate' tool" in out


def test_offline_and_plain_http_are_one_sentence(cli, server, monkeypatch):
    url = f"http://127.0.0.1:{H.free_port()}/a.pth"
    code, _, err = cli("models", "get", url, "--as", "x")
    assert code == 1 and "refused the connection" in err and len(err.strip().splitlines()) == 1
    code, _, err = cli("models", "get", "http://models.example.org/a.pth", "--as", "x")
    assert code == 1 and "plain http" in err and len(err.strip().splitlines()) == 1
    monkeypatch.setenv("GANPAINT_CATALOGUE", f"http://127.0.0.1:{H.free_port()}/catalogue.json")
    code, _, err = cli("models", "available")
    assert code == 1 and "the catalogue" in err and len(err.strip().splitlines()) == 1


def test_unknown_id_is_a_usage_error(cli, server, monkeypatch):
    _serve_catalogue(server, monkeypatch)
    code, _, err = cli("models", "get", "test")
    assert code == 2 and "no model 'test'" in err and "test-pair" in err
