"""The package's layout rules hold for every module: who may import whom, and how long a module may be.

The rules are the ones each folder's ``__init__`` states; this test reads
every import statement (also those inside functions) with :mod:`ast`.
"""

from __future__ import annotations

import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2] / "ext_codegen"
FRONT = {"wrapper", "scheduling", "device_op_overrides", "device_interface", "registration", "compat"}
MAX_LINES = 400


def _module_name(path: pathlib.Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: pathlib.Path) -> set[str]:
    """Absolute names of the ``ext_codegen`` modules ``path`` imports."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return {n for n in found if n == "ext_codegen" or n.startswith("ext_codegen.")}


MODULES = sorted(ROOT.rglob("*.py"))


def _part(module: str) -> str:
    parts = module.split(".")
    if len(parts) == 1:
        return "root"
    if parts[1] in ("triton_backend", "tools", "extdev"):
        return parts[1]
    return "front" if parts[1] in FRONT else parts[1]


def _exists(name: str) -> bool:
    where = ROOT.parent / name.replace(".", "/")
    return where.is_dir() or where.with_suffix(".py").exists()


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_module_respects_its_part(path):
    module = _module_name(path)
    part = _part(module)
    # ``from . import x`` names a module or an attribute: keep the names that are modules
    targets = {n for n in _imports(path) if _exists(n)}
    parts = {_part(t) for t in targets} - {"root"}
    if part == "triton_backend":
        # the plugin serves any Triton kernel: only compat from the front
        assert {t for t in targets if _part(t) == "front"} <= {"ext_codegen.compat"}, targets
        assert not parts & {"tools", "extdev"}, targets
    elif part == "front":
        assert "tools" not in parts, targets
    elif part == "extdev":
        assert parts <= {"extdev"}, targets


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_module_is_short(path):
    lines = len(path.read_text().splitlines())
    assert lines <= MAX_LINES, f"{path.relative_to(ROOT)} has {lines} lines (at most {MAX_LINES}: one idea per file)"


def test_every_folder_says_what_it_is_and_what_it_may_import():
    for init in ROOT.rglob("__init__.py"):
        doc = ast.get_docstring(ast.parse(init.read_text())) or ""
        assert doc, f"{init.relative_to(ROOT)} has no docstring"
        if init.parent != ROOT and init.parent.parent == ROOT:
            assert "import" in doc, f"{init.relative_to(ROOT)} does not say what the part may import"
