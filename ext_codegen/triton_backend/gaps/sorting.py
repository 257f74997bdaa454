"""Inductor's ``sort_with_index`` as one numpy sort instead of a bitonic network.

``torch.sort`` compiles to ``triton_helpers.sort_with_index(values, indices,
rnumel, dim, stable, descending)``, a bitonic merge sort: log2(n)·(log2(n)+1)/2
rounds of compare-and-swap, each some twenty interpreted ``tl`` operations on
the whole block (0.14 s for a 64×512 block).  :func:`sort_with_index` gives
the same order with one ``numpy.lexsort`` along the last axis, with the
helper's rules:

* lanes whose index is not below ``rnumel`` (padding) go after every valid
  lane;
* NaN sorts above every number (last ascending, first descending), NaNs equal
  among themselves; ``-0.0`` equals ``0.0``;
* ties keep index order.  The helper promises that only when ``stable`` is
  set (its unstable network leaves ties in whatever order the rounds leave
  them); here ties are always in index order, which is a valid unstable
  order too, and the one eager PyTorch's CPU sort gives.

It is installed for a launch in place of the interpreted helper (the kernel
reaches it through the interpreted ``triton_helpers`` module of
:mod:`.jit_helpers`).
"""

from __future__ import annotations

import numpy as np
import triton.language as tl

from .dtypes import to_block
from .jit_helpers import interpretable


def _ranks(values: np.ndarray) -> np.ndarray:
    """Each value's position among the distinct values (equal values, NaNs included, share one; NaN is last)."""
    flat = values.reshape(-1)
    if flat.dtype == np.bool_:
        return flat.astype(np.int64).reshape(values.shape)
    _, inverse = np.unique(flat, return_inverse=True)
    return inverse.reshape(values.shape)


def _numpy_sort(x: np.ndarray, idx: np.ndarray, rnumel, descending: bool) -> np.ndarray:
    """The permutation along the last axis that the helper's network produces (ties by index)."""
    rank = _ranks(x)
    key = -rank if descending else rank
    padding = np.zeros(x.shape, dtype=np.int8) if rnumel is None else (idx >= rnumel).astype(np.int8)
    return np.lexsort((idx, key, padding), axis=-1)


def _scalar(value) -> int:
    """An ``int`` from a Python number or a one-element ``tl.tensor`` (``rnumel`` is either)."""
    if isinstance(value, tl.core.tensor):
        return int(value.handle.data.reshape(-1)[0])
    return int(getattr(value, "value", value))


#: Set to ``False`` to run the helper's own bitonic network (the tests compare the two).
ENABLED = True


def install(scope) -> None:
    """Let the kernels of one launch reach :func:`sort_with_index` through ``triton_helpers``."""
    if not ENABLED:
        return
    from torch._inductor.runtime import triton_helpers

    scope.set_attr(interpretable(triton_helpers), "sort_with_index", sort_with_index)


def sort_with_index(x, idxs, rnumel, dim=None, stable=False, descending=False):
    """Sort ``x`` along its last axis carrying ``idxs``: the helper's result, computed by numpy."""
    # numpy alone (no ``tl`` call): a replayed launch runs it without the language patch
    values, indices = (np.ascontiguousarray(a) for a in np.broadcast_arrays(x.handle.data, idxs.handle.data))
    ndim = values.ndim
    dim = ndim - 1 if dim is None else int(getattr(dim, "value", dim))
    if dim != ndim - 1:
        raise ValueError("sort_with_index sorts along the last dimension only")
    limit = None if rnumel is None else _scalar(rnumel)
    order = _numpy_sort(values, indices, limit, bool(getattr(descending, "value", descending)))
    return (to_block(np.take_along_axis(values, order, axis=-1), x.dtype),
            to_block(np.take_along_axis(indices, order, axis=-1), idxs.dtype))
