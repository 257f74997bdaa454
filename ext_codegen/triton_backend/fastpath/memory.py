"""Loads and stores as numpy views of the launch's tensor arguments.

A pointer block that is affine (:class:`.affine.Affine`) and lies inside one
tensor argument is a strided numpy view of that argument's memory: the load
is a numpy copy, the store a numpy assignment.  Other pointer blocks are
gathered with ``numpy.take`` from the argument that holds all the addresses
the mask selects; if no argument does, Triton's own load or store runs.
:data:`stats` counts which way each access went.
"""

from __future__ import annotations

import ctypes
from typing import Any

import numpy as np
import torch
import triton.language as tl
from triton.runtime import interpreter as interp

from ...names import HOST_DEVICES
from .affine import Affine, LazyFull, bounds, is_symbolic, uniform


class Buffers:
    """The storages of one launch's tensor arguments, as byte arrays."""

    def __init__(self, args: dict[str, Any]) -> None:
        self.spans: list[tuple[int, int, np.ndarray]] = []
        seen = set()
        for value in args.values():
            storage = getattr(value, "untyped_storage", None)
            # host memory: cpu tensors and the extdev device's (its allocator is the host's)
            if storage is None or getattr(value, "device", None) is None or value.device.type not in HOST_DEVICES:
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
    lo, hi = bounds(ptrs.const, ptrs.steps, box)
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
    if _buffers is None or not is_symbolic(ptrs):
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
    const = uniform(data)
    if const is not None:
        return None if const else data
    return None if data.all() else data


def _other_data(other, dtype):
    if other is None:
        return dtype.type(0)
    if is_symbolic(other) and not other.steps:
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


#: Builder method name -> wrapper, installed for one launch by :func:`ext_codegen.triton_backend.fastpath.install`.
WRAPPERS = {
    "create_masked_load": _load,
    "create_load": _load_unmasked,
    "create_masked_store": _store,
    "create_store": _store_unmasked,
}
