"""Inductor's reductions computed with numpy, with its helpers' semantics.

Triton's interpreter reduces with numpy only for ``tl.sum``/``tl.max``/...;
any other combine function runs element by element in Python (about 0.1 s
per 1024 elements).  Inductor reduces through its own helpers
(``triton_helpers.max2`` combines with ``maximum``, argmax with
``maximum_with_index``, var/mean with ``welford_combine``), so
:func:`reduce` replaces ``tl.reduce`` by one that recognises those
combine functions and computes them with numpy, with the helpers' semantics
(NaN propagates, ties go to the smallest index).  Any other combine function
takes Triton's own path.
"""

from __future__ import annotations

import numpy as np
import triton.language as tl
from triton.runtime import interpreter as interp

from .jit_helpers import interpretable


def _nan_max(x, axis):
    return np.max(x, axis=axis)  # np.max propagates NaN, as triton_helpers.maximum does


def _nan_min(x, axis):
    return np.min(x, axis=axis)


def _arg_reduce(pick):
    def reduce(values, index, axis):
        best = pick(values, axis)
        hit = values == np.expand_dims(best, axis)
        if values.dtype.kind == "f":
            hit |= np.isnan(values) & np.expand_dims(np.isnan(best), axis)
        big = np.iinfo(index.dtype).max
        return best, np.where(hit, index, big).min(axis=axis)

    return reduce


def _welford(mean, m2, weight, axis):
    total = weight.sum(axis=axis)
    safe = np.where(total == 0, 1, total)
    new_mean = np.where(total == 0, 0, (mean * weight).sum(axis=axis) / safe)
    spread = weight * (mean - np.expand_dims(new_mean, axis)) ** 2
    return new_mean.astype(mean.dtype), (m2.sum(axis=axis) + spread.sum(axis=axis)).astype(m2.dtype), total


def _fast_reductions():
    from torch._inductor.runtime import triton_helpers as th

    table = {
        "maximum": lambda v, axis: (_nan_max(v, axis),),
        "minimum": lambda v, axis: (_nan_min(v, axis),),
        "_prod_accumulate": lambda v, axis: (np.prod(v, axis=axis),),
        "_any_combine": lambda v, axis: (np.any(v, axis=axis),),
        "maximum_with_index": _arg_reduce(_nan_max),
        "minimum_with_index": _arg_reduce(_nan_min),
        "welford_combine": _welford,
    }
    return {
        id(interpretable(getattr(th, name))): impl for name, impl in table.items() if hasattr(th, name)
    }


_FAST = None


def _fast_table():
    global _FAST
    if _FAST is None:
        _FAST = _fast_reductions()
    return _FAST


def language_combine_functions() -> list:
    """The language's own combine functions, which Triton's interpreter reduces with numpy."""
    std = tl.standard
    names = ("_argmin_combine_tie_break_left", "_argmin_combine_tie_break_fast", "_argmax_combine_tie_break_left",
             "_argmax_combine_tie_break_fast", "_elementwise_max", "_elementwise_min", "_sum_combine")
    return [getattr(std, n) for n in names if hasattr(std, n)]


def needs_language(combine_fn) -> bool:
    """Whether reducing with ``combine_fn`` calls it (Python over ``tl`` blocks) rather than numpy."""
    return id(combine_fn) not in _fast_table() and not any(combine_fn is f for f in language_combine_functions())


def reduce(input, axis, combine_fn, keep_dims=False, **kwargs):
    """``tl.reduce`` that computes Inductor's known combine functions with numpy.

    Any other combine function goes to the interpreter's own reduction (what
    ``tl.reduce`` is inside a launch), called directly.
    """
    impl = _fast_table().get(id(combine_fn))
    if impl is None or axis is None:
        return interp.ReduceOps(axis, combine_fn, keep_dims).apply(input)
    tensors = input if isinstance(input, tuple) else (input,)
    axis = int(axis)
    results = impl(*(t.handle.data for t in tensors), axis)
    helper = interp.ReduceOps(axis, combine_fn, keep_dims)
    out = []
    for data, t in zip(results, tensors):
        data = np.asarray(data)
        if keep_dims:
            data = np.expand_dims(data, axis)
        out.append(helper.to_tensor(data, t.dtype))
    return tuple(out) if isinstance(input, tuple) else out[0]
