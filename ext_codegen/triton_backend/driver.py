"""The driver half of the plugin: the host is the device.

Triton allows exactly one active driver, and a kernel binds to the driver
that is active when it is loaded (``CompiledKernel._init_handles`` asks
``driver.active`` for the launcher and loads the binary with it; Inductor
calls it when it makes a kernel's launchers, Triton at a first launch).  This
driver is the default only when no other installed backend is active, so on
a CUDA machine the NVIDIA driver stays the default.  Inductor switches to this
one (by its name, ``cpu``) before it *compiles* a cpu kernel, but a kernel it
reuses without compiling (an FX graph cache hit, a kernel compiled earlier)
is loaded under whatever driver is active, CUDA's on a GPU machine, which
cannot load it.  Two pieces close that gap:

* the cpu device op overrides' snippet calls :func:`activate` when the wrapper
  module is loaded, before its kernels are, and imports :func:`get_raw_stream`,
  which the wrapper calls right before every launch and which activates too;
* a kernel of another backend that is loaded while this driver is active is
  handed to its own backend's driver (:class:`InterpreterLauncher`).

The launcher receives the same arguments a CUDA launcher does and runs the
kernel's Python function over the grid with :func:`ext_codegen.triton_backend.launch.launch`.

Triton imports this module while it is itself being imported, possibly from
inside ``import torch``: torch is imported only inside methods.
"""

from __future__ import annotations

from triton.backends.compiler import GPUTarget
from triton.backends.driver import DriverBase

from ..names import HOST, HOST_DEVICES


class InterpreterUtils:
    """What ``CompiledKernel`` asks of ``driver.active.utils``."""

    @staticmethod
    def load_binary(name, kernel, shared, device):
        # (module, function, n_regs, n_spills, n_max_threads).  The function is
        # what Triton hands the launcher at every launch: a native kernel's
        # entry point, or the kernel's name for one the interpreter runs.  The
        # module must not be None: CompiledKernel loads again (a new launcher,
        # the binary hashed again) whenever it finds none, which its
        # launch_metadata asks for at every launch once a launch hook is set.
        from .native import route

        entry = route.load(kernel)
        return name, name if entry is None else entry, 0, 0, 1 << 30

    @staticmethod
    def unload_module(module):
        return None

    @staticmethod
    def get_device_properties(device):
        return {"max_shared_mem": 1 << 30, "multiprocessor_count": 1, "warpSize": 1}


def activate(cls: type | None = None) -> None:
    """Make this driver (or the subclass ``cls``) Triton's active one, unless it already is."""
    from triton.runtime.driver import driver

    cls = cls or InterpreterDriver
    if type(driver.active) is not cls:
        driver.set_active(cls())


def get_raw_stream(device_index) -> int:
    """The stream of a cpu kernel launch: none (0); first makes this driver active.

    The wrapper calls it before each launch (``raw_streamNone = get_raw_stream(None)``),
    so a kernel loaded from a cache binds to this driver whatever was active before.
    """
    activate()
    return 0


