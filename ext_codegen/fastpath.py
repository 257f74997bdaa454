"""Index arithmetic kept symbolic, loads and stores as numpy copies.

Profiling the interpreter on Inductor's kernels shows that much of a kernel's
time goes into addresses, not into the values it computes: for
``tl.load(in_ptr0 + (r0_1 + 1024*x0), ...)`` Triton's interpreter
materialises ``r0_1 + 1024*x0`` as a full ``[XBLOCK, R0_BLOCK]`` array (and,
for its overflow check, again in 64 bits), turns it into an array of absolute
addresses, and then copies element by element from those addresses in C++.

This module keeps an integer block of the form ``c + s_0*i_0 + s_1*i_1 + ...``
(``Affine``: a constant and one step per axis; ``xindex`` is
``xoffset + 1*i_0``, ``r0_1 + 1024*x0`` is ``1024*i_0 + 1*i_1``) in that form
for as long as the kernel only adds, subtracts, multiplies by a scalar,
broadcasts, expands, casts it or compares it with a result its bounds decide.
A pointer block of that form is a strided numpy view of the buffer it points
into: the load is a numpy copy, the store a numpy assignment.  Any other use
of such a block asks for its ``data`` and gets exactly the array the
interpreter would have computed, so whatever the module does not understand
runs as before.

Every shortcut is exact or not taken:

* A symbolic block is only created when its smallest and largest values
  (computed from the constant and the steps with Python integers) fit its
  integer type, so no wrap-around is ever skipped.
* A view is only made when the whole block of addresses, masked lanes
  included, lies inside one of the launch's tensor arguments (or, for a ragged
  tail, the box around the lanes the mask selects does); masked lanes are then
  read and discarded but never written.  Otherwise the addresses the mask
  selects are gathered with ``numpy.take`` from the argument that holds all of
  them, or, if no argument does, Triton's own load runs.
* Stores through a view require that no two lanes share an address.
* Loaded blocks and floating-point constants are C-ordered arrays, as
  Triton's are: numpy adds in an order that follows memory layout, so a later
  ``tl.sum`` sees the layout it saw before.

Nothing here runs on a GPU: the module is installed only inside
:func:`ext_codegen.interpreter.launch`, through its per-launch patch scope.
"""
from __future__ import annotations

import ctypes
import dataclasses
import sys
from typing import Any

import numpy as np
import torch

from . import compat

tl = compat.triton_language()
interp = compat.triton_interpreter()

# ---------------------------------------------------------------- symbolic blocks

_INT_RANGE = {
    "int32": (-(1 << 31), (1 << 31) - 1),
    "int64": (-(1 << 63), (1 << 63) - 1),
}
_PTR_RANGE = (0, (1 << 63) - 1)


def _range_of(dtype) -> tuple[int, int] | None:
    """Representable range of a dtype this module tracks symbolically, else ``None``."""
    if isinstance(dtype, tl.pointer_type):
        return _PTR_RANGE
    return _INT_RANGE.get(getattr(dtype, "name", None))


