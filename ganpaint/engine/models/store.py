"""The model store: the user's models folder plus read-only defaults shipped by plugins.

Layout of the store root (``ganpaint.core.paths.models_dir()``; ``GANPAINT_DATA_DIR`` moves it)::

    <name>.safetensors              the latest version of a model (card in its metadata)
    <name>.safetensors.card.json    the same card, beside it, for people and quick listing
    versions/<name>@<v>.safetensors older versions (+ .card.json), kept when a newer one arrives

Weights files hold the tensors of each network under ``"<component>."`` prefixes (see
``ModelCard.components``): a CycleGAN pair is one model with ``forward.*`` (G_A) and
``reverse.*`` (G_B) tensors.

Every write goes to a temporary file beside its target and is renamed over it
(``os.replace``), so a failure or a crash never leaves a damaged model behind; the temporary
files a killed process left are removed when a store is opened (``core.atomic.clean_stale_temps``).
The store is not meant for two processes writing the same name at the same moment.

A model whose card cannot be read (damaged, too large, too deeply nested) is left out of the
lists and reported by :meth:`ModelStore.problems` with the card's file; it never hides the others.

Listing reads only the safetensors headers (no torch); importing and adding load torch.
"""

from __future__ import annotations

import builtins
import contextlib
import os
import re
import shutil
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ganpaint.core.atomic import atomic_path, atomic_write_text, clean_stale_temps
from ganpaint.core.errors import describe_os_error
from ganpaint.core.specs import ModelSpec, ToolError
from ganpaint.engine.models.cards import ModelCard, ModelFileError, card_of_file, utc_now

if TYPE_CHECKING:
    import torch

__all__ = ["ModelEntry", "ModelStore", "UnknownModelError", "pack_components", "resolve_model_path"]

SUFFIX = ".safetensors"
CARD_SUFFIX = ".card.json"
_NAME_RE = re.compile(r"^[a-z][a-z0-9_\-]*$")
_VERSIONED_RE = re.compile(r"^(?P<name>[a-z][a-z0-9_\-]*)@(?P<v>[1-9][0-9]*)$")
#: the tool that lists translation generators unless --tool says otherwise
TRANSLATE_TOOL = "translate"
_GENERATOR_ARCHS = ("resnet_generator", "unet_generator")


class UnknownModelError(ModelFileError):
    """No model of that name (or version) is in the store."""


@dataclass(frozen=True)
class ModelEntry:
    """One stored model version."""

    name: str
    tool: str
    version: int
    path: Path
    card: ModelCard
    readonly: bool = False
    #: for entries returned by import_files: what was found, for printing (else "")
    report: str = field(default="", compare=False)

    @property
    def ref(self) -> str:
        return f"{self.name}@{self.version}"

    @property
    def tools(self) -> tuple[str, ...]:
        """Every tool that lists the model: ``tool`` plus the card's ``extra["tools"]`` (a
        StyleGAN2 generator serves both ``stylemix`` and ``faces``)."""
        more = self.card.extra.get("tools") or ()
        return (self.tool, *(t for t in more if isinstance(t, str) and t != self.tool))

    @property
    def size_bytes(self) -> int:
        try:
            return self.path.stat().st_size
        except OSError:
            return 0


