"""Arena slots for the block values :mod:`ext_codegen.triton_backend.native.fusion` decided to store.

Every array gets a slot in one per-thread scratch arena, and a slot is reused
once its value is dead (a linear scan over the ops in program order).  That
keeps a kernel's working set small enough to stay in cache, and the arena is
one allocation per worker thread, not per program.

A value is dead after the last position where its elements are read, which
fusion already knows: the sinks of the lazy values that read it (a store's
nest reading ``exp(x)[i]`` reads ``x``), a loop's end for a value read inside
a loop it is not defined in, the op's end for loop state.
"""

from __future__ import annotations

import dataclasses

from . import fusion
from .ttir import Func, Op

#: bytes of one element in a C array: half types are held as float, i1 as a byte, pointers as pointers
ELEM_BYTES = {"i1": 1, "i8": 1, "i16": 2, "i32": 4, "i64": 8, "f16": 4, "bf16": 4, "f32": 4, "f64": 8, "ptr": 8}
ALIGN = 64


@dataclasses.dataclass
class Plan:
    kind: dict = dataclasses.field(default_factory=dict)     # Value -> "scalar" | "lazy" | "array"
    offset: dict = dataclasses.field(default_factory=dict)   # Value -> byte offset in the arena
    temps: dict = dataclasses.field(default_factory=dict)    # Op -> [byte offsets] of scratch it needs
    size: int = 0                                            # arena bytes
    max_block: int = 1                                       # largest block, in elements


def split_axis(shape, axis) -> tuple[int, int, int]:
    """``(outer, length, inner)``: a block's elements before, along and after ``axis``, as a reduction loops over them."""
    outer = inner = 1
    for d in shape[:axis]:
        outer *= d
    for d in shape[axis + 1:]:
        inner *= d
    return outer, shape[axis], inner


def temp_bytes(op: Op) -> list[int]:
    """Scratch an op needs beyond its results: a reduction over a non-minor axis works on copies of its inputs."""
    if op.name == "tt.reduce" and split_axis(op.operands[0].type.shape, op.attrs["axis"])[2] > 1:
        return [o.type.numel * ELEM_BYTES[o.type.elem] for o in op.operands]
    return []


def plan(func: Func) -> Plan:
    f = fusion.decide(func)
    p = Plan(kind=f.kind, max_block=f.max_block)
    last = {v: max(pos) for v, pos in f.reads.items() if pos and f.kind.get(v) == "array"}
    order = sorted(f.start, key=f.start.get)
    free: dict = {}          # size -> [offsets]
    live: list = []          # (last position, size, offset)
    for op in order:
        pos = f.start[op]
        for item in [x for x in live if x[0] < pos]:
            live.remove(item)
            free.setdefault(item[1], []).append(item[2])

        def take(size, until):
            size = -(-size // ALIGN) * ALIGN
            if free.get(size):
                off = free[size].pop()
            else:
                off, p.size = p.size, p.size + size
            live.append((until, size, off))
            return off
        for v in [a for region in op.regions for a in region.args] + list(op.results):
            if p.kind.get(v) == "array":
                p.offset[v] = take(v.type.numel * ELEM_BYTES[v.type.elem], last.get(v, f.end[op]))
        if temp_bytes(op):
            p.temps[op] = [take(b, pos) for b in temp_bytes(op)]
    p.size = max(p.size, ALIGN)
    return p
