"""Catch bad addresses: every load, store and atomic checked against the tensor its pointer came from.

On a GPU an index off by one reads the neighbour's memory or faults long
after the fact.  Here every access of a launch goes through the
interpreter's builder, so :func:`check_bounds` wraps the builder's memory
methods for each launch — *after* the fast paths (:mod:`ext_codegen.triton_backend.fastpath`)
are installed, so whichever way an access then runs, view, gather or
Triton's own, it is checked first.

The tensor argument a pointer came from is read from the source line
(:func:`.instrument.pointer_names`: ``tl.load(in_ptr0 + ...)`` names
``in_ptr0``); a lane the mask turns off is exempt, as on a GPU.  An access
outside that tensor's memory raises :class:`OutOfBounds`, which names the
kernel, the line, the argument, the first offending element index and the
tensor's size.  A pointer block the fast paths keep symbolic is decided from
its smallest and largest address, without building the block.
"""

from __future__ import annotations

import contextlib

import numpy as np
import triton.language as tl
from triton.runtime import interpreter as interp

from ...compat import triton_versions
from ...names import HOST_DEVICES
from ...triton_backend.fastpath.affine import is_symbolic
from .instrument import installed, interpreted, kernel_line, pointer_names, source_lines


class OutOfBounds(IndexError):
    """A load, store or atomic outside the memory of the tensor its pointer came from."""

    def __init__(self, kernel, file_name, line, op, argument, index, size, lane, program):
        self.kernel, self.file_name, self.line, self.op = kernel, file_name, line, op
        self.argument, self.index, self.size, self.lane, self.program = argument, index, size, lane, program
        code = source_lines(file_name)[line - 1].strip() if line else "?"
        where = f"{argument}" if argument else "an address that no tensor argument holds"
        super().__init__(
            f"{op} out of bounds in kernel {kernel}, line {line}: {code}\n"
            f"  {where}: element {index} of a tensor of {size} elements "
            f"(program {program}, lane {lane}; file {file_name})"
        )


def _extent(tensor) -> tuple[int, int, int]:
    """``(first byte, end byte, itemsize)`` of the memory a tensor's elements occupy."""
    itemsize = tensor.element_size()
    lo = hi = 0
    for n, s in zip(tensor.shape, tensor.stride()):
        if n == 0:
            return tensor.data_ptr(), tensor.data_ptr(), itemsize
        lo += min(0, (n - 1) * s)
        hi += max(0, (n - 1) * s)
    start = tensor.data_ptr()
    return start + lo * itemsize, start + (hi + 1) * itemsize, itemsize


class _Checker:
    """The check of one launch: the tensor arguments' extents and the kernel's source."""

    def __init__(self, kernel, args, builder) -> None:
        self.kernel, self.file_name, self.builder = kernel.__name__, triton_versions.kernel_file_name(kernel), builder
        self.tensors = {
            name: (value, _extent(value)) for name, value in args.items()
            if hasattr(value, "data_ptr") and getattr(value, "device", None) is not None
            and value.device.type in HOST_DEVICES
        }
        self.pointers = pointer_names(self.file_name)
        self.depth = 0  # Triton's create_load calls create_masked_load: check once

    def _argument(self, line, first_address):
        names = [n for n in self.pointers.get(line, ()) if n in self.tensors]
        if len(names) == 1:
            return names[0]
        # no single pointer parameter on the line: the tensor whose memory holds the first live lane
        for name in names or self.tensors:
            lo, end, _ = self.tensors[name][1]
            if lo <= first_address < end:
                return name
        return None

    def check(self, op: str, ptrs, mask) -> None:
        if not isinstance(ptrs.dtype, tl.pointer_type):
            return
        itemsize = np.dtype(interp._get_np_dtype(ptrs.get_element_ty())).itemsize
        line = kernel_line(self.file_name)
        names = [n for n in self.pointers.get(line, ()) if n in self.tensors]
        if len(names) == 1 and is_symbolic(ptrs):
            lo, end, _ = self.tensors[names[0]][1]
            if lo <= ptrs.lo and ptrs.hi + itemsize <= end:
                return  # the whole block, masked lanes included, is inside: nothing to build
        addr = np.asarray(ptrs.data).view(np.int64)
        live = None if mask is None else np.broadcast_to(np.asarray(mask.data, dtype=bool), addr.shape)
        first = addr.flat[0] if live is None else (addr[live][0] if live.any() else None)
        if first is None:
            return  # every lane masked off
        argument = self._argument(line, int(first))
        if argument is None:
            bad = np.ones(addr.shape, dtype=bool)
            size, start, element = 0, 0, itemsize
        else:
            tensor, (lo, end, element) = self.tensors[argument]
            bad = (addr < lo) | (addr + itemsize > end)
            size, start = tensor.numel(), tensor.data_ptr()
        if live is not None:
            bad &= live
        if not bad.any():
            return
        flat = int(np.flatnonzero(bad)[0])
        lane = tuple(int(i) for i in np.unravel_index(flat, addr.shape))
        offset = int(addr.flat[flat]) - start
        index = offset // element if argument else int(addr.flat[flat])
        raise OutOfBounds(self.kernel, self.file_name, line, op, argument, index, size, lane,
                          tuple(self.builder.grid_idx))


def _wrap(checker: _Checker, name: str, original):
    """``original`` (a builder method, already the fast path's) with the check in front."""
    where = {  # the positions of the pointer block and the mask in each method's arguments
        "create_masked_load": (0, 1, "load"), "create_load": (0, None, "load"),
        "create_masked_store": (0, 2, "store"), "create_store": (0, None, "store"),
        "create_atomic_rmw": (1, 3, "atomic"), "create_atomic_cas": (0, None, "atomic"),
    }[name]
    ptr_at, mask_at, op = where

    def checked(builder, *args, **kwargs):
        if checker.depth == 0:
            checker.check(op, args[ptr_at], None if mask_at is None else args[mask_at])
        checker.depth += 1
        try:
            return original(builder, *args, **kwargs)
        finally:
            checker.depth -= 1

    return checked


_METHODS = ("create_masked_load", "create_load", "create_masked_store", "create_store",
            "create_atomic_rmw", "create_atomic_cas")


def instrument(kernel, fn, args, scope, builder):
    """The bounds check as a launcher instrument: wraps the builder's memory methods for this launch."""
    checker = _Checker(kernel, args, builder)
    cls = type(builder)
    for name in _METHODS:
        scope.set_attr(cls, name, _wrap(checker, name, getattr(cls, name)))
    return fn, None


@contextlib.contextmanager
def check_bounds(device=None):
    """Check every load, store and atomic of every launch in the ``with`` block.

    ``device`` (optional) is where the kernels will run; one whose kernels do
    not run in the interpreter (``cuda``) is refused.  An access outside the
    memory of its tensor argument raises :class:`OutOfBounds`.
    ``EXT_CODEGEN_CHECK_BOUNDS=1`` does the same for a whole process.
    """
    interpreted(device)
    with installed(instrument):
        yield
