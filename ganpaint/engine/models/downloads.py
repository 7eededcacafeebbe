"""Downloads a person can trust: resumable, verified, cancellable, then the same safe import.

``download(url, dest, ...)`` fetches one file with the standard library (urllib, so the
``HTTP_PROXY``/``HTTPS_PROXY``/``NO_PROXY`` environment variables are honoured) into
``dest + ".part"``:

* a connection that drops is resumed at once with an HTTP ``Range`` request from the bytes
  already received (a few tries, as long as each try brings bytes), and a ``.part`` left by an
  interrupted run is resumed by the next one (a sidecar ``.part.json`` records the address and
  the server's ETag/Last-Modified, sent as ``If-Range``, so a changed file starts over);
* when the catalogue (or ``--sha256``) gives a hash, the finished file is checked; a wrong hash
  deletes it and nothing is imported;
* ``progress(done, total, message)`` is called between chunks and ``cancel`` (a callable, or an
  object with ``is_set()``/``cancelled()``) is checked between chunks; cancelling raises
  :class:`DownloadCancelled` and keeps the ``.part`` for a later resume;
* plain http is refused, except where the catalogue says the authors serve the file only so,
  and on 127.0.0.1/localhost; a redirect may not lead from https to http;
* every failure (offline, name not found, proxy refusing, timeout, 404, disk full) is a
  :class:`DownloadError` whose message is one sentence.

``install(entry, store)`` downloads a catalogue entry's files (cache folder
``ganpaint.core.paths.cache_dir()/downloads``), imports them with
``ModelStore.import_files`` (the same loaders as ``ganpaint models import``) into a scratch
store, and adds the result to the real store with a card that carries the catalogue's
licence, training data and source. Non-commercial entries need ``accept_licence=True``.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import shutil
import socket
import ssl
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from ganpaint.core.errors import GanpaintError, describe_os_error
from ganpaint.engine.models.catalogue import CatalogueEntry, CatalogueFile, is_loopback

if TYPE_CHECKING:
    from ganpaint.engine.models.store import ModelEntry, ModelStore

__all__ = [
    "DownloadCancelled",
    "DownloadError",
    "HashMismatch",
    "LicenceNotAccepted",
    "Progress",
    "download",
    "downloads_dir",
    "fetch_bytes",
    "install",
    "install_url",
    "url_entry",
]

Progress = Callable[[int, "int | None", str], None]
CHUNK = 1 << 16
#: seconds to wait for a server to answer or send the next bytes
TIMEOUT = 30.0
#: tries in a row that bring no new byte before giving up
RETRIES = 4
USER_AGENT = "GANPaint model downloader (urllib)"
#: the largest member read out of a downloaded archive
MAX_MEMBER_BYTES = 8 << 30


class DownloadError(GanpaintError):
    """A download failed; ``str(error)`` is one sentence for the user."""


class DownloadCancelled(DownloadError):
    """The user cancelled; a partial file stays for a later resume."""


class HashMismatch(DownloadError):
    """The file's hash is not the published one; the file was deleted."""


class LicenceNotAccepted(DownloadError):
    """A non-commercial licence must be accepted before the download starts."""


# ----------------------------------------------------------------------------------- helpers


def downloads_dir(cache_dir: str | os.PathLike[str] | None = None) -> Path:
    if cache_dir is None:
        from ganpaint.core.paths import cache_dir as _cache

        cache_dir = _cache()
    folder = Path(cache_dir) / "downloads"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _cancel_fn(cancel: Any) -> Callable[[], bool]:
    if cancel is None:
        return lambda: False
    for attr in ("is_set", "cancelled", "cancel_requested"):
        value = getattr(cancel, attr, None)
        if callable(value):
            return value  # type: ignore[no-any-return]
        if isinstance(value, bool):
            return lambda: bool(getattr(cancel, attr))
    if callable(cancel):
        return cancel  # type: ignore[no-any-return]
    raise TypeError("cancel must be a callable or have is_set()/cancelled()")