class InterpreterLauncher:
    """Called with the launch arguments of Triton's GPU launchers."""

    def __new__(cls, src, metadata):
        target = metadata.target
        if target.backend in HOST_DEVICES:
            return super().__new__(cls)
        # A kernel of another backend (a CUDA kernel from a cache) loaded while
        # this driver was active: give it to the driver of the backend that
        # compiles its target (target "cuda" belongs to Triton's backend
        # "nvidia": the names differ).  _init_handles reads driver.active
        # again to load the binary.
        from triton.backends import backends
        from triton.runtime.driver import driver

        owner = next((b for b in backends.values() if b.compiler.supports_target(target)), None)
        if owner is None:
            raise RuntimeError(f"ext_codegen: no installed Triton backend compiles for target {target!r}")
        driver.set_active(owner.driver())
        return driver.active.launcher_cls(src, metadata)

    def __init__(self, src, metadata) -> None:
        self.fn = src.fn
        names = list(src.fn.arg_names)
        signature = dict(src.signature)
        constants = {
            (names.index(k),) if isinstance(k, str) else tuple(k): v
            for k, v in getattr(src, "constants", {}).items()
        }
        self.names = names
        # The kernel's compile options that decide what the interpreter checks:
        # ``debug`` runs tl.device_assert (Inductor sets it from
        # config.assert_indirect_indexing), ``sanitize_overflow`` adds integer
        # overflow asserts (Inductor turns it off).
        self.checks = {name: bool(getattr(metadata, name, False)) for name in ("debug", "sanitize_overflow")}
        self.signature = {k: v for k, v in signature.items() if isinstance(k, str) and isinstance(v, str)}
        self.constexpr_at = {
            i: constants.get((i,))
            for i, name in enumerate(names)
            if signature.get(name) == "constexpr"
        }
        # The native path (docs/native.md): what the compile left in the metadata.
        self.name = metadata.name
        self.native_info = getattr(metadata, "native_kernel", None)
        self.cooperative = bool(getattr(metadata, "launch_cooperative_grid", False))
        self.native = None
        fallback = getattr(metadata, "native_fallback", "")
        if fallback:
            from .native import route

            route.record_fallback(self.name, fallback)

    def __call__(self, gridX, gridY, gridZ, stream, function, kernel_metadata,
                 launch_metadata, launch_enter_hook, launch_exit_hook, *args):
        from .launch import launch

        if launch_enter_hook is not None:
            launch_enter_hook(launch_metadata)
        if len(args) == len(self.names):
            values = list(args)
            for i, value in self.constexpr_at.items():
                values[i] = value
        else:
            rest = iter(args)
            values = [
                self.constexpr_at[i] if i in self.constexpr_at else next(rest)
                for i in range(len(self.names))
            ]
        grid = (gridX, gridY, gridZ)
        if self.native_info is None or isinstance(function, str) or not self._run_natively(function, grid, values):
            launch(self.fn, grid, dict(zip(self.names, values)), self.signature, **self.checks)
        if launch_exit_hook is not None:
            launch_exit_hook(launch_metadata)

    def _run_natively(self, entry, grid, values) -> bool:
        """Run the launch with the native kernel; ``False`` when an instrument wants the interpreter."""
        from . import launch
        from .native import check, route

        if launch.active_instruments():  # the debugging tools instrument the interpreted kernel
            return False
        if not route.enabled():  # EXT_CODEGEN_NATIVE=0 now: interpreted, even if compiled natively before
            return False
        if self.native is None:
            self.native = route.kernel_for(self.name, self.native_info, entry, self.cooperative)

        def run_native(vals):
            self.native(grid, [v for i, v in enumerate(vals) if i not in self.constexpr_at])

        route.count_launch()
        if route.check_enabled():
            check.checked_launch(self.name, run_native, lambda vals: launch.launch(
                self.fn, grid, dict(zip(self.names, vals)), self.signature, **self.checks),
                values, self.native_info["exact"])
        else:
            run_native(values)
            launch.launch_count += 1
        return True


def foreign_backend_active() -> bool:
    """Whether a Triton backend that is not this plugin's (NVIDIA's, AMD's) has an active driver."""
    from triton.backends import backends

    return any(b.driver.is_active() for name, b in backends.items() if name not in HOST_DEVICES)


class InterpreterDriver(DriverBase):
    """Triton's driver for the host: target ``cpu``, one device, no streams."""

    #: The Triton target and the torch device type of this driver's kernels.
    TARGET = DEVICE = HOST

    def __init__(self) -> None:
        super().__init__()
        self.utils = InterpreterUtils()
        self.launcher_cls = InterpreterLauncher

    @classmethod
    def is_active(cls) -> bool:
        return not foreign_backend_active()

    def map_python_to_cpp_type(self, ty: str) -> str:
        return ty

    def get_current_target(self) -> GPUTarget:
        return GPUTarget(self.TARGET, "", 1)

    def get_active_torch_device(self):
        import torch

        return torch.device(self.DEVICE)

    def get_device_interface(self):
        from torch._dynamo.device_interface import get_interface_for_device

        return get_interface_for_device(self.DEVICE)

    def get_current_device(self) -> int:
        return 0

    def set_current_device(self, device) -> None:
        return None

    def get_current_stream(self, device=None) -> int:
        return 0

    def get_benchmarker(self):
        from triton.testing import do_bench

        return do_bench

    def get_empty_cache_for_benchmark(self):
        import torch

        return torch.empty(1024 * 1024, dtype=torch.int8, device=self.get_active_torch_device())

    def clear_cache(self, cache) -> None:
        cache.zero_()
