"""Run a compiled kernel over its grid: one ctypes call, OpenMP workers, program ids in increasing order.

``ctypes`` releases the GIL for the duration of the call; ``ext_codegen_launch``
is typed with the kernel's own parameters (a tensor passes as its address),
so a launch builds no ctypes objects in Python; it runs
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
#: the workers a large launch gets: every core
CORES = os.cpu_count() or 1


def load_library(path: str):
    """The ``ext_codegen_launch`` entry point of the shared library at ``path`` (typed by :class:`NativeKernel`)."""
    fn = _loaded.get(path)
    if fn is None:
        fn = ctypes.CDLL(path).ext_codegen_launch
        fn.restype = ctypes.c_int32
        _loaded[path] = fn
    return fn


def _address(value) -> int:
    return value.data_ptr() if hasattr(value, "data_ptr") else int(value or 0)


def _scalar(value):
    return value.item() if hasattr(value, "item") else value


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
        entry.argtypes = [ctypes.c_int32] * 4 + [ctypes.c_int64] + [
            ctypes.c_void_p if elem == "ptr" else _SCALAR[elem] for elem in self.arg_types]
        self._convert = [_address if elem == "ptr" else _scalar for elem in self.arg_types]

    def threads_for(self, total: int) -> int:
        if total <= 1 or total * self.max_block < SMALL_LAUNCH:
            return 1
        return min(CORES, total)

    def __call__(self, grid, args, threads: int | None = None) -> None:
        gx, gy, gz = (tuple(grid) + (1, 1))[:3]
        total = gx * gy * gz
        if total == 0:
            return
        if len(args) != len(self._convert):
            raise TypeError(f"{self.name}: {len(self._convert)} arguments expected, got {len(args)}")
        n = threads or self.threads_for(total)
        if self.cooperative:  # a grid barrier: every program on a thread of its own
            if total > max(n, CORES):
                raise RuntimeError(f"{self.name}: a cooperative launch of {total} programs needs them all "
                                   f"resident; this host runs {CORES} at once")
            n = total
        status = self.fn(gx, gy, gz, n, max(1, total // (n * 8)), *[c(v) for c, v in zip(self._convert, args)])
        if status < 0:
            raise MemoryError(f"{self.name}: could not allocate the scratch arena")
        if status:
            raise DeviceAssertionError(f"{self.name}: device assertion failed: {self.asserts[status - 1]}")
