"""Reductions, scans and dot products: loops around an inlined combine region.

``tt.reduce`` and ``tt.scan`` carry their combine function as a region of
scalar ops; it is emitted inline, once, inside the loop, with its block
arguments bound to the two elements being combined.

A block axis is viewed as ``outer x L x inner`` (the dimensions before the
axis, the axis, the dimensions after it).  Inputs are read where they are
needed, so the elementwise ops feeding a reduction run inside its loop
(:mod:`ext_codegen.triton_backend.native.lower.emit`).

A reduction along the minor axis (a row sum) keeps W independent lanes
(``acc[w]`` combines elements ``w, w + W, w + 2W...``, vectorised across the
lanes), then combines the lanes as a tree, like a GPU's threads then its warp
shuffles: a float sum's error grows with ``L/W + log W`` rather than ``L``.
Sibling reductions of the same block shape (Inductor's row sum and row max
of one input) share that loop (:func:`siblings`): one pass over the data.
Along another axis the dimensions after it are contiguous, so a tree
(``t[k] = f(t[k], t[k+s])`` for ``s = L/2 .. 1``) on a copy of the inputs
vectorises over them.  A scan is sequential along its axis (like the
interpreter's ``np.cumsum``) and vectorised across the dimensions after it;
``reverse`` walks the axis backwards with Triton's flip-scan-flip order.
``tt.dot`` is an i-k-j triple loop.
"""

from __future__ import annotations

from ..storage import split_axis
from ..ttir import Unsupported
from .emit import VIEWS, ZERO, Ix, ctype, flat, handles


def inline_combine(em, region, inputs: list[str], outputs: list[str]) -> None:
    """Emit the region's ops on ``inputs`` in a C block of their own, then ``outputs[k].format(result_k)``."""
    em.open("")
    for arg, expr in zip(region.args, inputs):
        em.line(f"{ctype(arg.type)} {em.name(arg)} = {expr};")
    for op in region.ops[:-1]:
        em.op(op)
    ret = region.ops[-1]
    if ret.name not in ("tt.reduce.return", "tt.scan.return"):
        raise Unsupported(f"combine region ending in {ret.name}")
    for out, v in zip(outputs, ret.operands):
        em.line(out.format(em.at(v)))
    em.close()


def loops_over(em, shape, prefix, simd_last=False):
    """Open a loop per dimension of ``shape`` longer than 1; returns the indices and the count opened."""
    ix, opened = [], 0
    last = max([k for k, d in enumerate(shape) if d != 1], default=-1)
    for k, d in enumerate(shape):
        if d == 1:
            ix.append(ZERO)
            continue
        if simd_last and k == last:
            em.simd()
        em.open(f"for (int64_t {prefix}{k} = 0; {prefix}{k} < {d}; {prefix}{k}++)")
        ix.append(Ix(f"{prefix}{k}", d))
        opened += 1
    return tuple(ix), opened


def _lanes(length: int) -> int:
    """Independent accumulators per row: the largest power of two up to 64 that divides the axis."""
    w = 64
    while length % w:
        w //= 2
    return w


def siblings(em, op) -> list:
    """Later reductions of the same block that can share ``op``'s loop (a row sum and a row max of
    one input: one pass over the data instead of two).

    Taken while only views lie between them, when they reduce a block of the same shape along
    the same minor axis, and when ``op`` and they read no stored block, only memory, scalars and
    values computed in the loop: so nothing they read is written between the two places, and
    their results, written one row at a time, cannot land on anything still to be read.
    """
    shape, axis = op.operands[0].type.shape, op.attrs["axis"]
    if any(em.reads(o) for o in op.operands):
        return []
    taken, between = [], set()
    for later in em.following():
        if later.name in VIEWS:
            between.update(later.results)
            continue
        if (later.name != "tt.reduce" or later.attrs["axis"] != axis or later.operands[0].type.shape != shape
                or any(o in between or em.reads(o) for o in later.operands)):
            break
        taken.append(later)
        between.update(later.results)
    return taken