class Affine(interp.TensorHandle):
    """An int32/int64 or pointer block ``const + sum(steps[k] * i_k)``, kept as numbers.

    ``steps`` maps an axis to the step along it (axes of extent one and steps
    of zero are dropped).  ``lo`` and ``hi`` are the smallest and largest
    element.  ``data``, which the rest of the interpreter reads, materialises
    exactly the array the interpreter would have built (and caches it).
    """

    def __init__(self, dtype, shape, const: int, steps: dict[int, int]):
        # TensorHandle's dataclass __init__ would need ``data``; set its fields by hand.
        self.dtype = dtype
        self.attr = {}
        self.shape = tuple(int(n) for n in shape)
        self._data = None
        self.const = int(const)
        self.steps = {k: int(v) for k, v in steps.items() if v and self.shape[k] > 1}
        self.lo, self.hi = _bounds(self.const, self.steps, [slice(0, n) for n in self.shape])

    @property
    def data(self):
        if self._data is None:
            self._data = self._materialise()
        return self._data

    @data.setter
    def data(self, value):  # nothing in the interpreter does this; stay correct if something does
        self._data = value
        self.steps = None

    @property
    def symbolic(self) -> bool:
        return self.steps is not None

    def np_dtype(self):
        if isinstance(self.dtype, tl.pointer_type):
            return np.dtype(np.uint64)
        return np.dtype(interp._get_np_dtype(self.dtype))

    def _materialise(self) -> np.ndarray:
        ndim = len(self.shape)
        total = np.array(self.const, dtype=np.int64).reshape((1,) * ndim)
        if not self.steps:
            return np.broadcast_to(total.astype(self.np_dtype()), self.shape)
        for axis, step in self.steps.items():
            view = [1] * ndim
            view[axis] = -1
            total = total + np.arange(0, step * self.shape[axis], step, dtype=np.int64).reshape(view)
        return np.broadcast_to(total, self.shape).astype(self.np_dtype())

    def scalar_value(self) -> int | None:
        return self.const if self.symbolic and not self.steps else None


def _bounds(const: int, steps: dict[int, int], box) -> tuple[int, int]:
    """Smallest and largest element of an affine block over the lanes ``box`` (slices)."""
    lo = hi = const
    for axis, step in steps.items():
        first, last = step * box[axis].start, step * (box[axis].stop - 1)
        lo += min(first, last)
        hi += max(first, last)
    return lo, hi


def _is_symbolic(h) -> bool:
    return isinstance(h, Affine) and h.symbolic


def _fits(lo: int, hi: int, dtype) -> bool:
    rng = _range_of(dtype)
    return rng is not None and rng[0] <= lo and hi <= rng[1]


def _combine(lhs: Affine, rhs: Affine, sign: int, dtype) -> Affine | None:
    """``lhs + sign * rhs``, or ``None`` if its values may leave ``dtype``."""
    steps = dict(lhs.steps)
    for axis, step in rhs.steps.items():
        steps[axis] = steps.get(axis, 0) + sign * step
    out = Affine(dtype, lhs.shape, lhs.const + sign * rhs.const, steps)
    return out if _fits(out.lo, out.hi, dtype) else None


def _scale(block: Affine, factor: int, dtype) -> Affine | None:
    out = Affine(dtype, block.shape, block.const * factor, {k: v * factor for k, v in block.steps.items()})
    return out if _fits(out.lo, out.hi, dtype) else None


class LazyFull(interp.TensorHandle):
    """A floating-point constant block, filled only when something reads ``data``.

    What it fills is the interpreter's own ``numpy.full`` (a C-ordered array, so
    numpy's summation order downstream is unchanged); a ``tl.where`` that
    discards it, or a load that uses it as ``other``, never fills it.
    """

    def __init__(self, dtype, shape, value):
        self.dtype = dtype
        self.attr = {}
        self.shape = tuple(int(n) for n in shape)
        self.value = value  # a numpy scalar of the block's numpy dtype
        self._data = None

    @property
    def data(self):
        if self._data is None:
            self._data = np.full(self.shape, self.value, dtype=self.value.dtype)
        return self._data

    @data.setter
    def data(self, value):
        self._data = value


def _shape_of(h) -> tuple:
    return h.shape if isinstance(h, (Affine, LazyFull)) else h.data.shape


def _np_dtype_of(h) -> np.dtype:
    if isinstance(h, LazyFull):
        return h.value.dtype
    if isinstance(h, Affine):
        return h.np_dtype()
    return h.data.dtype


# ---------------------------------------------------------------- builder methods

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
        if _range_of(dtype) is not None:
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
        if stop - start < 1 or not _fits(start, stop - 1, tl.int32):
            return original(builder, ret_ty, start, stop)
        return Affine(tl.int32, (stop - start,), start, {0: 1})

    return create_make_range


