"""bfloat16 in the interpreter: casts that round as eager does, arithmetic on values, constants.

The interpreter keeps bf16 blocks as raw 16-bit patterns (see
:mod:`.dtypes`).  Out of the box it then converts other dtypes to bf16 with
a plain integer cast (a silently wrong value), adds and compares the bit
patterns as integers, and cannot create a bf16 constant at all
(``InterpreterBuilder has no get_bf16``).  Three builder methods close the
gap: :func:`cast` (``cast_impl``), :func:`bf16_arithmetic` (around
``binary_op``, ``unary_op``, ``ternary_op``, ``create_fma``) and
:func:`get_bf16`.
"""

from __future__ import annotations

import numpy as np
import torch
import triton.language as tl
from triton.runtime import interpreter as interp

from .dtypes import to_numpy, to_torch, torch_dtype

_original_cast = interp.InterpreterBuilder.cast_impl

#: The builder methods :func:`bf16_arithmetic` wraps.
ARITHMETIC = ("binary_op", "unary_op", "ternary_op", "create_fma")


def cast(builder, src, dst_type):
    """Replacement for ``InterpreterBuilder.cast_impl``: convert as eager does.

    numpy's ``astype`` rounds and truncates as PyTorch does for the dtypes
    both know; bf16, which numpy lacks, goes through ``torch.Tensor.to``.
    """
    dst = dst_type.scalar
    src_t, dst_t = torch_dtype(src.dtype.scalar), torch_dtype(dst)
    if src_t is None or dst_t is None:  # fp8 and friends: Triton's own path
        return _original_cast(builder, src, dst_type)
    if src_t == dst_t:
        return interp.TensorHandle(src.data, dst)
    if torch.bfloat16 in (src_t, dst_t):
        out = to_numpy(to_torch(src.data, src.dtype.scalar).to(dst_t), dst)
    else:
        out = src.data.astype(interp._get_np_dtype(dst))
    return interp.TensorHandle(out, dst)


def is_bf16(handle) -> bool:
    return getattr(handle.dtype, "scalar", None) is not None and handle.dtype.scalar.name == "bf16"


def _bf16_to_f32(handle):
    if is_bf16(handle):
        return interp.TensorHandle(to_torch(handle.data, tl.bfloat16).float().numpy(), tl.float32)
    return handle


def bf16_arithmetic(original):
    """Wrap an ``InterpreterBuilder`` operator so bf16 operands are computed, not bit-mangled.

    bf16 operands are widened to float32, the operator runs, and a floating
    result is rounded back to bf16, as a GPU's bf16 arithmetic does.
    """

    def op(builder, *handles, **kwargs):
        if not any(isinstance(h, interp.TensorHandle) and is_bf16(h) for h in handles):
            return original(builder, *handles, **kwargs)
        wide = [_bf16_to_f32(h) if isinstance(h, interp.TensorHandle) else h for h in handles]
        out = original(builder, *wide, **kwargs)
        if out.data.dtype.kind == "f":
            rounded = torch.from_numpy(np.ascontiguousarray(out.data, dtype=np.float32)).to(torch.bfloat16)
            return interp.TensorHandle(to_numpy(rounded, tl.bfloat16), tl.bfloat16)
        return out

    return op


def get_bf16(builder, value):
    """``InterpreterBuilder.get_bf16``, which Triton's interpreter lacks: a bf16 constant, rounded."""
    bits = torch.tensor([value], dtype=torch.float64).to(torch.bfloat16)
    return interp.TensorHandle(to_numpy(bits, tl.bfloat16), tl.bfloat16)