def _reduce_minor(em, ops, axis):
    """Reduce along an axis after which only unit dimensions follow: W lanes accumulate strided
    elements (vectorised across lanes), then a tree combines the lanes.  Every op of ``ops``
    (one, or sibling reductions of one shape) accumulates in the same loop."""
    shape = ops[0].operands[0].type.shape
    length = shape[axis]
    w = _lanes(length)
    outer_ix, n = loops_over(em, shape[:axis], "o")
    rest = (ZERO,) * (len(shape) - axis - 1)
    accs = [[em.fresh("acc") for _ in op.operands] for op in ops]
    for op, acc in zip(ops, accs):
        for a, o in zip(acc, op.operands):
            em.line(f"{ctype(o.type.scalar())} {a}[{w}];")
    # the first W elements start the lanes; the loop after it combines, with no select of its own
    em.simd()
    em.open(f"for (int64_t w = 0; w < {w}; w++)")
    for op, acc in zip(ops, accs):
        for a, o in zip(acc, op.operands):
            em.line(f"{a}[w] = {em.at(o, outer_ix + (Ix('w', length),) + rest)};")
    em.close()
    em.open(f"for (int64_t kk = 1; kk < {length // w}; kk++)")
    em.simd()
    em.open(f"for (int64_t w = 0; w < {w}; w++)")
    ix = outer_ix + (Ix(f"(kk * {w} + w)", length),) + rest
    for op, acc in zip(ops, accs):
        vals = [em.at(o, ix) for o in op.operands]
        inline_combine(em, op.regions[0], [f"{a}[w]" for a in acc] + vals, [f"{a}[w] = {{}};" for a in acc])
    em.close()
    em.close()
    if w > 1:
        em.open(f"for (int64_t s = {w // 2}; s > 0; s >>= 1)")
        em.simd()
        em.open("for (int64_t w = 0; w < s; w++)")
        for op, acc in zip(ops, accs):
            inline_combine(em, op.regions[0], [f"{a}[w]" for a in acc] + [f"{a}[w + s]" for a in acc],
                           [f"{a}[w] = {{}};" for a in acc])
        em.close()
        em.close()
    for op, acc in zip(ops, accs):
        for r, a in zip(op.results, acc):
            target = f"{em.name(r)}[{flat(outer_ix, r.type.shape)}]" if r.type.shape else em.name(r)
            em.line(f"{target} = {a}[0];")
    for _ in range(n):
        em.close()


def _reduce_tree(em, op, axis):
    """Reduce along an axis with contiguous elements after it: pairwise, as a tree, on copies of the inputs."""
    shape = op.operands[0].type.shape
    outer, length, inner = split_axis(shape, axis)
    temps = []
    for o, off in zip(op.operands, em.plan.temps[op]):
        t, ct = em.fresh("red"), ctype(o.type.scalar())
        em.line(f"{ct} *{t} = ({ct} *)(S + {off});")
        em.loops(shape, lambda ix, t=t, o=o: em.line(f"{t}[{flat(ix, shape)}] = {em.at(o, ix)};"))
        temps.append(t)
    if length & (length - 1) == 0:  # tree
        em.open(f"for (int64_t s = {length // 2}; s > 0; s >>= 1)")
        em.open(f"for (int64_t o = 0; o < {outer}; o++)")
        em.open("for (int64_t k = 0; k < s; k++)")
        em.simd()
        em.open(f"for (int64_t j = 0; j < {inner}; j++)")
        em.line(f"int64_t p = (o * {length} + k) * {inner} + j, q = p + s * {inner};")
    else:  # sequential, for an axis that is not a power of two
        em.open(f"for (int64_t k = 1; k < {length}; k++)")
        em.open(f"for (int64_t o = 0; o < {outer}; o++)")
        em.simd()
        em.open(f"for (int64_t j = 0; j < {inner}; j++)")
        em.line(f"int64_t p = o * {length} * {inner} + j, q = p + k * {inner};")
    inline_combine(em, op.regions[0], [f"{t}[p]" for t in temps] + [f"{t}[q]" for t in temps],
                   [f"{t}[p] = {{}};" for t in temps])
    for _ in range(4 if length & (length - 1) == 0 else 3):
        em.close()
    for r, t in zip(op.results, temps):
        if r.type.shape:
            em.line(f"for (int64_t o = 0; o < {outer}; o++) for (int64_t j = 0; j < {inner}; j++) "
                    f"{em.name(r)}[o * {inner} + j] = {t}[o * {length * inner} + j];")
        else:
            em.line(f"{em.name(r)} = {t}[0];")


