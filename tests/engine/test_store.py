"""The model store: import, versions, pairs, defaults, removal, and nothing damaged on failure."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import torch

from ganpaint.core.specs import ModelSpec, ToolError
from ganpaint.engine.models.cards import METADATA_KEY, ModelCard, ModelFileError, read_safetensors_metadata
from ganpaint.engine.models.checkpoints import file_sha256, weights_sha256
from ganpaint.engine.models.loading import load_model
from ganpaint.engine.models.store import ModelStore, UnknownModelError, default_name, pack_components
from ganpaint.nn import ResnetConfig, ResnetGenerator, UnetConfig, UnetGenerator

SMALL = ResnetConfig(ngf=4, n_blocks=2)


def _resnet_file(path: Path, seed: int = 0, config: ResnetConfig = SMALL) -> Path:
    torch.manual_seed(seed)
    torch.save(ResnetGenerator(config).state_dict(), path)
    return path


def _snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture
def store(tmp_path: Path) -> ModelStore:
    return ModelStore(tmp_path / "models", include_resources=False)


def test_import_writes_safetensors_with_card_inside_and_beside(store: ModelStore, tmp_path: Path) -> None:
    src = _resnet_file(tmp_path / "latest_net_G.pth")
    entry = store.import_files(src, name="h2z")
    assert entry.path == store.root / "h2z.safetensors" and entry.version == 1 and not entry.readonly
    assert entry.tool == "translate"
    meta = read_safetensors_metadata(entry.path)
    inside = json.loads(meta[METADATA_KEY])
    beside = json.loads((store.root / "h2z.safetensors.card.json").read_text())
    assert inside == beside
    card = ModelCard.from_dict(inside)
    assert card.architecture == "resnet_generator" and card.config == {**SMALL.to_dict()}
    assert card.components == ("forward",)
    assert card.source_files[0] == {"file": "latest_net_G.pth", "sha256": file_sha256(src)}
    assert card.created.endswith("Z")
    from safetensors.torch import load_file

    stored = load_file(str(entry.path))
    assert card.sha256 == weights_sha256(stored)
    assert "ResNet generator" in entry.report and "stored as h2z@1" in entry.report


def test_list_get_and_path_for(store: ModelStore, tmp_path: Path) -> None:
    store.import_files(_resnet_file(tmp_path / "a.pth"), name="alpha")
    store.import_files(_resnet_file(tmp_path / "b.pth"), name="beta", tool="other-tool")
    assert [e.name for e in store.list()] == ["alpha", "beta"]
    assert [e.name for e in store.list(tool="translate")] == ["alpha"]
    assert store.get("beta").tool == "other-tool"
    assert store.path_for("alpha", "translate") == str(store.root / "alpha.safetensors")
    with pytest.raises(ToolError, match="for the 'other-tool' tool"):
        store.path_for("beta", "translate")
    with pytest.raises(ToolError, match=r"no model named 'gamma' in the store \(models: alpha\)"):
        store.path_for("gamma", "translate")
    with pytest.raises(ToolError, match="no model chosen"):
        store.path_for("", "translate")


def test_default_names_from_zoo_file_names() -> None:
    assert default_name("checkpoints/horse2zebra_pretrained/latest_net_G.pth") == "horse2zebra"
    assert default_name("summer2winter_yosemite.pth") == "summer2winter_yosemite"
    assert default_name("/x/Style VanGogh.PTH") == "style-vangogh"
    assert default_name("/x/200_net_G_A.pth") == "x"


def test_importing_under_an_existing_name_adds_a_version(store: ModelStore, tmp_path: Path) -> None:
    first = store.import_files(_resnet_file(tmp_path / "a.pth", seed=1), name="m")
    second = store.import_files(_resnet_file(tmp_path / "b.pth", seed=2), name="m")
    assert (first.version, second.version) == (1, 2)
    assert [e.ref for e in store.list()] == ["m@2"]
    assert sorted(e.ref for e in store.list(all_versions=True)) == ["m@1", "m@2"]
    old = store.get("m@1")
    assert old.path == store.root / "versions" / "m@1.safetensors"
    assert old.card.sha256 == first.card.sha256 and store.get("m").card.sha256 == second.card.sha256
    assert (store.root / "versions" / "m@1.safetensors.card.json").is_file()
    third = store.import_files(_resnet_file(tmp_path / "c.pth", seed=3), name="m")
    assert third.version == 3 and store.get("m", version=2).card.sha256 == second.card.sha256


def test_remove_one_version_promotes_the_previous(store: ModelStore, tmp_path: Path) -> None:
    v1 = store.import_files(_resnet_file(tmp_path / "a.pth", seed=1), name="m")
    store.import_files(_resnet_file(tmp_path / "b.pth", seed=2), name="m")
    gone = store.remove("m@2")
    assert [e.ref for e in gone] == ["m@2"]
    latest = store.get("m")
    assert latest.version == 1 and latest.path == store.root / "m.safetensors"
    assert latest.card.sha256 == v1.card.sha256
    store.remove("m")
    assert store.list() == []
    assert not any(store.root.rglob("*.safetensors*"))
    with pytest.raises(UnknownModelError):
        store.remove("m")


def test_cyclegan_pair_is_one_model_with_two_directions(store: ModelStore, tmp_path: Path) -> None:
    a = _resnet_file(tmp_path / "latest_net_G_A.pth", seed=1)
    b = _resnet_file(tmp_path / "latest_net_G_B.pth", seed=2)
    entry = store.import_files(a, b, name="pair")
    assert entry.card.components == ("forward", "reverse")
    assert len(entry.card.source_files) == 2
    fwd = load_model(entry.path, component="forward")
    rev = load_model(entry.path, component="reverse")
    want_a = torch.load(a, weights_only=True)
    want_b = torch.load(b, weights_only=True)
    assert all(torch.equal(fwd.state_dict()[k], want_a[k]) for k in want_a)
    assert all(torch.equal(rev.state_dict()[k], want_b[k]) for k in want_b)


def test_pair_with_different_architectures_is_refused(store: ModelStore, tmp_path: Path) -> None:
    a = _resnet_file(tmp_path / "a.pth")
    b = _resnet_file(tmp_path / "b.pth", config=ResnetConfig(ngf=4, n_blocks=3))
    with pytest.raises(ModelFileError, match="architecture differs"):
        store.import_files(a, b, name="pair")
    assert store.list() == []


@pytest.mark.parametrize("problem", ["truncated", "pickle", "unknown", "missing_key"])
def test_failed_import_damages_nothing(store: ModelStore, tmp_path: Path, problem: str) -> None:
    good = store.import_files(_resnet_file(tmp_path / "good.pth"), name="m")
    before = _snapshot(store.root)
    bad = tmp_path / "bad.pth"
    if problem == "truncated":
        data = _resnet_file(tmp_path / "full.pth").read_bytes()
        bad.write_bytes(data[: len(data) - 100])
    elif problem == "pickle":
        torch.save({"model.1.weight": torch.zeros(1), "cfg": ModelStore}, bad)
    elif problem == "unknown":
        torch.save({"features.0.weight": torch.zeros(3, 3, 3, 3)}, bad)
    else:
        sd = ResnetGenerator(SMALL).state_dict()
        del sd["model.10.conv_block.5.weight"]
        torch.save(sd, bad)
    with pytest.raises(ModelFileError):
        store.import_files(bad, name="m")
    assert _snapshot(store.root) == before
    assert store.get("m").card.sha256 == good.card.sha256


def test_a_write_failure_leaves_the_previous_version_intact(
    store: ModelStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    good = store.import_files(_resnet_file(tmp_path / "a.pth", seed=1), name="m")
    import safetensors.torch

    def full_disk(tensors, filename, metadata=None):
        Path(filename).write_bytes(b"partial")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(safetensors.torch, "save_file", full_disk)
    with pytest.raises(ModelFileError, match="disk full"):
        store.import_files(_resnet_file(tmp_path / "b.pth", seed=2), name="m")
    latest = store.get("m")
    assert latest.version == 1 and latest.card.sha256 == good.card.sha256
    assert load_model(latest.path) is not None
    assert not [p for p in store.root.rglob(".*") if p.is_file()]  # no temporary files left


def test_add_from_training_checks_the_weights(store: ModelStore) -> None:
    g = UnetGenerator(UnetConfig(ngf=2, num_downs=5, norm="instance"))
    card = ModelCard(
        "unet_generator", g.config.to_dict(), "translate", training_command="ganpaint train pix2pix ...",
        metrics={"l1": 0.12}, licence="CC-BY-4.0",
    )
    entry = store.add(pack_components({"forward": g.state_dict()}), card, "trained")
    assert entry.card.metrics == {"l1": 0.12} and entry.card.version == 1
    loaded = load_model(entry.path)
    assert all(torch.equal(loaded.state_dict()[k], v) for k, v in g.state_dict().items())
    bad = pack_components({"forward": {k: v for k, v in g.state_dict().items() if "model.model.0" not in k}})
    with pytest.raises(ModelFileError, match="missing keys"):
        store.add(bad, card, "trained")
    with pytest.raises(ModelFileError, match="pack_components"):
        store.add(g.state_dict(), card, "trained")  # forgot the component prefix
    with pytest.raises(ModelFileError, match="outside the card's components"):
        store.add({**pack_components({"forward": g.state_dict()}), "ema.x": torch.zeros(1)}, card, "trained")
    assert [e.ref for e in store.list()] == ["trained@1"]


def test_add_accepts_unknown_architectures_for_plugins(store: ModelStore) -> None:
    card = ModelCard("someone-elses-net", {"width": 3}, "paint", components=())
    entry = store.add({"w": torch.ones(3)}, card, "custom")
    assert store.get("custom").card.architecture == "someone-elses-net"
    assert entry.tool == "paint"


def test_reimporting_our_own_file_keeps_its_card(store: ModelStore, tmp_path: Path) -> None:
    first = store.import_files(_resnet_file(tmp_path / "a.pth"), name="orig")
    other = ModelStore(tmp_path / "elsewhere", include_resources=False)
    copy = other.import_files(first.path, name="copy", tool="stylise")
    assert copy.card.sha256 == first.card.sha256
    assert copy.card.architecture == first.card.architecture and copy.tool == "stylise"
    assert "GANPaint model file" in copy.report


def test_bad_names_are_refused(store: ModelStore, tmp_path: Path) -> None:
    src = _resnet_file(tmp_path / "a.pth")
    for bad in ("Upper", "1abc", "a b", "../x"):
        with pytest.raises(ModelFileError, match="model name"):
            store.import_files(src, name=bad)
    assert store.list() == []


def test_defaults_are_read_only_and_shadowed_by_user_models(tmp_path: Path) -> None:
    shipped = ModelStore(tmp_path / "plugin", include_resources=False).import_files(
        _resnet_file(tmp_path / "a.pth", seed=1), name="zebra"
    )
    spec = ModelSpec(name="zebra", tool="translate", path=str(shipped.path), plugin="demo")
    store = ModelStore(tmp_path / "user", defaults=[spec], include_resources=False)
    listed = store.list()
    assert [(e.name, e.readonly) for e in listed] == [("zebra", True)]
    assert store.path_for("zebra", "translate") == str(shipped.path)
    with pytest.raises(ModelFileError, match="read-only"):
        store.remove("zebra")
    mine = store.import_files(_resnet_file(tmp_path / "b.pth", seed=2), name="zebra")
    assert [(e.name, e.readonly) for e in store.list()] == [("zebra", False)]
    assert store.path_for("zebra", "translate") == str(mine.path)


def test_broken_files_are_skipped_and_reported(store: ModelStore, tmp_path: Path) -> None:
    store.import_files(_resnet_file(tmp_path / "a.pth"), name="fine")
    (store.root / "junk.safetensors").write_bytes(b"\x00\x01")
    assert [e.name for e in store.list()] == ["fine"]
    assert any("junk.safetensors" in p for p in store.problems())


def test_default_root_follows_ganpaint_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GANPAINT_DATA_DIR", str(tmp_path / "portable"))
    assert ModelStore().root == tmp_path / "portable" / "models"
    assert os.path.isdir(tmp_path / "portable" / "models")


def test_a_bare_safetensors_copy_of_an_official_file_is_detected(store: ModelStore, tmp_path: Path) -> None:
    from safetensors.torch import save_file

    sd = ResnetGenerator(SMALL).state_dict()
    save_file(sd, str(tmp_path / "converted.safetensors"))
    entry = store.import_files(tmp_path / "converted.safetensors")
    assert entry.name == "converted" and entry.card.architecture == "resnet_generator"


def test_a_damaged_card_is_a_clear_error(store: ModelStore, tmp_path: Path) -> None:
    from safetensors.torch import save_file

    path = tmp_path / "odd.safetensors"
    save_file({"w": torch.zeros(1)}, str(path), metadata={METADATA_KEY: "{not json"})
    with pytest.raises(ModelFileError, match="odd.safetensors: bad model card"):
        store.import_files(path)
    assert store.list() == []


def test_listing_the_store_does_not_import_torch(store: ModelStore, tmp_path: Path) -> None:
    import subprocess
    import sys

    store.import_files(_resnet_file(tmp_path / "a.pth"), name="listed")
    code = (
        "import sys\n"
        "from ganpaint.engine.models.store import ModelStore\n"
        f"entries = ModelStore({str(store.root)!r}, include_resources=False).list()\n"
        "print([e.ref for e in entries], 'torch' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "['listed@1'] False"


def test_defaults_of_the_same_name_for_different_tools(tmp_path: Path) -> None:
    src = ModelStore(tmp_path / "plugin", include_resources=False)
    a = src.import_files(_resnet_file(tmp_path / "a.pth", seed=1), name="base")
    b = src.import_files(_resnet_file(tmp_path / "b.pth", seed=2), name="base2", tool="sketch")
    specs = [
        ModelSpec(name="base", tool="translate", path=str(a.path)),
        ModelSpec(name="base", tool="sketch", path=str(b.path)),
    ]
    store = ModelStore(tmp_path / "user", defaults=specs, include_resources=False)
    assert sorted(e.tool for e in store.list()) == ["sketch", "translate"]
    assert store.path_for("base", "translate") == str(a.path)
    assert store.path_for("base", "sketch") == str(b.path)
    with pytest.raises(ToolError, match="for the"):
        store.path_for("base", "inpaint")