def _expand_dims(original):
    def create_expand_dims(builder, arg, axis):
        if not _is_symbolic(arg):
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
        if not _is_symbolic(arg) or len(shape) != len(arg.shape):
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


def _uniform(data: np.ndarray):
    """The single value of an array that repeats one element (a broadcast scalar), else ``None``."""
    if data.size == 0 or any(data.strides):
        return None
    return data.reshape(-1)[0]


def _logical(lhs, rhs, op):
    """``&``/``|`` of two boolean blocks where one is a broadcast constant, without a full pass."""
    if isinstance(lhs, Affine) or isinstance(rhs, Affine):
        return None
    a, b = lhs.data, rhs.data
    if a.dtype != np.bool_ or b.dtype != np.bool_ or a.shape != b.shape:
        return None
    for const, other in ((_uniform(a), rhs), (_uniform(b), lhs)):
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
        if _is_symbolic(lhs) and _is_symbolic(rhs) and lhs.shape == rhs.shape and lhs.dtype == rhs.dtype \
                and not isinstance(lhs.dtype, tl.pointer_type):
            out = None
            if op is np.add:
                out = _combine(lhs, rhs, 1, lhs.dtype)
            elif op is np.subtract:
                out = _combine(lhs, rhs, -1, lhs.dtype)
            elif op is np.multiply:
                if rhs.scalar_value() is not None:
                    out = _scale(lhs, rhs.scalar_value(), lhs.dtype)
                elif lhs.scalar_value() is not None:
                    out = _scale(rhs, lhs.scalar_value(), lhs.dtype)
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
            pick = _uniform(c) if c.dtype == np.bool_ else None
            if pick is not None:
                chosen = (lhs if pick else rhs).data  # the other operand is never read
                shape = np.broadcast_shapes(c.shape, _shape_of(lhs), _shape_of(rhs))
                if _np_dtype_of(lhs) == _np_dtype_of(rhs) == np.dtype(interp._get_np_dtype(rhs.dtype.scalar)) \
                        and chosen.flags.c_contiguous and chosen.shape == shape:
                    return interp.TensorHandle(chosen, rhs.dtype.scalar)
        return original(builder, cond, lhs, rhs, op)

    return ternary_op


def _int_cast(original):
    def cast_impl(builder, src, dst_type):
        dst = dst_type.scalar
        if _is_symbolic(src) and _range_of(src.dtype) is not None and not isinstance(src.dtype, tl.pointer_type) \
                and _range_of(dst) is not None and not isinstance(dst, tl.pointer_type) and _fits(src.lo, src.hi, dst):
            return Affine(dst, src.shape, src.const, src.steps)
        return original(builder, src, dst_type)

    return cast_impl


def _bitcast(original):
    def create_bitcast(builder, src, dst_type):
        dst = dst_type.scalar if not isinstance(dst_type, tl.pointer_type) else dst_type
        if _is_symbolic(src) and isinstance(src.dtype, tl.pointer_type) and isinstance(dst, tl.pointer_type):
            return Affine(dst, src.shape, src.const, src.steps)
        return original(builder, src, dst_type)

    return create_bitcast


