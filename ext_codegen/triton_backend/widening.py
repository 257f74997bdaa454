"""Block widening: fewer, wider program instances for the interpreter.

The interpreter pays a fixed cost of Python for every program instance and
for every ``tl`` operation, whatever the size of the block; Inductor sizes
blocks for GPUs.  :func:`widen_x_block` rewrites a launch of one of
Inductor's own kernels so that each program covers more of the x (and y)
range, computing each element with the same code from the same operands.
"""

from __future__ import annotations

from typing import Any

import triton.language as tl

#: How many elements one interpreted program instance may handle once its
#: x-block is widened (see :func:`widen_x_block`): Triton's own limit on the
#: size of a block (``TRITON_MAX_TENSOR_NUMEL``, 2^20), the size at which the
#: interpreter's fixed cost per program and per operation (about a
#: millisecond, and tens of microseconds) is small next to numpy's work.
ELEMENTS_PER_PROGRAM = 1 << 20

_WIDENABLE: dict[Any, dict[str, bool]] = {}

# (axis, program_id axis, block argument): the ranges of Inductor's kernels that can be widened
_AXES = (("x", 0, "XBLOCK"), ("y", 1, "YBLOCK"))


def _widenable_axes(jit_fn) -> dict[str, bool]:
    """The axes of an Inductor kernel whose range is ``program_id(i) * BLOCK``, each with
    whether the kernel masks it (``xmask = xindex < xnumel``) or not (``tl.full(..., True)``).

    An axis qualifies only if its ``program_id`` appears nowhere else in the
    kernel, so that the block is all the program index selects.
    """
    key = jit_fn
    if key not in _WIDENABLE:
        src = jit_fn.src if isinstance(getattr(jit_fn, "src", None), str) else ""
        axes = {}
        if jit_fn.__name__.startswith(("triton_poi_", "triton_per_", "triton_red_")) and "num_programs" not in src:
            for axis, pid, block in _AXES:
                if (f"{axis}offset = tl.program_id({pid}) * {block}" in src
                        and src.count(f"tl.program_id({pid})") == 1 and block in jit_fn.arg_names):
                    axes[axis] = f"{axis}mask = {axis}index < {axis}numel" in src
        _WIDENABLE[key] = axes
    return _WIDENABLE[key]


def widen_x_block(jit_fn, grid, args):
    """Fewer, wider program instances for the interpreter.

    Inductor sizes ``XBLOCK`` (and ``YBLOCK`` in tiled kernels) for GPUs
    (e.g. 1,024 elements, or 8 rows per program in a persistent reduction), and the
    interpreter pays about a millisecond of Python per program instance
    whatever its size.  For Inductor's own kernels, whose x range is
    ``program_id(0) * XBLOCK + arange(XBLOCK)``, multiplying ``XBLOCK`` by a
    power of two and dividing the grid's x extent by the same factor covers
    the same indices: each element is computed by the same code, from the same
    operands, in a different program instance, so the result is unchanged.
    Where the kernel masks the range (``xmask = xindex < xnumel``) the grid
    is rounded up and the mask trims the tail; where it does not (Inductor
    knew the block divides the size), the factor must divide the grid, or the
    last program would run past the end.  The y range of tiled kernels is
    widened the same way with what remains of the budget.  The reduction
    block (``R0_BLOCK``) is never changed: it fixes the order in which a
    looped reduction adds.  Other kernels (templates, user kernels) run as
    launched.
    """
    axes = _widenable_axes(jit_fn)
    if not axes:
        return grid, args
    elements = 1
    for name in ("XBLOCK", "YBLOCK", "R0_BLOCK", "R1_BLOCK"):
        if isinstance(args.get(name), int):
            elements *= args[name]
    for rblock, rnumel in (("R0_BLOCK", "r0_numel"), ("R1_BLOCK", "r1_numel")):
        # A persistent reduction fixes its R block inside the kernel, at the
        # next power of two of the reduction size: count it, or a widened
        # block would exceed Triton's tensor size limit.
        if rblock not in args and isinstance(args.get(rnumel), int):
            elements *= 1 << max(0, int(args[rnumel]) - 1).bit_length()
    limit = min(ELEMENTS_PER_PROGRAM, tl.core.TRITON_MAX_TENSOR_NUMEL)
    grid, args = list(grid), dict(args)
    for axis, pid, block in _AXES:
        if axis not in axes or not isinstance(args.get(block), int):
            continue
        masked, extent, factor = axes[axis], grid[pid], 1
        # masked: up to one program for the whole range; unmasked: exact divisions only
        while elements * factor * 2 <= limit and (factor < extent if masked else extent % (factor * 2) == 0):
            factor *= 2
        grid[pid] = (extent + factor - 1) // factor
        args[block] *= factor
        elements *= factor
    return tuple(grid), args
