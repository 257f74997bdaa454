"""The line parser: the printed Triton IR of one kernel into the tree of :mod:`.ttir`.

Line-oriented recursive descent: every op starts its own line, a region
opens with a line ending in ``{`` and closes with a line starting with
``}``.  What differs from op to op (region arguments in headers, where the
result type is printed) is asked of :mod:`.ttir_ops`.
"""

from __future__ import annotations

import re

from . import ttir_ops  # per-op header parsing (region arguments, result types)
from .ttir import (Block, Func, Op, Type, Unsupported, Value, cut_attr_dicts, cut_strings, parse_type, split_top,
                   strip_locations)


#: Ops whose regions end in ``scf.yield``, which MLIR's printer leaves out when it yields nothing
#: (``scf.for`` without ``iter_args``, ``scf.if`` without results): an implicit terminator, put back
#: here so that every region of these ops ends in its yield.
_IMPLICIT_YIELD = {"scf.for", "scf.if"}


def _empty_yield() -> Op:
    op = Op("scf.yield", [], [], {}, [], [], [], "scf.yield")
    op.extra["generic"] = False
    return op


class Parser:
    """Line-oriented recursive descent over the printed module."""

    def __init__(self, text: str):
        self.lines = [ln.strip() for ln in strip_locations(text).splitlines() if ln.strip()]
        self.i = 0
        self.values: dict[str, Value] = {}

    def value(self, name: str) -> Value:
        try:
            return self.values[name]
        except KeyError:
            raise Unsupported(f"value {name} used before it is defined (unstructured control flow?)") from None

    def define(self, name: str, ty: Type) -> Value:
        v = self.values[name] = Value(name, ty)
        return v

    def parse_module(self) -> list[Func]:
        funcs = []
        while self.i < len(self.lines):
            line = self.lines[self.i]
            if line.startswith("tt.func"):
                funcs.append(self.parse_func(line))
            else:
                self.i += 1
        return funcs

    def parse_func(self, line: str) -> Func:
        m = re.match(r"tt\.func\s+(?:public|private)?\s*@([\w.$]+)\((.*)\)(.*)\{$", line)
        if not m:
            raise Unsupported(f"function header {line[:80]}")
        header, _ = cut_attr_dicts(m.group(2))
        args = []
        for item in split_top(header):
            name, _, ty = item.partition(":")
            args.append(self.define(name.strip(), parse_type(ty)))
        self.i += 1
        body = self.parse_block([])
        self.i += 1  # the closing ``}``
        return Func(m.group(1), args, body)

    def parse_block(self, args) -> Block:
        """Ops until a line starting with ``}``; a leading ``^bb0(...)`` label defines block arguments."""
        line = self.lines[self.i]
        if line.startswith("^"):
            m = re.match(r"\^\w+(?:\((.*)\))?:", line)
            for item in split_top(m.group(1) or ""):
                name, _, ty = item.partition(":")
                args.append(self.define(name.strip(), parse_type(ty)))
            self.i += 1
        ops = []
        while not self.lines[self.i].startswith("}"):
            if self.lines[self.i].startswith("^"):
                raise Unsupported("region with several blocks")
            ops.append(self.parse_op())
        return Block(args, ops)

    def parse_op(self) -> Op:
        line = self.lines[self.i]
        self.i += 1
        results = []
        m = re.match(r"((?:%[\w$.\-]+(?::\d+)?\s*,?\s*)+)=\s*", line)
        if m:
            for r in split_top(m.group(1)):
                name, _, count = r.partition(":")
                results += [name] if not count else [f"{name}#{k}" for k in range(int(count))]
            line = line[m.end():]
        text, strings = cut_strings(line)
        generic = text.startswith("$S")
        if generic:  # ``"tt.reduce"(%x) <{axis = 0 : i32}> ({``
            name, text = strings[int(text[2:].split("(")[0])], text[text.index("("):]
        else:  # ``arith.addf %a, %b : f32``, ``scf.condition(%c) %a : T``
            name = re.match(r"[\w.]+", text).group(0)
            text = text[len(name):]
        op = Op(name, [], [], {}, [], [], strings, line)
        op.extra["generic"] = generic
        opens_region = text.rstrip().endswith("{")
        if opens_region:
            text = text.rstrip()[:-1].rstrip()
            if text.endswith("("):  # generic form: ``({``
                text = text[:-1]

        pre = ttir_ops.before_regions(self, op, text)
        tail = ""
        if opens_region:
            while True:
                block_args = pre.pop(0) if pre else []
                op.regions.append(self.parse_block(block_args))
                close = self.lines[self.i]
                self.i += 1
                if close.endswith("{"):  # ``} else {``, ``} do {``, ``}, {``
                    continue
                tail = close.lstrip("})").strip()
                break
            if op.name in _IMPLICIT_YIELD:
                for block in op.regions:
                    if not block.ops or block.ops[-1].name != "scf.yield":
                        block.ops.append(_empty_yield())
        ttir_ops.after_regions(self, op, text, tail, results)
        return op


def parse(text: str) -> Func:
    """The kernel (the public function) of a printed, optimised TTIR module."""
    funcs = Parser(text).parse_module()
    if len(funcs) != 1:
        raise Unsupported(f"{len(funcs)} functions after inlining (tt.call left?)")
    return funcs[0]
