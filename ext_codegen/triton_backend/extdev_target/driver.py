"""The driver of the ``extdev`` Triton backend: the host driver, for the ``extdev`` device.

It reports the ``extdev`` target and device (``torch.extdev``'s current
index) and launches with the host launcher.  What differs is when it says it
is *active*.  Triton insists on exactly one active driver when it picks its
default, and Inductor's ``set_driver_to_gpu()`` wants an active backend not
named ``cpu``; so this driver is

* never active before Triton has picked its default (the host driver stays
  the default on a machine without a GPU, NVIDIA's on one with a GPU;
  ``register("extdev")`` has Triton pick it, so that it is picked before
  Inductor first asks);
* active on a machine without a GPU once that choice is made, so that
  ``set_driver_to_gpu()`` finds it;
* on a machine with a GPU, active only while it is the active driver (the
  ``extdev`` compiler and the wrapper's snippets make it so).

Triton imports this module while it is itself being imported: torch is
imported only inside methods.
"""

from __future__ import annotations

from ...compat import triton_versions
from .. import driver as host
from ...names import DEVICE


class ExtdevDriver(host.InterpreterDriver):
    """Triton's driver for ``extdev`` tensors: host memory, run by the interpreter."""

    TARGET = DEVICE = DEVICE

    @classmethod
    def is_active(cls) -> bool:
        from triton.runtime.driver import driver

        if not triton_versions.triton_default_driver_chosen(driver):
            return False  # Triton is choosing its default: never this driver
        if type(driver.active) is cls:
            return True
        return not host.foreign_backend_active()

    def get_active_torch_device(self):
        import torch

        return torch.device(self.DEVICE, torch.extdev.current_device())

    def get_current_device(self) -> int:
        import torch

        return torch.extdev.current_device()

    def set_current_device(self, device) -> None:
        import torch

        torch.extdev.set_device(device)


def activate() -> None:
    """Make this driver Triton's active one, unless it already is."""
    host.activate(ExtdevDriver)


def get_raw_stream(device_index) -> int:
    """The stream of an ``extdev`` launch (the device's current stream id); first makes this driver active.

    The wrapper calls it before each launch, so a kernel loaded from a cache
    binds to this driver whatever was active before.
    """
    activate()
    import torch

    index = torch.extdev.current_device() if device_index is None else device_index
    return torch.extdev.current_stream(index).stream_id
