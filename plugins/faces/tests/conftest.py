"""A tiny random StyleGAN2 generator stored in a temporary model store."""

from __future__ import annotations

from pathlib import Path

import pytest

from ganpaint.engine.models.store import ModelStore
from ganpaint.testing import RecordingContext
from ganpaint.testing.tiny_stylegan import TINY_STYLEGAN as TINY
from ganpaint.testing.tiny_stylegan import make_tiny_stylegan_store


@pytest.fixture(scope="session")
def tiny_store(tmp_path_factory: pytest.TempPathFactory) -> ModelStore:
    return make_tiny_stylegan_store(tmp_path_factory.mktemp("models"))


@pytest.fixture()
def ctx(tiny_store: ModelStore) -> RecordingContext:
    path = str(tiny_store.get(TINY).path)
    return RecordingContext(models={(TINY, "stylemix"): path, (TINY, "faces"): path})


@pytest.fixture()
def store_root(tiny_store: ModelStore) -> Path:
    return tiny_store.root
