"""Meta-tests (datasette's habit): every hook is prefixed, typed, documented,
listed in the generated reference, and exercised by some test."""

from __future__ import annotations

import inspect
import re
from pathlib import Path
from typing import Any

import pytest
from gp_plugin_samples import full_plugin

from ganpaint.plugins import PluginManager, hookspecs
from ganpaint.plugins.docgen import DEFAULT_DOC, hook_signature, parse_docstring, update

HERE = Path(__file__).resolve().parent
SPEC_FUNCTIONS = sorted(
    name for name, obj in vars(hookspecs).items() if inspect.isfunction(obj) and hasattr(obj, "ganpaint_spec")
)


def test_hook_names_list_matches_the_specs() -> None:
    assert sorted(hookspecs.HOOK_NAMES) == SPEC_FUNCTIONS
    assert set(hookspecs.CONTRIBUTION_HOOKS) | set(hookspecs.EVENT_HOOKS) == set(hookspecs.HOOK_NAMES)
    assert all(name.startswith("ganpaint_") for name in SPEC_FUNCTIONS)
    assert all(name.startswith("ganpaint_register_") for name in hookspecs.CONTRIBUTION_HOOKS)


def test_manager_knows_every_hook() -> None:
    pm = PluginManager(discover=False, user_dirs=False).pluggy_manager
    for name in hookspecs.HOOK_NAMES:
        assert getattr(pm.hook, name).spec is not None, name


@pytest.mark.parametrize("name", hookspecs.HOOK_NAMES)
def test_every_hook_is_typed(name: str) -> None:
    sig = inspect.signature(getattr(hookspecs, name))
    assert sig.return_annotation is not inspect.Signature.empty, f"{name} has no return type"
    for param in sig.parameters.values():
        assert param.annotation is not inspect.Parameter.empty, f"{name}({param.name}) has no type"
    if name in hookspecs.CONTRIBUTION_HOOKS:
        assert str(sig.return_annotation).startswith("list["), name
    else:
        assert sig.return_annotation == "None", f"event hook {name} must return None"


@pytest.mark.parametrize("name", hookspecs.HOOK_NAMES)
def test_every_hook_docstring_says_when_args_and_return(name: str) -> None:
    doc = inspect.getdoc(getattr(hookspecs, name)) or ""
    assert re.search(r"\bCalled\b", doc), f"{name}: the docstring must say when it is called"
    assert "\nArgs:\n" in doc and "\nReturns:\n" in doc, f"{name}: needs Args: and Returns: sections"
    description, args, returns = parse_docstring(name)
    assert description and returns, name
    params = list(inspect.signature(getattr(hookspecs, name)).parameters)
    assert sorted(args) == sorted(params), f"{name}: Args documents {sorted(args)}, signature has {params}"
    assert all(text.strip() for text in args.values()), name


def test_every_hook_is_exercised_by_a_test() -> None:
    """Each hook name appears in some other test module here, and the facade calls
    every hook of a plugin that implements them all."""
    texts = [p.read_text() for p in HERE.glob("test_*.py") if p.name != Path(__file__).name]
    for name in hookspecs.HOOK_NAMES:
        assert any(name in text for text in texts), f"no test exercises {name}"
    log: list[tuple[str, Any]] = []
    host = PluginManager(discover=False, user_dirs=False)
    host.register(full_plugin(log), "full")
    host.startup("test")
    host.document_saved("/tmp/x.ora")
    host.shutdown()
    assert sorted(hook for hook, _ in log) == sorted(hookspecs.HOOK_NAMES)  # each exactly once


def test_docs_hook_reference_is_up_to_date() -> None:
    text = DEFAULT_DOC.read_text(encoding="utf-8")
    assert update(text) == text, "docs/plugins.md is stale: run `python -m ganpaint.plugins.docgen`"
    for name in hookspecs.HOOK_NAMES:
        assert hook_signature(name) in text
