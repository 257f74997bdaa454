"""Comparisons stay boolean in the interpreter, as Triton types them (``int1``).

The interpreter casts every binary result to the left operand's dtype, so
``x == x`` on floats became a float array of 0.0/1.0, and ``(x == x) & m``
then failed in numpy.  :func:`comparisons_are_int1` wraps ``binary_op``.
"""

from __future__ import annotations

import numpy as np
import triton.language as tl
from triton.runtime import interpreter as interp

_COMPARISONS = (np.less, np.less_equal, np.greater, np.greater_equal, np.equal, np.not_equal)


def comparisons_are_int1(original):
    """Wrap ``binary_op`` so that a comparison's result is a boolean ``int1`` block."""

    def binary_op(builder, lhs, rhs, op):
        out = original(builder, lhs, rhs, op)
        if op in _COMPARISONS:
            return interp.TensorHandle(out.data.astype(bool, copy=False), tl.int1)
        return out

    return binary_op
