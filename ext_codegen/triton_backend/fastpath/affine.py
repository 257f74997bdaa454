"""Symbolic integer and pointer blocks: index arithmetic kept as numbers.

An integer block of the form ``c + s_0*i_0 + s_1*i_1 + ...`` is kept as
:class:`Affine` (a constant and one step per axis) for as long as the kernel
only adds, subtracts, multiplies by a scalar, broadcasts, expands or casts
it; a floating-point constant block is kept as :class:`LazyFull`.  Reading
``data`` of either materialises exactly the array the interpreter would have
built.  The bounds of an affine block are computed with Python integers, so
a block is only kept symbolic while every value fits its type.
"""

from __future__ import annotations

import numpy as np
import triton.language as tl
from triton.runtime import interpreter as interp

_INT_RANGE = {
    "int32": (-(1 << 31), (1 << 31) - 1),
    "int64": (-(1 << 63), (1 << 63) - 1),
}
_PTR_RANGE = (0, (1 << 63) - 1)


def range_of(dtype) -> tuple[int, int] | None:
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
        self.lo, self.hi = bounds(self.const, self.steps, [slice(0, n) for n in self.shape])

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


def bounds(const: int, steps: dict[int, int], box) -> tuple[int, int]:
    """Smallest and largest element of an affine block over the lanes ``box`` (slices)."""
    lo = hi = const
    for axis, step in steps.items():
        first, last = step * box[axis].start, step * (box[axis].stop - 1)
        lo += min(first, last)
        hi += max(first, last)
    return lo, hi


def is_symbolic(h) -> bool:
    return isinstance(h, Affine) and h.symbolic


def fits(lo: int, hi: int, dtype) -> bool:
    rng = range_of(dtype)
    return rng is not None and rng[0] <= lo and hi <= rng[1]


def combine(lhs: Affine, rhs: Affine, sign: int, dtype) -> Affine | None:
    """``lhs + sign * rhs``, or ``None`` if its values may leave ``dtype``."""
    steps = dict(lhs.steps)
    for axis, step in rhs.steps.items():
        steps[axis] = steps.get(axis, 0) + sign * step
    out = Affine(dtype, lhs.shape, lhs.const + sign * rhs.const, steps)
    return out if fits(out.lo, out.hi, dtype) else None


def scale(block: Affine, factor: int, dtype) -> Affine | None:
    out = Affine(dtype, block.shape, block.const * factor, {k: v * factor for k, v in block.steps.items()})
    return out if fits(out.lo, out.hi, dtype) else None


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


def shape_of(h) -> tuple:
    return h.shape if isinstance(h, (Affine, LazyFull)) else h.data.shape


def np_dtype_of(h) -> np.dtype:
    if isinstance(h, LazyFull):
        return h.value.dtype
    if isinstance(h, Affine):
        return h.np_dtype()
    return h.data.dtype


def uniform(data: np.ndarray):
    """The single value of an array that repeats one element (a broadcast scalar), else ``None``."""
    if data.size == 0 or any(data.strides):
        return None
    return data.reshape(-1)[0]
