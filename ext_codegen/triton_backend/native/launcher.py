"""Run a compiled kernel over its grid: one ctypes call, OpenMP workers, program ids in increasing order.

``ctypes`` releases the GIL for the duration of the call; ``ext_codegen_run`` runs
the grid on ``threads`` OpenMP workers (the runtime, and so the threads,
PyTorch's own ops use), all taking chunks of program ids from one shared
counter with an atomic increment.  Handing ids out in
increasing order matters: Inductor's split scan makes a program spin until an
*earlier* program has published its partial result.  With ids taken in
order, every earlier program has already been taken by some running thread,
which is never waiting on a later one, so the wait always ends (with fixed
slices per thread, a thread could sit on a waiting program whose predecessor
is queued behind it on the same thread).

What this cannot run is a grid barrier (every program resident at once):
a kernel compiled with ``launch_cooperative_grid`` whose grid exceeds the
thread count is refused with an error rather than left to hang.

Small launches run on the calling thread alone: waking the workers costs
more than a small kernel takes.
"""

from __future__ import annotations

import ctypes
import os

#: below this many elements in all programs together, one thread runs the launch
SMALL_LAUNCH = 1 << 16

_SCALAR = {"i1": ctypes.c_uint8, "i8": ctypes.c_int8, "i16": ctypes.c_int16, "i32": ctypes.c_int32,
           "i64": ctypes.c_int64, "f16": ctypes.c_float, "bf16": ctypes.c_float, "f32": ctypes.c_float,
           "f64": ctypes.c_double}

class DeviceAssertionError(AssertionError):
    """A ``tl.device_assert`` failed in a natively run kernel."""


#: Loaded libraries by path: a library is opened once per process (``dlopen`` would share it anyway).
_loaded: dict = {}


def load_library(path: str):
    """The ``ext_codegen_run`` entry point of the shared library at ``path``, typed for ctypes."""
    fn = _loaded.get(path)
    if fn is None:
        fn = ctypes.CDLL(path).ext_codegen_run
        fn.restype = ctypes.c_int
        fn.argtypes = [ctypes.c_void_p, ctypes.c_int32, ctypes.c_int32, ctypes.c_int32,
                       ctypes.c_void_p, ctypes.c_int64, ctypes.c_void_p, ctypes.c_int32]
        _loaded[path] = fn
    return fn


class NativeKernel:
    """A built kernel: its entry point and what a launch needs to know about its parameters.

    ``arg_types`` are the element names of the ``tt.func`` parameters in order
    (``"ptr"``, ``"i32"``, ``"f64"``...), ``asserts`` the message of each
    ``tt.assert`` (a failing one returns its 1-based index), ``max_block`` the
    largest block in elements (a hint for the thread count).
    """

    def __init__(self, name: str, arg_types: list, asserts: list, max_block: int, entry,
                 cooperative: bool = False):
        self.name = name
        self.arg_types = list(arg_types)
        self.asserts = list(asserts)
        self.max_block = max_block
        self.cooperative = cooperative
        self.fn = entry

    def _pack(self, args):
        if len(args) != len(self.arg_types):
            raise TypeError(f"{self.name}: {len(self.arg_types)} arguments expected, got {len(args)}")
        holders = []
        for elem, value in zip(self.arg_types, args):
            if elem == "ptr":
                address = value.data_ptr() if hasattr(value, "data_ptr") else int(value or 0)
                holders.append(ctypes.c_void_p(address))
            else:
                if hasattr(value, "item"):
                    value = value.item()
                holders.append(_SCALAR[elem](value))
        argv = (ctypes.c_void_p * max(1, len(holders)))(*[ctypes.addressof(h) for h in holders])
        return argv, holders

    def threads_for(self, total: int) -> int:
        if total <= 1 or total * self.max_block < SMALL_LAUNCH:
            return 1
        return min(os.cpu_count() or 1, total)

    def __call__(self, grid, args, threads: int | None = None) -> None:
        gx, gy, gz = (tuple(grid) + (1, 1))[:3]
        total = gx * gy * gz
        if total == 0:
            return
        argv, _keep = self._pack(args)
        n = threads or self.threads_for(total)
        if self.cooperative:  # a grid barrier: every program on a thread of its own
            if total > max(n, os.cpu_count() or 1):
                raise RuntimeError(f"{self.name}: a cooperative launch of {total} programs needs them all "
                                   f"resident; this host runs {os.cpu_count()} at once")
            n = total
        counter, status = ctypes.c_int64(0), ctypes.c_int32(0)
        chunk = max(1, total // (n * 8))
        self.fn(argv, gx, gy, gz, ctypes.byref(counter), chunk, ctypes.byref(status), n)
        if status.value < 0:
            raise MemoryError(f"{self.name}: could not allocate the scratch arena")
        if status.value:
            raise DeviceAssertionError(f"{self.name}: device assertion failed: {self.asserts[status.value - 1]}")