def _element_size(ptr_dtype) -> int:
    return max(1, ptr_dtype.element_ty.primitive_bitwidth // 8)


def _addptr(original):
    def create_addptr(builder, ptr, offset):
        if _is_symbolic(ptr) and _is_symbolic(offset) and ptr.shape == offset.shape \
                and isinstance(ptr.dtype, tl.pointer_type) and not isinstance(offset.dtype, tl.pointer_type):
            scaled = _scale(offset, _element_size(ptr.dtype), tl.int64)
            if scaled is not None:
                out = _combine(ptr, scaled, 1, ptr.dtype)
                if out is not None:
                    return out
        return original(builder, ptr, offset)

    return create_addptr


# ---------------------------------------------------------------- memory

class Buffers:
    """The storages of one launch's tensor arguments, as byte arrays."""

    def __init__(self, args: dict[str, Any]) -> None:
        self.spans: list[tuple[int, int, np.ndarray]] = []
        seen = set()
        for value in args.values():
            storage = getattr(value, "untyped_storage", None)
            if storage is None or getattr(value, "device", None) is None or value.device.type != "cpu":
                continue
            st = storage()
            start, nbytes = st.data_ptr(), st.nbytes()
            if nbytes == 0 or start in seen:
                continue
            seen.add(start)
            raw = (ctypes.c_uint8 * nbytes).from_address(start)
            self.spans.append((start, start + nbytes, np.frombuffer(raw, dtype=np.uint8)))

    def find(self, lo: int, end: int):
        """The byte array holding ``[lo, end)`` and its start address, or ``None``."""
        for start, stop, arr in self.spans:
            if start <= lo and end <= stop:
                return start, arr
        return None


_buffers: Buffers | None = None

#: How each load and store ran since import: ``view`` (a strided numpy view),
#: ``gather`` (``numpy.take``/indexed assignment) or ``triton`` (Triton's own).
stats = {"load_view": 0, "load_gather": 0, "load_triton": 0,
         "store_view": 0, "store_gather": 0, "store_triton": 0}


_EMPTY = "empty"


def _box_view(ptrs: Affine, dtype: np.dtype, box: tuple[slice, ...]):
    """A numpy view of the lanes ``box`` of an affine pointer block, if one argument holds them all."""
    lo, hi = _bounds(ptrs.const, ptrs.steps, box)
    found = _buffers.find(lo, hi + dtype.itemsize)
    if found is None:
        return None
    start, arr = found
    first = ptrs.const + sum(step * box[axis].start for axis, step in ptrs.steps.items())
    shape = tuple(s.stop - s.start for s in box)
    strides = tuple(ptrs.steps.get(axis, 0) for axis in range(len(shape)))
    try:
        return np.ndarray(shape, dtype=dtype, buffer=arr, offset=first - start, strides=strides)
    except (ValueError, TypeError):
        return None


def _mask_box(m: np.ndarray):
    """The smallest box of lanes (a tuple of slices) that holds every lane ``m`` selects."""
    box = []
    for axis in range(m.ndim):
        others = tuple(k for k in range(m.ndim) if k != axis)
        hit = np.flatnonzero(m.any(axis=others) if others else m)
        if hit.size == 0:
            return _EMPTY
        box.append(slice(int(hit[0]), int(hit[-1]) + 1))
    return tuple(box)


def _view(ptrs, dtype: np.dtype, m=None):
    """``(view, box)`` for an affine pointer block: a numpy view of its lanes ``box``.

    ``box`` is every lane when one argument holds the whole block; otherwise,
    given a mask, the smallest box around the lanes it selects (a ragged
    tail), or ``_EMPTY`` when it selects none.  ``(None, None)`` if neither
    works: the pointers are not affine or not inside one argument.
    """
    if _buffers is None or not _is_symbolic(ptrs):
        return None, None
    full = tuple(slice(0, n) for n in ptrs.shape)
    view = _box_view(ptrs, dtype, full)
    if view is not None or m is None:
        return view, full
    box = _mask_box(m)
    if box is _EMPTY:
        return None, _EMPTY
    return _box_view(ptrs, dtype, box), box


def _no_shared_address(view: np.ndarray) -> bool:
    extent = view.itemsize
    for n, s in sorted(((n, abs(s)) for n, s in zip(view.shape, view.strides) if n > 1), key=lambda t: t[1]):
        if s < extent:
            return False
        extent = s * (n - 1) + extent
    return True


def _torch_view(a: np.ndarray):
    """``a`` as a tensor sharing its memory, or ``None`` (negative or odd strides, dtypes torch lacks)."""
    if a.ndim == 0 or any(s < 0 or s % a.itemsize for s in a.strides):
        return None
    try:
        return torch.from_numpy(a)
    except (TypeError, ValueError, RuntimeError):
        return None


def _c_copy(view: np.ndarray) -> np.ndarray:
    """A C-ordered copy of ``view``.

    numpy copies a transposed tile element by element down its columns;
    PyTorch's copy moves blocks (five times faster on the column sum's
    tiles).  Either way the bits are the same: it is a copy.
    """
    if view.flags.c_contiguous or view.size < 4096:
        return view.copy()
    src = _torch_view(view)
    if src is None:
        return view.copy()
    out = torch.empty(view.shape, dtype=src.dtype)
    out.copy_(src)
    return out.numpy()


def _assign(view: np.ndarray, vals: np.ndarray) -> None:
    """``view[...] = vals`` (same dtype), through PyTorch's blocked copy when ``view`` is strided."""
    if not view.flags.c_contiguous and view.size >= 4096 and vals.flags.c_contiguous and vals.flags.writeable:
        dst, src = _torch_view(view), _torch_view(vals)
        if dst is not None and src is not None:
            dst.copy_(src)
            return
    np.copyto(view, vals, casting="no")


def _gather_index(ptrs, mask, itemsize: int):
    """Element indices into one argument's buffer for the lanes ``mask`` selects, or ``None``."""
    if _buffers is None:
        return None
    addr = ptrs.data
    if addr.dtype != np.uint64 or addr.size == 0:
        return None
    addr = addr.view(np.int64)
    live = addr if mask is None else addr[mask]
    if live.size == 0:
        return None
    lo, hi = int(live.min()), int(live.max())
    found = _buffers.find(lo, hi + itemsize)
    if found is None:
        return None
    start, arr = found
    if start % itemsize:
        return None
    offsets = addr - start
    if mask is not None:
        offsets = np.where(mask, offsets, 0)
    if itemsize > 1 and (offsets & (itemsize - 1)).any():
        return None
    typed = arr[: arr.size - arr.size % itemsize]
    return typed, offsets >> (itemsize.bit_length() - 1)


def _mask_data(mask):
    """``None`` when every lane is on, else the boolean array."""
    if mask is None:
        return None
    data = mask.data
    if data.dtype != np.bool_:
        return "unsupported"
    const = _uniform(data)
    if const is not None:
        return None if const else data
    return None if data.all() else data


def _other_data(other, dtype):
    if other is None:
        return dtype.type(0)
    if _is_symbolic(other) and not other.steps:
        return np.array(other.const).astype(dtype)
    if isinstance(other, LazyFull) and other._data is None:
        return np.asarray(other.value, dtype=dtype)
    return other.data


def fast_load(ptrs, mask, other):
    """The loaded ``TensorHandle``, or ``None`` to leave the load to Triton."""
    if not isinstance(ptrs.dtype, tl.pointer_type):
        return None
    elem = ptrs.get_element_ty()
    dtype = np.dtype(interp._get_np_dtype(elem))
    if dtype.itemsize & (dtype.itemsize - 1):
        return None
    m = _mask_data(mask)
    if isinstance(m, str):
        return None
    view, box = _view(ptrs, dtype, m)
    if box is _EMPTY or view is not None:
        fill = _other_data(other, dtype)
        if m is None:
            out = _c_copy(view)
        elif box is _EMPTY:
            out = np.empty(ptrs.shape, dtype)
            out[...] = fill
        elif view.shape == ptrs.shape:
            out = np.where(m, view, fill)
        else:  # a ragged block: read the box around the live lanes, the rest is ``other``
            out = np.empty(ptrs.shape, dtype)
            out[...] = fill
            out[box] = np.where(m[box], view, out[box])
        stats["load_view"] += 1
        # C order, as Triton's load returns: later reductions sum in the same order
        return interp.TensorHandle(np.ascontiguousarray(out, dtype=dtype), elem)
    found = _gather_index(ptrs, m, dtype.itemsize)
    if found is None:
        return None
    raw, index = found
    values = raw.view(dtype).take(index)
    if m is not None:
        values = np.where(m, values, _other_data(other, dtype))
    stats["load_gather"] += 1
    return interp.TensorHandle(np.ascontiguousarray(values, dtype=dtype).reshape(ptrs.data.shape), elem)


def fast_store(ptrs, value, mask) -> bool:
    """Store and return ``True``, or return ``False`` to leave the store to Triton."""
    if not isinstance(ptrs.dtype, tl.pointer_type):
        return False
    vals = value.data
    if vals.itemsize & (vals.itemsize - 1):
        return False
    m = _mask_data(mask)
    if isinstance(m, str):
        return False
    view, box = _view(ptrs, vals.dtype, m)
    if box is _EMPTY:
        stats["store_view"] += 1
        return True
    if view is not None and _no_shared_address(view):
        if vals.shape != ptrs.shape:
            vals = np.broadcast_to(vals, ptrs.shape)
        if m is None:
            _assign(view, vals)
        else:
            np.copyto(view, vals[box], casting="no", where=m[box])
        stats["store_view"] += 1
        return True
    addr_shape = ptrs.data.shape
    if vals.shape != addr_shape:
        try:
            vals = np.broadcast_to(vals, addr_shape)
        except ValueError:
            return False
    found = _gather_index(ptrs, m, vals.itemsize)
    if found is None:
        return False
    raw, index = found
    target = raw.view(vals.dtype)
    if m is None:
        target[index.reshape(-1)] = vals.reshape(-1)
    else:
        target[index[m]] = vals[m]
    stats["store_gather"] += 1
    return True


def _load(original):
    def create_masked_load(builder, ptrs, mask, other, *rest, **kwargs):
        out = fast_load(ptrs, mask, other)
        if out is not None:
            return out
        stats["load_triton"] += 1
        return original(builder, ptrs, mask, other, *rest, **kwargs)

    return create_masked_load


def _load_unmasked(original):
    def create_load(builder, ptr, *rest, **kwargs):
        out = fast_load(ptr, None, None)
        # Triton's create_load goes through create_masked_load, which counts it
        return out if out is not None else original(builder, ptr, *rest, **kwargs)

    return create_load


def _store(original):
    def create_masked_store(builder, ptrs, value, mask, *rest, **kwargs):
        if not fast_store(ptrs, value, mask):
            stats["store_triton"] += 1
            return original(builder, ptrs, value, mask, *rest, **kwargs)

    return create_masked_store


def _store_unmasked(original):
    def create_store(builder, ptr, value, *rest, **kwargs):
        if not fast_store(ptr, value, None):  # counted in create_masked_store
            return original(builder, ptr, value, *rest, **kwargs)

    return create_store


_WRAPPERS = {
    "create_splat": _splat,
    "create_make_range": _make_range,
    "create_expand_dims": _expand_dims,
    "create_broadcast": _broadcast,
    "binary_op": _binary,
    "ternary_op": _select,
    "cast_impl": _int_cast,
    "create_bitcast": _bitcast,
    "create_addptr": _addptr,
    "create_masked_load": _load,
    "create_load": _load_unmasked,
    "create_masked_store": _store,
    "create_store": _store_unmasked,
}

#: Switch for tests and for measuring what the fast paths bring.
ENABLED = True


def install(scope, builder, args: dict[str, Any]) -> None:
    """Install the fast paths on the interpreter's builder for one launch (``scope`` restores all)."""
    if not ENABLED:
        return
    cls = type(builder)
    for name, wrap in _WRAPPERS.items():
        scope.set_attr(cls, name, wrap(getattr(cls, name)))
    scope.set_attr(sys.modules[__name__], "_buffers", Buffers(args))
    if not builder.options.debug and builder.options.sanitize_overflow:
        # Triton's integer-overflow check ends in ``device_assert``, which does
        # nothing unless ``debug`` is set: without it the check is dead code,
        # computed on full blocks for every integer +, - and *.
        scope.set_attr(builder, "options", dataclasses.replace(builder.options, sanitize_overflow=False))
