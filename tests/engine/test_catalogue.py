"""The shipped model catalogue: schema, hygiene, and the official models it must cover."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from ganpaint.engine.models.catalogue import (
    TOOLS,
    CatalogueError,
    builtin_path,
    load_catalogue,
    parse_catalogue,
    validate,
)

#: the names in junyanz/pytorch-CycleGAN-and-pix2pix scripts/download_cyclegan_model.sh
CYCLEGAN_NAMES = (
    "apple2orange orange2apple summer2winter_yosemite winter2summer_yosemite horse2zebra zebra2horse monet2photo "
    "style_monet style_cezanne style_ukiyoe style_vangogh sat2map map2sat cityscapes_photo2label "
    "cityscapes_label2photo facades_photo2label facades_label2photo iphone2dslr_flower"
).split()
#: ... and in scripts/download_pix2pix_model.sh
PIX2PIX_NAMES = ("edges2shoes", "sat2map", "map2sat", "facades_label2photo", "day2night")
#: NVlabs/stylegan2-ada-pytorch README, pretrained/ (cifar10 is class-conditional and left out)
ADA_FILES = ("ffhq.pkl", "metfaces.pkl", "afhqcat.pkl", "afhqdog.pkl", "afhqwild.pkl", "brecahad.pkl")
#: NVlabs/stylegan3 README, StyleGAN3 models
SG3_FILES = tuple(
    f"stylegan3-{c}-{m}.pkl" for c in "tr"
    for m in ("ffhq-1024x1024", "ffhqu-1024x1024", "ffhqu-256x256", "metfaces-1024x1024", "metfacesu-1024x1024",
              "afhqv2-512x512")
)
AUTHORS_HTTP_HOSTS = {"efrosgans.eecs.berkeley.edu"}  # the CycleGAN/pix2pix authors serve only http


@pytest.fixture(scope="module")
def raw() -> dict:
    return json.loads(builtin_path().read_text(encoding="utf-8"))


def test_the_shipped_catalogue_is_valid_and_packaged(raw):
    assert validate(raw) == []
    cat = load_catalogue(builtin_path())
    assert len(cat.entries) == len(raw["models"]) >= 50
    pyproject = (Path(__file__).resolve().parents[2] / "pyproject.toml").read_text(encoding="utf-8")
    assert '"*" = ["*.json"' in pyproject  # package data: the catalogue ships in the wheel


def test_every_entry_has_source_licence_tools_and_unique_id(raw):
    ids = [m["id"] for m in raw["models"]]
    assert len(ids) == len(set(ids))
    for m in raw["models"]:
        for key in ("id", "title", "tools", "licence", "non_commercial", "training_data", "description", "source"):
            assert m.get(key) not in (None, "", []), (m["id"], key)
        assert set(m["tools"]) <= set(TOOLS), m["id"]
        assert isinstance(m["non_commercial"], bool)


def test_every_url_is_https_or_the_authors_own_http_host(raw):
    for m in raw["models"]:
        for f in m["files"]:
            parts = urlsplit(f["url"])
            if parts.scheme == "http":
                assert parts.hostname in AUTHORS_HTTP_HOSTS and f["plain_http"] is True, f["url"]
            else:
                assert parts.scheme == "https", f["url"]
                assert not f.get("plain_http"), f["url"]


def test_hashes_are_published_ones_or_said_to_be_missing(raw):
    for m in raw["models"]:
        for f in m["files"]:
            if f.get("sha256") or f.get("md5"):
                assert f["hash_source"], f["name"]
            else:
                assert f["hash_note"].startswith("no published hash"), f["name"]
            if f.get("size") is None:
                assert f["size_note"], f["name"]


def test_all_official_cyclegan_and_pix2pix_generators_are_listed(raw):
    urls = {f["url"] for m in raw["models"] for f in m["files"]}
    for name in CYCLEGAN_NAMES:
        assert f"http://efrosgans.eecs.berkeley.edu/cyclegan/pretrained_models/{name}.pth" in urls, name
    for name in PIX2PIX_NAMES:
        assert f"http://efrosgans.eecs.berkeley.edu/pix2pix/models-pytorch/{name}.pth" in urls, name
    cat = load_catalogue(builtin_path())
    season = cat.get("cyclegan-summer2winter-yosemite")
    assert season.tools[0] == "season" and [f.role for f in season.files] == ["forward", "reverse"]
    assert [f.name for f in season.files] == ["summer2winter_yosemite.pth", "winter2summer_yosemite.pth"]
    assert "sketch" in cat.get("pix2pix-edges2shoes").tools


def test_stylegan_pickles_are_listed_as_non_commercial(raw):
    by_name = {f["name"]: m for m in raw["models"] for f in m["files"]}
    for name in ADA_FILES:
        m = by_name[name]
        assert m["files"][0]["url"] == f"https://nvlabs-fi-cdn.nvidia.com/stylegan2-ada-pytorch/pretrained/{name}"
    for name in SG3_FILES:
        m = by_name[name]
        assert m["files"][0]["url"].startswith("https://api.ngc.nvidia.com/v2/models/nvidia/research/stylegan3/")
    for m in raw["models"]:
        if m["files"][0]["name"].endswith(".pkl"):
            assert m["non_commercial"] is True and "NVIDIA" in m["licence"], m["id"]
            assert "stylemix" in m["tools"]
    assert "faces" in by_name["ffhq.pkl"]["tools"] and "faces" not in by_name["afhqcat.pkl"]["tools"]


def test_restoration_inpainting_and_upscaling_models(raw):
    cat = load_catalogue(builtin_path())
    x4 = cat.get("realesrgan-x4plus-pytorch")
    assert x4.tools == ("upscale",) and x4.files[0].size == 67040989
    assert x4.files[0].sha256 == "4fa0d38905f75ac06eb49a7951b426670021be3018265fd191d2125df9d682f1"
    for eid in ("realesrgan-x4plus-anime-6b-pytorch", "realesr-animevideov3-pytorch", "realesrgan-x2plus-pytorch"):
        assert cat.get(eid).files[0].sha256
    assert cat.get("gfpgan-v1-4").files[0].md5 == "94d735072630ab734561130a47bc44f8"
    assert not cat.get("gfpgan-v1-3").files[0].has_hash
    assert cat.get("restoreformer").tools == ("restore_faces",)
    lama = cat.get("lama-big")
    assert lama.tools == ("inpaint",) and lama.files[0].extract == "big-lama/models/best.ckpt"


def _one(**over):
    m = {"id": "a", "title": "A", "tools": ["translate"], "licence": "MIT", "non_commercial": False,
         "training_data": "x", "description": "y", "source": "z",
         "files": [{"name": "a.pth", "url": "https://example.org/a.pth", "size": 3, "hash_note": "no published hash"}]}
    m.update(over)
    return m


@pytest.mark.parametrize(
    ("change", "says"),
    [
        (lambda d: d["models"].append(copy.deepcopy(d["models"][0])), "duplicate id"),
        (lambda d: d["models"][0].update(tools=["paint"]), "unknown tool"),
        (lambda d: d["models"][0].pop("source"), "missing 'source'"),
        (lambda d: d["models"][0].pop("licence"), "missing 'licence'"),
        (lambda d: d["models"][0]["files"][0].update(url="http://example.org/a.pth"), "plain http"),
        (lambda d: d["models"][0]["files"][0].update(url="ftp://example.org/a.pth"), "not an https"),
        (lambda d: d["models"][0]["files"][0].update(sha256="abc"), "64 lower-case hex"),
        (lambda d: d["models"][0]["files"][0].update(sha256="a" * 64), "hash_source"),
        (lambda d: d["models"][0]["files"][0].pop("hash_note"), "hash_note"),
        (lambda d: d["models"][0]["files"][0].update(size=None), "size_note"),
        (lambda d: d["models"][0].update(id="Bad Id"), "id must be"),
        (lambda d: d.update(format=2), "format"),
    ],
)
def test_validate_names_each_problem(change, says):
    data = {"format": 1, "models": [_one()]}
    assert validate(data) == []
    change(data)
    problems = validate(data)
    assert any(says in p for p in problems), problems
    with pytest.raises(CatalogueError):
        parse_catalogue(data, "test.json")


def test_plain_http_is_fine_on_loopback_and_where_marked():
    ok = {"format": 1, "models": [_one(files=[{"name": "a.pth", "url": "http://127.0.0.1:9/a.pth", "size": 3,
                                               "hash_note": "n"}]),
                                  _one(id="b", files=[{"name": "b.pth", "url": "http://example.org/b.pth", "size": 3,
                                                       "plain_http": True, "hash_note": "n"}])]}
    assert validate(ok) == []


def test_ganpaint_catalogue_replaces_the_builtin_one(tmp_path, monkeypatch):
    path = tmp_path / "studio.json"
    path.write_text(json.dumps({"format": 1, "models": [_one(id="studio-model")]}), encoding="utf-8")
    monkeypatch.setenv("GANPAINT_CATALOGUE", str(path))
    assert [e.id for e in load_catalogue().entries] == ["studio-model"]
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(CatalogueError) as err:
        load_catalogue()
    assert str(path) in str(err.value)
