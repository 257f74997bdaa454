"""The package's layout rules hold for every module: who may import whom, no circle, and how long a module may be.

Every module of ``ext_codegen`` belongs to one part: the modules at the top
are named one by one (``ext_codegen`` itself, ``__main__``, ``autoload``,
``names``), and every other module belongs to the folder under
``ext_codegen/`` it lies in (``compat``, ``inductor``, ``triton_backend``,
``device``, ``tools``).  A new top-level module or folder fails
:func:`test_every_module_belongs_to_a_part` until it is given a part here
and a rule in :data:`RULES`.

**What a module imports** is read with :mod:`ast` from every ``import`` and
``from ... import`` statement anywhere in it (inside functions too), and from
every call of ``importlib.import_module`` or ``__import__`` whose name is a
literal (a relative one resolved against its ``package``).  ``from X import
y`` counts as importing ``X.y`` when that is a module, ``X`` otherwise.  A
call whose name is computed (a variable, an f-string) and could name a module
of the package fails: a rule cannot hold for what it cannot read.  Code that
must find another part's code at run time does it through something the other
part registers (the launcher loads the ``ext_codegen.instruments`` entry
points, declared in ``pyproject.toml``, whose modules this test checks exist).

**The rules** are stated where a reader looks for them, in a paragraph that
begins "What it may import:" in each folder's ``__init__`` and in each module
at the top.  The modules of ``ext_codegen``/*x*/ (when no deeper folder has
its own paragraph) may import what the paragraph's first clause, up to its
first ``;``, names with ``ext_codegen.``, and the modules of their own folder;
anything that clause does not name is forbidden.  A folder's paragraph may
only narrow the one above it, and for each part the paragraph names exactly
the parts :data:`RULES` lists here: widening a rule means editing both.

**No import circle**: in the graph of module -> imported module of the package
(every statement counts, also a lazy import inside a function), no path
leads back to where it started.  A package's ``__init__`` is not counted as
imported by its own modules, although Python runs it first: a package's
``__init__`` stays free of imports from its own modules' dependents so that
this holds (most import nothing).

**What one module takes from another is public there**: no
``from .x import _name`` and no ``x._name`` across modules of the package.

**Size**: a module has at most :data:`MAX_CODE_LINES` lines of code, counting
neither docstrings, comments nor blank lines, so that prose is never squeezed
to fit.  300: the largest module, ``triton_backend/fastpath/memory.py`` (loads
and stores as views or gathers, one idea), has about 240 lines of code; the
package's modules are two-thirds code, so the 400 physical lines the cap used
to count were about 270 lines of code, and a module past 300 has room for a
second idea that should have a file of its own.
"""

from __future__ import annotations

import ast
import io
import pathlib
import re
import tokenize

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
ROOT = REPO / "ext_codegen"
PACKAGE = "ext_codegen"

#: The modules at the top, each its own part.
TOP_MODULES = {PACKAGE: PACKAGE, f"{PACKAGE}.__main__": "__main__", f"{PACKAGE}.autoload": "autoload",
               f"{PACKAGE}.names": "names"}
#: The folders under ``ext_codegen/``, a part each.
PARTS = ("compat", "inductor", "triton_backend", "device", "tools")

#: The parts each part may import besides itself (the ``__init__`` paragraphs say why).
RULES: dict[str, set[str]] = {
    PACKAGE: {"names", "inductor"},  # __version__, and the public names on first use
    "__main__": {PACKAGE, "names", "tools"},
    "autoload": {"names", "device", "inductor"},
    "names": set(),
    "compat": {"names"},
    "device": {"names"},
    "triton_backend": {"compat", "names"},
    "inductor": {"compat", "names", "device", "triton_backend"},  # the plugin's driver and compiler only
    "tools": {PACKAGE, "compat", "names", "inductor", "triton_backend", "device"},
}

MAX_CODE_LINES = 300


