"""``CPUDeviceInterface``: what Dynamo and Inductor ask about the device.

``torch._dynamo.device_interface`` gives every device one class of static
methods: is it available, which device is current, its streams and events,
its properties (Inductor sizes kernels from ``multi_processor_count`` and
``warp_size``) and whether Triton can target it.  The interpreter device is
the host, so :class:`CPUDeviceInterface` extends the host's interface and
describes the device Triton's interpreter emulates.
:class:`ExtdevDeviceInterface` answers for the ``extdev`` device
(:mod:`ext_codegen.device`) from its device module, ``torch.extdev``.
"""

from __future__ import annotations

import torch
from torch._dynamo.device_interface import CpuInterface
from torch._dynamo.device_interface import DeviceInterface as _TorchDeviceInterface

from ..names import DEVICE


class CPUDeviceInterface(CpuInterface):
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
        _require_triton_backend("cpu")

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


class ExtdevProperties:
    """What Inductor reads of a device's properties (``DeviceProperties.create``), for ``extdev``.

    The device is the host, so it answers what cpu answers, and Inductor
    plans its kernels as it does cpu's.  ``multi_processor_count`` is the
    host's processor count, as for cpu: Inductor splits a reduction with
    fewer outputs than 64 per processor, and the 68 that max-autotune's
    ``is_big_gpu`` asks of a GPU made it split a 4096x1024 column sum in two
    kernels that ran 1.7x slower than cpu's one (:mod:`ext_codegen.inductor.hardcoded`
    answers ``is_big_gpu`` instead).  ``warp_size`` is ``None``, as cpu's,
    so Inductor takes its default of 32 to size configs and split
    reductions: with 1 it cut the 4096 rows of that column sum into pieces of
    4, unrolled each piece into a pointwise node, and mix-order reduction
    asserted that the first layer of a split reduction is a reduction
    (``ir._find_split_reduction``).
    """

    type = DEVICE
    name = "extdev (host memory, Triton interpreter)"
    warp_size = None
    major = None
    max_threads_per_block = 1024

    def __init__(self, index: int) -> None:
        self.index = index
        self.multi_processor_count = CpuInterface.Worker.get_device_properties().multi_processor_count

    def __repr__(self) -> str:
        return f"ExtdevProperties(index={self.index}, multi_processor_count={self.multi_processor_count})"


class ExtdevDeviceInterface(_TorchDeviceInterface):
    """The ``extdev`` device as Dynamo and Inductor see it: every answer from ``torch.extdev``."""

    class device:
        """``with interface.device(i):`` makes ``extdev:i`` current (``torch.extdev.device``)."""

        def __init__(self, device) -> None:
            self._guard = torch.extdev.device(device)

        def __enter__(self):
            return self._guard.__enter__()

        def __exit__(self, *exc):
            return self._guard.__exit__(*exc)

    class Event(torch.Event):
        """``torch.extdev.Event``: a ``torch.Event`` of the device, as Dynamo requires."""

        def __new__(cls, *args, **kwargs):
            return torch.extdev.Event(*args, **kwargs)

    class Stream(torch.Stream):
        """``torch.extdev.Stream``: a ``torch.Stream`` of the device."""

        def __new__(cls, *args, **kwargs):
            return torch.extdev.Stream(*args, **kwargs)

    class Worker:
        """Device queries Inductor's compile workers make without touching the device."""

        @staticmethod
        def set_device(device: int) -> None:
            torch.extdev.set_device(device)

        @staticmethod
        def current_device() -> int:
            return torch.extdev.current_device()

        @staticmethod
        def get_device_properties(device=None) -> ExtdevProperties:
            return ExtdevProperties(torch.extdev.index_of(device))

    @staticmethod
    def get_device_properties(device=None) -> ExtdevProperties:
        return ExtdevProperties(torch.extdev.index_of(device))

    @staticmethod
    def current_device() -> int:
        return torch.extdev.current_device()

    @staticmethod
    def set_device(device) -> None:
        torch.extdev.set_device(device)

    @staticmethod
    def exchange_device(device: int) -> int:
        """Make ``device`` current; return the index that was."""
        old = torch.extdev.current_device()
        torch.extdev.set_device(device)
        return old

    @staticmethod
    def maybe_exchange_device(device: int) -> int:
        """Like :meth:`exchange_device`; a negative index leaves the device as it is."""
        if device < 0:
            return torch.extdev.current_device()
        return ExtdevDeviceInterface.exchange_device(device)

    @staticmethod
    def device_count() -> int:
        return torch.extdev.device_count()

    @staticmethod
    def is_available() -> bool:
        return hasattr(torch, "extdev") and torch.extdev.is_available()

    @staticmethod
    def stream(stream):
        return torch.extdev.stream(stream)

    @staticmethod
    def current_stream():
        return torch.extdev.current_stream()

    @staticmethod
    def set_stream(stream) -> None:
        torch.extdev.set_stream(stream)

    @staticmethod
    def get_raw_stream(device_idx) -> int:
        return torch.extdev.current_stream(device_idx).stream_id

    @staticmethod
    def synchronize(device=None) -> None:
        torch.extdev.synchronize(device)

    @staticmethod
    def memory_allocated(device=None) -> int:
        return torch.extdev.memory_allocated(device)

    @staticmethod
    def is_bf16_supported(including_emulation: bool = False) -> bool:
        return True

    @staticmethod
    def get_compute_capability(device=None) -> str:
        return ""

    @staticmethod
    def is_triton_capable(device=None) -> bool:
        return True

    @staticmethod
    def raise_if_triton_unavailable(device=None) -> None:
        _require_triton_backend(DEVICE)


def _require_triton_backend(name: str) -> None:
    """Raise Triton's own "unavailable" error if the package's backend ``name`` was not discovered."""
    import triton.backends

    from ..compat import torch_versions

    if name not in triton.backends.backends:
        raise torch_versions.triton_unavailable_error()(
            f"the {name!r} Triton backend of ext_codegen is not installed: "
            "install the package (pip install -e .) so that its "
            "'triton.backends' entry point is registered"
        )