def pack_components(networks: Mapping[str, Mapping[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    """``{"forward": sd_a, "reverse": sd_b}`` -> one flat dict with ``"forward."``/``"reverse."`` prefixes."""
    out: dict[str, torch.Tensor] = {}
    for comp, sd in networks.items():
        for k, v in sd.items():
            out[f"{comp}.{k}"] = v
    return out


def parse_ref(ref: str) -> tuple[str, int | None]:
    """``"name"`` -> (name, None); ``"name@3"`` -> (name, 3)."""
    m = _VERSIONED_RE.match(ref)
    if m:
        return m.group("name"), int(m.group("v"))
    return ref, None


def default_name(path: str | os.PathLike[str]) -> str:
    """A store name from a file name: ``checkpoints/horse2zebra_pretrained/latest_net_G.pth`` ->
    ``horse2zebra``; ``summer2winter_yosemite.pth`` -> ``summer2winter_yosemite``."""
    p = Path(path)
    stem = p.stem
    if stem.startswith(("latest_net_", "net_G")) or re.match(r"^\d+_net_", stem):
        stem = p.parent.name or stem
    stem = re.sub(r"_pretrained$", "", stem)
    name = re.sub(r"[^a-z0-9_\-]+", "-", stem.lower()).strip("-_")
    if not name or not name[0].isalpha():
        name = "model-" + name if name else "model"
    return name


class ModelStore:
    """The user's models and the read-only defaults.

    ``root``: the store folder (default ``models_dir()``). ``defaults``: ModelSpecs the plugins
    registered (read-only; a user model of the same name hides one). ``include_resources``: also
    list ``resources/models/*.safetensors`` as defaults.
    """

    def __init__(
        self,
        root: str | os.PathLike[str] | None = None,
        defaults: Iterable[ModelSpec] = (),
        *,
        include_resources: bool = True,
    ) -> None:
        if root is None:
            from ganpaint.core.paths import models_dir

            root = models_dir()
        self.root = Path(root)
        self.defaults = tuple(defaults)
        self.include_resources = include_resources
        self._clean_temps()

    # ------------------------------------------------------------------------------- reading
    def list(self, tool: str | None = None, *, all_versions: bool = False) -> builtins.list[ModelEntry]:
        """Models by name (latest version of each), user models first then defaults; broken
        files are skipped (see :meth:`problems`)."""
        found: dict[str, ModelEntry] = {}
        for entry in self._user_entries(latest_only=not all_versions):
            found.setdefault(entry.ref if all_versions else entry.name, entry)
        mine = {(e.name, e.tool) for e in found.values()}
        for entry in self._default_entries():
            if (entry.name, entry.tool) not in mine:
                found[f"default:{entry.tool}:{entry.name}"] = entry
        out = [e for e in found.values() if tool is None or tool in e.tools]
        return sorted(out, key=lambda e: (e.readonly, e.name, -e.version))

    def problems(self) -> builtins.list[str]:
        """One line per file in the store that cannot be listed (unreadable card, ...)."""
        out: builtins.list[str] = []
        # the user's files and the models plugins register (resources/models also holds
        # helper networks without a card, such as the attribute classifier)
        paths = [*self._user_files(), *(Path(spec.path) for spec in self.defaults)]
        for path in dict.fromkeys(paths):
            try:
                card_of_file(path)
            except ModelFileError as exc:
                out.append(str(exc))
        return out

    def get(self, name: str, version: int | None = None, *, tool: str | None = None) -> ModelEntry:
        """The entry of ``name`` (``"name@v"`` also works); latest version unless asked.

        With ``tool``, only models of that tool count (two plugins may ship defaults of the
        same name for different tools). User models hide defaults of the same name and tool.
        """
        base, v = parse_ref(name)
        if version is not None:
            v = version
        users = [e for e in self._user_entries(latest_only=False) if e.name == base]
        defaults = [e for e in self._default_entries() if e.name == base]
        if tool is not None:
            users_t = [e for e in users if tool in e.tools]
            defaults_t = [e for e in defaults if tool in e.tools]
            if not users_t and not defaults_t and (users or defaults):
                other = (users or defaults)[0].tool
                raise UnknownModelError(f"model {base!r} is for the {other!r} tool, not {tool!r}")
            users, defaults = users_t, defaults_t
        candidates = users or defaults
        if v is not None:
            candidates = [e for e in candidates if e.version == v]
        if not candidates:
            known = ", ".join(sorted({e.name for e in self.list(tool=tool)})) or "none"
            what = f"{base}@{v}" if v is not None else base
            raise UnknownModelError(f"no model named {what!r} in the store (models: {known})")
        best: ModelEntry = max(candidates, key=lambda e: e.version)
        return best

    def path_for(self, name: str, tool: str) -> str:
        """Path of ``name``'s weights for ``tool`` (``RunContext.model_path``); ToolError if unknown."""
        if not name:
            raise ToolError(f"no model chosen for {tool}: import one with `ganpaint models import FILE`")
        try:
            return str(self.get(name, tool=tool).path)
        except ModelFileError as exc:
            raise ToolError(str(exc)) from None

    # ------------------------------------------------------------------------------- writing
    def import_files(
        self,
        path: str | os.PathLike[str],
        path_b: str | os.PathLike[str] | None = None,
        name: str | None = None,
        tool: str | None = None,
    ) -> ModelEntry:
        """Import an official ``.pth`` generator (with ``path_b``: the reverse one of a CycleGAN
        pair) or a GANPaint safetensors file. Adds a new version if ``name`` exists."""
        from ganpaint.engine.models.checkpoints import (
            detect_generator,
            file_sha256,
            read_checkpoint,
            read_safetensors,
        )
        from ganpaint.engine.models.stylegan_import import import_checkpoint as import_stylegan

        src = Path(path)
        name = name or default_name(src)
        self._check_name(name)
        if tool is not None and not _NAME_RE.match(tool):
            raise ModelFileError(f"tool {tool!r} is not a tool id (lower-case letters, digits, '-' or '_')")
        report: builtins.list[str] = []
        card_in: ModelCard | None = None
        if src.suffix.lower() == SUFFIX and src.is_file():
            tensors, card_in = read_safetensors(src)
        if card_in is None and src.is_file():
            from ganpaint.engine.models.nvlabs_convert import is_nvlabs_pickle

            if is_nvlabs_pickle(src):
                # NVIDIA StyleGAN2-ADA / StyleGAN3 snapshot: restricted unpickler, no code run
                return self._import_nvlabs(src, path_b, name, tool)
        # rosinality StyleGAN2 checkpoints (None for other files)
        stylegan = None if card_in is not None else import_stylegan(src, name=name, tool=tool)
        if card_in is not None:
            if path_b is not None:
                raise ModelFileError(f"{src}: a second file is only for official .pth CycleGAN pairs", path=src)
            card = card_in.replace(tool=tool or card_in.tool)
            report.append(f"{src.name}: GANPaint model file, {card.summary()}")
        elif stylegan is not None:
            if path_b is not None:
                raise ModelFileError(f"{src}: a second file is only for official .pth CycleGAN pairs", path=src)
            tensors, card, lines = stylegan
            report += lines
        else:
            try:
                sd_a = read_checkpoint(src)
                det_a, sd_a = detect_generator(sd_a, path=src)
            except ModelFileError as exc:
                # not a pix2pix/CycleGAN generator: one of the community architectures spandrel
                # knows (upscalers, face restorers, denoisers, LaMa), listed by its purpose
                if path_b is not None:
                    raise
                tensors, card, lines = _import_community(src, name, tool, exc)
                report += lines
                entry = self.add(tensors, card, name)
                report.append(f"stored as {entry.ref} for the {entry.tool!r} tool: {entry.path}")
                return ModelEntry(**{**entry.__dict__, "report": "\n".join(report)})
            report.append(f"{src.name}: {det_a.describe()}")
            networks = {"forward": sd_a}
            if path_b is not None:
                src_b = Path(path_b)
                det_b, sd_b = detect_generator(read_checkpoint(src_b), path=src_b)
                report.append(f"{src_b.name}: {det_b.describe()}")
                if (det_b.architecture, det_b.config) != (det_a.architecture, det_a.config):
                    raise ModelFileError(
                        f"{src_b}: the reverse generator's architecture differs from {src.name}'s "
                        f"({det_b.official_name} {det_b.config} vs {det_a.official_name} {det_a.config})",
                        path=src_b,
                    )
                networks["reverse"] = sd_b
            tensors = pack_components(networks)
            files = [src] + ([Path(path_b)] if path_b is not None else [])
            card = ModelCard(
                architecture=det_a.architecture,
                config=det_a.config,
                tool=tool or TRANSLATE_TOOL,
                components=tuple(networks),
                title=name,
                source="imported from " + " + ".join(f.name for f in files),
                source_files=tuple({"file": f.name, "sha256": file_sha256(f)} for f in files),
                extra={"official_name": det_a.official_name},
            )
        entry = self.add(tensors, card, name)
        report.append(f"stored as {entry.ref} for the {entry.tool!r} tool: {entry.path}")
        return ModelEntry(**{**entry.__dict__, "report": "\n".join(report)})

    def _import_nvlabs(self, src: Path, path_b: str | os.PathLike[str] | None, name: str,
                       tool: str | None) -> ModelEntry:
        """An NVIDIA snapshot pickle's G_ema, stored as a StyleGAN2 or StyleGAN3 model, with its
        GANSpace and SeFa slider directions beside it."""
        from ganpaint.engine.models.nvlabs_convert import import_pickle

        if path_b is not None:
            raise ModelFileError(f"{src}: a second file is only for official .pth CycleGAN pairs", path=src)
        tensors, card, report = import_pickle(src, name=name, tool=tool)
        entry = self.add(tensors, card, name)
        report.append(f"stored as {entry.ref} for the {entry.tool!r} tool: {entry.path}")
        if card.architecture in ("stylegan2", "stylegan3"):
            from ganpaint.engine.models.directions import DirectionsError, compute_for_model

            try:
                done = compute_for_model(entry, root=self.root, labels="none")
                report.append(f"  slider directions: {done.summary()}")
            except (DirectionsError, ModelFileError, OSError) as exc:
                report.append(f"  no slider directions ({exc}); later: ganpaint directions compute --model {name}")
        return ModelEntry(**{**entry.__dict__, "report": "\n".join(report)})

    def add(self, state_dict: Mapping[str, torch.Tensor], card: ModelCard, name: str) -> ModelEntry:
        """Store ``state_dict`` (flat; components prefixed, see pack_components) with ``card``
        as the next version of ``name``. Checks the tensors fit the card's architecture when
        that architecture is known. Fills in name, version, sha256 and created."""
        from ganpaint.engine.models.checkpoints import check_keys, weights_sha256
        from ganpaint.engine.models.loading import architectures, build_model, component_state_dict

        self._check_name(name)
        if not state_dict:
            raise ModelFileError(f"model {name!r}: no tensors to store")
        if card.components and not any(k.split(".", 1)[0] in card.components for k in state_dict):
            raise ModelFileError(
                f"model {name!r}: the card lists components {', '.join(card.components)} but no tensor "
                "name has such a prefix: store pack_components({'forward': state_dict}) or use a card "
                "with components=()"
            )
        tensors = {k: v.detach().to("cpu").contiguous().clone() for k, v in state_dict.items()}
        if card.architecture in architectures():
            model = build_model(card.architecture, card.config, device="meta")
            for comp in card.components or (None,):
                check_keys(model, component_state_dict(tensors, card, comp), path=None)
            if card.components:
                stray = [k for k in tensors if k.split(".", 1)[0] not in card.components]
                if stray:
                    raise ModelFileError(f"model {name!r}: tensors outside the card's components: {', '.join(stray[:4])}")
        latest = self._latest_user(name)
        version = (max(e.version for e in self._user_entries(latest_only=False) if e.name == name) + 1) if latest else 1
        card = card.replace(
            name=name,
            version=version,
            sha256=weights_sha256(tensors),
            created=card.created or utc_now(),
        )
        self.root.mkdir(parents=True, exist_ok=True)
        target = self.root / f"{name}{SUFFIX}"
        try:
            if latest is not None:
                # keep the current latest as versions/<name>@<v> before replacing it
                self._archive(latest)
            _write_safetensors(tensors, card, target)
            atomic_write_text(_card_path(target), card.to_json() + "\n")
        except OSError as exc:
            raise ModelFileError(f"{target}: cannot store the model ({describe_os_error(exc)})", path=target) from None
        return ModelEntry(name, card.tool, version, target, card)

    def remove(self, name: str) -> builtins.list[ModelEntry]:
        """Remove a model (every version), or one version with ``"name@v"``. Returns what went.
        Read-only defaults cannot be removed."""
        base, v = parse_ref(name)
        entries = [e for e in self._user_entries(latest_only=False) if e.name == base]
        if not entries:
            if any(e.name == base for e in self._default_entries()):
                raise ModelFileError(f"model {base!r} is a read-only default shipped with a plugin; it cannot be removed")
            raise UnknownModelError(f"no model named {base!r} in the store")
        if v is not None:
            entries = [e for e in entries if e.version == v]
            if not entries:
                raise UnknownModelError(f"model {base!r} has no version {v}")
        try:
            latest = self._latest_user(base)
            for e in entries:
                _unlink_model(e.path)
            if v is not None and latest is not None and latest.version == v:
                self._promote_newest_archived(base)
        except OSError as exc:
            raise ModelFileError(f"cannot remove {name!r}: {describe_os_error(exc)}") from None
        return entries

    # ------------------------------------------------------------------------------- internals
    @staticmethod
    def _check_name(name: str) -> None:
        if not _NAME_RE.match(name or ""):
            raise ModelFileError(
                f"model name {name!r}: use lower-case letters, digits, '-' and '_', starting with a letter"
            )

    def _versions_dir(self) -> Path:
        return self.root / "versions"

    def _clean_temps(self) -> None:
        """Remove what interrupted writes left in the store's folders (never raises). The
        engine's encoders/ and directions/ folders used the ``.<name>.<pid>.tmp`` naming too."""
        for folder in (self.root, self._versions_dir(), self.root / "encoders", self.root / "directions"):
            clean_stale_temps(folder, legacy=True)

    def _user_files(self) -> builtins.list[Path]:
        files: builtins.list[Path] = []
        if self.root.is_dir():
            files += sorted(p for p in self.root.glob(f"*{SUFFIX}") if not p.name.startswith("."))
        vd = self._versions_dir()
        if vd.is_dir():
            files += sorted(p for p in vd.glob(f"*{SUFFIX}") if not p.name.startswith("."))
        return files

    def _user_entries(self, *, latest_only: bool) -> builtins.list[ModelEntry]:
        out: builtins.list[ModelEntry] = []
        for path in self._user_files():
            archived = path.parent == self._versions_dir()
            if archived and latest_only:
                continue
            stem = path.name[: -len(SUFFIX)]
            if archived:
                m = _VERSIONED_RE.match(stem)
                if not m:
                    continue
                name, version = m.group("name"), int(m.group("v"))
            elif _NAME_RE.match(stem):
                name, version = stem, 0
            else:
                continue
            try:
                card = card_of_file(path)
            except ModelFileError:
                continue  # listed by problems(); never fatal for the rest of the store
            out.append(ModelEntry(name, card.tool, version or card.version, path, card))
        return out

    def _latest_user(self, name: str) -> ModelEntry | None:
        found: ModelEntry | None = None
        for e in self._user_entries(latest_only=True):
            if e.name == name:
                found = e
        return found

    def _default_specs(self) -> builtins.list[tuple[str, str | None, Path]]:
        specs: builtins.list[tuple[str, str | None, Path]] = [(s.name, s.tool, Path(s.path)) for s in self.defaults]
        if self.include_resources:
            from ganpaint.core.paths import resources_dir

            res = resources_dir() / "models"
            if res.is_dir():
                specs += [(p.name[: -len(SUFFIX)], None, p) for p in sorted(res.glob(f"*{SUFFIX}"))]
        return specs

    def _default_entries(self) -> builtins.list[ModelEntry]:
        out: builtins.list[ModelEntry] = []
        seen: set[tuple[str, str]] = set()
        for name, tool, path in self._default_specs():
            try:
                card = card_of_file(path)
            except ModelFileError:
                continue
            if (name, tool or card.tool) in seen:
                continue
            seen.add((name, tool or card.tool))
            out.append(ModelEntry(name, tool or card.tool, card.version, path, card, readonly=True))
        return out

    def _archive(self, entry: ModelEntry) -> None:
        vd = self._versions_dir()
        vd.mkdir(parents=True, exist_ok=True)
        dest = vd / f"{entry.name}@{entry.version}{SUFFIX}"
        if dest.exists():
            return
        tmp = vd / f".{dest.name}.{os.getpid()}.tmp"  # cleaned by _clean_temps if we are killed
        # a hard link is instant and atomic; copy where the file system cannot link
        try:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
            try:
                os.link(entry.path, tmp)
            except OSError:
                shutil.copyfile(entry.path, tmp)
            os.replace(tmp, dest)
        finally:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
        atomic_write_text(_card_path(dest), entry.card.to_json() + "\n")

    def _promote_newest_archived(self, name: str) -> None:
        older = [e for e in self._user_entries(latest_only=False) if e.name == name and e.path.parent == self._versions_dir()]
        if not older:
            return
        newest = max(older, key=lambda e: e.version)
        target = self.root / f"{name}{SUFFIX}"
        os.replace(newest.path, target)
        side = _card_path(newest.path)
        if side.exists():
            os.replace(side, _card_path(target))


def _import_community(
    src: Path, name: str, tool: str | None, first: ModelFileError
) -> tuple[dict[str, Any], ModelCard, builtins.list[str]]:
    """spandrel's import of a file the generator import refused; its error when it refuses
    too, unless that only says "unknown architecture" where the first error said more."""
    from ganpaint.engine.models import spandrel_models

    try:
        return spandrel_models.import_file(src, name=name, tool=tool)
    except ModelFileError as exc:
        if exc.reason == "unknown architecture" and "unknown architecture" not in str(first):
            raise first from None
        raise exc from None


def _card_path(weights: Path) -> Path:
    return weights.with_name(weights.name + CARD_SUFFIX)


def _unlink_model(path: Path) -> None:
    path.unlink()
    with contextlib.suppress(FileNotFoundError):
        _card_path(path).unlink()


def _write_safetensors(tensors: Mapping[str, Any], card: ModelCard, target: Path) -> None:
    from safetensors.torch import save_file

    from ganpaint.engine.models.cards import METADATA_KEY

    with atomic_path(target) as tmp:
        save_file(dict(tensors), str(tmp), metadata={METADATA_KEY: card.to_json(indent=None)})


def resolve_model_path(name: str, tool: str, defaults: Iterable[ModelSpec] = ()) -> str:
    """``RunContext.model_path`` backed by the user's store (``ModelStore(defaults=...).path_for``).

    Hosts that have the plugin manager should pass its ``models()`` as ``defaults`` (or build
    one ModelStore and use its ``path_for``) so the models plugins ship resolve too.
    """
    return ModelStore(defaults=defaults).path_for(name, tool)
