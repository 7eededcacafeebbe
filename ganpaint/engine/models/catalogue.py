"""The model catalogue: published models GANPaint can download, with their files and licences.

The built-in catalogue is ``catalogue.json`` beside this module (package data). Setting
``GANPAINT_CATALOGUE`` to a file path or an http(s) address replaces it with another file of
the same format (a studio's mirror, a test server on 127.0.0.1). The format is documented in
docs/models.md, "Catalogue and downloads"; :func:`validate` checks it.

No torch and no network here, except reading a catalogue from the address in
``GANPAINT_CATALOGUE`` (through :mod:`ganpaint.engine.models.downloads`).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ganpaint.core.errors import GanpaintError
from ganpaint.core.limits import loads_bounded

__all__ = [
    "CATALOGUE_ENV",
    "FORMAT",
    "TOOLS",
    "Catalogue",
    "CatalogueEntry",
    "CatalogueError",
    "CatalogueFile",
    "builtin_path",
    "installed_ids",
    "load_catalogue",
    "parse_catalogue",
    "validate",
]

CATALOGUE_ENV = "GANPAINT_CATALOGUE"
#: version of the catalogue format this GANPaint reads
FORMAT = 1
#: the tools a catalogue entry may serve
TOOLS = ("season", "translate", "sketch", "stylemix", "faces", "inpaint", "upscale", "restore_faces", "restore")
#: the largest catalogue file read (the built-in one is ~70 KB)
MAX_CATALOGUE_BYTES = 4 << 20
#: hosts where plain http is always accepted (tests, a mirror on this computer)
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")

_ID_RE = re.compile(r"^[a-z][a-z0-9_\-]*$")
_SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
_MD5_RE = re.compile(r"^[0-9a-f]{32}$")
_FILE_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-]*$")
_REQUIRED = ("id", "title", "tools", "licence", "non_commercial", "training_data", "description", "source", "files")
_ROLES = ("forward", "reverse")


class CatalogueError(GanpaintError):
    """The catalogue cannot be read or is malformed; the message says which file and what."""


@dataclass(frozen=True)
class CatalogueFile:
    """One file of an entry. ``role``: ``forward`` (the model, or G_A of a CycleGAN pair) or
    ``reverse`` (G_B). ``extract``: the member to import when the file is a zip archive."""

    name: str
    url: str
    role: str = "forward"
    size: int | None = None
    size_estimate: int | None = None
    size_note: str = ""
    sha256: str = ""
    md5: str = ""
    hash_source: str = ""
    hash_note: str = ""
    plain_http: bool = False
    extract: str = ""

    @property
    def has_hash(self) -> bool:
        return bool(self.sha256 or self.md5)


@dataclass(frozen=True)
class CatalogueEntry:
    """One published model."""

    id: str
    title: str
    tools: tuple[str, ...]
    licence: str
    non_commercial: bool
    training_data: str
    description: str
    source: str
    files: tuple[CatalogueFile, ...]
    family: str = ""
    licence_name: str = ""
    licence_url: str = ""
    data_licence: str = ""

    @property
    def tool(self) -> str:
        """The tool the model is imported for (the first one); the others list it too."""
        return self.tools[0]

    @property
    def size(self) -> int | None:
        """Total bytes when every file's size is published, else None."""
        sizes = [f.size for f in self.files]
        return None if any(s is None for s in sizes) else sum(s for s in sizes if s is not None)

    def size_text(self) -> str:
        """``"64.0 MB"``, ``"~43.4 MB"`` (an estimate) or ``"unknown"``."""
        if self.size is not None:
            return _human(self.size)
        est = [f.size if f.size is not None else f.size_estimate for f in self.files]
        if all(s is not None for s in est):
            return "~" + _human(sum(s for s in est if s is not None))
        return "unknown"

    def licence_text(self) -> str:
        return self.licence + (" (non-commercial)" if self.non_commercial else "")


@dataclass(frozen=True)
class Catalogue:
    entries: tuple[CatalogueEntry, ...]
    origin: str = ""

    def get(self, entry_id: str) -> CatalogueEntry:
        for e in self.entries:
            if e.id == entry_id:
                return e
        near = [e.id for e in self.entries if entry_id in e.id or e.id in entry_id][:6]
        hint = f" (did you mean {', '.join(near)}?)" if near else " (`ganpaint models available` lists them)"
        raise CatalogueError(f"no model {entry_id!r} in the catalogue {self.origin}{hint}")

    def for_tool(self, tool: str | None) -> list[CatalogueEntry]:
        return [e for e in self.entries if tool is None or tool in e.tools]


