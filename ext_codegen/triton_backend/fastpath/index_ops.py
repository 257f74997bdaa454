"""The interpreter's builder methods for index arithmetic, kept symbolic where exact.

Each function wraps one ``InterpreterBuilder`` method: ``tl.arange``,
``tl.full``/splat, ``[:, None]``, broadcasts, ``+ - *`` and comparisons
whose result the bounds decide, ``tl.where`` on a uniform condition, integer
casts, bitcasts and pointer offsets.  Given :class:`.affine.Affine` operands
they return one; given anything else, or whenever a result could leave its
type's range, they call the original method.
"""

from __future__ import annotations

import numpy as np
import triton.language as tl
from triton.runtime import interpreter as interp

from .affine import Affine, LazyFull, combine, fits, is_symbolic, np_dtype_of, range_of, scale, shape_of, uniform


def _scalar_of(handle) -> int | None:
    data = handle.data
    if data.size != 1:
        return None
    return int(data.reshape(-1)[0])


def _splat(original):
    def create_splat(builder, ret_ty, arg):
        dtype = arg.dtype if isinstance(arg.dtype, tl.pointer_type) else arg.dtype.scalar
        if arg.data.size != 1:
            return original(builder, ret_ty, arg)
        if range_of(dtype) is not None:
            return Affine(dtype, ret_ty.shape, _scalar_of(arg), {})
        if dtype.is_floating():
            # filled (when read) as a C-order array, as before: numpy follows its operands'
            # memory order, and the order of a later floating-point sum must not change
            value = np.asarray(arg.data).reshape(()).astype(interp._get_np_dtype(arg.dtype))[()]
            return LazyFull(dtype, tuple(ret_ty.shape), value)
        # booleans and other integers (exact whatever the order): a read-only
        # broadcast view, as ``create_broadcast`` returns, not a filled copy
        value = np.asarray(arg.data).reshape(()).astype(interp._get_np_dtype(arg.dtype))
        return interp.TensorHandle(np.broadcast_to(value, tuple(ret_ty.shape)), dtype)

    return create_splat


def _make_range(original):
    def create_make_range(builder, ret_ty, start, stop):
        start, stop = int(start), int(stop)
        if stop - start < 1 or not fits(start, stop - 1, tl.int32):
            return original(builder, ret_ty, start, stop)
        return Affine(tl.int32, (stop - start,), start, {0: 1})

    return create_make_range


def _expand_dims(original):
    def create_expand_dims(builder, arg, axis):
        if not is_symbolic(arg):
            return original(builder, arg, axis)
        ndim = len(arg.shape)
        axis = int(axis)
        if axis < 0:
            axis += ndim + 1
        shape = arg.shape[:axis] + (1,) + arg.shape[axis:]
        steps = {(k if k < axis else k + 1): v for k, v in arg.steps.items()}
        return Affine(arg.dtype, shape, arg.const, steps)

    return create_expand_dims


def _broadcast(original):
    def create_broadcast(builder, arg, shape):
        shape = tuple(int(s) for s in shape)
        if not is_symbolic(arg) or len(shape) != len(arg.shape):
            return original(builder, arg, shape)
        for have, want in zip(arg.shape, shape):
            if have != want and have != 1:
                return original(builder, arg, shape)
        return Affine(arg.dtype, shape, arg.const, arg.steps)

    return create_broadcast


_ORDER = {
    np.less: lambda a, b: (a.hi < b.lo, a.lo >= b.hi),
    np.less_equal: lambda a, b: (a.hi <= b.lo, a.lo > b.hi),
    np.greater: lambda a, b: (a.lo > b.hi, a.hi <= b.lo),
    np.greater_equal: lambda a, b: (a.lo >= b.hi, a.hi < b.lo),
}


def _logical(lhs, rhs, op):
    """``&``/``|`` of two boolean blocks where one is a broadcast constant, without a full pass."""
    if isinstance(lhs, Affine) or isinstance(rhs, Affine):
        return None
    a, b = lhs.data, rhs.data
    if a.dtype != np.bool_ or b.dtype != np.bool_ or a.shape != b.shape:
        return None
    for const, other in ((uniform(a), rhs), (uniform(b), lhs)):
        if const is None:
            continue
        keep = bool(const) if op is np.bitwise_and else not bool(const)
        if keep:
            return interp.TensorHandle(other.data, tl.int1)
        return interp.TensorHandle(np.broadcast_to(np.bool_(const), a.shape), tl.int1)
    return None


