"""The emitter every lowering module writes through: C names and types, lazy values, loop nests, the op registry.

A lowering is a function ``(em, op) -> None`` registered with ``handles``.
An elementwise lowering only *describes* its result: ``Emitter.assign``
takes a function from a multi-index (one :class:`Ix` per dimension) to a C
expression, built from the operands' ``Emitter.at``.  What happens next
depends on the value's kind (decided by :mod:`ext_codegen.triton_backend.native.fusion`):

* scalar: one C statement now;
* array: a loop nest now, writing the arena slot;
* lazy: nothing now.  The description is kept, and whoever reads the value
  inside *its* loop nest (``loops``) gets it computed there, once per
  element into a scalar temporary (reused for the same element within the C
  block: a small CSE).  A chain of elementwise ops ending in a store is thus
  one loop; values nobody reads are never computed.

Loop nests run under ``guarded``: emitted first in *fast* mode, where
integer and pointer blocks with an affine form (``ext_codegen.triton_backend.native.lower.affine``)
read as exact linear expressions of the loop indices (contiguous ``base[c0 +
j]`` that GCC vectorises) and each form used adds a range check; if any check
was added, the nest is emitted a second time with the per-element wrapping
code, and the checks pick one at run time.  In fast mode the nest also puts
the dimension along which memory is contiguous innermost.
"""

from __future__ import annotations

import collections
import dataclasses
import re

from ..storage import Plan
from ..ttir import BITS, Type, Unsupported

HANDLERS: dict = {}


def handles(*names):
    def register(fn):
        for n in names:
            HANDLERS[n] = fn
        return fn
    return register


#: C type of an element in a C variable or scratch array: half types compute in float
CTYPE = {"i1": "uint8_t", "i8": "int8_t", "i16": "int16_t", "i32": "int32_t", "i64": "int64_t",
         "f16": "float", "bf16": "float", "f32": "float", "f64": "double"}
#: C type of an element in memory (what a pointer points to)
MEMTYPE = {**CTYPE, "i1": "int8_t", "f16": "uint16_t", "bf16": "uint16_t"}
UNSIGNED = {"uint8_t": "uint8_t", "int8_t": "uint8_t", "int16_t": "uint16_t", "int32_t": "uint32_t",
            "int64_t": "uint64_t"}
VIEWS = {"tt.expand_dims", "tt.reshape", "tt.broadcast", "tt.trans"}


def ctype(t: Type) -> str:
    if t.elem == "ptr":
        if t.pointee.elem not in MEMTYPE:
            raise Unsupported(f"pointer to {t.pointee.elem}")
        return MEMTYPE[t.pointee.elem] + " *"
    if t.elem not in CTYPE:
        raise Unsupported(f"element type {t.elem}")
    return CTYPE[t.elem]


def is_float(t: Type) -> bool:
    return t.elem in ("f16", "bf16", "f32", "f64")


@dataclasses.dataclass(frozen=True)
class Ix:
    """One dimension's index inside a loop nest: a C expression taking the values ``0 .. extent - 1``."""
    expr: str
    extent: int

    def __str__(self):
        return self.expr


ZERO = Ix("0", 1)

#: Reads this many bytes apart along a loop are prefetched ``PREFETCH_ROWS`` iterations ahead (``Emitter._prefetch``).
FAR_BYTES = 512
PREFETCH_ROWS = 16
ELEM_BYTES = {"i1": 1, "i8": 1, "i16": 2, "f16": 2, "bf16": 2, "i32": 4, "f32": 4, "i64": 8, "f64": 8}


def strides(shape) -> list[int]:
    out, step = [], 1
    for d in reversed(shape):
        out.append(step)
        step *= d
    return out[::-1]


def flat(ix, shape) -> str:
    """Row-major offset of multi-index ``ix`` in a block of ``shape``."""
    terms = [f"{i.expr} * {s}" if s != 1 else i.expr for i, s, d in zip(ix, strides(shape), shape)
             if d != 1 and i.expr != "0"]
    return " + ".join(terms) or "0"


