"""The compiler of the ``extdev`` Triton backend: the host compiler, for target ``extdev``.

Triton asks every backend's compiler whether it ``supports_target``; this
one accepts ``GPUTarget("extdev", ...)``, the target Inductor builds for an
``extdev`` tensor's kernels.  Everything else is the host compiler's.

One addition: compiling for ``extdev`` makes the ``extdev`` driver Triton's
active one.  A compiled kernel binds to the driver active when it is loaded
(``CompiledKernel._init_handles``), and on a host with a GPU Inductor's
``set_driver_to_gpu()`` may have just made NVIDIA's driver active for this
very kernel: it takes the first active backend not named ``cpu``, whatever
the device (pytorch#189138 asks for a per-device choice).  Triton builds the
compiler on every compilation, cache hits included, so this is the one
place every ``extdev`` kernel passes through before it is loaded.
"""

from __future__ import annotations

from .. import compiler as host
from ...names import DEVICE


class ExtdevBackend(host.InterpreterBackend):
    """Triton's compiler for target ``extdev``: the host's front end, no code generation."""

    TARGET = DEVICE

    def __init__(self, target) -> None:
        super().__init__(target)
        from .. import driver as host_driver
        from .driver import ExtdevDriver

        host_driver.activate(ExtdevDriver)
