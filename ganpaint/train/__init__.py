"""ganpaint.train: one training loop for every recipe, driven the same way by the
command line, the editor and tests.

    from ganpaint.train import load_data, make_recipe, train
    data = load_data("photos/", "paintings/")
    recipe = make_recipe("cyclegan", crop=128)
    for ev in train(recipe, data, steps=2000, run_dir=run, seed=0):
        print(ev.step, ev.losses)

Importing this package imports torch (it is above ganpaint.nn in the layering).
"""

from ganpaint.train.augment import Augment
from ganpaint.train.checkpoints import CHECKPOINT_NAME, Checkpoint, load_checkpoint, save_checkpoint
from ganpaint.train.datasets import FolderData, load_data, scan_folder
from ganpaint.train.events import TrainError, TrainEvent, TrainResult
from ganpaint.train.loop import RUN_INFO, drive, train
from ganpaint.train.recipes import RECIPES, CycleGANRecipe, Pix2PixRecipe, Recipe, Trainer, make_recipe

__all__ = [
    "CHECKPOINT_NAME",
    "RECIPES",
    "RUN_INFO",
    "Augment",
    "Checkpoint",
    "CycleGANRecipe",
    "FolderData",
    "Pix2PixRecipe",
    "Recipe",
    "TrainError",
    "TrainEvent",
    "TrainResult",
    "Trainer",
    "drive",
    "load_checkpoint",
    "load_data",
    "make_recipe",
    "save_checkpoint",
    "scan_folder",
    "train",
]