def _binary(original):
    def binary_op(builder, lhs, rhs, op):
        if op is np.bitwise_and or op is np.bitwise_or:
            out = _logical(lhs, rhs, op)
            if out is not None:
                return out
        if is_symbolic(lhs) and is_symbolic(rhs) and lhs.shape == rhs.shape and lhs.dtype == rhs.dtype \
                and not isinstance(lhs.dtype, tl.pointer_type):
            out = None
            if op is np.add:
                out = combine(lhs, rhs, 1, lhs.dtype)
            elif op is np.subtract:
                out = combine(lhs, rhs, -1, lhs.dtype)
            elif op is np.multiply:
                if rhs.scalar_value() is not None:
                    out = scale(lhs, rhs.scalar_value(), lhs.dtype)
                elif lhs.scalar_value() is not None:
                    out = scale(rhs, lhs.scalar_value(), lhs.dtype)
            elif op in _ORDER:
                always, never = _ORDER[op](lhs, rhs)
                if always or never:
                    return interp.TensorHandle(np.broadcast_to(np.bool_(always), lhs.shape), tl.int1)
            if out is not None:
                return out
        return original(builder, lhs, rhs, op)

    return binary_op


def _select(original):
    """``tl.where`` whose condition is one broadcast value: the chosen operand, no full pass.

    Only when the chosen array is already C-contiguous and of the result's
    shape, i.e. exactly what ``numpy.where`` would have returned: a later
    reduction then sees the same memory layout, and sums in the same order.
    """

    def ternary_op(builder, cond, lhs, rhs, op):
        if op is np.where and not isinstance(cond, (Affine, LazyFull)):
            c = cond.data
            pick = uniform(c) if c.dtype == np.bool_ else None
            if pick is not None:
                chosen = (lhs if pick else rhs).data  # the other operand is never read
                shape = np.broadcast_shapes(c.shape, shape_of(lhs), shape_of(rhs))
                if np_dtype_of(lhs) == np_dtype_of(rhs) == np.dtype(interp._get_np_dtype(rhs.dtype.scalar)) \
                        and chosen.flags.c_contiguous and chosen.shape == shape:
                    return interp.TensorHandle(chosen, rhs.dtype.scalar)
        return original(builder, cond, lhs, rhs, op)

    return ternary_op


def _int_cast(original):
    def cast_impl(builder, src, dst_type):
        dst = dst_type.scalar
        if is_symbolic(src) and range_of(src.dtype) is not None and not isinstance(src.dtype, tl.pointer_type) \
                and range_of(dst) is not None and not isinstance(dst, tl.pointer_type) and fits(src.lo, src.hi, dst):
            return Affine(dst, src.shape, src.const, src.steps)
        return original(builder, src, dst_type)

    return cast_impl


def _bitcast(original):
    def create_bitcast(builder, src, dst_type):
        dst = dst_type.scalar if not isinstance(dst_type, tl.pointer_type) else dst_type
        if is_symbolic(src) and isinstance(src.dtype, tl.pointer_type) and isinstance(dst, tl.pointer_type):
            return Affine(dst, src.shape, src.const, src.steps)
        return original(builder, src, dst_type)

    return create_bitcast


def _element_size(ptr_dtype) -> int:
    return max(1, ptr_dtype.element_ty.primitive_bitwidth // 8)


def _addptr(original):
    def create_addptr(builder, ptr, offset):
        if is_symbolic(ptr) and is_symbolic(offset) and ptr.shape == offset.shape \
                and isinstance(ptr.dtype, tl.pointer_type) and not isinstance(offset.dtype, tl.pointer_type):
            scaled = scale(offset, _element_size(ptr.dtype), tl.int64)
            if scaled is not None:
                out = combine(ptr, scaled, 1, ptr.dtype)
                if out is not None:
                    return out
        return original(builder, ptr, offset)

    return create_addptr


#: Builder method name -> wrapper, installed for one launch by :func:`ext_codegen.triton_backend.fastpath.install`.
WRAPPERS = {
    "create_splat": _splat,
    "create_make_range": _make_range,
    "create_expand_dims": _expand_dims,
    "create_broadcast": _broadcast,
    "binary_op": _binary,
    "ternary_op": _select,
    "cast_impl": _int_cast,
    "create_bitcast": _bitcast,
    "create_addptr": _addptr,
}
