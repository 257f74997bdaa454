"""Memory: pointer arithmetic, masked loads and stores, atomics, and device asserts.

A pointer block is never stored: ``tt.addptr`` is C pointer arithmetic
(scaled by the pointee's size, like Triton's) computed where the pointer is
dereferenced, and with an affine offset it is ``base[c0 + j]``
(:mod:`ext_codegen.triton_backend.native.lower.affine`).  A load is lazy like any elementwise op (read
in the nest of whoever uses it, :mod:`ext_codegen.triton_backend.native.fusion` keeps it in place when a
write intervenes); a store or atomic is a loop nest of its own.  A masked
load is ``m ? *p : other`` per element: a masked-out lane never dereferences
its pointer (Inductor masks off-the-end lanes, whose addresses may be
unmapped).  Half types are 16-bit in memory and float in registers.
Atomics are GCC ``__atomic`` builtins, one per active lane, with the memory
order of the op's ``sem``; ops GCC lacks (float add, signed max...) are the
prelude's compare-and-swap loops.
"""

from __future__ import annotations

from ..ttir import Unsupported
from .emit import MEMTYPE, ctype, flat, handles

FROM_MEMORY = {"bf16": "bf16_to_f32({})", "f16": "f16_to_f32({})", "i1": "(uint8_t)({} != 0)"}
TO_MEMORY = {"bf16": "f32_to_bf16({})", "f16": "f32_to_f16({})", "i1": "(int8_t)({})"}
ORDER = {"relaxed": "__ATOMIC_RELAXED", "acquire": "__ATOMIC_ACQUIRE", "release": "__ATOMIC_RELEASE",
         "acq_rel": "__ATOMIC_ACQ_REL", "seq_cst": "__ATOMIC_SEQ_CST"}


def _elem(ptr_value) -> str:
    return ptr_value.type.pointee.elem


def _each(em, shape, body, simd=False):
    """``body(ix)`` for every element of ``shape`` (one statement when the op is on scalars)."""
    if not shape:
        return body(())
    em.guarded(lambda: em.loops(shape, body, simd=simd))


@handles("tt.addptr")
def addptr(em, op):
    p, off = op.operands
    em.assign(op.results[0], lambda ix: f"({em.at(p, ix)} + (int64_t){em.at(off, ix)})", temp=False)


@handles("tt.load")
def load(em, op):
    ptr, mask, other = (op.operands + [None, None])[:3]
    if ptr.type.elem != "ptr":
        raise Unsupported("tt.load of a block pointer")
    elem = _elem(ptr)
    volatile = "volatile " if op.attrs.get("isVolatile") else ""
    mem = MEMTYPE[elem]

    def value(ix):
        read = FROM_MEMORY.get(elem, "{}").format(f"*({volatile}{mem} *){em.at(ptr, ix)}")
        if mask is None:
            return read
        return f"({em.at(mask, ix)} ? {read} : {em.at(other, ix) if other is not None else '0'})"
    em.assign(op.results[0], value)


@handles("tt.store")
def store(em, op):
    ptr, val, mask = (op.operands + [None])[:3]
    if ptr.type.elem != "ptr":
        raise Unsupported("tt.store to a block pointer")
    conv = TO_MEMORY.get(_elem(ptr), "{}")

    def body(ix):
        m = em.at(mask, ix) if mask is not None else None  # operands first: their temps precede the write
        v = conv.format(em.at(val, ix))
        write = f"*{em.at(ptr, ix)} = {v};"
        em.line(write if m is None else f"if ({m}) {write}")
    _each(em, ptr.type.shape, body, simd=True)


@handles("tt.atomic_rmw")
def atomic_rmw(em, op):
    kind, sem = op.words[0], op.words[1]
    ptr, val, mask = (op.operands + [None])[:3]
    r = op.results[0]
    elem, order = _elem(ptr), ORDER[sem]
    bits = {"i32": 32, "i64": 64, "f32": 32, "f64": 64}.get(elem)
    if kind in ("add", "and", "or", "xor") and elem in ("i32", "i64", "i16", "i8"):
        call = f"__atomic_fetch_{kind}({{p}}, {{v}}, {order})"
    elif kind in ("exch", "xchg") and elem in ("i32", "i64", "i16", "i8"):
        call = f"__atomic_exchange_n({{p}}, {{v}}, {order})"
    elif kind in ("exch", "xchg") and bits:
        to_bits, from_bits = ("f32_bits", "bits_f32") if bits == 32 else ("f64_bits", "bits_f64")
        call = f"{from_bits}(__atomic_exchange_n((int{bits}_t *){{p}}, {to_bits}({{v}}), {order}))"
    elif kind == "fadd" and elem in ("f32", "f64", "bf16", "f16"):
        call = f"atomic_fadd_{elem}({{p}}, {{v}}, {order})"
    elif kind in ("max", "min", "umax", "umin") and elem in ("i32", "i64"):
        call = f"atomic_{kind}_{elem}({{p}}, {{v}}, {order})"
    else:
        raise Unsupported(f"tt.atomic_rmw {kind} on {elem}")
    em.define(r)

    def body(ix):
        out = em.name(r) + (f"[{flat(ix, r.type.shape)}]" if r.type.shape else "")
        c = call.format(p=em.at(ptr, ix), v=em.at(val, ix))
        em.line(f"{out} = {c};" if mask is None else f"{out} = {em.at(mask, ix)} ? {c} : 0;")
    _each(em, r.type.shape, body)


@handles("tt.atomic_cas")
def atomic_cas(em, op):
    sem = op.words[0]
    ptr, cmp, val = op.operands
    r = op.results[0]
    elem = _elem(ptr)
    if elem not in ("i32", "i64", "i16", "i8"):
        raise Unsupported(f"tt.atomic_cas on {elem}")
    order = ORDER[sem]
    fail = "__ATOMIC_ACQUIRE" if sem in ("acquire", "acq_rel", "seq_cst") else "__ATOMIC_RELAXED"
    em.define(r)
    ct = ctype(r.type.scalar())

    def body(ix):
        out = em.name(r) + (f"[{flat(ix, r.type.shape)}]" if r.type.shape else "")
        c, p, v = em.at(cmp, ix), em.at(ptr, ix), em.at(val, ix)
        em.line(f"{{ {ct} e = {c}; __atomic_compare_exchange_n({p}, &e, {v}, 0, {order}, {fail}); {out} = e; }}")
    _each(em, r.type.shape, body)


@handles("tt.assert")
def device_assert(em, op):
    cond = op.operands[0]
    em.asserts.append(op.strings[0] if op.strings else "assertion failed")
    code = len(em.asserts)
    _each(em, cond.type.shape, lambda ix: em.line(f"if (!{em.at(cond, ix)}) return {code};"))


@handles("tt.print")
def device_print(em, op):
    raise Unsupported("tt.print")