def check_url(url: str, *, plain_http_ok: bool = False) -> None:
    """Refuse anything but https, plain http where allowed, and loopback http."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return
    if parts.scheme == "http" and parts.hostname:
        if plain_http_ok or is_loopback(url):
            return
        raise DownloadError(
            f"{url} is plain http, which anyone on the way could alter: only https addresses are fetched "
            "(plain http only where the catalogue says the authors serve it, and on 127.0.0.1)",
            reason="plain http",
        )
    raise DownloadError(f"{url} is not an http(s) address", reason="bad address")


def _proxy_for(url: str) -> str:
    parts = urlsplit(url)
    proxies = urllib.request.getproxies()
    proxy = proxies.get(parts.scheme, "")
    if proxy and urllib.request.proxy_bypass(parts.hostname or ""):
        return ""
    return proxy


class _NoDowngrade(urllib.request.HTTPRedirectHandler):
    """Follow redirects, but never from https (or a non-loopback host) to plain http."""

    def __init__(self, plain_http_ok: bool) -> None:
        self.plain_http_ok = plain_http_ok

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[no-untyped-def]
        check_url(newurl, plain_http_ok=self.plain_http_ok and urlsplit(req.full_url).scheme == "http")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _opener(plain_http_ok: bool) -> urllib.request.OpenerDirector:
    # build_opener adds ProxyHandler() (the *_PROXY variables) and the default handlers
    return urllib.request.build_opener(_NoDowngrade(plain_http_ok))


def _host(url: str) -> str:
    return urlsplit(url).hostname or url


def _network_error(exc: BaseException, url: str, what: str, timeout: float) -> DownloadError:
    """One sentence for a failure to reach ``url``."""
    host = _host(url)
    proxy = _proxy_for(url)
    via = f" through the proxy {proxy}" if proxy else ""
    if isinstance(exc, urllib.error.HTTPError):
        if exc.code == 407:
            return DownloadError(f"Cannot download {what}: the proxy {proxy or ''} asks for a user name and "
                                 "password (HTTP 407); put them in HTTPS_PROXY as http://user:password@host:port.",
                                 reason="proxy")
        if exc.code == 404:
            return DownloadError(f"Cannot download {what}: {host} has no such file (HTTP 404 Not Found at {url}).",
                                 reason="not found")
        return DownloadError(f"Cannot download {what}: {host} answered HTTP {exc.code} {exc.reason}{via}.",
                             reason=f"http {exc.code}")
    reason: Any = exc.reason if isinstance(exc, urllib.error.URLError) else exc
    text = str(reason)
    if proxy and ("Tunnel connection failed" in text or isinstance(reason, ConnectionRefusedError)
                  or isinstance(reason, socket.gaierror)):
        return DownloadError(f"Cannot download {what}: the proxy {proxy} (from the HTTP(S)_PROXY setting) could not "
                             f"be used ({text}).", reason="proxy")
    if isinstance(reason, socket.gaierror):
        return DownloadError(f"Cannot download {what}: the name {host} could not be looked up: this computer "
                             "seems to be offline (or DNS is not working).", reason="offline")
    if isinstance(reason, ConnectionRefusedError):
        return DownloadError(f"Cannot download {what}: {host} refused the connection (is this computer offline, "
                             "or is a firewall in the way?).", reason="offline")
    if isinstance(reason, (TimeoutError, socket.timeout)):
        return DownloadError(f"Cannot download {what}: {host} did not answer within {timeout:.0f} s{via}.",
                             reason="timeout")
    if isinstance(reason, ssl.SSLError | ssl.CertificateError):
        return DownloadError(f"Cannot download {what}: the secure connection to {host} failed ({text}).",
                             reason="tls")
    if isinstance(reason, OSError) and reason.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH):
        return DownloadError(f"Cannot download {what}: the network is unreachable: this computer seems to be "
                             "offline.", reason="offline")
    return DownloadError(f"Cannot download {what}: {host} could not be reached{via} ({text}).", reason="network")


def fetch_bytes(url: str, *, max_bytes: int, what: str = "", timeout: float = TIMEOUT) -> bytes:
    """A small file (a catalogue) in memory; DownloadError when it is larger than ``max_bytes``."""
    what = what or url
    check_url(url)
    req = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    try:
        with _opener(False).open(req, timeout=timeout) as resp:
            data: bytes = resp.read(max_bytes + 1)
    except (urllib.error.URLError, OSError) as exc:
        raise _network_error(exc, url, what, timeout) from None
    if len(data) > max_bytes:
        raise DownloadError(f"Cannot use {what}: it is larger than {max_bytes:,} bytes.", reason="too large")
    return data


# ----------------------------------------------------------------------------------- one file


@dataclass
class _Sidecar:
    url: str
    validator: str = ""  # ETag or Last-Modified of the first answer

    @staticmethod
    def read(path: Path) -> _Sidecar | None:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return _Sidecar(str(data["url"]), str(data.get("validator", "")))
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def write(self, path: Path) -> None:
        path.write_text(json.dumps({"url": self.url, "validator": self.validator}), encoding="utf-8")


def _content_range(value: str | None) -> tuple[int, int | None] | None:
    """``"bytes 100-999/1000"`` -> (100, 1000); ``".../*"`` -> (100, None)."""
    if not value or not value.startswith("bytes "):
        return None
    try:
        span, total = value[6:].split("/", 1)
        start = int(span.split("-", 1)[0])
        return start, (None if total.strip() == "*" else int(total))
    except ValueError:
        return None


def _digest(path: Path, algo: str) -> str:
    h = hashlib.new(algo)
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def download(
    url: str,
    dest: str | os.PathLike[str],
    *,
    sha256: str = "",
    md5: str = "",
    size: int | None = None,
    progress: Progress | None = None,
    cancel: Any = None,
    plain_http_ok: bool = False,
    timeout: float = TIMEOUT,
    retries: int | None = None,
    what: str = "",
) -> Path:
    """Fetch ``url`` to ``dest`` (through ``dest.part``), resuming and verifying; returns ``dest``."""
    dest = Path(dest)
    what = what or dest.name
    retries = RETRIES if retries is None else retries
    check_url(url, plain_http_ok=plain_http_ok)
    is_cancelled = _cancel_fn(cancel)
    part = dest.with_name(dest.name + ".part")
    side_path = dest.with_name(dest.name + ".part.json")
    dest.parent.mkdir(parents=True, exist_ok=True)
    if dest.exists():  # a file finished earlier (the other file of a pair failed): keep it if it checks
        if sha256 or md5 or size is not None:
            try:
                _verify(dest, what, sha256=sha256, md5=md5, size=size, side_path=side_path)
                return dest
            except HashMismatch:
                pass  # _verify deleted it
        else:
            dest.unlink()
    side = _Sidecar.read(side_path)
    if part.exists() and (side is None or side.url != url):
        part.unlink()  # a partial file of another address: never mix them
        side = None
    if side is None:
        side = _Sidecar(url)
    opener = _opener(plain_http_ok)
    total: int | None = size
    fruitless = 0
    restarted = False
    while True:
        if is_cancelled():
            raise DownloadCancelled(f"Download of {what} cancelled; run it again to resume.", reason="cancelled")
        offset = part.stat().st_size if part.exists() else 0
        if total is not None and offset == total and offset > 0:
            break
        headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "identity"}
        if offset:
            headers["Range"] = f"bytes={offset}-"
            if side.validator:
                headers["If-Range"] = side.validator
        req = urllib.request.Request(url, headers=headers)
        got = 0
        try:
            resp = opener.open(req, timeout=timeout)
        except urllib.error.HTTPError as exc:
            if exc.code == 416 and offset:
                cr = _content_range((exc.headers or {}).get("Content-Range", "").replace("bytes */", "bytes 0-0/"))
                if cr is not None and cr[1] == offset:  # the partial file is already whole
                    total = offset
                    break
            if exc.code == 416 and offset and not restarted:  # the partial file no longer fits: start over
                part.unlink()
                restarted = True
                continue
            if exc.code >= 500 and fruitless < retries:
                fruitless += 1
                time.sleep(min(0.25 * 2 ** fruitless, 2.0))
                continue
            raise _network_error(exc, url, what, timeout) from None
        except (urllib.error.URLError, OSError) as exc:
            # a connection refused at once, an unknown name, a proxy refusing: not worth retrying
            # unless bytes came before (a server going away mid-file comes back quickly or not)
            if offset and fruitless < retries and not isinstance(getattr(exc, "reason", exc), socket.gaierror):
                fruitless += 1
                time.sleep(min(0.25 * 2 ** fruitless, 2.0))
                continue
            raise _network_error(exc, url, what, timeout) from None
        with resp:
            status = getattr(resp, "status", 200)
            validator = resp.headers.get("ETag") or resp.headers.get("Last-Modified") or ""
            if status == 206:
                cr = _content_range(resp.headers.get("Content-Range"))
                if cr is None or cr[0] != offset:
                    part.unlink(missing_ok=True)  # not the bytes asked for
                    if restarted:
                        raise DownloadError(f"Cannot download {what}: {_host(url)} answered a resume with the "
                                            "wrong part of the file.", reason="bad range")
                    restarted = True
                    continue
                if cr[1] is not None:
                    total = cr[1]
            else:
                if offset:  # the server ignored Range, or the file changed (If-Range): start over
                    part.unlink(missing_ok=True)
                    offset = 0
                length = resp.headers.get("Content-Length")
                if length and length.isdigit():
                    total = int(length)
                side.validator = validator
                with contextlib.suppress(OSError):
                    side.write(side_path)
            if size is not None and total is not None and total != size:
                raise DownloadError(f"Cannot download {what}: {_host(url)} offers {total:,} bytes, the catalogue "
                                    f"says {size:,}; nothing was kept.", reason="size mismatch")
            done = offset
            try:
                with open(part, "ab") as out:
                    while True:
                        if is_cancelled():
                            raise DownloadCancelled(f"Download of {what} cancelled; run it again to resume.",
                                                    reason="cancelled")
                        try:
                            chunk = resp.read(CHUNK)
                        except (OSError, ValueError, EOFError) as exc:  # dropped connection, timeout
                            raise _Dropped(exc) from None
                        except Exception as exc:  # http.client.IncompleteRead and friends
                            raise _Dropped(exc) from None
                        if not chunk:
                            break
                        try:
                            out.write(chunk)
                        except OSError as exc:
                            raise DownloadError(f"Cannot save {what} in {part.parent}: {describe_os_error(exc)}.",
                                                path=part, reason=describe_os_error(exc)) from None
                        got += len(chunk)
                        done += len(chunk)
                        if progress is not None:
                            progress(done, total, f"Downloading {what}")
            except _Dropped as dropped:
                if got:
                    fruitless = 0
                if fruitless < retries:
                    fruitless += 1
                    time.sleep(min(0.1 * 2 ** fruitless, 2.0))
                    continue
                raise DownloadError(f"Cannot download {what}: the connection to {_host(url)} kept dropping "
                                    f"({dropped.cause}); run the same command again to resume.",
                                    reason="dropped") from None
            except OSError as exc:
                raise DownloadError(f"Cannot save {what} in {part.parent}: {describe_os_error(exc)}.",
                                    path=part, reason=describe_os_error(exc)) from None
        if total is None or done >= total:
            break
        # the server closed early without an error: resume
        if got:
            fruitless = 0
        if fruitless >= retries:
            raise DownloadError(f"Cannot download {what}: {_host(url)} stopped sending at {done:,} of {total:,} "
                                "bytes; run the same command again to resume.", reason="dropped")
        fruitless += 1
    _verify(part, what, sha256=sha256, md5=md5, size=size, side_path=side_path)
    os.replace(part, dest)
    with contextlib.suppress(FileNotFoundError):
        side_path.unlink()
    return dest


class _Dropped(Exception):
    def __init__(self, cause: BaseException) -> None:
        super().__init__(str(cause))
        self.cause = type(cause).__name__ + (f": {cause}" if str(cause) else "")


def _verify(part: Path, what: str, *, sha256: str, md5: str, size: int | None, side_path: Path) -> None:
    def refuse(msg: str) -> HashMismatch:
        for p in (part, side_path):
            with contextlib.suppress(FileNotFoundError):
                p.unlink()
        return HashMismatch(msg, reason="hash mismatch")

    have = part.stat().st_size
    if size is not None and have != size:
        raise refuse(f"{what} is {have:,} bytes, not the published {size:,}: the file was deleted and nothing "
                     "was imported.")
    for algo, want in (("sha256", sha256), ("md5", md5)):
        if want:
            got = _digest(part, algo)
            if got != want.lower():
                raise refuse(f"{what} does not have the published {algo} ({got[:12]}... instead of "
                             f"{want[:12]}...): the file was deleted and nothing was imported.")


def extract_member(archive: Path, member: str, dest: Path) -> Path:
    """``member`` of the zip ``archive`` written to ``dest`` (size-checked, never a path outside)."""
    try:
        with zipfile.ZipFile(archive) as zf:
            try:
                info = zf.getinfo(member)
            except KeyError:
                raise DownloadError(f"{archive.name} has no {member}: the archive is not the expected one.",
                                    path=archive, reason="bad archive") from None
            if info.file_size > MAX_MEMBER_BYTES:
                raise DownloadError(f"{member} in {archive.name} is {info.file_size:,} bytes, more than the limit.",
                                    path=archive, reason="too large")
            tmp = dest.with_name(dest.name + ".tmp")
            with zf.open(info) as src, open(tmp, "wb") as out:
                shutil.copyfileobj(src, out, CHUNK)
            os.replace(tmp, dest)
    except zipfile.BadZipFile as exc:
        raise DownloadError(f"{archive.name} is not a readable zip archive ({exc}).", path=archive,
                            reason="bad archive") from None
    except OSError as exc:
        raise DownloadError(f"Cannot unpack {member} from {archive.name}: {describe_os_error(exc)}.",
                            path=archive, reason=describe_os_error(exc)) from None
    return dest


# ----------------------------------------------------------------------------------- into the store


def url_entry(url: str, name: str, *, sha256: str = "", tool: str | None = None) -> CatalogueEntry:
    """A catalogue-like entry for ``ganpaint models get URL --as NAME``."""
    file_name = Path(urlsplit(url).path).name or f"{name}.bin"
    file_name = "".join(c if c.isalnum() or c in "._-" else "_" for c in file_name).lstrip(".") or f"{name}.bin"
    return CatalogueEntry(
        id=name, title=name, tools=(tool,) if tool else (), licence="unknown (downloaded from an address)",
        non_commercial=False, training_data="unknown", description="", source=url,
        files=(CatalogueFile(name=file_name, url=url, sha256=sha256.lower(), hash_note="" if sha256 else "none given"),),
    )


def install(
    entry: CatalogueEntry,
    store: ModelStore,
    *,
    accept_licence: bool = False,
    progress: Progress | None = None,
    cancel: Any = None,
    cache_dir: str | os.PathLike[str] | None = None,
    name: str | None = None,
    from_catalogue: bool = True,
) -> ModelEntry:
    """Download ``entry``'s files and import them into ``store`` (see the module docstring)."""
    if entry.non_commercial and not accept_licence:
        raise LicenceNotAccepted(
            f"{entry.title} is under {entry.licence_name or entry.licence}, which forbids commercial use: "
            "accept it first (--accept-licence on the command line).", reason="licence"
        )
    is_cancelled = _cancel_fn(cancel)
    folder = downloads_dir(cache_dir) / entry.id
    folder.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    fetched: list[Path] = []
    n = len(entry.files)
    for i, f in enumerate(entry.files):
        label = f.name if n == 1 else f"{f.name} ({i + 1} of {n})"

        def step(done: int, total: int | None, message: str, _label: str = label) -> None:
            if progress is not None:
                progress(done, total, f"Downloading {_label}")

        path = download(f.url, folder / f.name, sha256=f.sha256, md5=f.md5, size=f.size, progress=step,
                        cancel=is_cancelled, plain_http_ok=f.plain_http, what=f.name)
        fetched.append(path)
        if f.extract:
            path = extract_member(path, f.extract, folder / f"{Path(f.extract).name}")
            fetched.append(path)
        paths.append(path)
    if is_cancelled():
        raise DownloadCancelled(f"Download of {entry.title} cancelled before the import; nothing was imported.",
                                reason="cancelled")
    if progress is not None:
        progress(1, 1, f"Importing {entry.title}")
    result = _import(store, entry, paths, name or entry.id, from_catalogue=from_catalogue, folder=folder)
    for p in fetched:  # the store holds the weights now; the originals only took space
        with contextlib.suppress(OSError):
            p.unlink()
    with contextlib.suppress(OSError):
        folder.rmdir()
    return result


