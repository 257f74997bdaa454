"""Which block values are computed where they are read (fused) and which are stored (materialised).

A block value can be

* **scalar**: uniform (``tt.splat``, a splat constant, any elementwise op of
  uniform operands): one C variable, computed where it is defined;
* **lazy**: an elementwise op, a load, pointer arithmetic, a range, a view
  (``expand_dims``, ``reshape``, ``broadcast``, ``trans``): nothing is
  emitted where it is defined; the loop nest of each op that *consumes* it
  (a store, a reduction, a materialised value...) computes it per element, in
  scalar temporaries, so a chain of elementwise ops is one loop with no arrays;
* **array**: a slot of the scratch arena, written once by a loop nest of its
  own (results of reductions, scans, dots, atomics, loop-carried state), or a
  lazy candidate materialised because recomputing it would cost more.

The op consuming a lazy value is its **sink**; a value read by several sinks
is computed once per sink.  That is cheap for index arithmetic and loads, not
for ``expf``, so a candidate is materialised when

* it is read by more than one sink, or re-read per element of a broadcast or
  in every iteration of a loop it is not defined in, and its cost (own op plus
  lazy operands, ``COST``) is at least ``SHARED_COST``
  (``BROADCAST_COST`` when re-read through a broadcast); or
* it is a load and a memory write (store, atomic) comes between the load and
  one of its sinks: a load must see memory as it was at its place in program
  order.  (A store's own nest loading then storing the same element is fine:
  per element the load still comes first.)

Positions are numbers in program order (an op with regions spans its body);
a sink inside a loop that does not contain the definition counts at the
loop's end, because the body runs again.
"""

from __future__ import annotations

import dataclasses

from .ttir import Func, Op, Value

ELEMENTWISE_PREFIXES = ("arith.", "math.")
ELEMENTWISE_OPS = {"tt.extern_elementwise", "tt.bitcast", "tt.precise_sqrt", "tt.precise_divf",
                   "tt.addptr", "tt.load", "tt.fp_to_fp", "tt.int_to_ptr", "tt.ptr_to_int", "tt.mulhiui",
                   "tt.clampf", "ub.poison"}
VIEW_OPS = {"tt.expand_dims", "tt.reshape", "tt.broadcast", "tt.trans"}
LOOPS = {"scf.for", "scf.while"}
WRITES = {"tt.store", "tt.atomic_rmw", "tt.atomic_cas"}

#: relative cost of computing one element: library calls dominate; index arithmetic (mostly affine, see
#: lower/affine.py), pointers, views and ranges are free; a load costs what reading a stored copy would
COST = {"tt.extern_elementwise": 16, "arith.divf": 4, "tt.precise_divf": 4, "arith.divsi": 4, "arith.remsi": 4,
        "arith.divui": 4, "arith.remui": 4, "arith.remf": 8, "tt.load": 1, "tt.make_range": 0, "arith.constant": 0,
        "tt.addptr": 0, "arith.addi": 0, "arith.subi": 0, "arith.muli": 0, "arith.extsi": 0, "arith.cmpi": 0,
        "arith.andi": 0, "arith.ori": 0}
SHARED_COST = 8
BROADCAST_COST = 3


def _own_cost(op: Op) -> int:
    if op.name in COST:
        return COST[op.name]
    if op.name in VIEW_OPS:
        return 0 if op.name != "tt.reshape" else 1
    if op.name.startswith("math."):
        return 4 if op.name in ("math.sqrt", "math.absf", "math.floor", "math.ceil", "math.fma") else 16
    return 1


def elementwise(op: Op) -> bool:
    return op.name.startswith(ELEMENTWISE_PREFIXES) or op.name in ELEMENTWISE_OPS


@dataclasses.dataclass
class Fusion:
    kind: dict            # Value -> "scalar" | "lazy" | "array"
    reads: dict           # Value (array or lazy) -> [positions where its elements are read]
    start: dict           # Op -> position
    end: dict             # Op -> last position inside it
    max_block: int = 1


