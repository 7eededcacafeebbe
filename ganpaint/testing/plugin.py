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
