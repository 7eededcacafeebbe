"""ParamSpec.thumbnails / thumbnail_params: checked when the descriptor is built."""

from __future__ import annotations

import pytest

from ganpaint.core.specs import ParamSpec, SpecError, ToolSpec

REF = "somewhere.thumbs:draw"


def test_a_seed_may_name_a_thumbnails_function() -> None:
    p = ParamSpec("seed", "seed", thumbnails=REF, thumbnail_params=["model", "psi"])
    assert p.thumbnails == REF and p.thumbnail_params == ("model", "psi")  # a list becomes a tuple
    plain = ParamSpec("seed", "seed")
    assert plain.thumbnails is None and plain.thumbnail_params is None


@pytest.mark.parametrize("kind", ["int", "float", "string", "model", "file"])
def test_thumbnails_are_only_for_seeds(kind: str) -> None:
    with pytest.raises(SpecError, match="only for seed parameters"):
        ParamSpec("x", kind, thumbnails=REF)


@pytest.mark.parametrize("ref", ["no_colon", "mod:", ":fn", "a b:c", "mod:fn()", 42])
def test_thumbnails_must_be_a_lazy_reference(ref: object) -> None:
    with pytest.raises(SpecError, match="'module:function'"):
        ParamSpec("seed", "seed", thumbnails=ref)  # type: ignore[arg-type]


def test_thumbnail_params_need_thumbnails_and_names() -> None:
    with pytest.raises(SpecError, match="without thumbnails"):
        ParamSpec("seed", "seed", thumbnail_params=("psi",))
    with pytest.raises(SpecError, match="tuple of parameter names"):
        ParamSpec("seed", "seed", thumbnails=REF, thumbnail_params="psi")  # type: ignore[arg-type]
    with pytest.raises(SpecError, match="tuple of parameter names"):
        ParamSpec("seed", "seed", thumbnails=REF, thumbnail_params=("Psi!",))


def test_the_tool_checks_that_thumbnail_params_exist() -> None:
    seed = ParamSpec("seed", "seed", thumbnails=REF, thumbnail_params=("psi", "model"))
    psi = ParamSpec("psi", "float", default=1.0, minimum=0.0, maximum=1.5)
    with pytest.raises(SpecError, match="unknown parameter 'model'"):
        ToolSpec(id="gen", title="Gen", run="m:f", params=(seed, psi))
    ToolSpec(id="gen", title="Gen", run="m:f", params=(seed, psi, ParamSpec("model", "model")))
