"""Read a kernel's Triton IR into a small Python tree.

Two ways exist to look inside a Triton IR module from Python: the ``ir``
bindings (``module.walk``, ``op.get_operand``...) and the text that
``str(module)`` prints.  This module reads the **text**, because:

* triton 3.6's operation binding has no ``get_int_attr`` and no
  ``get_constant_value``, so the bindings alone cannot read a ``cmpi``
  predicate, a reduction axis or a constant there; the text holds them all,
  on every release;
* the text is what Triton's cache keeps (``.ttir``, and this package's
  ``.hostbin`` for a kernel the interpreter runs), so a kernel can be read without re-running the front end;
* the bindings give no iterator over a block's operations (only a post-order
  ``walk``), so rebuilding the nesting from them is no simpler than parsing.

The bindings are still used for one thing: :func:`optimize` runs Triton's own
TTIR passes (inliner, canonicaliser, combine, CSE...) on the text, exactly as a
GPU backend's ``make_ttir`` stage does, and prints the module back without
locations.  Those passes and ``parse_mlir_module`` exist on 3.6, 3.8 and 3.9.

The text is MLIR's custom assembly, one format per op.  What makes it
parseable with little per-op knowledge: every op starts its own line; a
region opens with a line ending in ``{`` and closes with a line starting with
``}``; strings, attribute dictionaries and types can be cut out first.  The
per-op knowledge left is where the *result type* is printed
(``_result_types``): most ops print it, but ``cmpi``/``cmpf`` (i1 of the
operand's shape), ``tt.load`` (the pointee) and ``select`` (the last type) do
not.
"""

from __future__ import annotations

import dataclasses
import os
import re
import struct
import tempfile

from ...compat import triton_versions


class Unsupported(Exception):
    """The kernel uses something this compiler does not lower; the caller falls back to the interpreter."""

    def __init__(self, what: str):
        super().__init__(what)
        self.what = what


# --- types --------------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Type:
    """``elem`` is ``i1..i64``, ``f16``, ``bf16``, ``f32``, ``f64`` or ``ptr``; ``shape`` is () for a scalar."""

    elem: str
    shape: tuple = ()
    pointee: "Type | None" = None  # for elem == "ptr": the scalar type pointed to

    @property
    def numel(self) -> int:
        n = 1
        for d in self.shape:
            n *= d
        return n

    def scalar(self) -> "Type":
        return Type(self.elem, (), self.pointee)

    def with_shape(self, shape) -> "Type":
        return Type(self.elem, tuple(shape), self.pointee)


_SCALARS = {"i1", "i8", "i16", "i32", "i64", "f16", "bf16", "f32", "f64"}
#: The width in bits of each scalar element type.
BITS = {"i1": 1, "i8": 8, "i16": 16, "i32": 32, "i64": 64, "f16": 16, "bf16": 16, "f32": 32, "f64": 64}


def parse_type(text: str) -> Type:
    text = text.strip()
    if text.startswith("tensor<"):
        inner = text[len("tensor<"):-1]
        dims = []
        # dims are ``NxMx`` before the element type; the element may itself contain ``x`` (``!tt.ptr<...>``)
        while (m := re.match(r"(\d+)x", inner)):
            dims.append(int(m.group(1)))
            inner = inner[m.end():]
        return parse_type(inner).with_shape(dims)
    if text.startswith("!tt.ptr<"):
        inner = text[len("!tt.ptr<"):-1].split(",")[0]  # ``!tt.ptr<f32, 1>``: address space
        pointee = parse_type(inner)
        if pointee.elem == "ptr":
            raise Unsupported("pointer to pointer")
        return Type("ptr", (), pointee)
    if text in _SCALARS:
        return Type(text)
    raise Unsupported(f"type {text}")


def split_top(text: str, sep: str = ",", keep_empty: bool = False) -> list[str]:
    """Split at ``sep`` outside any brackets (``<>``, ``()``, ``[]``, ``{}``); ``->`` is not a bracket."""
    parts, depth, cur, i = [], 0, [], 0
    while i < len(text):
        c = text[i]
        if c in "<([{" :
            depth += 1
        elif c in ">)]}" and not (c == ">" and i > 0 and text[i - 1] == "-"):
            depth -= 1
        if depth == 0 and text.startswith(sep, i):
            parts.append("".join(cur))
            cur, i = [], i + len(sep)
            continue
        cur.append(c)
        i += 1
    parts.append("".join(cur))
    return [p.strip() for p in parts if keep_empty or p.strip()]


def parse_types(text: str) -> list[Type]:
    text = text.strip()
    if text.startswith("(") and text.endswith(")"):
        text = text[1:-1]
    return [parse_type(t) for t in split_top(text)]


