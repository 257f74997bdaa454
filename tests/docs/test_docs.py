"""The documentation covers the package: every public name documented, every page executable."""

from __future__ import annotations

import inspect
import pathlib
import re

import pytest

import ext_codegen

DOCS = pathlib.Path(__file__).resolve().parents[2] / "docs"
PAGES = sorted(DOCS.glob("*.md"))


def test_every_public_name_has_a_docstring_and_an_autodoc_entry():
    api = (DOCS / "api.md").read_text()
    for name in ext_codegen.__all__:
        obj = getattr(ext_codegen, name)
        assert inspect.getdoc(obj), f"ext_codegen.{name} has no docstring"
        assert re.search(rf"\.\. auto\w+:: ext_codegen\.{name}\b", api), f"ext_codegen.{name} missing from docs/api.md"


@pytest.mark.parametrize("name", ["ExtensionWrapperCodegen", "ExtensionScheduling", "CPUDeviceOpOverrides", "DeviceInterface"])
def test_every_method_a_class_defines_has_a_docstring(name):
    cls = getattr(ext_codegen, name)
    for attr, value in vars(cls).items():
        if attr.startswith("_"):
            continue
        func = value.__func__ if isinstance(value, (staticmethod, classmethod)) else value
        if callable(func):
            assert inspect.getdoc(func), f"{name}.{attr} has no docstring"


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_every_page_has_examples_both_runners_execute(page):
    text = page.read_text()
    assert ">>> " in text, f"{page.name} has no >>> example"
    # Sphinx's doctest builder runs only {doctest} blocks; pytest runs every >>> line.
    blocks = re.findall(r"```\{doctest\}\n(.*?)```", text, re.S)
    in_blocks = sum(block.count(">>> ") for block in blocks)
    assert in_blocks == text.count(">>> "), f"{page.name} has >>> lines outside {{doctest}} blocks"
    for block in blocks:
        # a closing fence right under expected output would be read as output by pytest
        assert block.endswith("\n\n"), f"{page.name}: leave a blank line before a closing fence"
