"""Atomics in the interpreter: dense operands, and bf16.

``tl.atomic_add(ptrs, 1.0)`` broadcasts the scalar with ``np.broadcast_to``
(a stride-0 view), and the interpreter's C++ ``atomic_rmw`` reads its
operands as dense arrays: every element after the first read memory past
the scalar.  :func:`dense_operands` makes them dense first.  The same C++
helper rejects bf16; :func:`bf16_atomic_rmw` does those in Python.
"""

from __future__ import annotations

import numpy as np
import torch
import triton.language as tl
from triton.runtime import interpreter as interp

from .bf16 import is_bf16
from .dtypes import to_numpy, to_torch

#: The builder methods :func:`dense_operands` wraps.
ATOMICS = ("create_atomic_rmw", "create_atomic_cas")


def dense_operands(original):
    """Wrap ``create_atomic_rmw``/``create_atomic_cas`` so the C++ helper gets dense arrays.

    Found by the conformance tool: ``max_pool2d_with_indices_backward``
    scatters a constant gradient with ``tl.atomic_add(ptrs, 1.0, mask)`` and
    got garbage where two windows overlap.
    """

    def op(builder, *args):
        dense = [
            interp.TensorHandle(np.ascontiguousarray(a.data), a.dtype) if isinstance(a, interp.TensorHandle) else a
            for a in args
        ]
        return original(builder, *dense)

    return op


def bf16_atomic_rmw(original):
    """Wrap ``create_atomic_rmw``: bf16 atomics, which the interpreter's C++ helper rejects.

    ``tl.atomic_add`` on a bf16 tensor (Inductor's ``scatter_add``, ``put``,
    ``index_put(accumulate=True)`` in bfloat16; found by the conformance tool)
    raised ``ValueError: Unsupported data type``.  One program instance runs
    at a time, so the read-modify-write is done here element by element, in
    order (repeated addresses accumulate), rounding to bf16 after each step.
    """

    def op(builder, rmw_op, ptr, val, mask, sem, scope):
        if not is_bf16(val):
            return original(builder, rmw_op, ptr, val, mask, sem, scope)
        kind = builder.ir_rmw_op_to_interpreter_rmw_op.get(rmw_op)
        combine = _BF16_RMW.get(kind)
        if combine is None:
            raise NotImplementedError(f"ext_codegen: bf16 atomic {rmw_op} in the interpreter")
        shape = ptr.data.shape
        ptrs = np.array(ptr.data, dtype=np.uint64).reshape(-1)  # a writable copy: the C++ store wants one
        values = to_torch(np.broadcast_to(val.data, shape).reshape(-1), tl.bfloat16).float()
        live = np.broadcast_to(mask.data, shape).reshape(-1)
        old = np.zeros(ptrs.shape, dtype=np.uint16)
        one, zero = np.ones(1, dtype=bool), np.zeros(1, dtype=np.uint16)
        for k in np.flatnonzero(live):
            bits = interp._interpreter.load(ptrs[k:k + 1], one, zero, np.dtype(np.uint16))
            old[k] = bits[0]
            current = to_torch(bits, tl.bfloat16).float()
            new = combine(current, values[k:k + 1]).to(torch.bfloat16)
            interp._interpreter.store(ptrs[k:k + 1], to_numpy(new, tl.bfloat16), one)
        return interp.TensorHandle(old.reshape(shape), tl.bfloat16)

    return op


_RMW = interp._interpreter.RMW_OP
_BF16_RMW = {
    _RMW.FADD: torch.add, _RMW.MAX: torch.maximum, _RMW.MIN: torch.minimum,
    _RMW.XCHG: lambda current, value: value,
}