def _human(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


def builtin_path() -> Path:
    return Path(__file__).with_name("catalogue.json")


def is_loopback(url: str) -> bool:
    return (urlsplit(url).hostname or "") in LOOPBACK_HOSTS


def validate(data: Any) -> list[str]:
    """Every problem of a catalogue (decoded JSON), one line each; [] when it is valid."""
    problems: list[str] = []
    if not isinstance(data, dict):
        return ["the catalogue must be a JSON object"]
    fmt = data.get("format")
    if fmt != FORMAT:
        problems.append(f"format is {fmt!r}; this GANPaint reads format {FORMAT}")
    models = data.get("models")
    if not isinstance(models, list) or not models:
        return [*problems, "'models' must be a non-empty list"]
    seen: set[str] = set()
    for i, m in enumerate(models):
        where = f"models[{i}]"
        if not isinstance(m, dict):
            problems.append(f"{where} is not an object")
            continue
        mid = m.get("id")
        if isinstance(mid, str):
            where = f"model {mid!r}"
        for key in _REQUIRED:
            if key not in m:
                problems.append(f"{where}: missing {key!r}")
        if not isinstance(mid, str) or not _ID_RE.match(mid):
            problems.append(f"{where}: id must be lower-case letters, digits, '-' or '_', starting with a letter")
        elif mid in seen:
            problems.append(f"{where}: duplicate id")
        else:
            seen.add(mid)
        for key in ("title", "licence", "training_data", "description", "source"):
            if key in m and (not isinstance(m[key], str) or not m[key].strip()):
                problems.append(f"{where}: {key!r} must be a non-empty string")
        if "non_commercial" in m and not isinstance(m["non_commercial"], bool):
            problems.append(f"{where}: 'non_commercial' must be true or false")
        tools = m.get("tools")
        if not isinstance(tools, list) or not tools or not all(isinstance(t, str) for t in tools):
            problems.append(f"{where}: 'tools' must be a non-empty list of tool ids")
        else:
            bad = [t for t in tools if t not in TOOLS]
            if bad:
                problems.append(f"{where}: unknown tool(s) {', '.join(bad)} (known: {', '.join(TOOLS)})")
            if len(set(tools)) != len(tools):
                problems.append(f"{where}: a tool is listed twice")
        files = m.get("files")
        if not isinstance(files, list) or not files:
            problems.append(f"{where}: 'files' must be a non-empty list")
            continue
        roles = []
        for j, f in enumerate(files):
            fw = f"{where} file {j}"
            if not isinstance(f, dict):
                problems.append(f"{fw} is not an object")
                continue
            roles.append(f.get("role", "forward"))
            problems += _file_problems(f, fw)
        if sorted(roles) not in (["forward"], ["forward", "reverse"]):
            problems.append(f"{where}: files must be one 'forward' file, or a 'forward' and a 'reverse' one")
    return problems


def _file_problems(f: dict[str, Any], fw: str) -> list[str]:
    out: list[str] = []
    name, url = f.get("name"), f.get("url")
    if not isinstance(name, str) or not _FILE_NAME_RE.match(name):
        out.append(f"{fw}: 'name' must be a plain file name")
    if not isinstance(url, str):
        out.append(f"{fw}: 'url' must be a string")
    else:
        parts = urlsplit(url)
        if parts.scheme == "http":
            if not (f.get("plain_http") is True or is_loopback(url)):
                out.append(f"{fw}: {url} is plain http; only https, or http marked 'plain_http' "
                           "(the authors serve it only so) or on 127.0.0.1/localhost, is accepted")
        elif parts.scheme != "https":
            out.append(f"{fw}: {url} is not an https address")
        if not parts.hostname:
            out.append(f"{fw}: {url} names no host")
    if f.get("role", "forward") not in _ROLES:
        out.append(f"{fw}: role must be 'forward' or 'reverse'")
    size = f.get("size")
    if size is not None and (not isinstance(size, int) or isinstance(size, bool) or size <= 0):
        out.append(f"{fw}: 'size' must be a positive number of bytes or null")
    if size is None and not f.get("size_note"):
        out.append(f"{fw}: a file without 'size' needs a 'size_note' saying why")
    est = f.get("size_estimate")
    if est is not None and (not isinstance(est, int) or isinstance(est, bool) or est <= 0):
        out.append(f"{fw}: 'size_estimate' must be a positive number of bytes")
    sha, md5 = f.get("sha256", ""), f.get("md5", "")
    if sha and not (isinstance(sha, str) and _SHA256_RE.match(sha)):
        out.append(f"{fw}: 'sha256' must be 64 lower-case hex digits")
    if md5 and not (isinstance(md5, str) and _MD5_RE.match(md5)):
        out.append(f"{fw}: 'md5' must be 32 lower-case hex digits")
    if (sha or md5) and not f.get("hash_source") and not is_loopback(str(url)):
        out.append(f"{fw}: a hash needs a 'hash_source' saying who publishes it")
    if not (sha or md5) and not f.get("hash_note"):
        out.append(f"{fw}: a file without a hash needs a 'hash_note' (\"no published hash ...\")")
    extract = f.get("extract", "")
    if extract and (not isinstance(extract, str) or extract.startswith("/") or ".." in extract.split("/")):
        out.append(f"{fw}: 'extract' must be a relative member path inside the archive")
    return out


def parse_catalogue(data: Any, origin: str = "") -> Catalogue:
    """A :class:`Catalogue` from decoded JSON; CatalogueError listing the first problems."""
    problems = validate(data)
    if problems:
        more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
        raise CatalogueError(f"catalogue {origin}: " + "; ".join(problems[:3]) + more, path=origin or None,
                             reason="bad catalogue")
    entries = []
    for m in data["models"]:
        files = tuple(
            CatalogueFile(
                name=f["name"], url=f["url"], role=f.get("role", "forward"), size=f.get("size"),
                size_estimate=f.get("size_estimate"), size_note=str(f.get("size_note", "")),
                sha256=str(f.get("sha256", "")), md5=str(f.get("md5", "")),
                hash_source=str(f.get("hash_source", "")), hash_note=str(f.get("hash_note", "")),
                plain_http=f.get("plain_http") is True, extract=str(f.get("extract", "")),
            )
            for f in sorted(m["files"], key=lambda f: _ROLES.index(f.get("role", "forward")))
        )
        entries.append(CatalogueEntry(
            id=m["id"], title=m["title"], tools=tuple(m["tools"]), licence=m["licence"],
            non_commercial=m["non_commercial"], training_data=m["training_data"], description=m["description"],
            source=m["source"], files=files, family=str(m.get("family", "")),
            licence_name=str(m.get("licence_name", "")), licence_url=str(m.get("licence_url", "")),
            data_licence=str(m.get("data_licence", "")),
        ))
    return Catalogue(tuple(entries), origin)


def _decode(text: str | bytes, origin: str) -> Any:
    try:
        return loads_bounded(text, max_bytes=MAX_CATALOGUE_BYTES)
    except (ValueError, RecursionError, UnicodeDecodeError) as exc:
        raise CatalogueError(f"catalogue {origin} is not valid JSON: {exc}", path=origin, reason="bad catalogue") from None


def load_catalogue(source: str | os.PathLike[str] | None = None) -> Catalogue:
    """The catalogue from ``source`` (a path or an http(s) address), else from
    ``$GANPAINT_CATALOGUE``, else the built-in one."""
    if source is None:
        source = os.environ.get(CATALOGUE_ENV) or builtin_path()
    text_source = os.fspath(source)
    if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", text_source):
        from ganpaint.engine.models.downloads import fetch_bytes

        raw = fetch_bytes(text_source, max_bytes=MAX_CATALOGUE_BYTES, what="the catalogue")
        return parse_catalogue(_decode(raw, text_source), text_source)
    path = Path(text_source).expanduser()
    try:
        if path.stat().st_size > MAX_CATALOGUE_BYTES:
            raise CatalogueError(f"catalogue {path} is larger than {MAX_CATALOGUE_BYTES:,} bytes", path=path,
                                 reason="too large")
        raw_text = path.read_bytes()
    except OSError as exc:
        from ganpaint.core.errors import describe_os_error

        raise CatalogueError(f"cannot read the catalogue {path}: {describe_os_error(exc)}", path=path) from None
    return parse_catalogue(_decode(raw_text, str(path)), str(path))


def installed_ids(store_entries: Iterable[Any]) -> set[str]:
    """Catalogue ids of the models in the store (from each card's ``extra["catalogue_id"]``)."""
    out: set[str] = set()
    for e in store_entries:
        card = getattr(e, "card", None)
        cid = (getattr(card, "extra", None) or {}).get("catalogue_id")
        if isinstance(cid, str):
            out.add(cid)
    return out


def dumps_entry(entry: CatalogueEntry) -> str:
    """The entry as JSON (for ``--debug`` and bug reports)."""
    from dataclasses import asdict

    return json.dumps(asdict(entry), indent=1)