def install_url(
    url: str,
    name: str,
    store: ModelStore,
    *,
    sha256: str = "",
    tool: str | None = None,
    progress: Progress | None = None,
    cancel: Any = None,
    cache_dir: str | os.PathLike[str] | None = None,
) -> ModelEntry:
    """``ganpaint models get URL --as NAME``: any https address (http on 127.0.0.1), same path."""
    entry = url_entry(url, name, sha256=sha256, tool=tool)
    return install(entry, store, progress=progress, cancel=cancel, cache_dir=cache_dir, from_catalogue=False)


def _import(store: ModelStore, entry: CatalogueEntry, paths: list[Path], name: str, *, from_catalogue: bool,
            folder: Path) -> ModelEntry:
    from ganpaint.engine.models.checkpoints import file_sha256, read_safetensors
    from ganpaint.engine.models.store import ModelEntry, ModelStore

    scratch = folder / f".import-{os.getpid()}"
    shutil.rmtree(scratch, ignore_errors=True)
    try:
        tmp = ModelStore(scratch, include_resources=False)
        first = tmp.import_files(paths[0], paths[1] if len(paths) > 1 else None, name=name,
                                 tool=entry.tools[0] if entry.tools else None)
        tensors, card = read_safetensors(first.path)
        if card is None:  # import_files always writes one
            card = first.card
        if from_catalogue:
            more = [t for t in (*card.extra.get("tools", ()), *entry.tools) if isinstance(t, str) and t != card.tool]
            extra = {
                **card.extra,
                "tools": list(dict.fromkeys(more)),
                "catalogue_id": entry.id,
                "non_commercial": entry.non_commercial,
                "licence_name": entry.licence_name,
                "licence_url": entry.licence_url,
            }
            if card.licence:
                extra["licence_found_on_import"] = card.licence
            card = card.replace(
                title=entry.title,
                description=entry.description,
                licence=entry.licence_text(),
                training_data=({"name": entry.training_data, "licence": entry.data_licence},),
                source=entry.source,
                extra=extra,
            )
        else:
            card = card.replace(source=entry.source)
        files = [{"file": p.name, "sha256": file_sha256(p)} for p in paths]
        for rec, f in zip(files, entry.files, strict=False):
            rec["url"] = f.url
        card = card.replace(source_files=tuple(files))
        added = store.add(tensors, card, name)
        # what the import computed beside the model (a StyleGAN's slider directions) moves too:
        # the tensors are the same, so the directions' generator digest still matches
        for sub in ("directions", "encoders"):
            for side in sorted((scratch / sub).glob(f"{name}.*")):
                target = store.root / sub / side.name
                target.parent.mkdir(parents=True, exist_ok=True)
                tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")  # store's stale-temp naming
                try:
                    shutil.copyfile(side, tmp)
                    os.replace(tmp, target)
                finally:
                    tmp.unlink(missing_ok=True)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    report = first.report.replace(str(scratch), str(store.root))
    lines = [line for line in report.splitlines() if not line.startswith("stored as ")]
    lines.append(f"stored as {added.ref} for the {added.tool!r} tool: {added.path}")
    return ModelEntry(**{**added.__dict__, "report": "\n".join(lines)})
