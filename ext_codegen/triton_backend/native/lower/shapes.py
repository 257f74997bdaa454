"""Ops that make or reshape blocks without computing: program ids, ranges, splat, broadcast, views, transpose.

All of them are index maps, so none moves data: a view's element ``ix`` is
an element of its operand at a mapped index, read wherever the view is read
(:mod:`ext_codegen.triton_backend.native.lower.emit`).  ``tt.splat`` is a uniform value (a C scalar);
``tt.broadcast`` reads index 0 along the dimensions it broadcasts;
``tt.expand_dims`` drops the new dimension's index; ``tt.trans`` permutes the
indices; ``tt.reshape`` keeps row-major order, so it maps dimensions one to
one when only unit dimensions differ, and otherwise goes through the flat
offset.
"""

from __future__ import annotations

from ..ttir import Unsupported
from .emit import ZERO, Ix, flat, handles, strides


@handles("tt.get_program_id")
def program_id(em, op):
    axis = op.words[0] if op.words else "xyz"[op.attrs.get("axis", 0)]
    em.line(f"int32_t {em.name(op.results[0])} = pid_{axis};")


@handles("tt.get_num_programs")
def num_programs(em, op):
    axis = op.words[0] if op.words else "xyz"[op.attrs.get("axis", 0)]
    em.line(f"int32_t {em.name(op.results[0])} = num_{axis};")


@handles("tt.make_range")
def make_range(em, op):
    start = op.attrs.get("start", 0)
    em.assign(op.results[0], lambda ix: f"(int32_t)({start} + {ix[0]})", temp=False)


@handles("tt.splat")
def splat(em, op):
    em.assign(op.results[0], lambda ix: em.at(op.operands[0]))


def _view(em, op, mapping):
    src = op.operands[0]
    em.assign(op.results[0], lambda ix: em.at(src, mapping(ix)), temp=False)


@handles("tt.expand_dims")
def expand_dims(em, op):
    axis = op.attrs["axis"]
    _view(em, op, lambda ix: ix[:axis] + ix[axis + 1:])


@handles("tt.broadcast")
def broadcast(em, op):
    src = op.operands[0].type.shape
    _view(em, op, lambda ix: tuple(ZERO if d == 1 else i for i, d in zip(ix, src)))


@handles("tt.reshape")
def reshape(em, op):
    src, dst = op.operands[0].type.shape, op.results[0].type.shape
    if [d for d in src if d != 1] == [d for d in dst if d != 1]:
        def mapping(ix):
            it = iter(i for i, d in zip(ix, dst) if d != 1)
            return tuple(next(it) if d != 1 else ZERO for d in src)
    else:
        def mapping(ix):
            f = flat(ix, dst)
            return tuple(ZERO if d == 1 else Ix(f"(({f}) / {s} % {d})", d) for d, s in zip(src, strides(src)))
    _view(em, op, mapping)


@handles("tt.trans")
def trans(em, op):
    perm = em.trans_order(op)

    def mapping(ix):  # result dim k is source dim perm[k]
        out = [ZERO] * len(ix)
        for k, p in enumerate(perm):
            out[p] = ix[k]
        return tuple(out)
    _view(em, op, mapping)


@handles("llvm.intr.assume")
def assume(em, op):
    pass  # a hint for the optimiser; nothing to check


@handles("tt.join", "tt.split", "tt.cat", "tt.gather", "tt.histogram", "tt.descriptor_load",
         "tt.descriptor_store", "tt.make_tensor_descriptor", "tt.make_tensor_ptr", "tt.advance")
def unsupported(em, op):
    raise Unsupported(op.name)