# --- the tree -----------------------------------------------------------------------------------

@dataclasses.dataclass(eq=False)
class Value:
    name: str
    type: Type


@dataclasses.dataclass(eq=False)
class Block:
    args: list
    ops: list


@dataclasses.dataclass(eq=False)
class Op:
    name: str
    operands: list          # Values
    results: list           # Values
    attrs: dict             # name -> int | float | bool | str
    words: list             # bare keywords before the operands (``slt``, ``fadd, acq_rel``, ``x``)
    regions: list           # Blocks (one block per region; more is Unsupported)
    strings: list           # string literals in the header (``tt.assert``'s message)
    text: str               # the header as printed, for error messages and constants
    extra: dict = dataclasses.field(default_factory=dict)  # op-specific parse results


@dataclasses.dataclass(eq=False)
class Func:
    name: str
    args: list
    body: Block


# --- optimisation with Triton's own passes ------------------------------------------------------

def optimize(text: str) -> str:
    """Run the TTIR passes a GPU backend's ``make_ttir`` runs; return the module printed without locations."""
    from triton._C.libtriton import ir, passes

    ctx = ir.context()
    ir.load_dialects(ctx)
    fd, path = tempfile.mkstemp(suffix=".ttir")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        mod = ir.parse_mlir_module(path, ctx)
    finally:
        os.unlink(path)
    mod.context = ctx
    pm = ir.pass_manager(ctx)
    passes.common.add_inliner(pm)
    if hasattr(passes.ttir, "add_rewrite_tensor_descriptor_to_pointer"):  # not in every release: see compat
        passes.ttir.add_rewrite_tensor_descriptor_to_pointer(pm)
    passes.common.add_canonicalizer(pm)
    passes.ttir.add_combine(pm)
    passes.ttir.add_reorder_broadcast(pm)
    passes.common.add_cse(pm)
    passes.common.add_symbol_dce(pm)
    passes.ttir.add_loop_unroll(pm)
    triton_versions.run_pass_manager(pm, mod, "make_ttir")
    return strip_locations(triton_versions.module_text_without_locations(mod))


def strip_locations(text: str) -> str:
    """Drop ``#loc`` lines and ``loc(...)`` suffixes (printed by ``str(module)`` on every op)."""
    text = re.sub(r"^#loc.*$\n?", "", text, flags=re.M)
    # loc(...) may nest parentheses: remove innermost first, repeatedly
    prev = None
    while prev != text:
        prev = text
        text = re.sub(r"\s*loc\((?:[^()\"]|\"[^\"]*\")*\)", "", text)
    return text


# --- parsing ------------------------------------------------------------------------------------

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')


def cut_strings(text: str):
    strings = []

    def keep(m):
        strings.append(bytes(m.group(0)[1:-1], "utf-8").decode("unicode_escape"))
        return f"$S{len(strings) - 1}"
    return _STRING.sub(keep, text), strings


def cut_attr_dicts(text: str):
    """Remove ``<{...}>`` and ``{...}`` attribute dictionaries; return (text, attrs)."""
    attrs: dict = {}
    while True:
        start = text.find("{")
        if start < 0:
            return text, attrs
        depth, end = 0, start
        for end in range(start, len(text)):
            depth += {"{": 1, "}": -1}.get(text[end], 0)
            if depth == 0:
                break
        body = text[start + 1:end]
        lo, hi = (start - 1, end + 2) if text[start - 1:start] == "<" and text[end + 1:end + 2] == ">" else (start, end + 1)
        text = text[:lo] + " " + text[hi:]
        for item in split_top(body):
            key, _, val = item.partition("=")
            attrs[key.strip()] = parse_attr_value(val.strip()) if val else True


def parse_attr_value(val: str):
    val = re.sub(r"\s*:\s*[a-z0-9]+$", "", val)  # ``0 : i32``
    if val in ("true", "false"):
        return val == "true"
    try:
        return int(val, 0)
    except ValueError:
        pass
    try:
        return float(val)
    except ValueError:
        return val


def parse_float_literal(lit: str, elem: str) -> float:
    """MLIR prints a float in decimal when that round-trips, else as its bit pattern in hex."""
    if lit.startswith("0x") or lit.startswith("-0x"):
        bits = int(lit, 16)
        if elem == "f64":
            return struct.unpack("<d", struct.pack("<Q", bits))[0]
        if elem == "f32":
            return struct.unpack("<f", struct.pack("<I", bits))[0]
        if elem == "bf16":
            return struct.unpack("<f", struct.pack("<I", bits << 16))[0]
        if elem == "f16":
            return struct.unpack("<e", struct.pack("<H", bits))[0]
    return float(lit)
