"""The built-in training recipes, by id.

``make_recipe("pix2pix", crop=64, batch=4)`` builds a validated recipe; plugins
add recipes through ``ganpaint_register_recipes`` (a RecipeSpec whose factory
returns an object following :class:`~ganpaint.train.recipes.base.Recipe`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields
from typing import Any

from ganpaint.train.recipes.base import Recipe, Trainer
from ganpaint.train.recipes.cyclegan import CycleGANRecipe
from ganpaint.train.recipes.inpaint import InpaintRecipe
from ganpaint.train.recipes.pix2pix import Pix2PixRecipe
from ganpaint.train.recipes.stylegan2 import StyleGAN2Recipe

RECIPES: dict[str, type[Any]] = {"pix2pix": Pix2PixRecipe, "cyclegan": CycleGANRecipe, "inpaint": InpaintRecipe,
                                 "stylegan2": StyleGAN2Recipe}


def make_recipe(recipe_id: str, options: Mapping[str, Any] | None = None, **more: Any) -> Any:
    """A built-in recipe with ``options`` overriding its defaults.

    Raises ``ValueError`` naming the recipe for an unknown id, an unknown option or
    a bad value."""
    cls = RECIPES.get(recipe_id)
    if cls is None:
        raise ValueError(f"unknown recipe {recipe_id!r} (built in: {', '.join(sorted(RECIPES))})")
    opts = {**(options or {}), **more}
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(opts) - known)
    if unknown:
        raise ValueError(f"recipe {recipe_id}: unknown option(s) {', '.join(unknown)} (known: {', '.join(sorted(known))})")
    if "betas" in opts:
        opts["betas"] = tuple(opts["betas"])
    try:
        return cls(**opts)
    except TypeError as exc:
        raise ValueError(f"recipe {recipe_id}: {exc}") from None


__all__ = ["RECIPES", "CycleGANRecipe", "Pix2PixRecipe", "Recipe", "Trainer", "make_recipe"]
