"""``DeviceInterface``: what Dynamo and Inductor ask about the device.

``torch._dynamo.device_interface`` gives every device one class of static
methods: is it available, which device is current, its streams and events,
its properties (Inductor sizes kernels from ``multi_processor_count`` and
``warp_size``) and whether Triton can target it.  The interpreter device is
the host, so this class extends the host's interface and describes the
device Triton's interpreter emulates.
"""

from __future__ import annotations

from torch._dynamo.device_interface import CpuInterface


class DeviceInterface(CpuInterface):
    """The extension device as Dynamo and Inductor see it: the host, run by Triton's interpreter."""

    class device:
        """``with interface.device(d):`` selects a device; the host has only one."""

        def __init__(self, device) -> None:
            self.device = device

        def __enter__(self):
            return self

        def __exit__(self, *exc) -> bool:
            return False

    @staticmethod
    def set_device(device) -> None:
        """Selecting the (only) device is a no-op."""
        return None

    @staticmethod
    def exchange_device(device: int) -> int:
        """Swap the current device index for ``device``; returns the old one (always 0)."""
        return 0

    @staticmethod
    def maybe_exchange_device(device: int) -> int:
        """Like :meth:`exchange_device`, for a possibly negative index."""
        return 0

    @staticmethod
    def stream(stream):
        """A ``with`` block on a stream: kernels run in order, so nothing changes."""
        import contextlib

        return contextlib.nullcontext()

    @staticmethod
    def current_stream():
        """The host has no streams: ``None``."""
        return None

    @staticmethod
    def set_stream(stream) -> None:
        """No streams to select."""
        return None

    @staticmethod
    def is_triton_capable(device=None) -> bool:
        """Triton kernels can run here: the package ships the ``cpu`` Triton backend."""
        return True

    @staticmethod
    def raise_if_triton_unavailable(device=None) -> None:
        """Fail clearly if the package's Triton backend was not discovered."""
        import triton.backends

        from . import compat

        if "cpu" not in triton.backends.backends:
            raise compat.triton_unavailable_error()(
                "the 'cpu' Triton backend of ext_codegen is not installed: "
                "install the package (pip install -e .) so that its "
                "'triton.backends' entry point is registered"
            )

    @staticmethod
    def get_compute_capability(device=None) -> str:
        """No GPU architecture: the compiler plugin accepts any."""
        return ""

    @staticmethod
    def is_bf16_supported(including_emulation: bool = False) -> bool:
        """bf16 is computed by PyTorch inside the interpreter."""
        return True

    @staticmethod
    def current_device() -> int:
        """The host is device 0."""
        return 0

    @staticmethod
    def synchronize(device=None) -> None:
        """Kernels run synchronously in the interpreter: nothing to wait for."""
        return None

    @staticmethod
    def device_count() -> int:
        """One host."""
        return 1

    @staticmethod
    def is_available() -> bool:
        """The host is always there."""
        return True

    @staticmethod
    def get_raw_stream(device_idx) -> int:
        """No streams: the null stream."""
        return 0

    @staticmethod
    def memory_allocated(device=None) -> int:
        """Host memory is not tracked per device."""
        return 0