def _module_name(path: pathlib.Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


PATHS = {_module_name(p): p for p in sorted(ROOT.rglob("*.py"))}
PACKAGES = {name for name, path in PATHS.items() if path.name == "__init__.py"}
TREES = {name: ast.parse(path.read_text(), str(path)) for name, path in PATHS.items()}


def part_of(module: str) -> str | None:
    if module in TOP_MODULES:
        return TOP_MODULES[module]
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == PACKAGE and parts[1] in PARTS else None


def _known(name: str) -> str | None:
    """The longest prefix of ``name`` that is a module of the package (``ext_codegen.register`` -> ``ext_codegen``)."""
    parts = name.split(".")
    for end in range(len(parts), 0, -1):
        if ".".join(parts[:end]) in PATHS:
            return ".".join(parts[:end])
    return None


def _package(module: str) -> str:
    return module if module in PACKAGES else module.rpartition(".")[0]


def _absolute(name: str, level: int, module: str) -> str:
    if not level:
        return name
    anchor = _package(module).split(".")
    anchor = anchor[: len(anchor) - level + 1]
    return ".".join(anchor + ([name] if name else []))


def _leading_literal(node) -> str | None:
    """The literal start of a module name computed by ``node`` (``"torch._inductor."`` of an f-string), if any."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr) and node.values and isinstance(node.values[0], ast.Constant):
        return node.values[0].value
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _leading_literal(node.left)
    return None


def _is_import_call(node) -> bool:
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None
    return name in ("import_module", "__import__")


def imports(module: str) -> tuple[list[tuple[str, int]], list[tuple[int, str]]]:
    """The package modules ``module`` imports, with their lines, and the imports by a computed name it makes."""
    found, computed = [], []

    def add(name: str, line: int) -> None:
        if name == PACKAGE or name.startswith(PACKAGE + "."):
            found.append((name if name in PATHS else _known(name) or name, line))

    for node in ast.walk(TREES[module]):
        if isinstance(node, ast.Import):
            for alias in node.names:
                add(alias.name, node.lineno)
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(node.module or "", node.level, module)
            for alias in node.names:
                add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in PATHS else base, node.lineno)
        elif isinstance(node, ast.Call) and _is_import_call(node) and node.args:
            arg = node.args[0]
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                package = next((k.value for k in node.keywords if k.arg == "package"), None)
                level = len(arg.value) - len(arg.value.lstrip("."))
                if level and isinstance(package, ast.Name) and package.id in ("__package__", "__name__"):
                    add(_absolute(arg.value[level:], level, module), node.lineno)
                elif level and isinstance(package, ast.Constant):
                    add(".".join(filter(None, [package.value.rsplit(".", level - 1)[0], arg.value[level:]])), node.lineno)
                elif level:
                    computed.append((node.lineno, ast.unparse(node)))
                else:
                    add(arg.value, node.lineno)
                continue
            start = _leading_literal(arg)
            if not start or start.startswith((".", PACKAGE)):
                computed.append((node.lineno, ast.unparse(node)))
    return found, computed


GRAPH = {m: sorted({t for t, _ in imports(m)[0]} - {m}) for m in PATHS}


# ---------------------------------------------------------------------------
# The rules as the docstrings state them
# ---------------------------------------------------------------------------

_CLAUSE = re.compile(r"What it may import:(.*?)(?:;|\n\s*\n|\Z)", re.S)


def stated_rule(module: str) -> set[str] | None:
    """The modules the "What it may import:" paragraph of ``module``'s docstring names, or ``None`` without one."""
    doc = ast.get_docstring(TREES[module]) or ""
    match = _CLAUSE.search(doc)
    if match is None:
        return None
    return {_known(name) or name for name in re.findall(r"\bext_codegen(?:\.\w+)*", match.group(1))}


def scope_of(module: str) -> tuple[str, bool, set[str]]:
    """Whose rule ``module`` follows: ``(where it is stated, whether that is a folder, what it allows)``."""
    own = stated_rule(module)
    if own is not None and (module not in PACKAGES or module == PACKAGE):
        return module, False, own  # a module with its own paragraph; the package's __init__ rules itself only
    name = _package(module)
    while name != PACKAGE:
        rule = stated_rule(name)
        if rule is not None:
            return name, True, rule
        name = name.rpartition(".")[0]
    raise AssertionError(f"{module}: no 'What it may import:' paragraph in it or in a folder above it")


def allowed(target: str, scope: tuple[str, bool, set[str]]) -> bool:
    where, folder, names = scope
    if target == where or folder and target.startswith(where + "."):
        return True
    return any(target == n or n != PACKAGE and n in PACKAGES and target.startswith(n + ".") for n in names)


# ---------------------------------------------------------------------------
# The tests
# ---------------------------------------------------------------------------


def test_every_module_belongs_to_a_part():
    unplaced = [m for m in PATHS if part_of(m) is None]
    assert not unplaced, f"modules in no part (add them to TOP_MODULES or PARTS, and a rule to RULES): {unplaced}"
    assert set(RULES) == set(TOP_MODULES.values()) | set(PARTS)


def test_every_folder_says_what_it_is_and_what_it_may_import():
    for module in sorted(PACKAGES | set(TOP_MODULES)):
        doc = ast.get_docstring(TREES[module]) or ""
        where = PATHS[module].relative_to(REPO)
        assert doc.strip(), f"{where} has no docstring saying what it is"
        assert stated_rule(module) is not None, f"{where} has no paragraph beginning 'What it may import:'"


@pytest.mark.parametrize("module", sorted(set(TOP_MODULES) | {f"{PACKAGE}.{p}" for p in PARTS}))
def test_each_part_states_the_rule_this_test_enforces(module):
    part = part_of(module)
    stated = {part_of(n) for n in stated_rule(module)} - {part}
    assert stated == RULES[part], (
        f"{PATHS[module].relative_to(REPO)} says it may import {sorted(stated)}, this test's RULES say "
        f"{sorted(RULES[part])}: change both, or neither")


@pytest.mark.parametrize("module", sorted(PACKAGES - {PACKAGE} - {f"{PACKAGE}.{p}" for p in PARTS}))
def test_a_folder_only_narrows_the_rule_above_it(module):
    above = scope_of(module.rpartition(".")[0])
    wider = sorted(n for n in stated_rule(module) if not allowed(n, above))
    assert not wider, f"{module} says it may import {wider}, which {above[0]} does not allow"


@pytest.mark.parametrize("module", sorted(PATHS))
def test_module_imports_only_what_its_rule_allows(module):
    part = part_of(module)
    scope = scope_of(module)
    for target, line in imports(module)[0]:
        assert target in PATHS, f"{module}, line {line}: imports {target}, which is no module of the package"
        assert part_of(target) in RULES[part] | {part}, (
            f"{module}, line {line}: imports {target}; the part {part} may import {sorted(RULES[part])}")
        assert allowed(target, scope), (
            f"{module}, line {line}: imports {target}; {scope[0]}'s docstring allows "
            f"{sorted(scope[2])}{' and its own modules' if scope[1] else ''}")


def test_no_import_by_computed_name():
    computed = {m: imports(m)[1] for m in PATHS}
    found = {m: c for m, c in computed.items() if c}
    assert not found, f"imports whose module name cannot be read (register it instead, or use a literal): {found}"


def _cycle() -> list[str] | None:
    """One import circle of :data:`GRAPH` as a path that ends where it starts, or ``None``."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(module: str) -> list[str] | None:
        state[module] = 1
        path.append(module)
        for target in GRAPH.get(module, ()):
            if state.get(target) == 1:
                return path[path.index(target):] + [target]
            if target not in state and (found := visit(target)):
                return found
        path.pop()
        state[module] = 2
        return None

    for module in sorted(GRAPH):
        if module not in state and (found := visit(module)):
            return found
    return None


def test_no_import_circle():
    cycle = _cycle()
    assert cycle is None, "import circle: " + " -> ".join(cycle)


def test_the_circle_finder_finds_circles(monkeypatch):
    monkeypatch.setitem(GRAPH, "a", ["b"])
    monkeypatch.setitem(GRAPH, "b", ["c"])
    monkeypatch.setitem(GRAPH, "c", ["a"])
    assert _cycle() == ["a", "b", "c", "a"]


def _private_uses(module: str) -> list[str]:
    """``from .x import _name`` and ``x._name``, where ``x`` is another module of the package."""
    found, aliases = [], {}
    for node in ast.walk(TREES[module]):
        if isinstance(node, ast.ImportFrom):
            base = _absolute(node.module or "", node.level, module)
            if not base.startswith(PACKAGE):
                continue
            for alias in node.names:
                full = f"{base}.{alias.name}"
                if full in PATHS:
                    aliases[alias.asname or alias.name] = full
                elif alias.name.startswith("_") and not alias.name.startswith("__") and base != module:
                    found.append(f"line {node.lineno}: {full}")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith(PACKAGE) and alias.asname:
                    aliases[alias.asname] = alias.name
    for node in ast.walk(TREES[module]):
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in aliases
                and node.attr.startswith("_") and not node.attr.startswith("__")
                and aliases[node.value.id] != module):
            found.append(f"line {node.lineno}: {aliases[node.value.id]}.{node.attr}")
    return found


def test_what_a_module_takes_from_another_is_public_there():
    found = {m: uses for m in PATHS if (uses := _private_uses(m))}
    assert not found, f"private names used across modules (make them public where they are defined): {found}"


_NOT_CODE = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT,
             tokenize.ENCODING, tokenize.ENDMARKER}


def code_lines(text: str) -> int:
    """Lines with code on them: no blank line, no comment, no line of a module, class or function docstring."""
    docstrings = set()
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
                docstrings.update(range(first.lineno, first.end_lineno + 1))
    lines = set()
    for token in tokenize.generate_tokens(io.StringIO(text).readline):
        if token.type not in _NOT_CODE:
            lines.update(range(token.start[0], token.end[0] + 1))
    return len(lines - docstrings)


def test_code_lines_count_code_only():
    text = '"""Doc.\n\nMore doc.\n"""\n\n# a comment\nx = 1  # counted\n\n\ndef f():\n    """Doc."""\n    return """a\nb"""\n'
    assert code_lines(text) == 4  # x = 1, def f():, and the two lines of the returned string


@pytest.mark.parametrize("module", sorted(PATHS))
def test_module_is_short(module):
    lines = code_lines(PATHS[module].read_text())
    assert lines <= MAX_CODE_LINES, (
        f"{PATHS[module].relative_to(REPO)} has {lines} lines of code (at most {MAX_CODE_LINES}: one idea per file)")


def test_entry_points_name_modules_of_the_package():
    """The entry points ``pyproject.toml`` declares name modules (and their attributes) that exist.

    The launcher finds the debugging tools' environment switches only through
    its group: this is what stands in for the import the plugin does not make.
    """
    tomllib = pytest.importorskip("tomllib")  # Python 3.11
    groups = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["entry-points"]
    launcher = TREES[f"{PACKAGE}.triton_backend.launch"]
    group = next(n.value.value for n in launcher.body if isinstance(n, ast.Assign)
                 and any(getattr(t, "id", None) == "INSTRUMENTS_GROUP" for t in n.targets))
    assert group in groups, f"pyproject.toml declares no {group!r} entry points: the debugging switches would be lost"
    assert all(part_of(v.partition(":")[0]) == "tools" for v in groups[group].values()), groups[group]
    for entries in groups.values():
        for value in entries.values():
            module, _, attribute = value.partition(":")
            assert module in PATHS, f"entry point {value}: no module {module}"
            if attribute:
                defined = {n.name for n in TREES[module].body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
                assert attribute in defined, f"entry point {value}: {module} defines no {attribute}"