def _classify(block, kind: dict, sizes: list) -> None:
    """Scalar (uniform) values, lazy candidates, and values that must be arrays."""
    for op in block.ops:
        for region in op.regions:
            for a in region.args:
                kind[a] = "scalar" if not a.type.shape else "array"
            _classify(region, kind, sizes)
        for r in op.results:
            sizes.append(r.type.numel)
            blocks = [o for o in op.operands if kind.get(o) != "scalar"]
            if not r.type.shape or op.name == "tt.splat":
                k = "scalar"
            elif op.name == "arith.constant":
                k = "lazy" if op.extra["literal"].startswith("dense<[") else "scalar"
            elif op.name in VIEW_OPS or op.name == "tt.make_range":
                k = "lazy" if blocks or op.name == "tt.make_range" else "scalar"
            elif elementwise(op) and not blocks:
                k = "scalar"
            elif elementwise(op) and not op.attrs.get("isVolatile"):
                k = "lazy"
            else:
                k = "array"
            kind[r] = k


def decide(func: Func) -> Fusion:
    kind: dict = {a: "scalar" for a in func.args}
    sizes: list = [1]
    _classify(func.body, kind, sizes)

    start, end, parent, defined_at, order = {}, {}, {}, {}, []

    def number(block, owner):
        for op in block.ops:
            start[op] = len(order)
            order.append(op)
            parent[op] = owner
            for region in op.regions:
                for a in region.args:
                    defined_at[a] = op
                number(region, op)
            end[op] = len(order) - 1
            for r in op.results:
                defined_at[r] = op
    number(func.body, None)
    users: dict = {}
    for op in order:
        for o in op.operands:
            users.setdefault(o, []).append(op)
    writes = [start[op] for op in order if op.name in WRITES]

    cost: dict = {}
    for op in order:
        for r in op.results:
            cost[r] = _own_cost(op) + sum(cost.get(o, 0) for o in op.operands if kind.get(o) == "lazy")

    def in_loop_outside(op, d):
        """End of the outermost loop around ``op`` that does not contain the definition ``d`` (or None)."""
        out, owner = None, parent[op]
        while owner is not None:
            if owner.name in LOOPS and owner is not d and not _inside(d, owner, parent):
                out = end[owner]
            owner = parent[owner]
        return out

    sinks: dict = {}   # Value -> {ops whose loop nests read its elements}
    seen: dict = {}    # Value -> the sinks a value read through it reaches: {its op} once materialised
    reused: dict = {}  # Value -> read more than once per element of a sink (broadcast, loop)
    for op in reversed(order):
        for v in [*op.results, *[a for region in op.regions for a in region.args]]:
            if kind.get(v) == "scalar":
                continue
            s, again = set(), False
            for u in users.get(v, []):
                if u.results and kind.get(u.results[0]) == "lazy":
                    s |= seen[u.results[0]]
                    again = again or reused[u.results[0]] or (
                        u.name == "tt.broadcast" and u.results[0].type.numel > v.type.numel)
                else:
                    s.add(u)
                again = again or in_loop_outside(u, defined_at[v]) is not None
            sinks[v] = seen[v] = s
            reused[v] = again
            if kind[v] != "lazy":
                continue
            many = len(s) > 1 or again
            if (many and cost[v] >= SHARED_COST) or (again and cost[v] >= BROADCAST_COST) or \
                    (cost[v] and any(u.name == "tt.dot" for u in s)):
                kind[v] = "array"
            elif op.name == "tt.load":
                last = max((in_loop_outside(u, op) or start[u] for u in s), default=start[op])
                if any(start[op] < w < last for w in writes):
                    kind[v] = "array"
            if kind[v] == "array":
                cost[v] = 0
                seen[v], reused[v] = {op}, False

    reads: dict = {}
    for v, s in sinks.items():
        d = defined_at.get(v)
        reads[v] = [in_loop_outside(u, d) or start[u] for u in s]
        if d is not None and (d.regions or not reads[v]):   # loop state lives for the whole op
            reads[v].append(end[d])
    return Fusion(kind, reads, start, end, max(sizes))


def _inside(op, outer, parent) -> bool:
    while op is not None:
        if op is outer:
            return True
        op = parent.get(op)
    return False