class Emitter:
    def __init__(self, plan: Plan):
        self.plan = plan
        self.lines: list[str] = []
        self.globals: list[str] = []   # file-scope definitions (constant tables)
        self.depth = 1
        self.asserts: list[str] = []   # messages; kernel returns index + 1 on failure
        self.uid = 0
        self.names: dict = {}          # Value -> C identifier
        self.taken: set = set()
        self.recipes: dict = {}        # lazy Value -> (fn(ix) -> C expression, whether to keep it in a temp)
        self.defs: dict = {}           # Value -> the op defining it
        self.forms: dict = {}          # Value -> affine.Affine | affine.Pointer
        self.cache: list = [{}]        # one dict per open C block: (value, index) -> temporary
        self.fast = False              # emitting the fast copy of a guarded region
        self.guards: dict | None = None   # checks the fast copy relies on (an ordered set)
        self.unit: list | None = None  # loop variables some pointer walks with stride 1
        self.far: list | None = None   # (loop variable, pointer form, index) of reads a row apart (prefetch)
        self.orders: list | None = None   # loop orders chosen in the fast copy, replayed in the other
        self.ahead: list = []          # [ops, position of the op being emitted] per open block, innermost last
        self.emitted: set = set()      # later ops a handler emitted early, with its own

    # --- text ---------------------------------------------------------------------------------
    def line(self, s: str) -> None:
        self.lines.append("    " * self.depth + s)

    def open(self, s: str) -> None:
        self.line(s + " {")
        self.depth += 1
        self.cache.append({})

    def close(self, s: str = "}") -> None:
        self.depth -= 1
        self.cache.pop()
        self.line(s)

    def simd(self) -> None:
        """Mark the next loop free of loop-carried dependencies (every elementwise loop here), so GCC
        vectorises it without alias checks, libm calls included."""
        self.lines.append("#pragma omp simd")

    def fresh(self, prefix: str = "t") -> str:
        self.uid += 1
        return f"{prefix}{self.uid}"

    # --- values -------------------------------------------------------------------------------
    def name(self, v) -> str:
        """A C identifier for ``v``, unique in the function (sibling regions reuse SSA names)."""
        c = self.names.get(v)
        if c is None:
            c = base = "v_" + re.sub(r"\W", "_", v.name[1:])
            while c in self.taken:
                self.uid += 1
                c = f"{base}_{self.uid}"
            self.names[v] = c
            self.taken.add(c)
        return c

    def is_array(self, v) -> bool:
        return self.plan.kind[v] != "scalar"

    def at(self, v, ix=()) -> str:
        """Element ``ix`` of ``v`` as a C expression (the scalar itself for a scalar or uniform block)."""
        kind = self.plan.kind[v]
        if kind == "scalar":
            return self.name(v)
        if kind == "array":
            return f"{self.name(v)}[{flat(ix, v.type.shape)}]"
        if self.fast and v in self.forms:
            return self._form(v, ix)
        fn, temp = self.recipes[v]
        if not temp:
            return fn(ix)
        key = (v, tuple(i.expr for i in ix))
        for scope in reversed(self.cache):
            if key in scope:
                return scope[key]
        expr = fn(ix)
        t = self.fresh()
        self.line(f"{ctype(v.type.scalar())} {t} = {expr};")
        self.cache[-1][key] = t
        return t

    def _form(self, v, ix) -> str:
        from .affine import Pointer
        f = self.forms[v]
        off = f.off if isinstance(f, Pointer) else f
        for g in off.guards(ix):
            self.guards[g] = None
        if isinstance(f, Pointer):
            if self.unit is not None:
                self.unit += [i.expr for c, i in zip(off.coef, ix) if abs(c) == 1 and re.fullmatch(r"j\d+", i.expr)]
            if self.far is not None:
                size = ELEM_BYTES.get(v.type.pointee.elem, 4)
                self.far += [(i.expr, f, ix) for c, i in zip(off.coef, ix)
                             if abs(c) * size >= FAR_BYTES and re.fullmatch(r"j\d+", i.expr)]
            return f"({f.base} + {off.expr(ix)})"
        return f"(({ctype(v.type.scalar())}){off.expr(ix)})"

    def reads(self, v, viewed=False) -> set:
        """The arrays a value's elements are computed from, each with whether a view lies on the way."""
        kind = self.plan.kind[v]
        if kind == "array":
            return {(v, viewed)}
        if kind == "scalar":
            return set()
        op = self.defs[v]
        return set().union(*[self.reads(o, viewed or op.name in VIEWS) for o in op.operands])

    def define(self, v) -> None:
        """Declare ``v``: a pointer into the arena for an array, an uninitialised scalar; nothing when lazy."""
        t = ctype(v.type.scalar())
        kind = self.plan.kind[v]
        if kind == "array":
            self.line(f"{t} *{self.name(v)} = ({t} *)(S + {self.plan.offset[v]});")
        elif kind == "scalar":
            self.line(f"{t} {self.name(v)};")

    def assign(self, v, expr, temp: bool = True) -> None:
        """``v = expr(ix)`` for every element: one statement (scalar), a loop nest (array), or kept (lazy)."""
        kind = self.plan.kind[v]
        if kind == "lazy":
            self.recipes[v] = (expr, temp)
        elif kind == "scalar":
            self.line(f"{ctype(v.type.scalar())} {self.name(v)} = {expr((ZERO,) * len(v.type.shape))};")
        else:
            self.define(v)
            shape = v.type.shape
            self.guarded(lambda: self.loops(shape, lambda ix: self.line(
                f"{self.name(v)}[{flat(ix, shape)}] = {expr(ix)};")))

    def copy(self, dst, src) -> None:
        """Overwrite an already declared ``dst`` with the elements of ``src`` (loop state, branch results)."""
        if dst is src:
            return
        if self.plan.kind[dst] == "array":
            shape = dst.type.shape
            self.guarded(lambda: self.loops(shape, lambda ix: self.line(
                f"{self.name(dst)}[{flat(ix, shape)}] = {self.at(src, ix)};")))
        else:
            if self.plan.kind[src] != "scalar":
                raise Unsupported("block value carried in a scalar")
            self.line(f"{self.name(dst)} = {self.name(src)};")

    # --- loop nests ---------------------------------------------------------------------------
    def guarded(self, emit) -> None:
        """Run ``emit`` (which emits loops reading lazy values) in fast mode, and again without affine
        forms if the fast copy relies on range checks; the checks choose between the two at run time."""
        if self.guards is not None:  # already inside a guarded region
            return emit()
        mark = len(self.lines)
        self.fast, self.guards, self.orders = True, {}, []
        self.open("")
        emit()
        self.close()
        checks, orders = list(self.guards), self.orders
        self.fast, self.guards = False, None
        if not checks:
            self.orders = None
            return
        body = self.lines[mark:]
        del self.lines[mark:]
        self.line(f"if (__builtin_expect({' && '.join(checks)}, 1))")  # the other copy is cold: GCC keeps it small
        self.lines += body
        self.line("else")
        self.orders = collections.deque(orders)
        self.open("")
        emit()
        self.close()
        self.orders = None

    def loops(self, shape, body, simd: bool = True) -> None:
        """Loops over ``shape``; ``body(ix)`` emits the statements for one element."""
        dims = [k for k, d in enumerate(shape) if d != 1]
        if not self.fast:
            order = self.orders.popleft() if self.orders else dims
            return self._nest(shape, order, body, simd)
        mark, self.unit, self.far = len(self.lines), [], []
        self._nest(shape, dims, body, simd)
        unit, self.unit = collections.Counter(self.unit), None
        order = dims
        if dims and unit and f"j{dims[-1]}" not in unit:  # memory is contiguous along another dimension
            inner = int(unit.most_common(1)[0][0][1:])
            order = [d for d in dims if d != inner] + [inner]
            del self.lines[mark:]
            self.far = []
            self._nest(shape, order, body, simd)
        self.far = None
        if self.orders is not None:
            self.orders.append(order)

    def _nest(self, shape, order, body, simd) -> None:
        ix = tuple(ZERO if d == 1 else Ix(f"j{k}", d) for k, d in enumerate(shape))
        self.open("")
        starts = {}
        for n, k in enumerate(order):
            if simd and n == len(order) - 1:
                self.simd()
            self.open(f"for (int64_t j{k} = 0; j{k} < {shape[k]}; j{k}++)")
            starts[f"j{k}"] = (len(self.lines), self.depth, [f"j{m}" for m in order[n + 1:]])
        body(ix)
        for _ in order:
            self.close()
        self.close()
        if self.far:
            self._prefetch(starts, order)

    def _prefetch(self, starts, order) -> None:
        """Reads a row or more apart along an outer loop (a column of a row-major matrix, one page a row):
        fetch the row ``PREFETCH_ROWS`` iterations ahead when the loop starts a row.  The hardware's
        prefetcher follows a stream within a page only, so without it each row waits on memory.  A
        prefetch never faults, so rows past the end (or masked) cost nothing but the hint."""
        inner = f"j{order[-1]}" if order else None
        lines, seen = [], set()
        for var, form, ix in self.far:
            if var == inner or var not in starts or (var, form.base) in seen:
                continue
            seen.add((var, form.base))
            at, depth, deeper = starts[var]
            ahead = tuple(Ix(f"({i.expr} + {PREFETCH_ROWS})", i.extent) if i.expr == var
                          else ZERO if i.expr in deeper else i for i in ix)
            lines.append((at, "    " * depth + f"__builtin_prefetch({form.base} + {form.off.expr(ahead)});"))
        for at, text in sorted(lines, key=lambda x: -x[0]):
            self.lines.insert(at, text)

    # --- ops ----------------------------------------------------------------------------------
    def block(self, block) -> None:
        here = [block.ops, 0]
        self.ahead.append(here)
        for k, op in enumerate(block.ops):
            if op in self.emitted:  # a handler took it with an earlier op (reduce.siblings)
                continue
            here[1] = k
            self.op(op)
        self.ahead.pop()

    def following(self) -> list:
        """The ops after the one being emitted, in its block: a handler may emit some of them with it."""
        ops, k = self.ahead[-1]
        return ops[k + 1:]

    def op(self, op) -> None:
        handler = HANDLERS.get(op.name)
        if handler is None:
            raise Unsupported(op.name)
        self.track(op)
        handler(self, op)

    def track(self, op) -> None:
        from . import affine
        for r in op.results:
            self.defs[r] = op
        affine.track(self, op)

    def trans_order(self, op) -> list[int]:
        order = op.attrs.get("order")
        if isinstance(order, str):
            return [int(x) for x in re.findall(r"-?\d+", order.split(":", 1)[1])]
        return [1, 0]
