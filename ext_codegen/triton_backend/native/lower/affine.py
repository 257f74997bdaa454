"""Affine index blocks: ``c0 + sum_k coef_k * j_k``, so loads and stores index memory contiguously.

Inductor's addresses are ``base + (pid * XBLOCK + range) * stride + ...`` in
i32 (or i64) arithmetic, which wraps.  Wrapping arithmetic per element hides
from GCC that ``base[off]`` walks memory with stride 1, and it gathers.  This
module follows every integer block built from ranges, splats, constants,
``+ - *`` (by constants), ``extsi`` and views as an affine form over the
block's dimensions: a uniform part ``c0`` (a C expression) and one integer
coefficient per dimension.  Pointer blocks ``splat(base) + offsets`` (and
chains of ``addptr``) become ``base`` plus such a form.

Exactness: ``c0`` is computed in wrapping 64-bit arithmetic, so it is
congruent to the true value modulo 2^64 (hence 2^32).  If the exact sum
``c0 + sum coef_k * j_k`` lies inside the signed range of the op's width for
every index of a loop nest, it *is* the wrapped value Triton computes.  Each
op that could wrap records such a **check**; a loop nest that reads forms
runs under the conjunction of their checks (a few compares per nest, see
:meth:`Emitter.guarded`), and the same nest with the per-element wrapping
code runs otherwise.
"""

from __future__ import annotations

import dataclasses

from ..ttir import BITS

LIMITS = {32: ("(-2147483647LL - 1)", "2147483647LL"), 64: ("(-9223372036854775807LL - 1)", "9223372036854775807LL")}


@dataclasses.dataclass(frozen=True)
class Affine:
    c0: str                  # int64 C expression, uniform over the block
    coef: tuple              # int per dimension
    checks: frozenset = frozenset()   # {(c0, coef, bits)} that must stay in the signed bits range
    const: int | None = None # the value, when the whole block is one compile-time integer

    def expr(self, ix) -> str:
        """The value at multi-index ``ix`` as an exact int64 expression (valid when the checks hold)."""
        terms = [self.c0] + [f"{c}LL * {i.expr}" for c, i in zip(self.coef, ix) if c and i.expr != "0"]
        return f"({' + '.join(terms)})"

    def guards(self, ix) -> list[str]:
        out = []
        for c0, coef, bits in self.checks:
            lo = sum(min(0, c * (i.extent - 1)) for c, i in zip(coef, ix))
            hi = sum(max(0, c * (i.extent - 1)) for c, i in zip(coef, ix))
            mn, mx = LIMITS[bits]
            out.append(f"({c0} >= {mn} - {lo}LL && {c0} <= {mx} - {hi}LL)")
        return out


@dataclasses.dataclass(frozen=True)
class Pointer:
    base: str                # a scalar C pointer expression
    off: Affine              # elements, exact


def _wrap(op: str, a: str, b: str) -> str:
    return f"(int64_t)((uint64_t)({a}) {op} (uint64_t)({b}))"


def _checked(c0, coef, checks, bits, const=None) -> Affine:
    return Affine(c0, tuple(coef), frozenset(checks) | {(c0, tuple(coef), bits)}, const)


def _remap(a, f):
    """Apply ``f`` (coef tuple -> coef tuple) to a form and its checks (views move dimensions)."""
    if isinstance(a, Pointer):
        return Pointer(a.base, _remap(a.off, f))
    return Affine(a.c0, f(a.coef), frozenset((c, f(k), b) for c, k, b in a.checks), a.const)


def track(em, op) -> None:
    """Record the affine form of ``op``'s result in ``em.forms`` when it has one."""
    if not op.results or not op.results[0].type.shape:
        return
    r = op.results[0]
    rank = len(r.type.shape)
    form = em.forms.get
    name = op.name
    if name == "tt.make_range":
        em.forms[r] = Affine(str(op.attrs.get("start", 0)), (1,))
    elif name == "tt.splat":
        s = op.operands[0]
        if s.type.elem == "ptr":
            em.forms[r] = Pointer(em.name(s), Affine("0", (0,) * rank, const=0))
        elif s.type.elem in ("i32", "i64"):
            em.forms[r] = Affine(f"(int64_t){em.name(s)}", (0,) * rank)
    elif name == "arith.constant" and r.type.elem in ("i32", "i64") and not op.extra["literal"].startswith("dense<["):
        text = op.extra["literal"].removeprefix("dense<").removesuffix(">")
        try:
            value = int(text, 0)
        except ValueError:
            return
        em.forms[r] = Affine(f"{value}LL", (0,) * rank, const=value)
    elif name in ("arith.addi", "arith.subi") and r.type.elem in ("i32", "i64"):
        a, b = form(op.operands[0]), form(op.operands[1])
        if isinstance(a, Affine) and isinstance(b, Affine):
            sign = 1 if name == "arith.addi" else -1
            em.forms[r] = _checked(_wrap("+" if sign > 0 else "-", a.c0, b.c0),
                                   [x + sign * y for x, y in zip(a.coef, b.coef)], a.checks | b.checks,
                                   BITS[r.type.elem])
    elif name == "arith.muli" and r.type.elem in ("i32", "i64"):
        a, b = form(op.operands[0]), form(op.operands[1])
        if isinstance(b, Affine) and b.const is None and isinstance(a, Affine) and a.const is not None:
            a, b = b, a
        if isinstance(a, Affine) and isinstance(b, Affine) and b.const is not None:
            em.forms[r] = _checked(_wrap("*", a.c0, f"{b.const}LL"), [x * b.const for x in a.coef], a.checks,
                                   BITS[r.type.elem])
    elif name == "arith.extsi" and op.operands[0].type.elem == "i32" and r.type.elem == "i64":
        a = form(op.operands[0])
        if isinstance(a, Affine):
            em.forms[r] = a
    elif name == "tt.addptr":
        p, off = form(op.operands[0]), form(op.operands[1])
        if isinstance(p, Pointer) and isinstance(off, Affine):
            total = Affine(_wrap("+", p.off.c0, off.c0), tuple(x + y for x, y in zip(p.off.coef, off.coef)),
                           p.off.checks | off.checks)
            em.forms[r] = Pointer(p.base, total)
    elif name in ("tt.expand_dims", "tt.broadcast", "tt.trans", "tt.reshape"):
        a = form(op.operands[0])
        if a is None:
            return
        src = op.operands[0].type.shape
        if name == "tt.expand_dims":
            axis = op.attrs["axis"]
            em.forms[r] = _remap(a, lambda c: c[:axis] + (0,) + c[axis:])
        elif name == "tt.broadcast":
            em.forms[r] = _remap(a, lambda c: tuple(0 if d == 1 else k for k, d in zip(c, src)))
        elif name == "tt.trans":
            perm = em.trans_order(op)
            em.forms[r] = _remap(a, lambda c: tuple(c[k] for k in perm))
        elif [d for d in src if d != 1] == [d for d in r.type.shape if d != 1]:
            def squeeze(c):
                it = iter(k for k, d in zip(c, src) if d != 1)
                return tuple(next(it) if d != 1 else 0 for d in r.type.shape)
            em.forms[r] = _remap(a, squeeze)