@handles("tt.reduce")
def reduce(em, op):
    axis = op.attrs["axis"]
    for r in op.results:
        em.define(r)
    if split_axis(op.operands[0].type.shape, axis)[2] == 1:
        ops = [op] + siblings(em, op)
        for later in ops[1:]:
            em.track(later)
            em.emitted.add(later)
            for r in later.results:
                em.define(r)
        em.guarded(lambda: _reduce_minor(em, ops, axis))
    else:
        em.guarded(lambda: _reduce_tree(em, op, axis))


@handles("tt.scan")
def scan(em, op):
    """Sequential along the axis (like the interpreter's ``np.cumsum``), vectorised across the dimensions
    after it; ``reverse`` walks the axis backwards with the same ``f(acc, x)`` order as Triton's flip-scan-flip."""
    axis, reverse = op.attrs["axis"], bool(op.attrs.get("reverse", False))
    shape = op.operands[0].type.shape
    length = shape[axis]
    for r in op.results:
        em.define(r)

    minor = all(d == 1 for d in shape[axis + 1:])  # one running value per row: keep it in a register

    def emit():
        outer_ix, n = loops_over(em, shape[:axis], "o")
        accs = [em.fresh("run") for _ in op.results]
        if minor:
            for a, r in zip(accs, op.results):
                em.line(f"{ctype(r.type.scalar())} {a} = 0;")
        em.open(f"for (int64_t step = 0; step < {length}; step++)")
        em.line(f"int64_t k = {'%d - step' % (length - 1) if reverse else 'step'}, "
                f"prev = step == 0 ? k : {'k + 1' if reverse else 'k - 1'};")
        inner_ix, m = loops_over(em, shape[axis + 1:], "i", simd_last=True)
        ix = outer_ix + (Ix("k", length),) + inner_ix
        prev = outer_ix + (Ix("prev", length),) + inner_ix
        vals = [em.at(x, ix) for x in op.operands]
        outs = [f"{em.name(r)}[{flat(ix, shape)}]" for r in op.results]
        last = accs if minor else [f"{em.name(r)}[{flat(prev, shape)}]" for r in op.results]
        into = accs if minor else outs
        inline_combine(em, op.regions[0], last + vals, [f"{o} = step == 0 ? {v} : {{}};" for o, v in zip(into, vals)])
        if minor:
            for o, a in zip(outs, accs):
                em.line(f"{o} = {a};")
        for _ in range(n + m + 1):
            em.close()
    em.guarded(emit)


@handles("tt.dot")
def dot(em, op):
    """An i-k-j triple loop accumulating in the result (operands are arrays or views of arrays: fusion.py)."""
    a, b, c = op.operands[:3]
    r = op.results[0]
    if r.type.elem in ("f16", "bf16"):
        raise Unsupported("tt.dot with a 16-bit accumulator")
    *batch, m, k = a.type.shape
    n = b.type.shape[-1]
    acc = ctype(r.type.scalar())
    em.define(r)
    rn = em.name(r)
    em.copy(r, c)

    def emit():
        zs = [Ix("z", batch[0])] if batch else []
        em.open(f"for (int64_t z = 0; z < {batch[0] if batch else 1}; z++) for (int64_t mi = 0; mi < {m}; mi++) "
                f"for (int64_t ki = 0; ki < {k}; ki++)")
        em.line(f"{acc} av = ({acc}){em.at(a, (*zs, Ix('mi', m), Ix('ki', k)))};")
        em.simd()
        em.open(f"for (int64_t ni = 0; ni < {n}; ni++)")
        em.line(f"{rn}[(z * {m} + mi) * {n} + ni] += av * ({acc}){em.at(b, (*zs, Ix('ki', k), Ix('ni', n)))};")
        em.close()
        em.close()
    em.guarded(emit)
