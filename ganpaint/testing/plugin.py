"""The pytest plugin (entry point ``pytest11: ganpaint``): makes the fixtures of
``ganpaint.testing.fixtures`` available to every test suite in an environment
where GANPaint is installed. Kept import-light: no torch, no Qt."""

from ganpaint.testing.fixtures import (
    isolated_data_dir,
    plugin_host,
    register_plugin,
    tiny_document,
    tiny_model,
)

__all__ = ["isolated_data_dir", "plugin_host", "register_plugin", "tiny_document", "tiny_model"]


def pytest_configure(config: object) -> None:
    """Set torch's OpenMP environment (passive waiting) before any test imports torch,
    as the app does at start-up: a busy second core must not stall the tests."""
    from ganpaint.engine.inference.devices import prepare_torch_env

    prepare_torch_env()
