"""Structured control flow: ``scf.for``, ``scf.if``, ``scf.while`` with scalar or block-valued state.

Region block arguments and op results are arrays of their own
(:mod:`ext_codegen.triton_backend.native.storage` keeps them alive for the whole op), so loop state is
plain copies (a yielded lazy value is computed by the copy's loop): inits into the block arguments before the loop, yielded values
back into them at the end of each iteration, block arguments into the
results after it.  One hazard: a loop that yields its own arguments in a
different order (``yield %b, %a``) would overwrite one before reading it; then
the yielded values go through the results' storage first, which is free
until the loop ends.

``scf.while`` is ``for (;;) { before; if (!cond) { results = args; break; }
after-args = args; after; before-args = yielded; }`` -- the shape Inductor's
split scan spins in (``while flag == 0: flag = atomic_add(ptr, 0)``).
"""

from __future__ import annotations

from ..ttir import Unsupported
from .emit import ctype, handles


def _body(em, block, terminator: str):
    """Emit a region's ops but its terminator, which is returned."""
    for op in block.ops[:-1]:
        em.op(op)
    last = block.ops[-1] if block.ops else None
    if last is None or last.name != terminator:
        raise Unsupported(f"region not ending in {terminator}")
    return last


def carry(em, dsts, srcs, spare) -> None:
    """``dsts = srcs`` as a parallel assignment; ``spare`` (same types, free now) is the temporary if needed.

    A yielded value may be lazy, computed while the copy runs: writing ``dsts[k]`` must not change what
    a later element or a later copy reads.  It reads its own destination at the same element only,
    unless a view (transpose, broadcast...) lies in between."""
    hazard = any(s in dsts and s is not d for s, d in zip(srcs, dsts)) or any(
        a in dsts and (a is not d or viewed) for s, d in zip(srcs, dsts) if s is not d for a, viewed in em.reads(s))
    if hazard:
        for t, s in zip(spare, srcs):
            em.copy(t, s)
        srcs = spare
    for d, s in zip(dsts, srcs):
        em.copy(d, s)


@handles("scf.for")
def for_loop(em, op):
    lb, ub, step, *inits = op.operands
    body = op.regions[0]
    iv, *args = body.args
    for r in op.results:
        em.define(r)
    em.open("")  # block arguments in a scope of their own: sibling ops reuse their names
    for a in args:
        em.define(a)
    for a, x in zip(args, inits):
        em.copy(a, x)
    t = em.fresh("it")
    # A 64-bit counter: an i32 induction variable near INT_MAX must not overflow the loop test.
    em.open(f"for (int64_t {t} = {em.at(lb)}; {t} < {em.at(ub)}; {t} += {em.at(step)})")
    em.line(f"{ctype(iv.type)} {em.name(iv)} = ({ctype(iv.type)}){t};")
    y = _body(em, body, "scf.yield")
    carry(em, args, y.operands, op.results)
    em.close()
    for r, a in zip(op.results, args):
        em.copy(r, a)
    em.close()


@handles("scf.if")
def if_else(em, op):
    for r in op.results:
        em.define(r)
    em.open(f"if ({em.at(op.operands[0])})")
    y = _body(em, op.regions[0], "scf.yield")
    for r, v in zip(op.results, y.operands):
        em.copy(r, v)
    if len(op.regions) > 1 and op.regions[1].ops:
        em.close()
        em.open("else")
        y = _body(em, op.regions[1], "scf.yield")
        for r, v in zip(op.results, y.operands):
            em.copy(r, v)
    em.close()


@handles("scf.while")
def while_loop(em, op):
    before, after = op.regions
    for r in op.results:
        em.define(r)
    em.open("")
    for v in [*before.args, *after.args]:
        em.define(v)
    for a, x in zip(before.args, op.operands):
        em.copy(a, x)
    em.open("for (;;)")
    em.open("")  # each region in a C block of its own: sibling regions reuse SSA names
    cond = _body(em, before, "scf.condition")
    flag, *passed = cond.operands
    em.open(f"if (!{em.at(flag)})")
    for r, v in zip(op.results, passed):
        em.copy(r, v)
    em.line("break;")
    em.close()
    for a, v in zip(after.args, passed):
        em.copy(a, v)
    em.close()
    em.open("")
    y = _body(em, after, "scf.yield")
    carry(em, before.args, y.operands, op.results)
    em.close()
    em.close()
    em.close()


@handles("tt.return")
def ret(em, op):
    if op.operands:
        raise Unsupported("tt.return with values")
    em.line("return 0;")
